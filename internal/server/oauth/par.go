package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Pushed authorization requests (RFC 9126): a client POSTs the parameters
// of an authorization request to PathPAR, authenticated as at the token
// endpoint, and sends the browser to /authorize with only client_id and
// the request_uri it got back. The parameters never travel through the
// browser, so they cannot be read or changed there and stay out of its
// history.
//
// The lifecycle of a request_uri: it must reach /authorize within
// PARTTL (the expires_in of the answer). Its first arrival opens it for
// PARSignInWindow, so that the sign-in, MFA and consent that follow can
// come back to /authorize with it. The authorization response — a code
// or an error sent to the client — spends it: any later use is refused.
// The rows live in the database, so every replica sees them; the expiry
// job deletes them.

// PathPAR is the pushed authorization request endpoint (RFC 9126 §2).
const PathPAR = "/oauth2/par"

const (
	// RequestURIPrefix starts every request_uri (RFC 9126 §2.2: "The
	// format of the request_uri value is at the discretion of the
	// authorization server"; this is the URN the RFC's examples use).
	RequestURIPrefix = "urn:ietf:params:oauth:request_uri:"
	// PARTTL is the expires_in of a request_uri. RFC 9126 §2.2: "Since
	// the request_uri can be replayed, its lifetime SHOULD be short and
	// limited to the minimum necessary", with 5 to 600 seconds as the
	// examples; 90 seconds is enough for a program to open a browser.
	PARTTL = 90 * time.Second
	// PARSignInWindow is how long an opened request_uri stays usable for
	// the sign-in it started.
	PARSignInWindow = 10 * time.Minute
)

// clientAuthParams are the client authentication parameters of a pushed
// request; they are not part of the authorization request.
var clientAuthParams = []string{"client_secret", "client_assertion", "client_assertion_type"}

// RequirePAR reports whether c's authorization requests must be pushed:
// the client's setting or the server-wide one.
func (e *Endpoints) RequirePAR(c *storage.Client) bool {
	return c.RequirePAR || e.cfg.Authorize.RequirePAR
}

// handlePAR is the pushed authorization request endpoint (RFC 9126 §2).
func (e *Endpoints) handlePAR(w http.ResponseWriter, r *http.Request) {
	resp, err := e.pushAuthorizationRequest(w, r)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	// RFC 9126 §2.2: "the authorization server MUST return an HTTP 201".
	respond.JSON(w, http.StatusCreated, resp)
}

func (e *Endpoints) pushAuthorizationRequest(w http.ResponseWriter, r *http.Request) (*protocol.PushedAuthorizationResponse, error) {
	if err := parsePostForm(w, r); err != nil {
		return nil, err
	}
	// RFC 9126 §2: "The client MUST authenticate ... in the same way
	// as at the token endpoint".
	c, err := e.authenticateClientLimited(r)
	if err != nil {
		return nil, err
	}
	if c.Public {
		// Anyone who knows a public client's id can push, and each push
		// stores a row: pushes count per address like sign-ins do.
		ip := e.clientIP(r)
		if res, err := e.allow(r.Context(), LimitPARIP, ip, e.cfg.Limits.LoginPerIP); err == nil && !res.Allowed {
			e.audit.Log(audit.Event{Type: audit.RateLimited, Outcome: audit.Failure, ClientID: c.ID, IP: ip, Reason: LimitPARIP})
			return nil, TooManyRequests(res)
		}
	}
	form := r.PostForm
	// RFC 9126 §2.1: "The request_uri authorization request parameter is
	// one exception, and it MUST NOT be provided."
	if form.Has("request_uri") {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "request_uri must not be pushed; send the authorization request parameters themselves")
	}
	if id := form.Get("client_id"); id != "" && id != c.ID {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "client_id does not name the authenticated client")
	}
	q := url.Values{}
	for k, v := range form {
		q[k] = v
	}
	for _, p := range clientAuthParams {
		q.Del(p)
	}
	q.Set("client_id", c.ID)
	// RFC 9126 §2.1: the request is validated "as it would for an
	// authorization request sent to the authorization endpoint" — by the
	// same code; its errors come back here as JSON (§2.3), never as a
	// redirect.
	ar, perr, err := NewAuthorizeRequest(c, q)
	if err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	if perr := ar.Validate(q); perr != nil {
		return nil, perr
	}
	if _, err := e.ResolveResources(c, ResourceParams(q)); err != nil {
		return nil, err
	}
	tok := secret.NewToken()
	now := e.clock.Now().UTC()
	p := &storage.PushedRequest{
		Hash:      secret.Hash(tok),
		ClientID:  c.ID,
		Params:    ar.Params,
		CreatedAt: now,
		ExpiresAt: now.Add(PARTTL),
	}
	if err := e.store.CreatePushedRequest(r.Context(), p); err != nil {
		return nil, fmt.Errorf("server: par: store request: %w", err)
	}
	return &protocol.PushedAuthorizationResponse{
		RequestURI: RequestURIPrefix + tok,
		ExpiresIn:  int64(PARTTL / time.Second),
	}, nil
}

