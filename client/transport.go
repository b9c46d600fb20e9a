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
type Transport struct {
	Source oauth2.TokenSource
	// Base makes the requests; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// NewTransport returns a Transport over base (nil for
// http.DefaultTransport).
func NewTransport(ts oauth2.TokenSource, base http.RoundTripper) *Transport {
	return &Transport{Source: ts, Base: base}
}

// NewHTTPClient returns an *http.Client whose requests carry tokens from
// ts. It copies base's settings (timeout, cookie jar, redirect policy)
// and wraps its transport; nil base means http.DefaultClient. base itself
// is not changed, so it can keep making the token requests.
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
	resp, err := t.base().RoundTrip(authorize(req, tok, req.Body))
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
	var body io.ReadCloser
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	// RFC 6750 §3.1 invalid_token: one retry with the new token; a second
	// 401 goes back to the caller.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return t.base().RoundTrip(authorize(req, next, body))
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

// authorize returns a clone of req with tok in its Authorization header
// and the given body; a RoundTripper must not modify the request it gets.
func authorize(req *http.Request, tok *oauth2.Token, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Body = body
	tok.SetAuthHeader(r)
	return r
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
