package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The authorization endpoint: the authorization code grant (RFC 6749 §4.1)
// with PKCE (RFC 7636) and the iss response parameter (RFC 9207).
//
// Until the client and its redirect URI are known to be genuine, errors are
// shown on an error page and never redirected (RFC 6749 §4.1.2.1: "the
// authorization server SHOULD inform the resource owner of the error and
// MUST NOT automatically redirect the user-agent to the invalid redirection
// URI"); afterwards they go back to the client as error parameters.

// authorizeParams are the request parameters the endpoint reads. RFC 6749
// §3.1: "Request and response parameters MUST NOT be included more than
// once."
var authorizeParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state",
	"code_challenge", "code_challenge_method", "nonce", "prompt", "max_age",
	"dpop_jkt",
}

// authorizeRequest is a validated authorization request.
type authorizeRequest struct {
	client *storage.Client
	// redirectURI is where the response goes; redirectParam is the
	// redirect_uri parameter exactly as sent, "" when it was omitted (the
	// token endpoint compares against it, RFC 6749 §4.1.3).
	redirectURI   string
	redirectParam string
	// params are the recognised parameters as received.
	params    url.Values
	scopes    []string
	resources []string // the audiences of the code (RFC 8707)
	challenge string
	method    string
	nonce     string
	// dpopJKT is the dpop_jkt parameter (RFC 9449 §10): the thumbprint of
	// the DPoP key the code must be redeemed with.
	dpopJKT string
	prompt  []string
	// maxAge is max_age in seconds (OIDC Core §3.1.2.1), -1 when absent.
	maxAge int64
	// requestURI is the pushed request_uri (RFC 9126) the parameters
	// came from, "" for a request sent in full; pushedHash is its key.
	requestURI string
	pushedHash string
}

// continuation is the query that brings the browser back to this request
// after the login page: the parameters as received, or for a pushed
// request only client_id and request_uri, so that no parameter lands in
// the browser's history.
func (ar *authorizeRequest) continuation() url.Values {
	if ar.requestURI != "" {
		return url.Values{"client_id": {ar.client.ID}, "request_uri": {ar.requestURI}}
	}
	return ar.params
}

func (ar *authorizeRequest) hasPrompt(p string) bool { return slices.Contains(ar.prompt, p) }

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	post := r.Method == http.MethodPost
	var q url.Values
	if post {
		// The consent form posts the request back with its decision.
		if !s.sessions.ParsePostForm(w, r) {
			return
		}
		q = r.PostForm
	} else {
		q = r.URL.Query()
	}
	ctx := r.Context()

	ar, perr, err := s.authorizeClient(r, q)
	if err != nil {
		s.pages.ServerError(w, r, err)
		return
	}
	if perr != nil {
		s.pages.RequestError(w, r, "Sign-in cannot go on", perr)
		return
	}
	// For a pushed request the parameters are the ones pushed (RFC 9126
	// §4); the form still carries the consent decision.
	params := q
	if ar.requestURI != "" {
		params = ar.params
	}
	if perr := ar.validate(params); perr != nil {
		s.authorizeError(w, r, ar, perr, post)
		return
	}
	resources, err := s.resolveResources(ar.client, resourceParams(params))
	if err != nil {
		s.authorizeError(w, r, ar, protocol.AsError(err), post)
		return
	}
	ar.resources = resources

	u, sess, err := s.sessions.CurrentUser(r)
	if err != nil {
		s.authorizeServerError(w, r, ar, err, post)
		return
	}
	// OIDC Core §3.1.2.1 max_age: "If the elapsed time is greater than
	// this value, the OP MUST attempt to actively re-authenticate the
	// End-User."
	stale := u != nil && ar.maxAge >= 0 && s.clock.Now().Sub(sess.AuthTime) > time.Duration(ar.maxAge)*time.Second
	switch {
	case stale && ar.hasPrompt("none"):
		s.authorizeError(w, r, ar, protocol.NewError(protocol.ErrLoginRequired, "the sign-in is older than max_age"), post)
		return
	case stale:
		webpage.Redirect(w, s.loginURL(s.at(PathAuthorize)+"?"+ar.continuation().Encode(), true), http.StatusFound)
		return
	case u == nil && ar.hasPrompt("none"):
		// OIDC Core §3.1.2.1: with prompt=none the server "MUST NOT
		// display any authentication or consent user interface pages".
		s.authorizeError(w, r, ar, protocol.NewError(protocol.ErrLoginRequired, "the user is not signed in"), post)
		return
	case post && u == nil:
		webpage.Redirect(w, s.loginURL(s.at(PathAuthorize)+"?"+ar.continuation().Encode(), false), http.StatusSeeOther)
		return
	case !post && (u == nil || ar.hasPrompt("login")):
		to, err := s.authorizeLoginURL(r, ar)
		if err != nil {
			s.authorizeServerError(w, r, ar, err, post)
			return
		}
		webpage.Redirect(w, to, http.StatusFound)
		return
	}

	if post {
		switch q.Get("decision") {
		case "allow":
			if err := s.grantConsent(r, ar, u); err != nil {
				s.authorizeServerError(w, r, ar, err, post)
				return
			}
		case "deny":
			s.authorizeError(w, r, ar, protocol.NewError(protocol.ErrAccessDenied, "the user denied the request"), post)
			return
		default:
			s.pages.Error(w, r, http.StatusBadRequest, "Choose Allow or Deny", "The form did not say whether to allow or deny. Go back and choose Allow or Deny.")
			return
		}
	} else {
		need, err := s.needsConsent(ctx, ar, u)
		if err != nil {
			s.authorizeServerError(w, r, ar, err, post)
			return
		}
		if need {
			if ar.hasPrompt("none") {
				s.authorizeError(w, r, ar, protocol.NewError(protocol.ErrConsentRequired, "the user has not allowed this client"), post)
				return
			}
			s.renderConsent(w, r, ar, u)
			return
		}
	}
	s.issueCode(w, r, ar, u, sess, post)
}

