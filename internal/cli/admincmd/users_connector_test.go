package admincmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsersAddConnector: `users add --connector` pre-creates a user of a
// configured connector without asking for a password, refuses an unknown
// connector and a password, and `users show` names the connector.
func TestUsersAddConnector(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cfg := filepath.Join(t.TempDir(), "server.yaml")
	yml := `connectors:
  - id: google
    type: oidc
    name: Google
    oidc:
      issuer: https://accounts.google.com
      client_id: cid
      client_secret_env: GOOGLE_CLIENT_SECRET
    role_rules:
      - email_domains: [example.com]
        roles: [viewer]
`
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.ok("", "users", "add", "grace", "--connector", "google", "--email", "grace@example.com", "--config", cfg, "--json")
	added := decode[userJSON](t, r.Out)
	if added.Connector != "google" || added.ConnectorSubject != "" || len(added.Roles) != 0 {
		t.Errorf("users add --connector = %+v", added)
	}
	u, err := h.store().GetUserByName(t.Context(), "grace")
	if err != nil || u.PasswordHash != "" || u.ConnectorID != "google" {
		t.Fatalf("stored %+v %v", u, err)
	}
	show := h.ok("", "users", "show", "grace").Out
	if !strings.Contains(show, "Connector:") || !strings.Contains(show, "google (not linked yet") {
		t.Errorf("users show:\n%s", show)
	}
	h.fail(1, "signs in through connector google, which manages the password", "a new passphrase\n", "users", "passwd", "grace", "--password-stdin")
	if out := h.ok("", "users", "set-role", "grace", "editor").Out; !strings.Contains(out, "role_rules replace these roles") {
		t.Errorf("set-role on a connector user does not warn: %s", out)
	}
	if out := h.ok("", "users", "update", "grace", "--disabled").Out; !strings.Contains(out, "disabled") {
		t.Errorf("users update --disabled: %s", out)
	}
	if u, _ := h.store().GetUserByName(t.Context(), "grace"); !u.Disabled {
		t.Error("grace not disabled")
	}
	h.ok("", "users", "update", "grace", "--disabled=false")
	if u, _ := h.store().GetUserByName(t.Context(), "grace"); u.Disabled {
		t.Error("grace not enabled again")
	}
	h.ok("boss password 1\n", "users", "add", "boss", "--role", "admin", "--password-stdin")
	h.fail(1, "last enabled admin", "", "users", "update", "boss", "--disabled")
	h.fail(2, `unknown connector "corp"; configured connectors: google`, "", "users", "add", "ada", "--connector", "corp", "--config", cfg)
	h.fail(2, "has no connectors", "", "users", "add", "ada", "--connector", "corp")
	h.fail(2, "cannot be used together", "pw\n", "users", "add", "ada", "--connector", "google", "--password-stdin", "--config", cfg)
}