var (
	errPushedUnknown = protocol.NewError(protocol.ErrInvalidRequestURI,
		"the request_uri is unknown or has expired; start the sign-in again from the application")
	errPushedUsed = protocol.NewError(protocol.ErrInvalidRequestURI,
		"the request_uri was used already; start the sign-in again from the application")
	errPushedOtherClient = protocol.NewError(protocol.ErrInvalidRequestURI,
		"the request_uri was pushed by another client")
)

// OpenPushedRequest resolves the request_uri of an authorization request
// of client c (RFC 9126 §4) and returns the request it was pushed for.
// Its errors are for the error page: the redirect URI is not known yet.
func (e *Endpoints) OpenPushedRequest(ctx context.Context, c *storage.Client, q url.Values) (*AuthorizeRequest, *protocol.Error, error) {
	requestURI := q.Get("request_uri")
	tok, ok := strings.CutPrefix(requestURI, RequestURIPrefix)
	if !ok || tok == "" {
		// Only pushed request_uri values are known; a request object
		// by reference (OIDC Core §6.2) is not supported.
		return nil, protocol.NewError(protocol.ErrRequestURINotSupported,
			"only request_uri values from this server's pushed_authorization_request_endpoint (RFC 9126) are accepted"), nil
	}
	hash := secret.Hash(tok)
	now := e.clock.Now().UTC()
	var params url.Values
	err := e.store.UpdatePushedRequest(ctx, hash, func(p *storage.PushedRequest) error {
		switch {
		// RFC 9126 §4: the server "MUST verify" that the request_uri
		// was pushed by the client named by client_id.
		case p.ClientID != c.ID:
			return errPushedOtherClient
		case p.Used:
			return errPushedUsed
		case !now.Before(p.ExpiresAt):
			return errPushedUnknown
		}
		if p.OpenedAt.IsZero() {
			p.OpenedAt = now
			p.ExpiresAt = now.Add(PARSignInWindow)
		}
		params = p.Params
		return nil
	})
	var pe *protocol.Error
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, errPushedUnknown, nil
	case errors.As(err, &pe):
		return nil, pe, nil
	case err != nil:
		return nil, nil, fmt.Errorf("server: authorize: open pushed request: %w", err)
	}
	// Parameters sent beside request_uri must not contradict the pushed
	// ones (RFC 9126 §4 lets the server use only the pushed request;
	// silently dropping a different value would hide a client's bug or
	// an attacker's edit).
	for _, name := range append([]string{"resource"}, AuthorizeParams...) {
		if name == "client_id" || !q.Has(name) {
			continue
		}
		if !equalValues(q[name], params[name]) {
			return nil, protocol.Errorf(protocol.ErrInvalidRequest,
				"%s differs from the pushed authorization request; send only client_id and request_uri", name), nil
		}
	}
	ar, perr, err := NewAuthorizeRequest(c, params)
	if perr != nil || err != nil {
		// The redirect URI was valid when pushed; the client's
		// registration changed since.
		return nil, perr, err
	}
	ar.RequestURI, ar.pushedHash = requestURI, hash
	return ar, nil, nil
}

func equalValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// errPeek aborts the read-only look of PeekPushedParams.
var errPeek = errors.New("peek")

// PeekPushedParams returns the stored parameters of client c's pushed
// request requestURI without opening or spending it, or nil when there is
// no usable one. The sign-in pages use it to know where the request will
// redirect (their CSP form-action).
func (e *Endpoints) PeekPushedParams(ctx context.Context, c *storage.Client, requestURI string) url.Values {
	tok, ok := strings.CutPrefix(requestURI, RequestURIPrefix)
	if !ok || tok == "" {
		return nil
	}
	now := e.clock.Now()
	var params url.Values
	err := e.store.UpdatePushedRequest(ctx, secret.Hash(tok), func(p *storage.PushedRequest) error {
		if p.ClientID == c.ID && !p.Used && now.Before(p.ExpiresAt) {
			params = p.Params
		}
		return errPeek
	})
	if !errors.Is(err, errPeek) {
		return nil
	}
	return params
}

// SetPushedParams replaces the stored parameters of ar's pushed request
// (prompt=login, once answered, is taken out of it).
func (e *Endpoints) SetPushedParams(ctx context.Context, ar *AuthorizeRequest, params url.Values) error {
	err := e.store.UpdatePushedRequest(ctx, ar.pushedHash, func(p *storage.PushedRequest) error {
		p.Params = params
		return nil
	})
	if err != nil {
		return fmt.Errorf("server: authorize: update pushed request: %w", err)
	}
	ar.Params = params
	return nil
}

// SpendPushedRequest marks ar's pushed request used as its authorization
// response goes out; a request sent in full has nothing to spend. If
// another response spent it first, the *protocol.Error says so.
func (e *Endpoints) SpendPushedRequest(ctx context.Context, ar *AuthorizeRequest) (*protocol.Error, error) {
	if ar.pushedHash == "" {
		return nil, nil
	}
	err := e.store.UpdatePushedRequest(ctx, ar.pushedHash, func(p *storage.PushedRequest) error {
		if p.Used {
			return errPushedUsed
		}
		p.Used = true
		return nil
	})
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
		return pe, nil
	case errors.Is(err, storage.ErrNotFound):
		return errPushedUnknown, nil
	case err != nil:
		return nil, fmt.Errorf("server: authorize: spend pushed request: %w", err)
	}
	ar.pushedHash = "" // spent once, whatever follows
	return nil, nil
}
