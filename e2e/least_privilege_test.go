package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/proxytest"
)

// TestLeastPrivilege is the attack of the least-privilege review, run
// against the real binaries: an admin signs in to a third-party app
// ("wiki", consent to openid only). The token that app receives must be
// refused by the admin API, by the account API and by a gateway of the
// same issuer that is not its audience — while the admin's own CLI
// (gatehouse-cli, first-party) reaches the admin API through its separate
// admin sign-in, and the everyday CLI token does not.
func TestLeastPrivilege(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	p, _ := discover(t, ctx, g)

	// A gateway of the same issuer (external-issuer mode, its own client).
	gwAddr := freeAddr(t)
	gwID, gwSecret := createClient(t, g, "dagster", "--grant", "authorization_code", "--grant", "client_credentials",
		"--redirect-uri", "http://"+gwAddr+"/_gatehouse/callback", "--scope", "openid", "--scope", "profile", "--first-party")
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(gwSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := startGatewayAt(t, gwAddr, "--issuer", g.URL, "--client-id", gwID, "--client-secret-file", secretFile)

	// The third-party app and the admin's consent to openid.
	redirect := "http://" + freeAddr(t) + "/cb"
	wikiID, wikiSecret := createClient(t, g, "wiki", "--grant", "authorization_code", "--redirect-uri", redirect, "--scope", "openid")
	wiki := &oauth2.Config{ClientID: wikiID, ClientSecret: wikiSecret, Endpoint: p.Endpoint(), RedirectURL: redirect, Scopes: []string{"openid"}}
	b := newBrowser(t, g.URL)
	ar := newAuthRequest(wiki)
	pg, err := browse(b, http.MethodGet, ar.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if pg, err = submitLogin(b, pg, "admin", adminPassword); err != nil {
		t.Fatal(err)
	}
	consent, err := pg.form("/oauth2/authorize")
	if err != nil {
		t.Fatalf("no consent page for the third-party app: %v (%s)", err, pg)
	}
	next, err := consent.submit(b, url.Values{"decision": {"allow"}})
	if err != nil || next.Location == nil {
		t.Fatalf("consent: %v %v", err, next)
	}
	code := checkCallback(t, next.Location.Query(), ar, g.URL)
	wikiTok, err := wiki.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("wiki's code exchange: %v", err)
	}

	call := func(method, u, tok, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		e, _ := m["error"].(string)
		return resp.StatusCode, e
	}
	for _, c := range []struct {
		what, method, url, body string
	}{
		{"admin API: list users", "GET", g.URL + "/admin/v1/users", ""},
		{"admin API: create an admin API key", "POST", g.URL + "/admin/v1/apikeys", `{"name":"backdoor","roles":["admin"]}`},
		{"account API: enrol TOTP", "POST", g.URL + "/account/api/mfa/enroll", ""},
	} {
		if st, e := call(c.method, c.url, wikiTok.AccessToken, c.body); st != http.StatusForbidden || e != "insufficient_scope" {
			t.Errorf("%s with the wiki's token: %d %s, want 403 insufficient_scope", c.what, st, e)
		}
	}
	if st, _ := call("GET", gw.URL+"/runs", wikiTok.AccessToken, ""); st != http.StatusUnauthorized {
		t.Errorf("gateway with the wiki's token: %d, want 401", st)
	}

	// The admin's everyday CLI login: its token opens none of them either.
	// (--no-dpop: the token is sent here as a bearer token; the --admin
	// login below inherits the profile's choice.)
	u := newCLIUser(t)
	u.loginWithHTTPBrowser(g, "admin", adminPassword, "--no-dpop")
	everyday := strings.TrimSpace(u.ok(nil, "token"))
	if st, _ := call("GET", g.URL+"/admin/v1/users", everyday, ""); st != http.StatusForbidden {
		t.Errorf("admin API with the everyday CLI token: %d, want 403", st)
	}
	// Admin commands over the API say which sign-in they need, without a
	// terminal ...
	if _, errOut, code := u.run(nil, "", "users", "list", "--server", g.URL); code == 0 || !strings.Contains(errOut, "gatehouse login --admin") {
		t.Errorf("users list without the admin sign-in: exit %d, %s", code, errOut)
	}
	// ... and work after `gatehouse login --admin`, which leaves the
	// everyday login as it was.
	u.loginWithHTTPBrowser(g, "admin", adminPassword, "--admin")
	if out := u.ok(nil, "users", "list", "--server", g.URL); !strings.Contains(out, "admin") {
		t.Errorf("users list after login --admin: %s", out)
	}
	if again := strings.TrimSpace(u.ok(nil, "token")); again != everyday {
		t.Errorf("login --admin replaced the everyday token")
	}
	if aud := payload(t, everyday)["aud"]; strings.Contains(strings.Join(toStrings(aud), " "), "/admin") {
		t.Errorf("the everyday token is for the admin API: aud %v", aud)
	}
	// Logout ends both.
	u.ok(nil, "logout")
	if _, _, code := u.run(nil, "", "users", "list", "--server", g.URL); code == 0 {
		t.Errorf("admin command after logout succeeded")
	}
}

// startGatewayAt is startGateway on addr.
func startGatewayAt(t *testing.T, addr string, extraArgs ...string) *gatehouse {
	t.Helper()
	app := httptest.NewServer(proxytest.NewApp().Handler())
	t.Cleanup(app.Close)
	args := append([]string{"--upstream", app.URL, "--preset", "dagster", "--audit-output", "off"}, extraArgs...)
	g := spawnCommand(t, "proxy", "/_gatehouse/healthz", addr, t.TempDir(), nil, args...)
	g.waitHealthy(t)
	return g
}

func toStrings(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		out = append(out, x)
	case []any:
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
	}
	return out
}
