package cliauth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/oskeyring"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

const boundToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.bound-token-signature"

// boundCLI is fixedCLI with a DPoP-bound login in profile "bound"
// (valid 15 minutes, so no request is needed) and returns its key.
func boundCLI(t *testing.T) (*testCLI, *client.DPoP) {
	t.Helper()
	c := fixedCLI(t)
	d, err := client.NewDPoPKey(c.clock)
	if err != nil {
		t.Fatal(err)
	}
	c.ok("", "profiles", "add", "bound", "--issuer", "https://auth.example.com")
	err = c.fileStore().Put(context.Background(), "bound", &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://auth.example.com",
		ClientID:     "gatehouse-cli",
		TokenType:    "DPoP",
		AccessToken:  boundToken,
		RefreshToken: "refresh-token-bound-0123456789",
		Expiry:       serverStart.Add(15 * time.Minute),
		Subject:      "u-alice",
		Username:     "alice",
		UpdatedAt:    serverStart,
		DPoPKey:      d.PrivateKeyPEM(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

// verifyProof checks a proof printed by `token` with the dpop package's
// verifier: signature, typ, htm, htu, ath, iat, and the login's key.
func verifyProof(t *testing.T, c *testCLI, d *client.DPoP, proof, method, url string) {
	t.Helper()
	v, err := dpop.NewVerifier(dpop.Config{Clock: c.clock})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), proof, dpop.Request{Method: method, URL: url, AccessToken: boundToken, JKT: d.Thumbprint()})
	if err != nil {
		t.Errorf("the printed proof does not verify for %s %s: %v", method, url, err)
		return
	}
	if p.Nonce != "" {
		t.Errorf("proof nonce %q", p.Nonce)
	}
}

// TestTokenHeaderDPoP: a bound login prints both headers for the request
// named by --url and --method, with a fresh proof each time.
func TestTokenHeaderDPoP(t *testing.T) {
	t.Parallel()
	c, d := boundCLI(t)
	out := c.ok("", "token", "-p", "bound", "--output", "header", "--url", "https://api.example.com/things?x=1").out
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || lines[0] != "Authorization: DPoP "+boundToken || !strings.HasPrefix(lines[1], "DPoP: ") {
		t.Fatalf("header output = %q, want the Authorization and DPoP headers", out)
	}
	verifyProof(t, c, d, strings.TrimPrefix(lines[1], "DPoP: "), http.MethodGet, "https://api.example.com/things")

	again := c.ok("", "token", "-p", "bound", "-o", "header", "--method", "post", "--url", "https://api.example.com/things").out
	proof := strings.TrimPrefix(strings.Split(strings.TrimSuffix(again, "\n"), "\n")[1], "DPoP: ")
	if proof == strings.TrimPrefix(lines[1], "DPoP: ") {
		t.Error("two runs printed the same proof")
	}
	verifyProof(t, c, d, proof, http.MethodPost, "https://api.example.com/things")
}

// TestTokenJSONDPoP: json output of a bound login has token_type DPoP and
// the key's thumbprint, and the proof for --url.
func TestTokenJSONDPoP(t *testing.T) {
	t.Parallel()
	c, d := boundCLI(t)
	var got struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		DPoPProof   string `json:"dpop_proof"`
		DPoPJKT     string `json:"dpop_jkt"`
	}
	out := c.ok("", "token", "-p", "bound", "-o", "json", "--method", "DELETE", "--url", "https://api.example.com/things/1").out
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != boundToken || got.TokenType != "DPoP" || got.DPoPJKT != d.Thumbprint() || got.DPoPProof == "" {
		t.Errorf("json = %s", out)
	}
	verifyProof(t, c, d, got.DPoPProof, http.MethodDelete, "https://api.example.com/things/1")
	// The wire format, with the values that change every run replaced.
	golden(t, "token_dpop.json", strings.NewReplacer(got.DPoPProof, "<proof>", got.DPoPJKT, "<jkt>").Replace(out))

	// Without --url: no proof (no request to make it for), the rest.
	got.DPoPProof = ""
	if err := json.Unmarshal([]byte(c.ok("", "token", "-p", "bound", "-o", "json").out), &got); err != nil {
		t.Fatal(err)
	}
	if got.TokenType != "DPoP" || got.DPoPProof != "" || got.DPoPJKT != d.Thumbprint() {
		t.Errorf("json without --url = %+v", got)
	}
	// A bearer login: no DPoP members, --url or not.
	out = c.ok("", "token", "-o", "json", "--url", "https://api.example.com/").out
	if strings.Contains(out, "dpop") || !strings.Contains(out, `"token_type": "Bearer"`) {
		t.Errorf("bearer json = %s", out)
	}
}

