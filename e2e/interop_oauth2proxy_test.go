package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oauth2ProxyModule is the oauth2-proxy release the interop test builds
// with `go install`; its binary is kept in the user's cache directory, so
// only the first run pays for the build.
const oauth2ProxyModule = "github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6"

// oauth2ProxyBinary returns the oauth2-proxy binary, building it first if
// needed (at most 5 minutes), or skips the test when it cannot be built
// (no module proxy, an old Go).
func oauth2ProxyBinary(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	version := oauth2ProxyModule[strings.LastIndex(oauth2ProxyModule, "@")+1:]
	bin := filepath.Join(cache, "gatehouse-e2e", "oauth2-proxy-"+version)
	path := filepath.Join(bin, "oauth2-proxy")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if testing.Short() {
		t.Skip("-short: not building oauth2-proxy")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "install", oauth2ProxyModule)
	cmd.Dir = t.TempDir() // outside this module
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build oauth2-proxy (go install %s: %v); skipping its interop test:\n%s", oauth2ProxyModule, err, tail(string(out), 1500))
	}
	t.Logf("built oauth2-proxy %s in %v", version, time.Since(start).Round(time.Second))
	return path
}

// TestInteropOAuth2Proxy runs oauth2-proxy as an OpenID Connect relying
// party of the server, with its default scopes "openid email profile" and
// PKCE: a browser that asks for the protected app is sent to the login
// page, signs in, allows the consent page, and reaches the upstream app
// with the user's name and a gatehouse access token in the headers.
func TestInteropOAuth2Proxy(t *testing.T) {
	t.Parallel()
	proxyBin := oauth2ProxyBinary(t)
	g := startServer(t)
	addUser(t, g, interopUser, "viewer", interopPassword)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	p, _ := discover(t, ctx, g)

	type seen struct{ user, email, token string }
	requests := make(chan seen, 10)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- seen{r.Header.Get("X-Forwarded-User"), r.Header.Get("X-Forwarded-Email"), r.Header.Get("X-Forwarded-Access-Token")}
		fmt.Fprintf(w, "upstream app: hello %s\n", r.Header.Get("X-Forwarded-Email"))
	}))
	t.Cleanup(upstream.Close)

	addr := freeAddr(t)
	proxyURL := "http://" + addr
	id, secret := createClient(t, g, "oauth2-proxy", "--grant", "authorization_code", "--grant", "refresh_token",
		"--redirect-uri", proxyURL+"/oauth2/callback", "--scope", "openid", "--scope", "email", "--scope", "profile")
	cmd := exec.Command(proxyBin,
		"--provider=oidc",
		"--oidc-issuer-url="+g.URL,
		"--client-id="+id,
		"--client-secret="+secret,
		"--redirect-url="+proxyURL+"/oauth2/callback",
		"--http-address="+addr,
		"--upstream="+upstream.URL,
		"--cookie-secret=0123456789abcdef0123456789abcdef",
		"--cookie-secure=false",
		"--email-domain=*",
		"--code-challenge-method=S256",
		"--skip-provider-button",
		"--pass-access-token",
		// The users of this test have no email: oauth2-proxy names them by
		// preferred_username instead.
		"--oidc-email-claim=preferred_username",
	)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oauth2-proxy: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oauth2-proxy output:\n%s", tail(logs.String(), 4000))
		}
	})
	ready := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(proxyURL + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				ready = true
				break
			}
		}
	}
	if !ready {
		t.Fatalf("oauth2-proxy did not answer /ping on %s", proxyURL)
	}

	// A browser that follows every redirect: app -> login page -> consent
	// -> oauth2-proxy's callback -> app.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}}
	pg, err := browse(b, http.MethodGet, proxyURL+"/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !pg.isLoginForm() {
		t.Fatalf("the protected app did not lead to the login page: %s", pg)
	}
	if pg, err = submitLogin(b, pg, interopUser, interopPassword); err != nil {
		t.Fatal(err)
	}
	consented := false
	if strings.HasPrefix(pg.URL.String(), g.URL) {
		consented = true
		consent, err := pg.form("/oauth2/authorize")
		if err != nil {
			t.Fatalf("after login: neither the app nor a consent page: %v", err)
		}
		if pg, err = consent.submit(b, url.Values{"decision": {"allow"}}); err != nil {
			t.Fatal(err)
		}
	}
	if pg.Status != http.StatusOK || !strings.Contains(pg.Body, "upstream app: hello "+interopUser) {
		t.Fatalf("after the login: got %s; want the upstream app greeting %s", pg, interopUser)
	}
	if !consented {
		t.Errorf("oauth2-proxy, a third-party client, got a code without the consent page")
	}
	var s seen
	select {
	case s = <-requests:
	default:
		t.Fatal("the upstream saw no request")
	}
	at := verifyAccessToken(t, ctx, p, g, s.token)
	if at.ClientID != id || at.Username != interopUser {
		t.Errorf("access token passed upstream: %+v; want client_id %s, preferred_username %s", at, id, interopUser)
	}
	// oauth2-proxy names the user by the ID token's sub, its "email" by
	// the claim it was told to use.
	if s.user != at.Subject || s.email != interopUser {
		t.Errorf("X-Forwarded-User %q, X-Forwarded-Email %q; want %q (sub), %q", s.user, s.email, at.Subject, interopUser)
	}

	// The session cookie is enough for the next request.
	if pg, err = browse(b, http.MethodGet, proxyURL+"/app/again", nil); err != nil || pg.Status != http.StatusOK || pg.URL.Host != addr {
		t.Errorf("second request with the session: %v %v", err, pg)
	}
}
