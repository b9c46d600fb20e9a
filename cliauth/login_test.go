package cliauth_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func TestLoginBrowser(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	r := c.loginBrowser()
	if !strings.Contains(r.errOut, "Logged in to "+srv.URL+" as alice (profile default).") {
		t.Errorf("login did not say who logged in:\n%s", r.errOut)
	}
	if !strings.Contains(r.errOut, "If it does not open, visit:\n\n    "+srv.URL+"/oauth2/authorize?") {
		t.Errorf("login did not show the URL to open by hand:\n%s", r.errOut)
	}
	if r.out != "" {
		t.Errorf("login printed data on stdout: %q", r.out)
	}
	cred := c.stored("default")
	if cred.Kind != credstore.KindUser || cred.Username != "alice" || cred.RefreshToken == "" || cred.ClientID != "gatehouse-cli" {
		t.Errorf("stored credential = %v", cred)
	}
	if strings.Contains(r.errOut, cred.AccessToken) || strings.Contains(r.errOut, cred.RefreshToken) {
		t.Error("login printed a token")
	}
	if !srv.active(t, cred.AccessToken) {
		t.Error("the stored access token is not active")
	}
	// SECURITY-CASES 35: 0600 files in a 0700 directory.
	for name, want := range map[string]fs.FileMode{".": 0o700, "config.yaml": 0o600, credstore.FileName: 0o600} {
		fi, err := os.Stat(filepath.Join(c.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", name, got, want)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(c.dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"default_profile: default", "issuer: " + srv.URL, "client_id: gatehouse-cli", "scopes: [openid, profile, offline_access]"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, cfg)
		}
	}

	// The next login needs no flags: the profile remembers the issuer.
	errc := make(chan error, 1)
	c.browser = srv.browser("alice", alicePassword, errc)
	c.ok("", "login")
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if again := c.stored("default"); again.AccessToken == cred.AccessToken {
		t.Error("the second login stored the old token")
	}
	// The login it replaced is revoked, not left valid on the server.
	if srv.active(t, cred.RefreshToken) {
		t.Error("the replaced login's refresh token is still active")
	}
}

// Progress is animated on a terminal and erased at the end; elsewhere it
// is one plain line.
func TestLoginProgress(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	r := c.loginBrowser()
	if !strings.Contains(r.errOut, "\nWaiting for you to sign in in the browser... (Ctrl-C to cancel)\n") || strings.Contains(r.errOut, "\r") {
		t.Errorf("without a terminal:\n%q", r.errOut)
	}
	c.errTTY = true
	r = c.loginBrowser()
	if !strings.Contains(r.errOut, "\r⠋ Waiting for you to sign in in the browser...") || !strings.Contains(r.errOut, "\r\033[K") {
		t.Errorf("on a terminal:\n%q", r.errOut)
	}
}

// deviceLogin runs `gatehouse login args...`, which must run the device
// flow, and approves its code as alice.
func deviceLogin(t *testing.T, c *testCLI, args ...string) result {
	t.Helper()
	clk := &timerClock{Fake: c.srv.Clock, made: make(chan time.Duration, 16)}
	c.clock = clk
	defer func() { c.clock = c.srv.Clock }()
	errOut, done := c.start(context.Background(), "", append([]string{"login"}, args...)...)
	code := waitFor(t, errOut, regexp.MustCompile(`enter the code: (\S+)`))
	if !strings.Contains(errOut.String(), "open "+c.srv.URL+"/device") {
		t.Errorf("no verification URL:\n%s", errOut)
	}
	c.srv.Approve(t, code, "alice")
	clk.Advance(clk.next(t)) // the first poll gets the tokens
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("device login: %v\n%s", r.err, r.errOut)
		}
		return r
	case <-time.After(20 * time.Second):
		t.Fatalf("device login did not finish:\n%s", errOut)
	}
	return result{}
}