// TestTokenDPoPRefusals: a bound token is not printed where it cannot be
// used — a header without the request it is for, kubectl's
// ExecCredential — and each refusal says what to do.
func TestTokenDPoPRefusals(t *testing.T) {
	t.Parallel()
	c, _ := boundCLI(t)
	r := c.fail(cliauth.ExitUsage, "pass --url URL", "", "token", "-p", "bound", "-o", "header")
	if strings.Contains(r.out, boundToken) {
		t.Error("the token was printed anyway")
	}
	r = c.fail(cliauth.ExitUsage, "--no-dpop", "", "token", "-p", "bound", "-o", "exec-credential")
	if strings.Contains(r.out, boundToken) || !strings.Contains(r.err.Error(), "kubectl") {
		t.Errorf("exec-credential refusal: %v; out %q", r.err, r.out)
	}
	// Text output prints the token with a warning on stderr.
	r = c.ok("", "token", "-p", "bound")
	if r.out != boundToken+"\n" || !strings.Contains(r.errOut, "--output header --url") {
		t.Errorf("text: out %q, stderr %q", r.out, r.errOut)
	}
	// Flag errors name the flag.
	c.fail(cliauth.ExitUsage, "it goes with --output header or json", "", "token", "-p", "bound", "--url", "https://api.example.com/")
	c.fail(cliauth.ExitUsage, "--url \"/things\"", "", "token", "-p", "bound", "-o", "header", "--url", "/things")
	c.fail(cliauth.ExitUsage, "--method", "", "token", "-p", "bound", "-o", "header", "--method", "GET /x", "--url", "https://api.example.com/")
	// A bearer login with --url: only the Authorization header.
	if out := c.ok("", "token", "-o", "header", "--url", "https://api.example.com/").out; strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "Authorization: Bearer ") {
		t.Errorf("bearer header = %q", out)
	}
}

