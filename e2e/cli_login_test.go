package e2e

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/chromiumtest"
)

// TestCLIBrowserLogin: `gatehouse login` opens the login page in a real
// headless Chromium (through GATEHOUSE_BROWSER), the user signs in, and
// then token, api and status use the stored login without a token in
// sight; logout revokes it at the server.
func TestCLIBrowserLogin(t *testing.T) {
	t.Parallel()
	ctx := chromiumtest.New(t)
	g := startServer(t)
	_, m := discover(t, t.Context(), g)
	rsID, rsSecret := createClient(t, g, "rs", "--grant", "client_credentials")
	const pw = "alice-Pa55word-e2e"
	addUser(t, g, "alice", "editor", pw)
	u := newCLIUser(t)

	p := u.start(nil, "", "login", "--issuer", g.URL)
	authURL := u.loginURL(p)
	if err := browserDo(ctx, chromedp.Navigate(authURL)); err != nil {
		t.Fatalf("open %s: %v", authURL, err)
	}
	if err := browserLogin(ctx, "alice", pw); err != nil {
		t.Fatalf("login form at %s: %v", browserLocation(ctx), err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("login: exit %d\n%s", code, p.stderr.String())
	}
	// The tab ends on the CLI's own page.
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	title, err := chromedp.Run(ctx2, chromedp.Text(chromedp.CSS("h1")))
	cancel()
	if err != nil || title != "Signed in" {
		t.Errorf("browser page after login: %q, %v (at %s)", title, err, browserLocation(ctx))
	}
	if want := "Logged in to " + g.URL + " as alice (profile default)."; !strings.Contains(p.stderr.String(), want) {
		t.Errorf("login output lacks %q:\n%s", want, p.stderr.String())
	}
	if p.stdout.Len() != 0 {
		t.Errorf("login printed on stdout: %q", p.stdout.String())
	}

	cred := u.stored("default")
	tok := strings.TrimSpace(u.ok(nil, "token"))
	if tok != cred.AccessToken {
		t.Error("token did not print the stored access token")
	}
	if in := introspect(t, t.Context(), m, rsID, rsSecret, tok); !in.Active || in.Username != "alice" {
		t.Errorf("introspection of the CLI's token: %+v", in)
	}

	var info map[string]any
	if err := json.Unmarshal([]byte(u.ok(nil, "api", "/oauth2/userinfo")), &info); err != nil || info["preferred_username"] != "alice" {
		t.Errorf("gatehouse api /oauth2/userinfo: %v %v", info, err)
	}

	var st struct {
		InUse struct {
			Source, Profile, Username string
		} `json:"in_use"`
	}
	if err := json.Unmarshal([]byte(u.ok(nil, "status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.InUse.Source != "default profile" || st.InUse.Profile != "default" || st.InUse.Username != "alice" {
		t.Errorf("status in_use = %+v", st.InUse)
	}
	if text := u.ok(nil, "status"); strings.Contains(text, cred.AccessToken) || strings.Contains(text, cred.RefreshToken) {
		t.Error("status shows a token")
	}

	out, errOut, code := u.run(nil, "", "logout")
	if code != 0 || !strings.Contains(errOut, "the tokens are revoked") {
		t.Fatalf("logout: exit %d\n%s%s", code, out, errOut)
	}
	for name, tk := range map[string]string{"access": cred.AccessToken, "refresh": cred.RefreshToken} {
		if in := introspect(t, t.Context(), m, rsID, rsSecret, tk); in.Active {
			t.Errorf("the %s token is still active after logout", name)
		}
	}
	if _, errOut, code := u.run(nil, "", "token"); code != 3 || !strings.Contains(errOut, "run `gatehouse login`") {
		t.Errorf("token after logout: exit %d, %s", code, errOut)
	}
}

// TestCLIDeviceLogin: `gatehouse login --device` without a terminal prints
// the URL and code and waits; the user approves in a browser elsewhere.
func TestCLIDeviceLogin(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	_, m := discover(t, t.Context(), g)
	rsID, rsSecret := createClient(t, g, "rs", "--grant", "client_credentials")
	const pw = "bob-Pa55word-e2e"
	addUser(t, g, "bob", "viewer", pw)
	u := newCLIUser(t)

	p := u.start(nil, "", "login", "--device", "--issuer", g.URL, "--profile", "tv")
	code := p.waitStderr(t, regexp.MustCompile(`enter the code: (\S+)`))
	if !strings.Contains(p.stderr.String(), "open "+g.URL+"/device") {
		t.Errorf("no verification URL:\n%s", p.stderr.String())
	}
	b := newBrowser(t, g.URL)
	if err := loginHTTP(b, g.URL, "bob", pw); err != nil {
		t.Fatal(err)
	}
	if err := approveDeviceHTTP(b, g.URL, code, "approve"); err != nil {
		t.Fatal(err)
	}
	if exit := p.wait(t, 40*time.Second); exit != 0 {
		t.Fatalf("device login: exit %d\n%s", exit, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "as bob (profile tv)") {
		t.Errorf("stderr:\n%s", p.stderr.String())
	}
	// The first login became the default profile; the server supports
	// DPoP, so the login is bound and the header goes with a proof.
	hdr := u.ok(nil, "token", "--output", "header", "--url", g.URL+"/oauth2/userinfo")
	tok, proof, _ := strings.Cut(strings.TrimSpace(hdr), "\n")
	if !strings.HasPrefix(tok, "Authorization: DPoP ") || !strings.HasPrefix(proof, "DPoP: ") {
		t.Fatalf("token --output header = %q", hdr)
	}
	if in := introspect(t, t.Context(), m, rsID, rsSecret, strings.TrimPrefix(tok, "Authorization: DPoP ")); !in.Active || in.Username != "bob" {
		t.Errorf("introspection: %+v", in)
	}
	u.ok(nil, "logout")
}

// TestCLIClientCredentialsEnv: CI with GATEHOUSE_CLIENT_ID/SECRET/ISSUER
// and no login at all.
func TestCLIClientCredentialsEnv(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	_, m := discover(t, t.Context(), g)
	rsID, rsSecret := createClient(t, g, "rs", "--grant", "client_credentials")
	id, secret := createClient(t, g, "ci", "--grant", "client_credentials", "--scope", "read", "--role", "viewer")
	u := newCLIUser(t)
	env := []string{"GATEHOUSE_CLIENT_ID=" + id, "GATEHOUSE_CLIENT_SECRET=" + secret, "GATEHOUSE_ISSUER=" + g.URL}

	var tj struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresAt   string `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(u.ok(env, "token", "--output", "json")), &tj); err != nil {
		t.Fatal(err)
	}
	if tj.TokenType != "Bearer" || tj.ExpiresAt == "" {
		t.Errorf("token --output json = %+v", tj)
	}
	if in := introspect(t, t.Context(), m, rsID, rsSecret, tj.AccessToken); !in.Active || in.ClientID != id {
		t.Errorf("introspection: %+v", in)
	}
	status := u.ok(env, "status")
	if !strings.Contains(status, "In use: client credentials from env GATEHOUSE_CLIENT_ID for "+g.URL) || strings.Contains(status, secret) {
		t.Errorf("status:\n%s", status)
	}
	// The same client logs in and is stored, secret from stdin.
	out, errOut, code := u.run(nil, secret+"\n", "login", "--issuer", g.URL, "--client-credentials", "--client-id", id, "--client-secret-stdin", "--profile", "ci")
	if code != 0 || !strings.Contains(errOut, "as client "+id+" (profile ci)") {
		t.Fatalf("login --client-credentials: exit %d\n%s%s", code, out, errOut)
	}
	if tok := strings.TrimSpace(u.ok(nil, "token", "--profile", "ci")); tok != u.stored("ci").AccessToken {
		t.Error("token --profile ci is not the stored token")
	}
}
