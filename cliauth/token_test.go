package cliauth_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/credstore"
)

// fixedCLI is a CLI without a server, on a fake clock at serverStart,
// with stored credentials of known values:
//
//   - default: a user login at https://auth.example.com, token valid 15m;
//   - ci: a client-credentials login;
//   - prod: configured, not logged in.
func fixedCLI(t *testing.T) *testCLI {
	t.Helper()
	c := newCLI(t, nil)
	c.clock = clocktest.New(serverStart)
	c.ok("", "profiles", "add", "default", "--issuer", "https://auth.example.com", "--scope", "openid profile offline_access")
	c.ok("", "profiles", "add", "prod", "--issuer", "https://auth.prod.example.com")
	c.ok("ci-secret-0123456789\n", "profiles", "add", "ci", "--issuer", "https://auth.example.com", "--client-id", "ci-bot", "--client-secret-stdin", "--scope", "api:read")
	err := c.fileStore().Put(context.Background(), "default", &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://auth.example.com",
		ClientID:     "gatehouse-cli",
		TokenType:    "Bearer",
		AccessToken:  "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.access-token-signature",
		RefreshToken: "refresh-token-0123456789abcdef",
		IDToken:      "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.id-token-signature",
		Expiry:       serverStart.Add(15 * time.Minute),
		Scopes:       []string{"openid", "profile", "offline_access"},
		Subject:      "u-alice",
		Username:     "alice",
		UpdatedAt:    serverStart,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Golden files for every output format of token (STYLE 11).
func TestTokenOutputs(t *testing.T) {
	t.Parallel()
	c := fixedCLI(t)
	const tok = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.access-token-signature"
	if got := c.ok("", "token").out; got != tok+"\n" {
		t.Errorf("text output = %q", got)
	}
	for _, tc := range []struct{ output, file string }{
		{"json", "token.json"},
		{"header", "token_header.txt"},
		{"exec-credential", "token_exec_credential.json"},
	} {
		got := c.ok("", "token", "--output", tc.output).out
		golden(t, tc.file, got)
		if strings.HasSuffix(tc.file, ".json") && !json.Valid([]byte(got)) {
			t.Errorf("%s output is not JSON: %s", tc.output, got)
		}
	}
	// kubectl asks for v1beta1 in KUBERNETES_EXEC_INFO: the answer follows.
	for info, want := range map[string]string{
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`: "client.authentication.k8s.io/v1beta1",
		`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`:       "client.authentication.k8s.io/v1",
		`{"apiVersion":"client.authentication.k8s.io/v2"}`:                                                           "client.authentication.k8s.io/v1",
		`not json`: "client.authentication.k8s.io/v1",
	} {
		c.env["KUBERNETES_EXEC_INFO"] = info
		var got struct {
			APIVersion string `json:"apiVersion"`
			Status     struct {
				Token string `json:"token"`
			} `json:"status"`
		}
		if err := json.Unmarshal([]byte(c.ok("", "token", "--output", "exec-credential").out), &got); err != nil || got.APIVersion != want || got.Status.Token != tok {
			t.Errorf("KUBERNETES_EXEC_INFO %s: %+v %v, want apiVersion %s", info, got, err, want)
		}
	}
	delete(c.env, "KUBERNETES_EXEC_INFO")
	c.fail(cliauth.ExitUsage, `--output "yaml"`, "", "token", "--output", "yaml")
	c.fail(cliauth.ExitUsage, "takes no arguments", "", "token", "extra")
}

func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	first := c.stored("default")
	token := func(args ...string) string {
		t.Helper()
		return strings.TrimSpace(c.ok("", append([]string{"token"}, args...)...).out)
	}

	if got := token(); got != first.AccessToken {
		t.Fatal("a valid cached token was not used as it is")
	}
	// --min-ttl longer than the token has left: refresh first.
	second := token("--min-ttl", "20m")
	if second == first.AccessToken || !srv.active(t, second) {
		t.Fatal("--min-ttl 20m did not refresh")
	}
	if c.stored("default").RefreshToken == first.RefreshToken {
		t.Error("the refresh token did not rotate")
	}
	// Close to expiry (less than the default minute left): refresh.
	srv.Clock.Advance(14*time.Minute + 30*time.Second)
	third := token()
	if third == second || !srv.active(t, third) {
		t.Fatal("an almost expired token was not refreshed")
	}
	// --force-refresh renews a valid token.
	fourth := token("--force-refresh")
	if fourth == third || !srv.active(t, fourth) {
		t.Fatal("--force-refresh did not renew")
	}
	// The refresh tokens were each spent once: the login is intact.
	if got := token(); got != fourth {
		t.Errorf("the stored token is not the last one")
	}
}

func TestTokenExitCodes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)

	r := c.fail(cliauth.ExitNotLoggedIn, "not logged in (profile \"default\"); run `gatehouse login`", "", "token")
	if r.out != "" {
		t.Errorf("stdout = %q", r.out)
	}
	c.fail(cliauth.ExitNotLoggedIn, "run `gatehouse login --profile prod`", "", "token", "--profile", "prod")

	// Expired, and the server refuses the refresh: log in again.
	c.loginBrowser()
	cred := c.stored("default")
	cred.RefreshToken = "not-a-refresh-token-the-server-knows"
	if err := c.fileStore().Put(context.Background(), "default", cred); err != nil {
		t.Fatal(err)
	}
	srv.Clock.Advance(20 * time.Minute)
	r = c.fail(cliauth.ExitExpired, "the login of profile \"default\" has expired and the server refused to refresh it: invalid_grant", "", "token")
	if !strings.HasSuffix(r.err.Error(), "run `gatehouse login`") {
		t.Errorf("no next step: %v", r.err)
	}

	// Expired, and the server cannot be reached.
	cred.Issuer = "http://127.0.0.1:1"
	if err := c.fileStore().Put(context.Background(), "down", cred); err != nil {
		t.Fatal(err)
	}
	c.fail(cliauth.ExitUnreachable, "cannot reach http://127.0.0.1:1", "", "token", "--profile", "down")

	// A login without a refresh token cannot be renewed.
	cred.Issuer, cred.RefreshToken = srv.URL, ""
	if err := c.fileStore().Put(context.Background(), "norefresh", cred); err != nil {
		t.Fatal(err)
	}
	c.fail(cliauth.ExitExpired, "it cannot be refreshed; run `gatehouse login --profile norefresh`", "", "token", "--profile", "norefresh")
}

// The environment credentials are printed as they are, or fetched.
func TestTokenFromEnvironment(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	sec := srv.addClient(t, "ci-bot", []string{"client_credentials"}, nil)
	c := newCLI(t, srv)
	c.env["GATEHOUSE_CLIENT_ID"] = "ci-bot"
	c.env["GATEHOUSE_CLIENT_SECRET"] = sec
	c.fail(cliauth.ExitUsage, "no issuer is known; set GATEHOUSE_ISSUER", "", "token")
	c.env["GATEHOUSE_ISSUER"] = srv.URL
	tok := strings.TrimSpace(c.ok("", "token").out)
	if !srv.active(t, tok) {
		t.Error("client credentials token from the environment is not active")
	}
	c.env["GATEHOUSE_CLIENT_SECRET"] = ""
	c.fail(cliauth.ExitUsage, "GATEHOUSE_CLIENT_ID is set but GATEHOUSE_CLIENT_SECRET is empty", "", "token")
	c.env["GATEHOUSE_CLIENT_SECRET"] = "wrong"
	r := c.fail(cliauth.ExitError, "invalid_client", "", "token")
	if strings.Contains(r.err.Error(), "wrong") {
		t.Error("the secret is in the error")
	}
}

// SECURITY-CASES 36: a corrupt credentials file is a miss with a warning,
// and login writes a good one again.
func TestCorruptStore(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	path := filepath.Join(c.dir, credstore.FileName)
	if err := os.WriteFile(path, []byte(`{"version": 1, "profiles": {"default": {"kind": "us`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.fail(cliauth.ExitNotLoggedIn, "not logged in", "", "token")
	if !strings.Contains(r.errOut, "warning: ") || !strings.Contains(r.errOut, path) {
		t.Errorf("no warning about the unreadable file:\n%s", r.errOut)
	}
	c.loginBrowser()
	if got := strings.TrimSpace(c.ok("", "token").out); got != c.stored("default").AccessToken {
		t.Error("no working login after logging in again")
	}
}

// TestTokenServesStillValidTokenWhenUnreachable: the issuer cannot be
// reached and the cached token has less than --min-ttl left but has not
// expired: token prints it, warns once with the next step, and exits 0.
// Once it has expired, the error of an unreachable server comes back.
func TestTokenServesStillValidTokenWhenUnreachable(t *testing.T) {
	t.Parallel()
	c := fixedCLI(t)
	cred := &credstore.Credential{
		Kind: credstore.KindUser, Issuer: "http://127.0.0.1:1", ClientID: "gatehouse-cli", TokenType: "Bearer",
		AccessToken: "still-valid-access-token", RefreshToken: "refresh-token-0123456789abcdef",
		Expiry: serverStart.Add(30 * time.Second), UpdatedAt: serverStart,
	}
	if err := c.fileStore().Put(context.Background(), "down", cred); err != nil {
		t.Fatal(err)
	}
	r := c.ok("", "token", "--profile", "down")
	if r.out != "still-valid-access-token\n" {
		t.Errorf("stdout = %q, want the cached token", r.out)
	}
	if n := strings.Count(r.errOut, "warning: cannot reach http://127.0.0.1:1"); n != 1 ||
		!strings.Contains(r.errOut, "run `gatehouse login --profile down`") {
		t.Errorf("stderr = %q, want one warning with the next step", r.errOut)
	}
	c.clock.(*clocktest.Fake).Advance(31 * time.Second)
	c.fail(cliauth.ExitUnreachable, "cannot reach http://127.0.0.1:1", "", "token", "--profile", "down")
}
