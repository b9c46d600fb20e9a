package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// browserPage is what the fake browser ended up showing.
type shownPage struct {
	status int
	body   string
}

// fakeBrowser is an OpenBrowser that acts like a browser: it first makes
// the given stray requests to the loopback listener, then GETs the
// authorization URL and follows the redirect to the callback. The last
// page it shows is sent on the returned channel.
func fakeBrowser(t *testing.T, stray ...string) (func(string) error, <-chan shownPage, <-chan string) {
	t.Helper()
	pages := make(chan shownPage, 1)
	urls := make(chan string, 1)
	open := func(authURL string) error {
		urls <- authURL
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		redirect, err := url.Parse(u.Query().Get("redirect_uri"))
		if err != nil {
			return err
		}
		hc := &http.Client{Timeout: 10 * time.Second}
		for _, p := range stray {
			resp, err := hc.Get("http://" + redirect.Host + p)
			if err != nil {
				t.Errorf("stray %s: %v", p, err)
				continue
			}
			resp.Body.Close()
			if p == "/callback" || strings.HasPrefix(p, "/callback?") {
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("stray %s: status %d", p, resp.StatusCode)
				}
			} else if resp.StatusCode != http.StatusNotFound {
				t.Errorf("stray %s: status %d, want 404", p, resp.StatusCode)
			}
		}
		resp, err := hc.Get(authURL)
		if err != nil {
			pages <- shownPage{body: err.Error()}
			return nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		pages <- shownPage{status: resp.StatusCode, body: string(b)}
		return nil
	}
	return open, pages, urls
}

func page(t *testing.T, pages <-chan shownPage) shownPage {
	t.Helper()
	select {
	case p := <-pages:
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("the browser showed no page")
		return shownPage{}
	}
}

func TestBrowserLogin(t *testing.T) {
	as := newFakeAS(t)
	as.set(func() { as.issSupport = true })
	clk := newWaitClock()
	cfg := as.config(clk)
	open, pages, urls := fakeBrowser(t)
	tok, err := cfg.BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open})
	if err != nil {
		t.Fatal(err)
	}
	if p := page(t, pages); p.status != http.StatusOK || !strings.Contains(p.body, "You are signed in") || !strings.Contains(p.body, "close this tab") {
		t.Errorf("browser page = %d %s", p.status, p.body)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || idToken(tok) == "" {
		t.Errorf("token = %+v, id_token %q", tok, idToken(tok))
	}
	if want := start.Add(time.Hour); !tok.Expiry.Equal(want) {
		t.Errorf("expiry = %v, want %v on the injected clock", tok.Expiry, want)
	}

	// The authorization request: PKCE S256, a random state, a loopback
	// redirect URI on 127.0.0.1.
	u, _ := url.Parse(<-urls)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("PKCE parameters: %v", q)
	}
	if len(q.Get("state")) < 22 {
		t.Errorf("state %q is too short", q.Get("state"))
	}
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" || redirect.Port() == "" {
		t.Errorf("redirect_uri = %s", redirect)
	}

	cred := cfg.UserCredential(tok)
	if cred.Kind != "user" || cred.Issuer != as.issuer || cred.ClientID != publicClient || cred.RefreshToken != tok.RefreshToken ||
		cred.IDToken != idToken(tok) || strings.Join(cred.Scopes, " ") != "openid offline_access" || !cred.Expiry.Equal(tok.Expiry) {
		t.Errorf("credential = %+v", cred)
	}
}

// SECURITY-CASES 38: a callback with an error, no code, or another issuer
// fails the login cleanly; nothing is exchanged or stored. (A callback
// with a wrong state is refused and ignored: TestBrowserLoginIgnoresStrayCallbacks.)
func TestBrowserLoginRefusesBadCallbacks(t *testing.T) {
	for _, tc := range []struct {
		name       string
		issSupport bool
		edit       func(q url.Values)
		want       error
		pageSays   string
	}{
		{"error parameter", false, func(q url.Values) {
			q.Del("code")
			q.Set("error", "access_denied")
			q.Set("error_description", "the user said <no>")
		}, &protocol.Error{Code: protocol.ErrAccessDenied}, "the user said &lt;no&gt;"},
		{"missing code", false, func(q url.Values) { q.Del("code") }, ErrMissingCode, "no authorization code"},
		{"iss mismatch", false, func(q url.Values) { q.Set("iss", "https://attacker.example") }, ErrIssuerMismatch, "different server"},
		{"iss missing though announced", true, func(q url.Values) { q.Del("iss") }, ErrIssuerMismatch, "different server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := newFakeAS(t)
			as.set(func() { as.callback = tc.edit; as.issSupport = tc.issSupport })
			store := newMemStore()
			cfg := as.config(newWaitClock())
			open, pages, _ := fakeBrowser(t)
			tok, err := cfg.BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open})
			if err == nil {
				// What a CLI would do; it must not get here.
				store.Put(context.Background(), "default", cfg.UserCredential(tok))
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tok != nil {
				t.Errorf("token returned with the error: %+v", tok)
			}
			p := page(t, pages)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in failed") || !strings.Contains(p.body, tc.pageSays) || !strings.Contains(p.body, "nothing was saved") {
				t.Errorf("browser page = %d %s", p.status, p.body)
			}
			if n := as.count(&as.exchanges); n != 0 {
				t.Errorf("code exchanged %d times", n)
			}
			if names, _ := store.List(context.Background()); len(names) != 0 {
				t.Errorf("stored %v", names)
			}
		})
	}
}

