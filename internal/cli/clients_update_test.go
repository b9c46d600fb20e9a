package cli

import (
	"strings"
	"testing"

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
	h.fail(ExitUsage, "nothing to change", "", "clients", "update", "batch")
	h.fail(ExitError, "not found", "", "clients", "update", "nope", "--dpop-required")
	if r := h.runCtx(t.Context(), "", "clients", "update", "nope", "--dpop-required", "--server", srv.URL); r.Err == nil || !strings.Contains(r.Err.Error(), "not found") {
		t.Errorf("update of an unknown client over the API: %v", r.Err)
	}
}
