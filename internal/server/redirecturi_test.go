package server

import (
	"bytes"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestRedirectOrigin(t *testing.T) {
	tests := map[string]string{
		"https://app.example/cb?x=1":       "https://app.example",
		"https://App.Example:8443/cb":      "https://app.example:8443",
		"http://127.0.0.1:5000/callback":   "http://127.0.0.1:5000",
		"http://[::1]:5000/callback":       "http://[::1]:5000",
		"com.example.app:/oauth":           "com.example.app:",
		"https://a.example;script-src *":   "",
		"https://a.example'/cb":            "",
		"not a uri":                        "",
		"https://app.example,evil.example": "",
	}
	for in, want := range tests {
		if got := redirectOrigin(in); got != want {
			t.Errorf("redirectOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithQuery(t *testing.T) {
	p := url.Values{"code": {"c d"}, "state": {"s"}}
	tests := map[string]string{
		"https://app.example/cb":                 "https://app.example/cb?code=c+d&state=s",
		"https://app.example/cb?tenant=a%20b":    "https://app.example/cb?tenant=a%20b&code=c+d&state=s",
		"https://app.example/cb?":                "https://app.example/cb?code=c+d&state=s",
		"https://app.example/cb?x=1&":            "https://app.example/cb?x=1&code=c+d&state=s",
		"http://127.0.0.1:5000/callback?a=1&b=2": "http://127.0.0.1:5000/callback?a=1&b=2&code=c+d&state=s",
	}
	for in, want := range tests {
		if got := withQuery(in, p); got != want {
			t.Errorf("withQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

// A database made before gatehouse-cli accepted localhost gets the new
// redirect URIs at the next start, and keeps what it had.
func TestBootstrapUpgradesTheCLIClient(t *testing.T) {
	h := newHarness(t)
	ctx := t.Context()
	if err := h.store.UpdateClient(ctx, CLIClientID, func(c *storage.Client) error {
		c.RedirectURIs = []string{"http://127.0.0.1/callback", "http://127.0.0.1/mine"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := Bootstrap(ctx, h.store, h.srv.hasher, "", h.clock); err != nil {
		t.Fatal(err)
	}
	c, err := h.store.GetClient(ctx, CLIClientID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"http://127.0.0.1/mine", "http://localhost", "http://localhost/callback", "http://[::1]/callback"} {
		if !slices.Contains(c.RedirectURIs, want) {
			t.Errorf("redirect URIs after the upgrade = %v, missing %s", c.RedirectURIs, want)
		}
	}
}

// A database that got users before the first start (a viewer added with
// the CLI) still gets its admin, under GATEHOUSE_ADMIN_USER's name, and the
// bootstrap is audited.
func TestBootstrapCreatesAnAdminWhenNoneExists(t *testing.T) {
	ctx := t.Context()
	st := openSQLite(t)
	h := password.NewHasher(testHashParams, 2)
	if err := st.CreateUser(ctx, &storage.User{ID: "v1", Username: "vera", Roles: []string{RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	al := audit.New(&buf, clocktest.New(time.Now()))
	gen, err := BootstrapWith(ctx, st, h, BootstrapOptions{AdminUser: "Root", Audit: al})
	if err != nil || gen == "" {
		t.Fatalf("bootstrap: %q %v", gen, err)
	}
	al.Close()
	u, err := st.GetUserByName(ctx, "root")
	if err != nil || !slices.Contains(u.Roles, RoleAdmin) {
		t.Fatalf("admin user: %+v %v", u, err)
	}
	for _, want := range []string{`"type":"user.created"`, `"type":"client.created"`, `"actor":"bootstrap"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("audit lacks %s:\n%s", want, buf.String())
		}
	}
	if strings.Contains(buf.String(), gen) {
		t.Error("the audit trail holds the generated password")
	}
	// Once an admin exists nothing more is created.
	if gen, err := BootstrapWith(ctx, st, h, BootstrapOptions{}); err != nil || gen != "" {
		t.Errorf("second start: %q %v", gen, err)
	}
	// No admin and the name taken by a non-admin: a clear error.
	st2 := openSQLite(t)
	if err := st2.CreateUser(ctx, &storage.User{ID: "a1", Username: "admin", Roles: []string{RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	if _, err := BootstrapWith(ctx, st2, h, BootstrapOptions{}); err == nil || !strings.Contains(err.Error(), "set-role") {
		t.Errorf("taken admin name: %v", err)
	}
}