// authorizeClient reads client_id and redirect_uri, or client_id and a
// pushed request_uri (RFC 9126 §4). A *protocol.Error result is for the
// error page: nothing here may redirect.
func (s *Server) authorizeClient(r *http.Request, q url.Values) (*authorizeRequest, *protocol.Error, error) {
	for _, p := range []string{"client_id", "redirect_uri", "request_uri"} {
		if len(q[p]) > 1 {
			return nil, protocol.Errorf(protocol.ErrInvalidRequest, "%s is repeated", p), nil
		}
	}
	id := q.Get("client_id")
	if id == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "client_id is required"), nil
	}
	c, err := s.store.GetClient(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "unknown client"), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: authorize: get client: %w", err)
	}
	if q.Has("request_uri") {
		return s.openPushedRequest(r.Context(), c, q)
	}
	if s.requirePAR(c) {
		// RFC 9126 §5: a server or client that requires PAR "MUST reject
		// authorization requests without request_uri". The request may be
		// forged, so it is refused here and never redirected.
		return nil, protocol.NewError(protocol.ErrInvalidRequest,
			"this client must push its authorization requests to the pushed_authorization_request_endpoint first (RFC 9126) and send only client_id and request_uri here"), nil
	}
	return newAuthorizeRequest(c, q)
}

// newAuthorizeRequest starts an authorization request of client c from
// the parameters q: it resolves the redirect URI and keeps the recognised
// parameters. The /authorize and PAR endpoints both build requests here.
func newAuthorizeRequest(c *storage.Client, q url.Values) (*authorizeRequest, *protocol.Error, error) {
	param := q.Get("redirect_uri")
	ru, perr := resolveRedirectURI(c, param, q.Has("redirect_uri"))
	if perr != nil {
		return nil, perr, nil
	}
	params := url.Values{}
	for _, p := range authorizeParams {
		if v, ok := q[p]; ok {
			params[p] = slices.Clone(v)
		}
	}
	if v, ok := q["resource"]; ok {
		// RFC 8707 §2: the one parameter that may be repeated.
		params["resource"] = slices.Clone(v)
	}
	return &authorizeRequest{client: c, redirectURI: ru, redirectParam: param, params: params}, nil, nil
}

