package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// requestWith sends method url with the header lines `gatehouse token
// --output header` printed, as curl -H would, and returns the status.
func requestWith(t *testing.T, method, url, headers string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(headers), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("header line %q", line)
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// resourceServer is an API protected by the resource package's
// middleware for the CLI's tokens (audience gatehouse-cli).
func resourceServer(t *testing.T, g *gatehouse) *httptest.Server {
	t.Helper()
	v, err := resource.NewVerifier(t.Context(), resource.Config{Issuer: g.URL, Audience: []string{"gatehouse-cli"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := resource.FromContext(r.Context())
		json.NewEncoder(w).Encode(map[string]string{"user": id.Username, "method": r.Method})
	})))
	t.Cleanup(srv.Close)
	return srv
}

// TestCLIDPoPLogin drives the real binary against the real server, which
// supports DPoP: the login is bound to a key of this "machine" by
// default, `gatehouse api` makes the proofs, `token --output header
// --url` prints headers a resource accepts once, and the tokens are
// useless elsewhere: a copied refresh token does not refresh, the access
// token alone is refused, kubectl's exec credential is refused.
func TestCLIDPoPLogin(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	const pw = "dora-Pa55word-e2e"
	addUser(t, g, "dora", "editor", pw)
	u := newCLIUser(t)

	errOut := u.loginWithHTTPBrowser(g, "dora", pw)
	if !strings.Contains(errOut, "bound to this machine's key (DPoP)") {
		t.Errorf("login does not say the login is bound:\n%s", errOut)
	}
	cred := u.stored("default")
	if !cred.Bound() || cred.TokenType != "DPoP" {
		t.Fatalf("stored login: bound %v, token_type %q", cred.Bound(), cred.TokenType)
	}
	if st := u.ok(nil, "status"); !strings.Contains(st, "bound to this machine's key (DPoP), jkt ") {
		t.Errorf("status:\n%s", st)
	}

	// gatehouse api makes the proofs.
	var info map[string]any
	if err := json.Unmarshal([]byte(u.ok(nil, "api", "/oauth2/userinfo")), &info); err != nil || info["preferred_username"] != "dora" {
		t.Errorf("gatehouse api /oauth2/userinfo: %v %v", info, err)
	}
	// A resource server with the resource middleware.
	rs := resourceServer(t, g)
	var got map[string]string
	if err := json.Unmarshal([]byte(u.ok(nil, "api", "--allow-any-host", "-X", "POST", rs.URL+"/things", "-d", "{}")), &got); err != nil || got["user"] != "dora" || got["method"] != "POST" {
		t.Errorf("gatehouse api to the resource server: %v %v", got, err)
	}

	// token --output header --url: both headers, accepted once, for that
	// method and URL only.
	hdr := u.ok(nil, "token", "--output", "header", "--url", rs.URL+"/things")
	if !strings.HasPrefix(hdr, "Authorization: DPoP "+cred.AccessToken+"\nDPoP: ") && !strings.HasPrefix(hdr, "Authorization: DPoP ") {
		t.Fatalf("token --output header = %q", hdr)
	}
	if st := requestWith(t, http.MethodGet, rs.URL+"/things", hdr); st != http.StatusOK {
		t.Errorf("resource with the printed headers: %d, want 200", st)
	}
	if st := requestWith(t, http.MethodGet, rs.URL+"/things", hdr); st != http.StatusUnauthorized {
		t.Errorf("resource with the same proof again: %d, want 401", st)
	}
	hdr = u.ok(nil, "token", "--output", "header", "--method", "DELETE", "--url", rs.URL+"/things")
	if st := requestWith(t, http.MethodGet, rs.URL+"/things", hdr); st != http.StatusUnauthorized {
		t.Errorf("resource with a proof for DELETE on a GET: %d, want 401", st)
	}
	tok := strings.TrimPrefix(strings.SplitN(hdr, "\n", 2)[0], "Authorization: DPoP ")
	if st := requestWith(t, http.MethodGet, rs.URL+"/things", "Authorization: Bearer "+tok); st != http.StatusUnauthorized {
		t.Errorf("resource with the bound token as a bearer token: %d, want 401", st)
	}
	if st := requestWith(t, http.MethodGet, g.URL+"/oauth2/userinfo", "Authorization: Bearer "+tok); st != http.StatusUnauthorized {
		t.Errorf("userinfo with the bound token as a bearer token: %d, want 401", st)
	}
	// As the --help example has it, with the real curl.
	if _, err := exec.LookPath("curl"); err == nil {
		cmd := exec.Command("bash", "-c", `curl -sS -o /dev/null -w '%{http_code}' -H "$("$GATEHOUSE" token -o header --url "$URL")" "$URL"`)
		cmd.Env = append(u.environ(nil), "GATEHOUSE="+binary, "URL="+rs.URL+"/things")
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != "200" {
			t.Errorf("curl with the headers of gatehouse token: %v %s", err, out)
		}
	}
	if _, errOut, code := u.run(nil, "", "token", "--output", "header"); code != 2 || !strings.Contains(errOut, "--url") {
		t.Errorf("token --output header without --url: exit %d\n%s", code, errOut)
	}
	if out, errOut, code := u.run(nil, "", "token", "--output", "exec-credential"); code != 2 || !strings.Contains(errOut, "--no-dpop") || strings.Contains(out, tok) {
		t.Errorf("exec-credential of a bound login: exit %d\n%s", code, errOut)
	}

	// The refresh token copied to another machine (its own configuration,
	// without the key) does not refresh; the owner's login still does.
	thief := newCLIUser(t)
	stolen := *u.stored("default")
	stolen.DPoPKey, stolen.TokenType = "", "Bearer"
	if err := os.MkdirAll(thief.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := credstore.NewFile(thief.dir).Put(context.Background(), "default", &stolen); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := thief.run([]string{"GATEHOUSE_ISSUER=" + g.URL}, "", "token", "--force-refresh"); code != 4 {
		t.Errorf("refresh with the copied refresh token: exit %d, want 4\n%s", code, errOut)
	}
	if _, errOut, code := thief.run([]string{"GATEHOUSE_ISSUER=" + g.URL}, "", "api", "/oauth2/userinfo"); code == 0 {
		t.Errorf("gatehouse api with the copied tokens succeeded\n%s", errOut)
	}
	u.ok(nil, "token", "--force-refresh")
	if after := u.stored("default"); after.DPoPKey != cred.DPoPKey || after.RefreshToken == cred.RefreshToken {
		t.Error("the owner's refresh did not rotate the token with the same key")
	}

	// logout deletes the key with the tokens.
	u.ok(nil, "logout")
	data, _ := os.ReadFile(filepath.Join(u.dir, credstore.FileName))
	if strings.Contains(string(data), "PRIVATE KEY") {
		t.Errorf("the key is still stored after logout")
	}
}

// TestCLINoDPoPForKubectl: a profile logged in with --no-dpop keeps bearer
// tokens for tools that cannot make proofs.
func TestCLINoDPoPForKubectl(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	const pw = "kube-Pa55word-e2e"
	addUser(t, g, "kube", "viewer", pw)
	u := newCLIUser(t)
	u.loginWithHTTPBrowser(g, "kube", pw, "--no-dpop", "--profile", "kube")
	if c := u.stored("kube"); c.Bound() || c.TokenType != "Bearer" {
		t.Fatalf("--no-dpop login: bound %v, token_type %q", c.Bound(), c.TokenType)
	}
	var ec struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(u.ok(nil, "token", "-p", "kube", "-o", "exec-credential")), &ec); err != nil || ec.Status.Token == "" {
		t.Fatalf("exec-credential: %v", err)
	}
	if st := requestWith(t, http.MethodGet, g.URL+"/oauth2/userinfo", "Authorization: Bearer "+ec.Status.Token); st != http.StatusOK {
		t.Errorf("the bearer token at userinfo: %d", st)
	}
}
