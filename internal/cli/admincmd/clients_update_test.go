package admincmd

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// TestClientsDPoPRequired: --dpop-required at create and update, on the
// database and over the admin API, stored and shown.
func TestClientsDPoPRequired(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")

	bothModes(t, h, srv, func(string) string { return "" }, "", "clients", "create", "batch", "--grant", "client_credentials", "--dpop-required", "--json")
	for name, required := range map[string]func() bool{
		"database": func() bool { c, err := h.store().GetClient(t.Context(), "batch"); return err == nil && c.DPoPRequired },
		"server":   func() bool { c, err := srv.Store.GetClient(t.Context(), "batch"); return err == nil && c.DPoPRequired },
	} {
		if !required() {
			t.Errorf("%s: client not stored as DPoP-required", name)
		}
	}
	if out := h.ok("", "clients", "show", "batch").Out; !strings.Contains(out, "DPoP required") || !strings.Contains(out, "true") {
		t.Errorf("show:\n%s", out)
	}
	if out := h.ok("", "clients", "show", "batch", "--json").Out; !strings.Contains(out, `"dpop_required": true`) && !strings.Contains(out, `"dpop_required":true`) {
		t.Errorf("show --json:\n%s", out)
	}

	out := bothModes(t, h, srv, nil, "", "clients", "update", "batch", "--dpop-required=false")
	if !strings.Contains(out, "bearer tokens") {
		t.Errorf("update output: %s", out)
	}
	if c, _ := srv.Store.GetClient(t.Context(), "batch"); c.DPoPRequired {
		t.Error("server: still DPoP-required after update --dpop-required=false")
	}
	if c, _ := h.store().GetClient(t.Context(), "batch"); c.DPoPRequired {
		t.Error("database: still DPoP-required after update --dpop-required=false")
	}
	r := h.ok("", "clients", "update", "batch", "--dpop-required")
	if !strings.Contains(r.ErrOut, `"type":"client.updated"`) {
		t.Errorf("no audit event:\n%s", r.ErrOut)
	}
	if c, _ := h.store().GetClient(t.Context(), "batch"); !c.DPoPRequired {
		t.Error("update --dpop-required did not set it")
	}
	h.fail(command.ExitUsage, "nothing to change", "", "clients", "update", "batch")
	h.fail(command.ExitError, "not found", "", "clients", "update", "nope", "--dpop-required")
	if r := h.runCtx(t.Context(), "", "clients", "update", "nope", "--dpop-required", "--server", srv.URL); r.Err == nil || !strings.Contains(r.Err.Error(), "not found") {
		t.Errorf("update of an unknown client over the API: %v", r.Err)
	}
}

func TestClientsUpdateTerminalLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("", "clients", "create", "tool", "--public", "--grant", "device_code", "--first-party")
	h.fail(command.ExitUsage, "nothing to change", "", "clients", "update", "gatehouse-cli")
	h.fail(command.ExitUsage, "exclude each other", "", "clients", "update", "gatehouse-cli", "--terminal-login", "--no-terminal-login")
	h.fail(command.ExitError, "not found", "", "clients", "update", "nope", "--terminal-login")

	// A client starts without it.
	c, err := h.store().GetClient(t.Context(), "tool")
	if err != nil {
		t.Fatal(err)
	}
	if c.TerminalLogin {
		t.Fatal("gatehouse-cli has terminal sign-in out of the box")
	}
	r := h.ok("", "clients", "update", "tool", "--terminal-login")
	if !strings.Contains(r.Out, "terminal sign-in on") || !strings.Contains(r.ErrOut, `"change":"terminal_login on"`) {
		t.Errorf("update output:\n%s\naudit:\n%s", r.Out, r.ErrOut)
	}
	if c, _ := h.store().GetClient(t.Context(), "tool"); !c.TerminalLogin {
		t.Fatal("not stored")
	}
	if r := h.ok("", "clients", "show", "tool", "--json"); !strings.Contains(r.Out, `"terminal_login": true`) {
		t.Errorf("show --json:\n%s", r.Out)
	}
	h.ok("", "clients", "update", "tool", "--no-terminal-login")
	if c, _ := h.store().GetClient(t.Context(), "tool"); c.TerminalLogin {
		t.Fatal("still on")
	}

	// Never for a third-party client, at registration or later.
	h.fail(command.ExitUsage, "only for first-party clients", "", "clients", "create", "partner", "--grant", "client_credentials", "--terminal-login")
	h.ok("", "clients", "create", "partner", "--grant", "client_credentials")
	h.fail(command.ExitUsage, "only for first-party clients", "", "clients", "update", "partner", "--terminal-login")
	h.ok("", "clients", "create", "own", "--grant", "client_credentials", "--first-party", "--terminal-login")
	if c, _ := h.store().GetClient(t.Context(), "own"); !c.TerminalLogin {
		t.Fatal("create --terminal-login not stored")
	}
}

func TestClientsUpdateTerminalLoginOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")
	bothModes(t, h, srv, nil, "", "clients", "create", "tool", "--public", "--grant", "device_code", "--first-party")
	bothModes(t, h, srv, nil, "", "clients", "update", "tool", "--terminal-login")
	c, err := srv.Store.GetClient(t.Context(), "tool")
	if err != nil || !c.TerminalLogin {
		t.Fatalf("server's gatehouse-cli: %+v %v", c, err)
	}
	h.ok("", "clients", "create", "partner", "--grant", "client_credentials")
	r := h.runCtx(t.Context(), "", "clients", "create", "partner", "--grant", "client_credentials", "--server", srv.URL)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	r = h.runCtx(t.Context(), "", "clients", "update", "partner", "--terminal-login", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "only for first-party clients") {
		t.Fatalf("third party over the API: %v", r.Err)
	}
	r = h.runCtx(t.Context(), "", "clients", "update", "nope", "--terminal-login", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "not found") {
		t.Fatalf("unknown client over the API: %v", r.Err)
	}
}