// validate checks the rest of the request; its errors are redirected to
// the client.
func (ar *authorizeRequest) validate(q url.Values) *protocol.Error {
	for _, p := range authorizeParams {
		if len(q[p]) > 1 {
			return protocol.Errorf(protocol.ErrInvalidRequest, "%s is repeated", p)
		}
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return protocol.NewError(protocol.ErrInvalidRequest, "response_type is required")
	default:
		return protocol.NewError(protocol.ErrUnsupportedResponseType, "only response_type=code is supported")
	}
	if !slices.Contains(ar.client.GrantTypes, protocol.GrantAuthorizationCode) {
		return protocol.NewError(protocol.ErrUnauthorizedClient, "the client may not use the authorization code grant")
	}
	if perr := ar.validatePKCE(q); perr != nil {
		return perr
	}
	scopes, err := resolveScopes(ar.client, parseScope(q.Get("scope")))
	if err != nil {
		return protocol.AsError(err)
	}
	ar.scopes = scopes
	ar.nonce = q.Get("nonce")
	// RFC 9449 §10: dpop_jkt is the base64url SHA-256 JWK thumbprint, 43
	// characters.
	if q.Has("dpop_jkt") {
		if !validChallenge(q.Get("dpop_jkt")) {
			return protocol.NewError(protocol.ErrInvalidRequest, "dpop_jkt must be a JWK SHA-256 thumbprint: 43 base64url characters")
		}
		ar.dpopJKT = q.Get("dpop_jkt")
	}
	// OIDC Core §6.1: request objects are not supported; say so instead
	// of ignoring parameters the client relies on. (A request_uri is
	// read by authorizeClient: only pushed ones, RFC 9126, are known.)
	if q.Has("request") {
		return protocol.NewError(protocol.ErrRequestNotSupported, "request objects are not supported; send the parameters in the query or push them (RFC 9126)")
	}
	ar.maxAge = -1
	if q.Has("max_age") {
		n, err := strconv.ParseInt(q.Get("max_age"), 10, 64)
		if err != nil || n < 0 {
			return protocol.NewError(protocol.ErrInvalidRequest, "max_age must be a non-negative number of seconds")
		}
		ar.maxAge = n
	}
	ar.prompt = strings.Fields(q.Get("prompt"))
	if ar.hasPrompt("none") && len(ar.prompt) > 1 {
		// OIDC Core §3.1.2.1: "If this parameter contains none with any
		// other value, an error is returned."
		return protocol.NewError(protocol.ErrInvalidRequest, "prompt=none cannot be combined with other values")
	}
	return nil
}

// validatePKCE applies RFC 7636 with S256 only. RFC 9700 §2.1.1: public
// clients MUST use PKCE; "plain" is never accepted, and a missing method
// is not read as plain (RFC 7636 §4.3 defaults it to plain, which would be
// a downgrade).
func (ar *authorizeRequest) validatePKCE(q url.Values) *protocol.Error {
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if !q.Has("code_challenge") {
		if q.Has("code_challenge_method") {
			return protocol.NewError(protocol.ErrInvalidRequest, "code_challenge_method without code_challenge")
		}
		if ar.client.Public {
			return protocol.NewError(protocol.ErrInvalidRequest, "code_challenge is required (PKCE with S256)")
		}
		return nil
	}
	if method != protocol.CodeChallengeS256 {
		return protocol.NewError(protocol.ErrInvalidRequest, "code_challenge_method must be S256")
	}
	if !validChallenge(challenge) {
		return protocol.NewError(protocol.ErrInvalidRequest, "code_challenge must be 43 base64url characters")
	}
	ar.challenge, ar.method = challenge, method
	return nil
}

// validChallenge accepts a BASE64URL-ENCODE(SHA256(verifier)): 43
// characters of [A-Za-z0-9_-] (RFC 7636 §4.2).
func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isBase64URL(c[i]) {
			return false
		}
	}
	return true
}

