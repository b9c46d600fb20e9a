package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/proxytest"
)

// emailDomainPolicy admits the people of one company, whatever their
// roles.
const emailDomainPolicy = `version: 1
rules:
  - name: company
    email_domains: [example.com]
`

// TestGatewayEmailDomainRule: the real gateway with a policy that names
// an email domain lets alice@example.com in and refuses bob@other.org,
// with the embedded server and with another gatehouse server as the
// issuer.
func TestGatewayEmailDomainRule(t *testing.T) {
	t.Parallel()
	policyFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(emailDomainPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	addUsers := func(t *testing.T, storage []string) map[string]string {
		pass := map[string]string{}
		for name, email := range map[string]string{"alice": "alice@example.com", "bob": "bob@other.org"} {
			pass[name] = "pw-" + name + "-e2e-12345"
			argv := append([]string{"users", "add", name, "--role", "viewer", "--email", email, "--email-verified", "--password-stdin"}, storage...)
			if o, e, code := runCLI(t, pass[name]+"\n", argv...); code != 0 {
				t.Fatalf("users add %s: %s %s", name, o, e)
			}
		}
		return pass
	}
	// signIn opens /runs at the gateway with a new browser, signs in at
	// the issuer's login page and returns the status of /runs after it.
	signIn := func(t *testing.T, gwURL, loginAction, user, pass string) int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
		p, err := browse(c, http.MethodGet, gwURL+"/runs", nil)
		if err != nil {
			t.Fatal(err)
		}
		f, err := p.form(loginAction)
		if err != nil || !f.Fields.Has("password") {
			t.Fatalf("not at a login page: %v %s", err, p)
		}
		p, err = f.submit(c, url.Values{"username": {user}, "password": {pass}})
		if err != nil {
			t.Fatal(err)
		}
		if p.URL.Host != strings.TrimPrefix(gwURL, "http://") || p.URL.Path != "/runs" {
			t.Fatalf("%s did not come back to /runs: %s", user, p)
		}
		return p.Status
	}
	check := func(t *testing.T, gwURL, loginAction string, pass map[string]string) {
		if got := signIn(t, gwURL, loginAction, "alice", pass["alice"]); got != http.StatusOK {
			t.Errorf("alice@example.com: status %d, want 200", got)
		}
		if got := signIn(t, gwURL, loginAction, "bob", pass["bob"]); got != http.StatusForbidden {
			t.Errorf("bob@other.org: status %d, want 403", got)
		}
	}

	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		app := proxytest.NewApp()
		ts := httptest.NewServer(app.Handler())
		t.Cleanup(ts.Close)
		g := spawnCommand(t, "proxy", "/_gatehouse/healthz", freeAddr(t), t.TempDir(), nil,
			"--upstream", ts.URL, "--policy", policyFile, "--audit-output", "off")
		g.waitHealthy(t)
		check(t, g.URL, authPrefix+"/login", addUsers(t, g.storage))
	})

	t.Run("external issuer", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t)
		gwAddr := freeAddr(t)
		out := gatehouseAdmin(t, srv, "clients", "create", "app", "--grant", "authorization_code",
			"--redirect-uri", "http://"+gwAddr+"/_gatehouse/callback", "--scope", "openid", "--scope", "profile",
			"--scope", "email", "--first-party", "--json")
		var cl struct {
			ID     string `json:"client_id"`
			Secret string `json:"client_secret"`
		}
		if err := json.Unmarshal([]byte(out), &cl); err != nil {
			t.Fatal(err)
		}
		secretFile := filepath.Join(t.TempDir(), "client-secret")
		if err := os.WriteFile(secretFile, []byte(cl.Secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		pass := addUsers(t, srv.storage)
		app := proxytest.NewApp()
		ts := httptest.NewServer(app.Handler())
		t.Cleanup(ts.Close)
		g := spawnCommand(t, "proxy", "/_gatehouse/healthz", gwAddr, t.TempDir(), nil,
			"--upstream", ts.URL, "--policy", policyFile, "--audit-output", "off",
			"--issuer", srv.URL, "--client-id", cl.ID, "--client-secret-file", secretFile,
			"--scope", "openid", "--scope", "profile", "--scope", "email")
		g.waitHealthy(t)
		check(t, g.URL, "/login", pass)
	})
}