func TestLoginDevice(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	t.Run("--device without a terminal prints the code and waits", func(t *testing.T) {
		c := newCLI(t, srv)
		r := deviceLogin(t, c, "--device", "--issuer", srv.URL, "--profile", "dev")
		if !strings.Contains(r.errOut, "Logged in to "+srv.URL+" as alice (profile dev).") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
		if cred := c.stored("dev"); cred.RefreshToken == "" || cred.Username != "alice" {
			t.Errorf("stored %v", cred)
		}
	})

	t.Run("no browser on a terminal switches to the code", func(t *testing.T) {
		c := newCLI(t, srv)
		c.tty = true
		c.env["SSH_CONNECTION"] = "10.0.0.1 22 10.0.0.2 22"
		r := deviceLogin(t, c, "--issuer", srv.URL)
		if !strings.Contains(r.errOut, "No browser can open here (this is a remote (SSH) session); signing in with a code instead.") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
		c.stored("default")
	})

	t.Run("a browser that fails on a terminal switches to the code", func(t *testing.T) {
		c := newCLI(t, srv)
		c.tty = true
		c.browser = func(string) error { return errors.New("xdg-open: no method available") }
		r := deviceLogin(t, c, "--issuer", srv.URL)
		if !strings.Contains(r.errOut, "Could not open a browser (xdg-open: no method available); signing in with a code instead.") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
	})
}

// SECURITY-CASES 42: headless, no terminal: fail at once with the command
// to use instead.
func TestLoginHeadlessFailsFast(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.env["SSH_CONNECTION"] = "10.0.0.1 22 10.0.0.2 22"
	start := time.Now()
	r := c.fail(cliauth.ExitUsage, "gatehouse login --device --issuer "+srv.URL, "", "login", "--issuer", srv.URL)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	for _, want := range []string{"no browser can open (this is a remote (SSH) session) and stdin is not a terminal", "GATEHOUSE_CLIENT_ID and GATEHOUSE_CLIENT_SECRET", "GATEHOUSE_TOKEN"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, r.err)
		}
	}
	if !errors.Is(r.err, client.ErrBrowserUnavailable) {
		t.Errorf("error does not wrap ErrBrowserUnavailable: %v", r.err)
	}
	if _, err := os.Stat(filepath.Join(c.dir, credstore.FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("something was stored: %v", err)
	}

	// A browser command that fails, without a terminal: the same advice.
	c.env = map[string]string{"GATEHOUSE_CONFIG_DIR": c.dir, "GATEHOUSE_AUTH_STORAGE": "file", "GATEHOUSE_BROWSER": "/nonexistent/browser"}
	r = c.fail(cliauth.ExitUsage, "gatehouse login --device", "", "login", "--issuer", srv.URL)
	if !strings.Contains(r.err.Error(), "no browser can open (/nonexistent/browser: ") {
		t.Errorf("the reason is not the browser command's: %v", r.err)
	}

	// The browser setting "none" means the same.
	c.env = map[string]string{"GATEHOUSE_CONFIG_DIR": c.dir, "GATEHOUSE_AUTH_STORAGE": "file", "BROWSER": "none"}
	c.fail(cliauth.ExitUsage, "$BROWSER is none", "", "login", "--issuer", srv.URL)
}

func TestLoginCancelled(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	opened := make(chan string, 1)
	c.browser = func(u string) error { opened <- u; return nil } // nobody signs in
	ctx, cancel := context.WithCancel(context.Background())
	_, done := c.start(ctx, "", "login", "--issuer", srv.URL)
	<-opened
	cancel() // Ctrl-C
	r := <-done
	if r.err == nil || !strings.Contains(r.err.Error(), "login cancelled; nothing was stored") || !errors.Is(r.err, context.Canceled) {
		t.Fatalf("err = %v", r.err)
	}
	if _, err := c.fileStore().Get(context.Background(), "default"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("stored after cancel: %v", err)
	}
}