func TestBrowserLoginWithoutIssParameter(t *testing.T) {
	// A server that does not announce RFC 9207 support and sends no iss
	// is accepted.
	as := newFakeAS(t)
	as.set(func() { as.callback = func(q url.Values) { q.Del("iss") } })
	open, pages, _ := fakeBrowser(t)
	if _, err := as.config(newWaitClock()).BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open}); err != nil {
		t.Fatal(err)
	}
	if p := page(t, pages); p.status != http.StatusOK {
		t.Errorf("page status %d", p.status)
	}
}

func TestBrowserLoginExchangeFailureShownInBrowser(t *testing.T) {
	as := newFakeAS(t)
	as.set(func() { as.callback = func(q url.Values) { q.Set("code", "not-issued") } })
	open, pages, _ := fakeBrowser(t)
	_, err := as.config(newWaitClock()).BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open})
	if !errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidGrant}) {
		t.Fatalf("err = %v, want invalid_grant", err)
	}
	if p := page(t, pages); p.status != http.StatusBadRequest || !strings.Contains(p.body, "refused the sign-in (invalid_grant)") {
		t.Errorf("browser page = %d %s", p.status, p.body)
	}
}

func TestBrowserLoginIgnoresStrayRequests(t *testing.T) {
	as := newFakeAS(t)
	open, pages, _ := fakeBrowser(t, "/favicon.ico", "/", "/callback/extra", "/callback")
	tok, err := as.config(newWaitClock()).BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open})
	if err != nil {
		t.Fatal(err)
	}
	if p := page(t, pages); p.status != http.StatusOK || tok.AccessToken == "" {
		t.Errorf("page %d, token %+v", p.status, tok)
	}
}

// SECURITY-CASES 38: a callback without this login's state (a forgery, a
// stale tab, a probe) is answered 400 and does not end the login: nothing
// is exchanged for it, and the response with the right state still
// completes the sign-in.
func TestBrowserLoginIgnoresStrayCallbacks(t *testing.T) {
	as := newFakeAS(t)
	open, pages, _ := fakeBrowser(t,
		"/callback?state=forged&code=evil",
		"/callback?code=evil",
		"/callback?error=access_denied",
		"/callback?state=&code=evil")
	tok, err := as.config(newWaitClock()).BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open, AppName: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	p := page(t, pages)
	if p.status != http.StatusOK || tok.AccessToken == "" || !strings.Contains(p.body, "Signed in · acme</title>") {
		t.Errorf("page %d %s, token %+v", p.status, p.body, tok)
	}
	if n := as.count(&as.exchanges); n != 1 {
		t.Errorf("%d exchanges, want 1", n)
	}
}

func TestBrowserLoginStrayCallbackPage(t *testing.T) {
	cb := &callback{state: "right", app: "acme"}
	rec := httptest.NewRecorder()
	cb.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/callback?state=wrong&code=x", nil))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "still waiting") ||
		!strings.Contains(rec.Body.String(), "· acme</title>") {
		t.Errorf("stray callback: %d %s", rec.Code, rec.Body)
	}
}

func TestBrowserLoginPortList(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()

	as := newFakeAS(t)
	open, pages, urls := fakeBrowser(t)
	ports := []int{busy.Addr().(*net.TCPAddr).Port, freePort}
	if _, err := as.config(newWaitClock()).BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open, Ports: ports}); err != nil {
		t.Fatal(err)
	}
	page(t, pages)
	u, _ := url.Parse(<-urls)
	if want := "http://127.0.0.1:" + strconv.Itoa(freePort) + "/callback"; u.Query().Get("redirect_uri") != want {
		t.Errorf("redirect_uri = %s, want %s", u.Query().Get("redirect_uri"), want)
	}

	// No free port at all.
	_, err = as.config(newWaitClock()).BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open, Ports: ports[:1]})
	if !errors.Is(err, ErrCallbackPortBusy) || !strings.Contains(err.Error(), strconv.Itoa(ports[0])) {
		t.Errorf("err = %v, want ErrCallbackPortBusy with the cause", err)
	}
	// A busy port is a local problem, not a failed dial to the server.
	if op := (*net.OpError)(nil); errors.As(err, &op) {
		t.Errorf("err %v unwraps to a network error", err)
	}
}

