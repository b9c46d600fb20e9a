package admincmd

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/adminapi"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestRolesOnDatabase(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("", "roles", "create", "operator", "--permission", "runs:launch", "--permission", "assets:materialize",
		"--description", "Runs pipelines")
	if !strings.Contains(r.Out, `Created role "operator" with permissions assets:materialize, runs:launch.`) {
		t.Errorf("create: %q", r.Out)
	}
	if !strings.Contains(r.ErrOut, `"type":"role.created"`) {
		t.Errorf("no role.created audit event: %q", r.ErrOut)
	}
	got, err := h.store().GetRole(t.Context(), "operator")
	if err != nil || strings.Join(got.Permissions, " ") != "assets:materialize runs:launch" || got.Description != "Runs pipelines" {
		t.Fatalf("stored role: %+v %v", got, err)
	}

	roles := decode[[]adminapi.Role](t, h.ok("", "roles", "list", "--json").Out)
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if strings.Join(names, " ") != "admin editor viewer operator" || !roles[0].Builtin || roles[3].Builtin {
		t.Errorf("roles list --json: %+v", roles)
	}
	if out := h.ok("", "roles", "show", "operator").Out; !strings.Contains(out, "assets:materialize runs:launch") || !strings.Contains(out, "Built in:") {
		t.Errorf("roles show:\n%s", out)
	}

	r = h.ok("", "roles", "update", "operator", "--add-permission", "runs:cancel", "--remove-permission", "assets:materialize")
	if !strings.Contains(r.Out, "runs:cancel, runs:launch") || !strings.Contains(r.ErrOut, `"type":"role.updated"`) {
		t.Errorf("update: %q %q", r.Out, r.ErrOut)
	}

	// Roles given to users, clients and API keys must exist.
	h.fail(command.ExitUsage, `unknown role "operatr"`, "long enough password\n", "users", "add", "dave", "--role", "operatr", "--password-stdin")
	h.fail(command.ExitUsage, "known roles: admin, editor, viewer, operator", "", "clients", "create", "ci", "--grant", "client_credentials", "--role", "operatr")
	h.fail(command.ExitUsage, `unknown role "operatr"`, "", "apikeys", "create", "deploy", "--role", "operatr")
	h.ok("long enough password\n", "users", "add", "dave", "--role", "viewer", "--password-stdin")
	h.fail(command.ExitUsage, `unknown role "operatr"`, "", "users", "set-role", "dave", "operatr")
	if _, err := h.store().GetClient(t.Context(), "ci"); err == nil {
		t.Error("client created with an unknown role")
	}

	h.ok("", "users", "set-role", "dave", "viewer", "operator")
	h.ok("", "apikeys", "create", "deploy", "--role", "operator")
	r = h.fail(command.ExitError, "still held by user dave, API key", "", "roles", "delete", "operator")
	if _, err := h.store().GetRole(t.Context(), "operator"); err != nil {
		t.Errorf("refused delete removed the role: %v", err)
	}
	h.ok("", "users", "set-role", "dave", "viewer")
	keys, err := h.store().ListAPIKeys(t.Context())
	if err != nil || len(keys) != 1 {
		t.Fatalf("api keys: %v %v", keys, err)
	}
	h.ok("", "apikeys", "revoke", keys[0].ID)
	r = h.ok("", "roles", "delete", "operator")
	if !strings.Contains(r.Out, `Deleted role "operator".`) || !strings.Contains(r.ErrOut, `"type":"role.deleted"`) {
		t.Errorf("delete: %q %q", r.Out, r.ErrOut)
	}

	for _, c := range []struct {
		code int
		want string
		args []string
	}{
		{command.ExitError, "built in", []string{"roles", "delete", "admin"}},
		{command.ExitError, "built in", []string{"roles", "create", "viewer"}},
		{command.ExitError, "built in", []string{"roles", "update", "editor", "--add-permission", "x"}},
		{command.ExitUsage, "lower case", []string{"roles", "create", "Ops"}},
		{command.ExitUsage, "scope token", []string{"roles", "create", "ops", "--permission", "a b"}},
		{command.ExitUsage, "nothing to change", []string{"roles", "update", "ops"}},
		{command.ExitError, `role "nope" not found`, []string{"roles", "show", "nope"}},
		{command.ExitError, `role "nope" not found`, []string{"roles", "update", "nope", "--add-permission", "x"}},
		{command.ExitError, `role "nope" not found`, []string{"roles", "delete", "nope"}},
	} {
		h.fail(c.code, c.want, "", c.args...)
	}
}

