package client

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/cli/browser"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// DefaultBrowserTimeout is how long BrowserLogin waits for the callback.
const DefaultBrowserTimeout = 5 * time.Minute

// callbackPath is the path of the loopback redirect URI.
const callbackPath = "/callback"

// reservedAuthParams are the authorization request parameters the flow
// sets itself; BrowserOptions.AuthParams may not override them.
var reservedAuthParams = map[string]bool{
	"response_type": true, "client_id": true, "redirect_uri": true, "state": true,
	"code_challenge": true, "code_challenge_method": true,
}

// BrowserOptions tune BrowserLogin.
type BrowserOptions struct {
	// Ports are tried in order for the loopback listener; the first free
	// one is used. Empty means a random free port. RFC 8252 §7.3: the
	// server allows any port on a loopback redirect URI.
	Ports []int
	// OpenBrowser opens the authorization URL; nil means the system
	// browser (github.com/cli/browser). An error ends the login at once
	// with ErrBrowserUnavailable, so a headless run never hangs.
	OpenBrowser func(url string) error
	// ShowURL, when set, is called with the authorization URL before the
	// browser opens, so that the user can open it by hand.
	ShowURL func(url string)
	// Timeout bounds the wait for the callback; zero means
	// DefaultBrowserTimeout.
	Timeout time.Duration
	// AuthParams are extra authorization request parameters, such as
	// prompt or login_hint. The flow's own parameters (state, PKCE,
	// redirect_uri...) cannot be overridden.
	AuthParams url.Values
	// AppName names the program on the pages the browser tab shows at
	// the end of the login ("Signed in · AppName"); empty means
	// "Gatehouse".
	AppName string
}

// BrowserLogin runs the authorization code flow with PKCE for a native
// app (RFC 8252): it listens on http://127.0.0.1:PORT/callback, opens the
// browser at the authorization endpoint, waits for the callback, checks
// it, and exchanges the code. The browser tab is told how it ended.
//
// When the server's metadata names a pushed_authorization_request_endpoint
// (RFC 9126), the request's parameters are POSTed there first and the
// browser opens a short URL with only client_id and request_uri: nothing
// of the request shows in the browser's address bar or history.
//
// A callback without the state of this login (a stray request, a stale
// tab, a forgery) is answered 400 and otherwise ignored: only a response
// with the right state ends the wait. A callback with the right state but
// an error, no code, or an iss naming another issuer (RFC 9207) fails the
// login; nothing is exchanged. Requests for other paths get a 404 and are
// otherwise ignored.
func (c *Config) BrowserLogin(ctx context.Context, opts BrowserOptions) (*oauth2.Token, error) {
	md, err := c.metadata(ctx)
	if err != nil {
		return nil, err
	}
	if md.AuthorizationEndpoint == "" {
		return nil, fmt.Errorf("client: %s has no authorization endpoint; use --device", md.Issuer)
	}
	ln, err := listenLoopback(opts.Ports)
	if err != nil {
		return nil, err
	}
	redirect := "http://" + ln.Addr().String() + callbackPath

	// RFC 7636 §4.1 and RFC 9700 §2.1.1: PKCE with S256, a fresh
	// verifier per request; state is a fresh unguessable value too.
	verifier := oauth2.GenerateVerifier()
	state := rand.Text()
	oc := c.oauth2Config(md, redirect)
	authOpts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if c.DPoP != nil {
		// RFC 9449 §10: the code is bound to the key, so that only its
		// holder can redeem it.
		authOpts = append(authOpts, oauth2.SetAuthURLParam("dpop_jkt", c.DPoP.Thumbprint()))
	}
	for k, vs := range opts.AuthParams {
		if reservedAuthParams[k] {
			return nil, fmt.Errorf("client: browser login: parameter %q is set by the flow", k)
		}
		for _, v := range vs {
			authOpts = append(authOpts, oauth2.SetAuthURLParam(k, v))
		}
	}
	authURL := oc.AuthCodeURL(state, authOpts...)
	if len(c.Resources) > 0 {
		// RFC 8707 §2: one resource parameter per resource (AuthCodeURL's
		// options can set a parameter only once).
		u, err := url.Parse(authURL)
		if err != nil {
			return nil, fmt.Errorf("client: browser login: %w", err)
		}
		q := u.Query()
		q["resource"] = c.Resources
		u.RawQuery = q.Encode()
		authURL = u.String()
	}
	if md.PushedAuthorizationRequestEndpoint != "" {
		// RFC 9126: the parameters go to the server directly and the
		// browser gets a short URL that carries none of them.
		if authURL, err = c.pushAuthorizationRequest(ctx, md, authURL); err != nil {
			return nil, err
		}
	}

	cb := &callback{
		state:       state,
		app:         opts.AppName,
		issuer:      md.Issuer,
		issRequired: md.AuthorizationResponseIssParameterSupported,
		results:     make(chan callbackResult, 1),
		finished:    make(chan struct{}),
		abandoned:   make(chan struct{}),
	}
	srv := &http.Server{Handler: cb.handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer shutdown(srv)
	// Runs before shutdown: a handler still waiting for the exchange
	// tells the browser the login ended.
	defer close(cb.abandoned)

	if opts.ShowURL != nil {
		opts.ShowURL(authURL)
	}
	open := opts.OpenBrowser
	if open == nil {
		open = browser.OpenURL
	}
	browserErr := make(chan error, 1)
	go func() {
		if err := open(authURL); err != nil {
			browserErr <- err
		}
	}()

	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultBrowserTimeout
	}
	timer := c.clock().NewTimer(timeout)
	defer timer.Stop()

	select {
	case res := <-cb.results:
		if res.err != nil {
			return nil, fmt.Errorf("client: browser login: %w", res.err)
		}
		tok, err := c.exchange(ctx, oc, res.code, verifier)
		res.reply <- err
		return tok, err
	case err := <-browserErr:
		return nil, fmt.Errorf("client: open browser: %w: %w", err, ErrBrowserUnavailable)
	case <-timer.C():
		return nil, fmt.Errorf("client: %w after %s; use --device to sign in with a code", ErrBrowserTimeout, formatDuration(timeout))
	case <-ctx.Done():
		return nil, fmt.Errorf("client: browser login: %w", ctx.Err())
	}
}