// TestStatusShowsDPoPBinding: status says a login is bound to this
// machine's key, and which (thumbprint), never the key itself.
func TestStatusShowsDPoPBinding(t *testing.T) {
	t.Parallel()
	c, d := boundCLI(t)
	r := c.ok("", "status", "-p", "bound")
	if !strings.Contains(r.out, "bound to this machine's key (DPoP), jkt "+d.Thumbprint()) {
		t.Errorf("status does not show the binding:\n%s", r.out)
	}
	if strings.Count(r.out, "binding:") != 1 {
		t.Errorf("binding shown for more than the bound profile:\n%s", r.out)
	}
	js := c.ok("", "status", "--json").out
	keyBody := strings.Split(d.PrivateKeyPEM(), "\n")[1]
	if strings.Contains(r.out+js, keyBody) || strings.Contains(r.out+js, "PRIVATE KEY") {
		t.Error("status shows the private key")
	}
	var doc struct {
		Profiles []struct {
			Name    string `json:"name"`
			Binding string `json:"binding"`
			JKT     string `json:"dpop_jkt"`
		} `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range doc.Profiles {
		want := ""
		if p.Name == "bound" {
			want = "dpop"
		}
		if p.Binding != want || (want != "" && p.JKT != d.Thumbprint()) {
			t.Errorf("status --json profile %s: binding %q jkt %q", p.Name, p.Binding, p.JKT)
		}
	}
	// The thumbprint is base64url of a SHA-256: 43 characters.
	if b, err := base64.RawURLEncoding.DecodeString(d.Thumbprint()); err != nil || len(b) != 32 {
		t.Errorf("thumbprint %q", d.Thumbprint())
	}
}

// TestLoginDPoPFlags: the DPoP flags exclude each other and do not apply
// to API keys.
func TestLoginDPoPFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	c.fail(cliauth.ExitUsage, "--dpop and --no-dpop exclude each other", "", "login", "--issuer", "https://auth.example.com", "--dpop", "--no-dpop")
	c.fail(cliauth.ExitUsage, "do not apply", "gatehouse_key\n", "login", "--issuer", "https://auth.example.com", "--with-api-key", "--no-dpop")
}

// userinfoWith calls the real server's userinfo endpoint with the header
// lines `token --output header` printed, as curl -H would.
func userinfoWith(t *testing.T, srv *testServer, headers string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/oauth2/userinfo", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(headers), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		req.Header.Set(k, v)
	}
	resp, err := srv.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLoginDPoPAgainstServer: against the real server, which announces
// DPoP, a login is bound by default: the key is stored with the tokens,
// status shows it, the printed headers work at the server, a refresh
// keeps the binding, and logout deletes the key.
func TestLoginDPoPAgainstServer(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	r := c.loginBrowser()
	if !strings.Contains(r.errOut, "bound to this machine's key (DPoP)") {
		t.Errorf("login does not say the login is bound:\n%s", r.errOut)
	}
	cred := c.stored("default")
	if !cred.Bound() || cred.TokenType != "DPoP" {
		t.Fatalf("stored login: bound %v, token_type %q", cred.Bound(), cred.TokenType)
	}
	d, err := client.LoadDPoPKey(cred.DPoPKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := c.ok("", "status").out; !strings.Contains(st, "bound to this machine's key (DPoP), jkt "+d.Thumbprint()) {
		t.Errorf("status:\n%s", st)
	}

	hdr := c.ok("", "token", "-o", "header", "--url", srv.URL+"/oauth2/userinfo").out
	if got := userinfoWith(t, srv, hdr); got != http.StatusOK {
		t.Errorf("userinfo with the printed headers: %d, want 200", got)
	}
	// The same proof twice: a replay, refused.
	if got := userinfoWith(t, srv, hdr); got != http.StatusUnauthorized {
		t.Errorf("userinfo with a replayed proof: %d, want 401", got)
	}
	// The token alone, as a bearer token: refused.
	if got := userinfoWith(t, srv, "Authorization: Bearer "+cred.AccessToken); got != http.StatusUnauthorized {
		t.Errorf("userinfo with the bound token as Bearer: %d, want 401", got)
	}
	// A proof for another URL: refused.
	other := c.ok("", "token", "-o", "header", "--url", srv.URL+"/oauth2/other").out
	if got := userinfoWith(t, srv, other); got != http.StatusUnauthorized {
		t.Errorf("userinfo with a proof for another URL: %d, want 401", got)
	}

	// A refresh sends a proof of the stored key and keeps the binding.
	c.ok("", "token", "--force-refresh")
	after := c.stored("default")
	if after.RefreshToken == cred.RefreshToken || after.DPoPKey != cred.DPoPKey || after.TokenType != "DPoP" {
		t.Errorf("after a refresh: rotated %v, same key %v, token_type %q", after.RefreshToken != cred.RefreshToken, after.DPoPKey == cred.DPoPKey, after.TokenType)
	}

	c.ok("", "logout")
	data, err := os.ReadFile(filepath.Join(c.dir, credstore.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "dpop_key") || strings.Contains(string(data), "PRIVATE KEY") {
		t.Errorf("the key is still stored after logout:\n%s", data)
	}
}

// TestDPoPStolenRefreshTokenRefused: a bound login's refresh token copied
// to another profile (another machine) without the key does not refresh.
func TestDPoPStolenRefreshTokenRefused(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	stolen := *c.stored("default")
	stolen.DPoPKey, stolen.TokenType = "", "Bearer"
	thief := newCLI(t, srv)
	thief.ok("", "profiles", "add", "default", "--issuer", srv.URL)
	if err := thief.fileStore().Put(context.Background(), "default", &stolen); err != nil {
		t.Fatal(err)
	}
	thief.fail(cliauth.ExitExpired, "run `gatehouse login`", "", "token", "--force-refresh")
	// The owner's login still works.
	c.ok("", "token", "--force-refresh")
}

// TestLoginNoDPoPRemembered: --no-dpop stores a bearer login and is
// remembered for the profile's next logins until --dpop.
func TestLoginNoDPoPRemembered(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser("--no-dpop")
	if cred := c.stored("default"); cred.Bound() || cred.TokenType != "Bearer" {
		t.Fatalf("--no-dpop login: bound %v, token_type %q", cred.Bound(), cred.TokenType)
	}
	cfg, _ := os.ReadFile(filepath.Join(c.dir, "config.yaml"))
	if !strings.Contains(string(cfg), "no_dpop: true") {
		t.Errorf("config.yaml does not remember --no-dpop:\n%s", cfg)
	}
	// A bearer login (as every login stored before DPoP) refreshes as
	// before at a DPoP server and stays a bearer login.
	c.ok("", "token", "--force-refresh")
	if cred := c.stored("default"); cred.Bound() || cred.TokenType != "Bearer" {
		t.Errorf("bearer login after a refresh: bound %v, token_type %q", cred.Bound(), cred.TokenType)
	}
	// The bearer token works where bearer tokens go: exec-credential.
	if out := c.ok("", "token", "-o", "exec-credential").out; !strings.Contains(out, `"token"`) {
		t.Errorf("exec-credential of a bearer login: %s", out)
	}
	c.loginBrowser()
	if c.stored("default").Bound() {
		t.Error("a later login without flags bound the profile that chose --no-dpop")
	}
	c.loginBrowser("--dpop")
	if !c.stored("default").Bound() {
		t.Error("--dpop did not bind the login")
	}
	if cfg, _ := os.ReadFile(filepath.Join(c.dir, "config.yaml")); strings.Contains(string(cfg), "no_dpop") {
		t.Errorf("--dpop left no_dpop in config.yaml:\n%s", cfg)
	}
}

// TestLoginDPoPRequiredClient: a client registered as DPoP-required gets
// bound tokens by default; a --no-dpop login of it fails and says to log
// in with --dpop.
func TestLoginDPoPRequiredClient(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	sec := srv.AddClient(t, storage.Client{ID: "bound-bot", GrantTypes: []string{protocol.GrantClientCredentials}, Roles: []string{"viewer"}, DPoPRequired: true})
	c := newCLI(t, srv)
	login := []string{"login", "--issuer", srv.URL, "--client-credentials", "--client-id", "bound-bot", "--client-secret-stdin"}
	c.fail(cliauth.ExitUsage, "log in with --dpop", sec+"\n", append(login, "--no-dpop")...)
	c.ok(sec+"\n", login...) // --no-dpop is remembered only by a login that succeeded
	if cred := c.stored("default"); !cred.Bound() || cred.Kind != credstore.KindClientCredentials || cred.TokenType != "DPoP" {
		t.Errorf("client-credentials login: bound %v, kind %q, token_type %q", cred.Bound(), cred.Kind, cred.TokenType)
	}
	// Its next tokens are fetched with proofs of the stored key.
	c.ok("", "token", "--force-refresh")
}

// TestLoginDPoPKeyringSealsKey: with the keyring storage the login's DPoP
// private key is sealed with its tokens: nothing of it in the clear in the
// configuration directory, and the bound login works from there.
func TestLoginDPoPKeyringSealsKey(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.env["GATEHOUSE_AUTH_STORAGE"] = "keyring"
	c.loginBrowser()
	st := credstore.NewKeyring(oskeyring.Backend{}, "gatehouse", c.dir)
	cred, err := st.Get(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if !cred.Bound() {
		t.Fatal("the keyring login is not bound")
	}
	keyBody := strings.Split(cred.DPoPKey, "\n")[1]
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(c.dir, e.Name()))
		if err != nil {
			continue
		}
		if strings.Contains(string(data), "PRIVATE KEY") || strings.Contains(string(data), keyBody[:40]) {
			t.Errorf("%s holds the DPoP key in the clear", e.Name())
		}
	}
	hdr := c.ok("", "token", "-o", "header", "--url", srv.URL+"/oauth2/userinfo").out
	if got := userinfoWith(t, srv, hdr); got != http.StatusOK {
		t.Errorf("userinfo with the keyring login's headers: %d", got)
	}
	c.ok("", "logout")
	if _, err := st.Get(context.Background(), "default"); err == nil {
		t.Error("the keyring still holds the login after logout")
	}
}