// isBase64URL reports whether c is a base64url character (RFC 4648 §5).
func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// authorizeLoginURL sends the browser to the login page and back to this
// request. With prompt=login the login form is shown even to a signed-in
// browser, and "login" is dropped from the request it returns to, so the
// fresh sign-in is not asked for again; for a pushed request it is dropped
// from the stored parameters.
func (s *Server) authorizeLoginURL(r *http.Request, ar *authorizeRequest) (string, error) {
	if !ar.hasPrompt("login") {
		if ar.requestURI != "" {
			return s.loginURL(s.at(PathAuthorize)+"?"+ar.continuation().Encode(), false), nil
		}
		return s.loginURL(r.URL.RequestURI(), false), nil // the path already has the base
	}
	q := r.URL.Query()
	if ar.requestURI != "" {
		q = ar.params
	}
	rest := slices.DeleteFunc(slices.Clone(ar.prompt), func(p string) bool { return p == "login" })
	if len(rest) == 0 {
		q.Del("prompt")
	} else {
		q.Set("prompt", strings.Join(rest, " "))
	}
	if ar.requestURI != "" {
		if err := s.setPushedParams(r.Context(), ar, q); err != nil {
			return "", err
		}
		q = ar.continuation()
	}
	return s.loginURL(s.at(PathAuthorize)+"?"+q.Encode(), true), nil
}

// issueCode stores a new authorization code and sends it to the client.
func (s *Server) issueCode(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, u *storage.User, sess *storage.Session, post bool) {
	tok := secret.NewToken()
	now := s.clock.Now().UTC()
	code := &storage.AuthCode{
		Hash:                secret.Hash(tok),
		ClientID:            ar.client.ID,
		UserID:              u.ID,
		RedirectURI:         ar.redirectParam,
		Scopes:              ar.scopes,
		CodeChallenge:       ar.challenge,
		CodeChallengeMethod: ar.method,
		Nonce:               ar.nonce,
		DPoPJKT:             ar.dpopJKT,
		Resources:           ar.resources,
		AuthTime:            sess.AuthTime,
		ExpiresAt:           now.Add(time.Duration(s.cfg.Tokens.CodeTTL)),
		CreatedAt:           now,
	}
	// The pushed request_uri is spent with the code (RFC 9126 §4); of two
	// tabs racing with it, one gets the code.
	if perr, err := s.spendPushedRequest(r.Context(), ar); err != nil {
		s.authorizeServerError(w, r, ar, err, post)
		return
	} else if perr != nil {
		s.pages.RequestError(w, r, "Sign-in cannot go on", perr)
		return
	}
	if err := s.store.CreateAuthCode(r.Context(), code); err != nil {
		s.authorizeServerError(w, r, ar, fmt.Errorf("server: authorize: store code: %w", err), post)
		return
	}
	resp := url.Values{"code": {tok}}
	s.authorizeRespond(w, ar, resp, post)
}

// authorizeError sends an error response to the client's redirect URI
// (RFC 6749 §4.1.2.1). A pushed request_uri is spent by it too; if it
// was spent already (another tab answered), the error page says so.
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, pe *protocol.Error, post bool) {
	if perr, err := s.spendPushedRequest(r.Context(), ar); err != nil {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	} else if perr != nil {
		s.pages.RequestError(w, r, "Sign-in cannot go on", perr)
		return
	}
	resp := url.Values{"error": {pe.Code}}
	if pe.Description != "" {
		resp.Set("error_description", pe.Description)
	}
	s.authorizeRespond(w, ar, resp, post)
}

// authorizeServerError logs err and redirects server_error to the client.
func (s *Server) authorizeServerError(w http.ResponseWriter, r *http.Request, ar *authorizeRequest, err error, post bool) {
	s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	s.authorizeError(w, r, ar, protocol.NewError(protocol.ErrServerError, ""), post)
}

// authorizeRespond redirects to the client with resp plus state (RFC 6749
// §4.1.2: "REQUIRED if the state parameter was present in the client
// authorization request") and iss (RFC 9207 §2). After a form POST the
// redirect is a 303 so that the browser does not re-post the form to the
// client (RFC 9700 §4.12).
func (s *Server) authorizeRespond(w http.ResponseWriter, ar *authorizeRequest, resp url.Values, post bool) {
	if ar.params.Has("state") {
		resp.Set("state", ar.params.Get("state"))
	}
	resp.Set("iss", s.issuer)
	status := http.StatusFound
	if post {
		status = http.StatusSeeOther
	}
	webpage.Redirect(w, withQuery(ar.redirectURI, resp), status)
}
