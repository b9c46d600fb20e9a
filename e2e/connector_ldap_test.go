package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/proxytest"
)

// TestConnectorLDAP: the real binary with docs/examples/ldap.yaml against
// slapd loaded with docs/examples/ldap.ldif. ada signs in on the login
// page and gets admin, bob gets viewer, a wrong password is refused, and
// with slapd stopped the login page answers 503 "directory unavailable"
// at once while the local admin still signs in.
func TestConnectorLDAP(t *testing.T) {
	t.Parallel()
	dir := ldaptest.New(t, ldaptest.Options{})
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	// The example config trusts the system's roots for StartTLS; the
	// test's CA joins them through SSL_CERT_FILE.
	g := spawn(t, addr, t.TempDir(), []string{"LDAP_URL=" + dir.URL, "LDAP_BIND_PASSWORD=" + ldaptest.ServicePassword,
		"SSL_CERT_FILE=" + dir.CAFile}, "--config", filepath.Join(root, "docs", "examples", "ldap.yaml"), "--issuer", "http://"+addr)
	g.waitHealthy(t)

	for _, tc := range []struct{ user, pass, role string }{
		{"ada", "ada-password-1", "admin"},
		{"bob", "bob-password-1", "viewer"},
	} {
		c := newBrowser(t, g.URL)
		if err := loginHTTP(c, g.URL, tc.user, tc.pass); err != nil {
			t.Fatalf("%s: %v", tc.user, err)
		}
		out, errOut, code := runCLI(t, "", append([]string{"users", "show", tc.user, "--json"}, g.storage...)...)
		if code != 0 {
			t.Fatalf("users show %s: %d %s %s", tc.user, code, out, errOut)
		}
		var u struct {
			Roles     []string `json:"roles"`
			Connector string   `json:"connector"`
		}
		if err := json.Unmarshal([]byte(out), &u); err != nil {
			t.Fatal(err)
		}
		if u.Connector != "corp" || !slices.Equal(u.Roles, []string{tc.role}) {
			t.Errorf("%s: %+v, want roles [%s] from connector corp", tc.user, u, tc.role)
		}
	}

	submit := func(user, pass string) *page {
		t.Helper()
		c := newBrowser(t, g.URL)
		p, err := browse(c, http.MethodGet, g.URL+"/login", nil)
		if err != nil {
			t.Fatal(err)
		}
		next, err := submitLogin(c, p, user, pass)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	if p := submit("ada", "wrong-password"); p.Status != http.StatusUnauthorized || !strings.Contains(p.Body, "Invalid username or password") {
		t.Errorf("wrong password: %s", p)
	}
	if p := submit("*)(uid=*", "ada-password-1"); p.Status != http.StatusUnauthorized {
		t.Errorf("LDAP injection in the username: %s", p)
	}

	if err := dir.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p := submit("ada", "ada-password-1")
	if took := time.Since(start); p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "Directory unavailable") || took > 15*time.Second {
		t.Errorf("slapd stopped: %s after %s", p, took)
	} else {
		t.Logf("slapd stopped: 503 after %s", took)
	}
	if err := loginHTTP(newBrowser(t, g.URL), g.URL, "admin", adminPassword); err != nil {
		t.Errorf("local admin while the directory is down: %v", err)
	}
}

// TestGatewayConnectorLDAP: `gatehouse proxy` reads the same
// docs/examples/ldap.yaml, so its embedded server signs people in with
// the directory: ada (ops-admins → admin) may launch a run, bob
// (analysts → viewer) may only read.
func TestGatewayConnectorLDAP(t *testing.T) {
	t.Parallel()
	dir := ldaptest.New(t, ldaptest.Options{})
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	app := proxytest.NewApp()
	ts := httptest.NewServer(app.Handler())
	t.Cleanup(ts.Close)
	g := spawnCommand(t, "proxy", "/_gatehouse/healthz", freeAddr(t), t.TempDir(),
		[]string{"LDAP_URL=" + dir.URL, "LDAP_BIND_PASSWORD=" + ldaptest.ServicePassword, "SSL_CERT_FILE=" + dir.CAFile},
		"--upstream", ts.URL, "--preset", "dagster", "--audit-output", "off",
		"--config", filepath.Join(root, "docs", "examples", "ldap.yaml"))
	g.waitHealthy(t)
	gw := &gateway{gatehouse: g, app: app}

	ada := gw.browserLogin(t, "ada", "ada-password-1")
	if got := gw.graphql(t, ada, nil, mutLaunch); got != http.StatusOK {
		t.Errorf("ada (admin from ops-admins) launching a run: %d", got)
	}
	bob := gw.browserLogin(t, "bob", "bob-password-1")
	if got := gw.graphql(t, bob, nil, queryRuns); got != http.StatusOK {
		t.Errorf("bob (viewer from analysts) reading runs: %d", got)
	}
	if got := gw.graphql(t, bob, nil, mutLaunch); got != http.StatusForbidden {
		t.Errorf("bob (viewer) launching a run: %d, want 403", got)
	}
}