func TestLoginClientCredentials(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	sec := srv.addClient(t, "ci-bot", []string{protocol.GrantClientCredentials}, []string{"api:read"})

	t.Run("secret on stdin", func(t *testing.T) {
		c := newCLI(t, srv)
		r := c.ok(sec+"\n", "login", "--issuer", srv.URL, "--client-credentials", "--client-id", "ci-bot", "--client-secret-stdin", "--scope", "api:read", "--profile", "ci")
		if !strings.Contains(r.errOut, "Logged in to "+srv.URL+" as client ci-bot (profile ci).") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
		cred := c.stored("ci")
		if cred.Kind != credstore.KindClientCredentials || cred.ClientSecret != sec || cred.AccessToken == "" {
			t.Errorf("stored %v", cred)
		}
		// The profile is the default (the first one), so token needs no flag.
		tok := strings.TrimSpace(c.ok("", "token").out)
		if tok != cred.AccessToken || !srv.active(t, tok) {
			t.Errorf("token %q is not the stored, active one", tok)
		}
		// After expiry a new token is fetched with the stored secret.
		srv.Clock.Advance(time.Hour)
		next := strings.TrimSpace(c.ok("", "token").out)
		if next == tok || !srv.active(t, next) {
			t.Error("no new active token after expiry")
		}
	})

	t.Run("secret from the environment", func(t *testing.T) {
		c := newCLI(t, srv)
		c.env["GATEHOUSE_CLIENT_ID"] = "ci-bot"
		c.env["GATEHOUSE_CLIENT_SECRET"] = sec
		r := c.ok("", "login", "--issuer", srv.URL, "--client-credentials")
		if !strings.Contains(r.errOut, "as client ci-bot (profile default)") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
		// The same variables are a credential of their own, used before
		// the stored login: login says so.
		if !strings.Contains(r.errOut, "warning: GATEHOUSE_CLIENT_ID is set and takes precedence over this login") {
			t.Errorf("no shadowing warning:\n%s", r.errOut)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		c := newCLI(t, srv)
		r := c.fail(cliauth.ExitError, `the server refused the client credentials of "ci-bot": invalid_client`, "wrong\n",
			"login", "--issuer", srv.URL, "--client-credentials", "--client-id", "ci-bot", "--client-secret-stdin")
		if strings.Contains(r.errOut+r.err.Error(), "wrong") {
			t.Error("the secret was printed")
		}
	})

	t.Run("no secret", func(t *testing.T) {
		c := newCLI(t, srv)
		c.fail(cliauth.ExitUsage, "no client secret", "", "login", "--issuer", srv.URL, "--client-credentials", "--client-id", "ci-bot")
		c.fail(cliauth.ExitUsage, "no client secret on stdin", "", "login", "--issuer", srv.URL, "--client-credentials", "--client-id", "ci-bot", "--client-secret-stdin")
	})
}

func TestLoginAPIKey(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	key := srv.addAPIKey(t)
	c := newCLI(t, srv)
	r := c.ok(key+"\n", "login", "--issuer", srv.URL, "--with-api-key")
	if !strings.Contains(r.errOut, "with API key "+credstore.Mask(key)+" as alice (profile default).") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	if strings.Contains(r.errOut, key) {
		t.Error("the key was printed")
	}
	if got := strings.TrimSpace(c.ok("", "token").out); got != key {
		t.Errorf("token = %q, want the key", got)
	}
	c.fail(cliauth.ExitError, "does not accept this API key", "gatehouse_aaaaaaaaaaaaaaaa_notthesecret\n", "login", "--issuer", srv.URL, "--with-api-key", "--profile", "bad")
	c.fail(cliauth.ExitUsage, "no API key on stdin", "", "login", "--with-api-key")
}

func TestLoginShadowWarnings(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.env["GATEHOUSE_TOKEN"] = "a-static-token-from-ci"
	r := c.loginBrowser()
	if !strings.Contains(r.errOut, `warning: GATEHOUSE_TOKEN is set and takes precedence over this login; unset it to use profile "default"`) {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	delete(c.env, "GATEHOUSE_TOKEN")
	r = c.loginBrowser("--profile", "second")
	if !strings.Contains(r.errOut, `Profile "second" is not the default ("default"): pass --profile second, or run `+"`gatehouse profiles use second`") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	c.env["GATEHOUSE_PROFILE"] = "default"
	r = c.loginBrowser("--profile", "second")
	if !strings.Contains(r.errOut, "warning: GATEHOUSE_PROFILE=default selects another profile") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	r = c.loginBrowser("--profile", "second", "--set-default")
	if got := strings.TrimSpace(c.ok("", "config", "get", "default_profile").out); got != "second" {
		t.Errorf("default_profile = %q after --set-default", got)
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.fail(cliauth.ExitUsage, "no issuer to log in to: pass --issuer URL", "", "login")
	c.fail(cliauth.ExitUsage, "exclude each other", "", "login", "--issuer", srv.URL, "--device", "--client-credentials")
	c.fail(cliauth.ExitUsage, "--client-secret-stdin goes with --client-credentials", "", "login", "--issuer", srv.URL, "--client-secret-stdin")
	c.fail(cliauth.ExitUsage, "not an http(s) URL", "", "login", "--issuer", "ftp://x")
	// SECURITY-CASES 39: the same server under another name publishes
	// its real issuer; the login refuses it and stores nothing.
	other := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if r := c.fail(cliauth.ExitError, "issuer", "", "login", "--issuer", other, "--device"); !errors.Is(r.err, client.ErrIssuerMismatch) {
		t.Errorf("err = %v, want ErrIssuerMismatch", r.err)
	}
	// Nothing listens on port 1.
	c.fail(cliauth.ExitUnreachable, "cannot reach http://127.0.0.1:1", "", "login", "--issuer", "http://127.0.0.1:1", "--device")
	if _, err := os.Stat(filepath.Join(c.dir, credstore.FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a refused login stored something: %v", err)
	}
}

// SECURITY-CASES 38: a loopback callback with no code or an error ends the
// login cleanly, and nothing is stored. (One with a wrong state is not this
// login's answer: it is refused and ignored, client.TestBrowserLoginIgnoresStrayCallbacks.)
func TestLoginCallbackRefused(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	for _, tc := range []struct {
		name  string
		query func(state string) url.Values
		want  string
	}{
		{"no code", func(s string) url.Values { return url.Values{"state": {s}, "iss": {srv.URL}} }, "no code"},
		{"error", func(s string) url.Values {
			return url.Values{"state": {s}, "iss": {srv.URL}, "error": {"access_denied"}, "error_description": {"the user said no"}}
		}, "access_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, srv)
			c.browser = func(authURL string) error {
				q := srv.authParams(t, authURL)
				go func() {
					resp, err := http.Get(q.Get("redirect_uri") + "?" + tc.query(q.Get("state")).Encode())
					if err == nil {
						resp.Body.Close()
					}
				}()
				return nil
			}
			c.fail(cliauth.ExitError, tc.want, "", "login", "--issuer", srv.URL)
			if _, err := os.Stat(filepath.Join(c.dir, credstore.FileName)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("something was stored: %v", err)
			}
		})
	}
}

// TestLoginBrowserPushesRequest: against a server with a PAR endpoint
// (RFC 9126) the browser opens a URL with only client_id and
// request_uri; the state, PKCE challenge and redirect URI never pass
// through it.
func TestLoginBrowserPushesRequest(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	opened := make(chan string, 1)
	errc := make(chan error, 1)
	c.browser = func(authURL string) error {
		opened <- authURL
		go func() { errc <- srv.signIn(authURL, "alice", alicePassword) }()
		return nil
	}
	r := c.ok("", "login", "--issuer", srv.URL)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(<-opened)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme+"://"+u.Host+u.Path != srv.URL+"/oauth2/authorize" || len(q) != 2 || q.Get("client_id") != "gatehouse-cli" ||
		!strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Errorf("opened %s, want the authorization endpoint with only client_id and request_uri", u)
	}
	if !strings.Contains(r.errOut, "visit:\n\n    "+u.String()+"\n") {
		t.Errorf("login did not show the short URL:\n%s", r.errOut)
	}
	if cred := c.stored("default"); cred.Username != "alice" || !srv.active(t, cred.AccessToken) {
		t.Errorf("stored credential = %v", cred)
	}
}
