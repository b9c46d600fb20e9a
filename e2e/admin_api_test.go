package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAdminCommandsOverAPI: an admin API key made on the database drives
// the admin commands over the server's admin API with --server, without
// any database flag.
func TestAdminCommandsOverAPI(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	_, key := createAPIKey(t, g, "ops", "--role", "admin")
	u := newCLIUser(t)
	env := []string{"GATEHOUSE_API_KEY=" + key}

	out, errOut, code := u.run(env, "erin-password-1\n", "users", "add", "erin", "--role", "editor", "--password-stdin", "--server", g.URL)
	if code != 0 || !strings.Contains(out, `Added user "erin"`) {
		t.Fatalf("users add over the API: exit %d\n%s%s", code, out, errOut)
	}

	var users []struct {
		Username string   `json:"username"`
		Roles    []string `json:"roles"`
	}
	out = u.ok(env, "users", "list", "--json", "--server", g.URL)
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("users list --json: %v\n%s", err, out)
	}
	found := false
	for _, x := range users {
		found = found || (x.Username == "erin" && strings.Join(x.Roles, ",") == "editor")
	}
	if !found {
		t.Errorf("users list over the API has no editor erin: %s", out)
	}
	// The server's own database has her too.
	if db := gatehouseAdmin(t, g, "users", "list", "--json"); !strings.Contains(db, `"erin"`) {
		t.Errorf("erin is not in the server's database: %s", db)
	}

	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	out = u.ok(env, "clients", "create", "reports", "--grant", "client_credentials", "--role", "viewer", "--json", "--server", g.URL)
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.ClientID != "reports" || c.ClientSecret == "" {
		t.Fatalf("clients create --json over the API: %q (%v)", out, err)
	}
	if db := gatehouseAdmin(t, g, "clients", "show", "reports"); !strings.Contains(db, "client_credentials") {
		t.Errorf("clients show on the database:\n%s", db)
	}

	out = u.ok(env, "audit", "verify", "--server", g.URL)
	if !strings.Contains(out, "audit trail intact") {
		t.Errorf("audit verify over the API:\n%s", out)
	}
	if db := gatehouseAdmin(t, g, "audit", "verify"); db != out {
		t.Errorf("audit verify: API and database disagree\nAPI:\n%s\ndatabase:\n%s", out, db)
	}
}
