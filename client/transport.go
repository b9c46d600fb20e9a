package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"golang.org/x/oauth2"
)

// Invalidator is a TokenSource that can replace a token the server
// rejected. *TokenSource implements it, and so does the source from
// Config.ClientCredentialsSource.
type Invalidator interface {
	// Invalidate returns a token to use instead of rejected.
	Invalidate(ctx context.Context, rejected string) (*oauth2.Token, error)
}

// contextSource is a TokenSource that takes a context.
type contextSource interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// Transport is an http.RoundTripper that authorizes every request with a
// token from Source. When the server answers 401 and Source is an
// Invalidator, it asks for a replacement of the rejected token and, if it
// gets a different one, retries the request once — only when the request
// can be replayed (no body, or GetBody set).
//
// A DPoP-bound token (token_type DPoP, RFC 9449) goes out as
// "Authorization: DPoP <token>" with a fresh proof for this very request
// in the DPoP header (htm its method, htu its URL, ath the token's hash),
// signed by DPoP, or, when DPoP is nil, by the key of Source if it has one
// (a TokenSource of a login stored with a key). Without a key such a token
// is never sent: RoundTrip fails with ErrNoDPoPKey. A 401 whose
// WWW-Authenticate asks for a nonce (DPoP error="use_dpop_nonce", with a
// DPoP-Nonce header, §9) is answered by sending the request once more with
// a proof carrying that nonce, when it can be replayed; the latest nonce
// of each origin is remembered for the next requests. A Bearer token goes
// out as before, without a proof.
//
// A plain oauth2.Transport (x/oauth2's) cannot make proofs: with a DPoP
// token it sends "Authorization: DPoP <token>" alone, which a DPoP server
// refuses. Use this Transport (NewHTTPClient) for DPoP-bound tokens.
type Transport struct {
	Source oauth2.TokenSource
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// DPoP makes the proofs for DPoP-bound tokens; nil means Source's own
	// (see DPoPSource), if it has one.
	DPoP *DPoP
}

// DPoPSource is a TokenSource that knows the key its tokens are bound to.
// *TokenSource implements it; Transport uses it when its DPoP is nil.
type DPoPSource interface {
	// DPoP returns the key's DPoP, or nil when the tokens are not bound.
	DPoP(ctx context.Context) (*DPoP, error)
}

// NewTransport returns a Transport over base (nil for
// http.DefaultTransport).
func NewTransport(ts oauth2.TokenSource, base http.RoundTripper) *Transport {
	return &Transport{Source: ts, Base: base}
}

// NewHTTPClient returns an *http.Client whose requests carry tokens from
// ts, with DPoP proofs when ts is a DPoPSource with a key (see Transport).
// It copies base's settings (timeout, cookie jar, redirect policy) and
// wraps its transport; nil base means http.DefaultClient. base itself is
// not changed, so it can keep making the token requests.
func NewHTTPClient(ts oauth2.TokenSource, base *http.Client) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	c.Transport = NewTransport(ts, base.Transport)
	return &c
}

func (t *Transport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	a := &attempt{t: t, req: req}
	resp, err := a.send(tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	inv, ok := t.Source.(Invalidator)
	if !ok || !replayable(req) {
		return resp, nil
	}
	next, err := inv.Invalidate(ctx, tok.AccessToken)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("client: after 401 from %s: %w", req.URL.Redacted(), err)
	}
	if next.AccessToken == tok.AccessToken {
		return resp, nil // nothing new to try
	}
	// RFC 6750 §3.1 invalid_token: one retry with the new token; a second
	// 401 goes back to the caller.
	if !a.canReplay() {
		return resp, nil
	}
	discard(resp)
	return a.send(next)
}

// attempt sends one request, perhaps several times: the first time with
// its own body, then with copies from GetBody.
type attempt struct {
	t    *Transport
	req  *http.Request
	sent bool
	// replay is the body of the next send, taken from GetBody ahead, so
	// that a failure to get it keeps the last response.
	replay io.ReadCloser
}

// canReplay prepares the body of the next send; false when there is none.
func (a *attempt) canReplay() bool {
	if !replayable(a.req) {
		return false
	}
	b, ok := replayBody(a.req)
	a.replay = b
	return ok
}

// body is the body of this send.
func (a *attempt) body() io.ReadCloser {
	if !a.sent {
		a.sent = true
		return a.req.Body
	}
	b := a.replay
	a.replay = nil
	return b
}

// send makes the request with tok and, when the token is DPoP-bound and
// the resource asks for a nonce (RFC 9449 §9), once more with it.
func (a *attempt) send(tok *oauth2.Token) (*http.Response, error) {
	var d *DPoP
	if isDPoPType(tok.TokenType) {
		var err error
		if d, err = a.t.dpop(a.req.Context()); err != nil {
			if body := a.body(); body != nil {
				body.Close()
			}
			return nil, err
		}
	}
	resp, err := a.once(tok, d)
	if err != nil || d == nil || !resourceNonceChallenge(resp) || !a.canReplay() {
		return resp, err
	}
	discard(resp)
	return a.once(tok, d)
}

func (a *attempt) once(tok *oauth2.Token, d *DPoP) (*http.Response, error) {
	body := a.body()
	r := a.req.Clone(a.req.Context())
	r.Body = body
	if d == nil {
		tok.SetAuthHeader(r)
		return a.t.base().RoundTrip(r)
	}
	// RFC 9449 §7.1: "Authorization: DPoP <token>" and a proof whose ath
	// is the token's hash, htm and htu this request's.
	p, err := d.proof(a.req.Method, a.req.URL, tok.AccessToken)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	r.Header.Set("Authorization", TokenTypeDPoP+" "+tok.AccessToken)
	r.Header.Set(headerDPoP, p)
	resp, err := a.t.base().RoundTrip(r)
	if err == nil {
		d.observe(a.req.URL, resp.Header)
	}
	return resp, err
}

// dpop is the DPoP for a DPoP-bound token: t.DPoP, else the Source's.
func (t *Transport) dpop(ctx context.Context) (*DPoP, error) {
	if t.DPoP != nil {
		return t.DPoP, nil
	}
	if ds, ok := t.Source.(DPoPSource); ok {
		d, err := ds.DPoP(ctx)
		if err != nil {
			return nil, err
		}
		if d != nil {
			return d, nil
		}
	}
	return nil, fmt.Errorf("client: %w; use the TokenSource of the stored login (it holds the key), or set Transport.DPoP", ErrNoDPoPKey)
}

func (t *Transport) token(ctx context.Context) (*oauth2.Token, error) {
	if cs, ok := t.Source.(contextSource); ok {
		return cs.TokenContext(ctx)
	}
	if t.Source == nil {
		return nil, errors.New("client: transport has no token source")
	}
	return t.Source.Token()
}

// replayable reports whether req can be sent a second time.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