// TestRolesOverAPI runs the role commands on a database and over the
// admin API and expects the same output and the same errors.
func TestRolesOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")

	out := bothModes(t, h, srv, blankVarying, "", "roles", "create", "operator", "--permission", "runs:launch", "--description", "Ops", "--json")
	if r := decode[map[string]any](t, out); r["name"] != "operator" || r["created_at"] != "TIME" {
		t.Errorf("create --json: %s", out)
	}
	bothModes(t, h, srv, nil, "", "roles", "create", "auditor", "--permission", "read")
	bothModes(t, h, srv, nil, "", "roles", "update", "operator", "--add-permission", "runs:cancel", "--description", "Operators")
	bothModes(t, h, srv, blankVarying, "", "roles", "list")
	bothModes(t, h, srv, blankVarying, "", "roles", "list", "--json")
	bothModes(t, h, srv, blankVarying, "", "roles", "show", "operator")
	bothModes(t, h, srv, nil, "", "roles", "show", "viewer", "--json")
	if r, err := srv.Store.GetRole(t.Context(), "operator"); err != nil || strings.Join(r.Permissions, " ") != "runs:cancel runs:launch" {
		t.Errorf("operator on the server: %+v %v", r, err)
	}

	// Holders in both places, then the same errors in both modes.
	bothModes(t, h, srv, nil, "long enough password\n", "users", "add", "dave", "--role", "auditor", "--password-stdin")
	for _, args := range [][]string{
		{"roles", "create", "operator"},
		{"roles", "create", "viewer"},
		{"roles", "create", "Ops"},
		{"roles", "create", "ops", "--permission", "a\"b"},
		{"roles", "update", "nope", "--add-permission", "x"},
		{"roles", "update", "admin", "--add-permission", "x"},
		{"roles", "show", "nope"},
		{"roles", "delete", "nope"},
		{"roles", "delete", "editor"},
		{"roles", "delete", "auditor"},
	} {
		db := h.run("", args...)
		api := h.runCtx(t.Context(), "", append(args, "--server", srv.URL)...)
		if db.Err == nil || api.Err == nil {
			t.Errorf("gatehouse %s: database error %v, API error %v", strings.Join(args, " "), db.Err, api.Err)
			continue
		}
		if db.Err.Error() != api.Err.Error() || db.Code != api.Code {
			t.Errorf("gatehouse %s: errors differ\ndatabase: %v (exit %d)\nAPI:      %v (exit %d)", strings.Join(args, " "), db.Err, db.Code, api.Err, api.Code)
		}
	}
	// Over the API too, only roles that exist can be given.
	r := h.runCtx(t.Context(), "", "users", "set-role", "dave", "operatr", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), `unknown role "operatr"`) {
		t.Errorf("set-role with an unknown role over the API: %v", r.Err)
	}
	bothModes(t, h, srv, nil, "", "users", "set-role", "dave", "viewer")
	bothModes(t, h, srv, nil, "", "roles", "delete", "auditor")
	if _, err := srv.Store.GetRole(t.Context(), "auditor"); err == nil {
		t.Error("auditor still on the server")
	}
}

func TestUsersMFAResetOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	u := srv.AddUser(t, "alice", "correct horse battery", "editor")
	if err := srv.Store.CreateTOTP(t.Context(), &storage.TOTP{UserID: u.ID, EncryptedSecret: []byte{1}, Enrolled: true}); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")
	r := h.runCtx(t.Context(), "", "users", "mfa-reset", "Alice", "--server", srv.URL)
	if r.Err != nil || r.Out != "Two-step verification of user \"alice\" removed.\n" {
		t.Fatalf("mfa-reset over the API: %v %q", r.Err, r.Out)
	}
	if _, err := srv.Store.GetTOTP(t.Context(), u.ID); err == nil {
		t.Error("TOTP still stored on the server")
	}
	r = h.runCtx(t.Context(), "", "users", "mfa-reset", "alice", "--server", srv.URL)
	if r.Err != nil || !strings.Contains(r.Out, "no two-step") {
		t.Errorf("second reset: %v %q", r.Err, r.Out)
	}
	r = h.runCtx(t.Context(), "", "users", "mfa-reset", "bob", "--server", srv.URL)
	if r.Err == nil || r.Err.Error() != `user "bob" not found; see 'gatehouse users list'` {
		t.Errorf("unknown user: %v", r.Err)
	}
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "viewer")
	r = h.runCtx(t.Context(), "", "users", "mfa-reset", "alice", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "not an admin") {
		t.Errorf("viewer key: %v", r.Err)
	}
}