// pushAuthorizationRequest pushes the parameters of authURL to the
// server's PAR endpoint (RFC 9126 §2), authenticated as at the token
// endpoint, and returns the authorization URL that refers to them: the
// authorization endpoint with only client_id and request_uri (§4).
func (c *Config) pushAuthorizationRequest(ctx context.Context, md *protocol.Metadata, authURL string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("client: browser login: %w", err)
	}
	endpoint, err := url.Parse(md.AuthorizationEndpoint)
	if err != nil {
		return "", fmt.Errorf("client: browser login: authorization endpoint: %w", err)
	}
	// The request's parameters are those AuthCodeURL added to the
	// endpoint's own query.
	form := u.Query()
	own := endpoint.Query()
	for k := range own {
		form.Del(k)
	}
	var resp protocol.PushedAuthorizationResponse
	if err := postForm(ctx, c.HTTPClient, md.PushedAuthorizationRequestEndpoint, form, c.ClientID, c.ClientSecret, secretAuthStyle(md), &resp); err != nil {
		return "", fmt.Errorf("client: pushed authorization request: %w", err)
	}
	if resp.RequestURI == "" {
		return "", fmt.Errorf("client: pushed authorization request: the answer of %s has no request_uri", md.PushedAuthorizationRequestEndpoint)
	}
	own.Set("client_id", c.ClientID)
	own.Set("request_uri", resp.RequestURI)
	endpoint.RawQuery = own.Encode()
	return endpoint.String(), nil
}

// exchange redeems the code with the PKCE verifier (RFC 7636 §4.5).
func (c *Config) exchange(ctx context.Context, oc *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	tok, err := oc.Exchange(withHTTPClient(ctx, c.tokenClient()), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("client: exchange code: %w", ParseError(err))
	}
	if err := checkTokenType(tok); err != nil {
		return nil, fmt.Errorf("client: exchange code: %w", err)
	}
	return stampExpiry(tok, c.clock().Now()), nil
}

// listenLoopback listens on 127.0.0.1, on the first free port of ports or
// on a random one. RFC 8252 §8.3: "loopback IP literals rather than
// localhost", so the listener and the redirect URI name 127.0.0.1.
func listenLoopback(ports []int) (net.Listener, error) {
	if len(ports) == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("client: listen for browser callback: %w", err)
		}
		return ln, nil
	}
	var errs []error
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			return ln, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("client: %w: ports %v: %v", ErrCallbackPortBusy, ports, errors.Join(errs...))
}

// shutdown stops the callback server, letting a handler that is writing
// its page finish first.
func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		srv.Close()
	}
}

