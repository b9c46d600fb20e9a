package e2e

import (
	"strings"
	"testing"
)

// TestCLITerminalLogin: the real binary signs in at the real server with
// `gatehouse login --terminal`, the answers piped in, once an admin has
// enabled terminal sign-in for gatehouse-cli; and says what to do where
// it is not enabled.
func TestCLITerminalLogin(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	_, m := discover(t, t.Context(), g)
	rsID, rsSecret := createClient(t, g, "rs", "--grant", "client_credentials")
	const pw = "dora-Pa55word-e2e"
	addUser(t, g, "dora", "viewer", pw)
	out := gatehouseAdmin(t, g, "clients", "update", "gatehouse-cli", "--terminal-login")
	if !strings.Contains(out, "terminal sign-in on") {
		t.Fatalf("clients update: %s", out)
	}
	u := newCLIUser(t)

	_, errOut, code := u.run(nil, "dora\nnot-the-password\n", "login", "--terminal", "--issuer", g.URL)
	if code != 1 || !strings.Contains(errOut, "invalid username or password; nothing was stored") {
		t.Fatalf("wrong password: exit %d\n%s", code, errOut)
	}

	_, errOut, code = u.run(nil, "dora\n"+pw+"\n", "login", "--terminal", "--issuer", g.URL)
	if code != 0 || !strings.Contains(errOut, "Logged in to "+g.URL+" as dora (profile default)") {
		t.Fatalf("terminal login: exit %d\n%s", code, errOut)
	}
	if strings.Contains(errOut, pw) {
		t.Fatal("the password was printed")
	}
	tok := strings.TrimSpace(u.ok(nil, "token"))
	if in := introspect(t, t.Context(), m, rsID, rsSecret, tok); !in.Active || in.Username != "dora" {
		t.Errorf("introspection of the terminal login's token: %+v", in)
	}
	if cred := u.stored("default"); cred.RefreshToken == "" {
		t.Error("no refresh token stored")
	} else if !cred.Bound() {
		// As every other `gatehouse login` where the server supports DPoP.
		t.Error("the terminal login is not bound to this machine's DPoP key")
	}

	// A first-party client of the operator's without the setting.
	createClient(t, g, "tool", "--public", "--first-party", "--grant", "device_code", "--grant", "refresh_token")
	_, errOut, code = u.run(nil, "dora\n"+pw+"\n", "login", "--terminal", "--issuer", g.URL, "--client-id", "tool", "--profile", "tool")
	if code != 1 || !strings.Contains(errOut, "terminal sign-in is not enabled for client tool") ||
		!strings.Contains(errOut, "gatehouse clients update tool --terminal-login") {
		t.Fatalf("client without terminal sign-in: exit %d\n%s", code, errOut)
	}
}