func TestBrowserLoginTimeout(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	shown := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		_, err := as.config(clk).BrowserLogin(context.Background(), BrowserOptions{
			OpenBrowser: func(string) error { return nil }, // the user never comes back
			ShowURL:     func(u string) { shown <- u },
		})
		done <- err
	}()
	if d := clk.nextWait(t); d != DefaultBrowserTimeout {
		t.Fatalf("timeout = %v", d)
	}
	if u := <-shown; !strings.HasPrefix(u, as.issuer+"/authorize?") {
		t.Errorf("ShowURL got %q", u)
	}
	clk.Advance(DefaultBrowserTimeout - time.Second)
	select {
	case err := <-done:
		t.Fatalf("returned before the timeout: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(time.Second)
	err := <-done
	if !errors.Is(err, ErrBrowserTimeout) || !strings.Contains(err.Error(), "no browser callback after 5m; use --device") {
		t.Errorf("err = %v", err)
	}
}

func TestBrowserLoginBrowserUnavailable(t *testing.T) {
	as := newFakeAS(t)
	_, err := as.config(newWaitClock()).BrowserLogin(context.Background(), BrowserOptions{
		OpenBrowser: func(string) error { return errors.New("exec: xdg-open: not found") },
	})
	if !errors.Is(err, ErrBrowserUnavailable) || !strings.Contains(err.Error(), "xdg-open") {
		t.Errorf("err = %v", err)
	}
}

func TestBrowserLoginCancelled(t *testing.T) {
	as := newFakeAS(t)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := as.config(newWaitClock()).BrowserLogin(ctx, BrowserOptions{
		OpenBrowser: func(string) error { cancel(); return nil }, // Ctrl-C
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestBrowserLoginAuthParams(t *testing.T) {
	as := newFakeAS(t)
	open, pages, urls := fakeBrowser(t)
	opts := BrowserOptions{OpenBrowser: open, AuthParams: url.Values{"login_hint": {"ana"}}}
	if _, err := as.config(newWaitClock()).BrowserLogin(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	page(t, pages)
	if u, _ := url.Parse(<-urls); u.Query().Get("login_hint") != "ana" {
		t.Errorf("login_hint missing: %s", u)
	}
	opts.AuthParams = url.Values{"state": {"chosen"}}
	if _, err := as.config(newWaitClock()).BrowserLogin(context.Background(), opts); err == nil {
		t.Error("state override accepted")
	}
}

// TestBrowserLoginPushedRequestRefused: when the server's PAR endpoint
// refuses the request, the login fails with the server's error and no
// browser opens.
func TestBrowserLoginPushedRequestRefused(t *testing.T) {
	as := newFakeAS(t)
	var pushed url.Values
	par := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		pushed = r.PostForm
		writeError(w, &protocol.Error{Code: "invalid_scope", Description: "scope offline_access is not allowed"})
	}))
	t.Cleanup(par.Close)
	cfg := as.config(newWaitClock())
	cfg.Metadata.PushedAuthorizationRequestEndpoint = par.URL
	cfg.Metadata.AuthorizationEndpoint += "?tenant=a"
	_, err := cfg.BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: func(string) error {
		t.Error("the browser opened though the push failed")
		return nil
	}})
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != "invalid_scope" || !strings.Contains(err.Error(), "pushed authorization request") {
		t.Fatalf("err = %v, want the server's invalid_scope", err)
	}
	if pushed.Get("client_id") != publicClient || pushed.Get("code_challenge") == "" || pushed.Get("redirect_uri") == "" ||
		pushed.Get("response_type") != "code" || pushed.Has("tenant") {
		t.Errorf("pushed %v", pushed)
	}
}

// TestCallbackAnswerWinsOverAbandoned: BrowserLogin answers the
// callback and then returns, which closes abandoned. When the handler
// reaches its wait after both happened (a slow machine), the page must
// still say what the answer said, not "cancelled".
func TestCallbackAnswerWinsOverAbandoned(t *testing.T) {
	for i := 0; i < 100; i++ {
		cb := &callback{abandoned: make(chan struct{})}
		reply := make(chan error, 1)
		reply <- nil
		close(cb.abandoned)
		if outcome, ok := cb.awaitExchange(context.Background(), reply); !ok || outcome != nil {
			t.Fatalf("run %d: outcome %v, %v; want the exchange's answer (nil)", i, outcome, ok)
		}
	}
	cb := &callback{abandoned: make(chan struct{})}
	close(cb.abandoned)
	if outcome, ok := cb.awaitExchange(context.Background(), make(chan error, 1)); !ok || outcome == nil {
		t.Fatalf("abandoned without an answer: %v, %v; want cancelled", outcome, ok)
	}
}