// callback receives the authorization response on the loopback listener.
type callback struct {
	state       string
	app         string // names the program on the pages
	issuer      string
	issRequired bool
	results     chan callbackResult
	once        sync.Once
	finished    chan struct{} // closed when a result was delivered
	abandoned   chan struct{} // closed when BrowserLogin returns
}

// callbackResult is one authorization response: a code to exchange
// (and reply, on which the outcome of the exchange comes back so the
// browser page can say it), or the reason it was refused.
type callbackResult struct {
	code  string
	err   error
	reply chan error
}

func (cb *callback) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+callbackPath, cb.serveCallback)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Stray requests (favicon, probes) never touch the login.
		cb.render(w, http.StatusNotFound, pageNotFound, "")
	})
	return mux
}

// deliver hands the first result to BrowserLogin; it reports false for
// every later one.
func (cb *callback) deliver(res callbackResult) bool {
	ok := false
	cb.once.Do(func() {
		cb.results <- res
		close(cb.finished)
		ok = true
	})
	return ok
}

func (cb *callback) serveCallback(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead || r.URL.RawQuery == "" {
		// Not an authorization response (a prefetch, a reload of the
		// bare address): ignore it and keep waiting.
		cb.render(w, http.StatusBadRequest, pageNotAResponse, "")
		return
	}
	// RFC 6749 §10.12: a response whose state is not the one this login
	// sent is rejected. It is not this login's response at all, so it
	// does not end the login either: a stray or forged request must not
	// abort the sign-in the user is doing in the browser.
	if subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(cb.state)) != 1 {
		cb.render(w, http.StatusBadRequest, pageStray, "")
		return
	}
	select {
	case <-cb.finished:
		cb.render(w, http.StatusConflict, pageFinished, "")
		return
	default:
	}
	code, err := cb.check(r.URL.Query())
	if err != nil {
		if cb.deliver(callbackResult{err: err}) {
			cb.renderFailure(w, err)
		} else {
			cb.render(w, http.StatusConflict, pageFinished, "")
		}
		return
	}
	reply := make(chan error, 1)
	if !cb.deliver(callbackResult{code: code, reply: reply}) {
		cb.render(w, http.StatusConflict, pageFinished, "")
		return
	}
	outcome, ok := cb.awaitExchange(r.Context(), reply)
	if !ok {
		return
	}
	if outcome != nil {
		cb.renderFailure(w, outcome)
		return
	}
	cb.render(w, http.StatusOK, pageSuccess, "")
}

// awaitExchange waits for BrowserLogin's outcome of the exchange; ok is
// false when the browser went away first. BrowserLogin answers before it
// returns, so an answer may be waiting although abandoned is closed too:
// select picks among ready cases at random, and the answer wins.
func (cb *callback) awaitExchange(ctx context.Context, reply <-chan error) (outcome error, ok bool) {
	select {
	case outcome = <-reply:
		return outcome, true
	case <-cb.abandoned:
		select {
		case outcome = <-reply:
			return outcome, true
		default:
			return errors.New("the login was cancelled"), true
		}
	case <-ctx.Done():
		return nil, false
	}
}

// check validates an authorization response (RFC 6749 §4.1.2) and
// returns its code.
func (cb *callback) check(q url.Values) (string, error) {
	// RFC 6749 §10.12: the client MUST reject a response whose state
	// does not match the one it sent (CSRF).
	if q.Get("state") != cb.state {
		return "", ErrStateMismatch
	}
	// RFC 9207 §2.4: "Clients MUST then decode the value from its
	// application/x-www-form-urlencoded form ... and compare the result to
	// the issuer identifier of the authorization server where the
	// authorization request was sent to. ... If the value does not match
	// the expected issuer identifier, clients MUST reject the authorization
	// response", and "Clients MUST reject authorization responses without
	// the iss parameter from authorization servers that do support the
	// parameter".
	if iss, ok := q["iss"]; ok || cb.issRequired {
		got := ""
		if ok {
			got = iss[0]
		}
		if got != cb.issuer {
			return "", fmt.Errorf("authorization response from issuer %q, want %q: %w", got, cb.issuer, ErrIssuerMismatch)
		}
	}
	if code := q.Get("error"); code != "" {
		return "", &protocol.Error{Code: code, Description: q.Get("error_description"), URI: q.Get("error_uri")}
	}
	code := q.Get("code")
	if code == "" {
		return "", ErrMissingCode
	}
	return code, nil
}

// formatDuration prints whole minutes as "5m" and anything else as
// time.Duration does.
func formatDuration(d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return d.String()
}
