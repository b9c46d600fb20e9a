package oauth

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The authorization request (RFC 6749 §4.1.1) as the authorization and
// PAR endpoints (RFC 9126) both check it: the client's redirect URI,
// PKCE (RFC 7636), scopes, dpop_jkt, max_age and prompt. The
// authorization endpoint's page (internal/server/pages/authorize.go)
// signs the user in and answers; a pushed request is validated here
// before it is stored.

// AuthorizeParams are the request parameters the endpoint reads. RFC 6749
// §3.1: "Request and response parameters MUST NOT be included more than
// once."
var AuthorizeParams = []string{
	"client_id", "redirect_uri", "response_type", "scope", "state",
	"code_challenge", "code_challenge_method", "nonce", "prompt", "max_age",
	"dpop_jkt",
}

// AuthorizeRequest is a validated authorization request.
type AuthorizeRequest struct {
	Client *storage.Client
	// RedirectURI is where the response goes; RedirectParam is the
	// redirect_uri parameter exactly as sent, "" when it was omitted (the
	// token endpoint compares against it, RFC 6749 §4.1.3).
	RedirectURI   string
	RedirectParam string
	// Params are the recognised parameters as received.
	Params    url.Values
	Scopes    []string
	Resources []string // the audiences of the code (RFC 8707)
	Challenge string
	Method    string
	Nonce     string
	// DPoPJKT is the dpop_jkt parameter (RFC 9449 §10): the thumbprint of
	// the DPoP key the code must be redeemed with.
	DPoPJKT string
	Prompt  []string
	// MaxAge is max_age in seconds (OIDC Core §3.1.2.1), -1 when absent.
	MaxAge int64
	// RequestURI is the pushed request_uri (RFC 9126) the parameters
	// came from, "" for a request sent in full; pushedHash is its key.
	RequestURI string
	pushedHash string
}

// Continuation is the query that brings the browser back to this request
// after the login page: the parameters as received, or for a pushed
// request only client_id and request_uri, so that no parameter lands in
// the browser's history.
func (ar *AuthorizeRequest) Continuation() url.Values {
	if ar.RequestURI != "" {
		return url.Values{"client_id": {ar.Client.ID}, "request_uri": {ar.RequestURI}}
	}
	return ar.Params
}

// HasPrompt reports whether the request's prompt parameter names p.
func (ar *AuthorizeRequest) HasPrompt(p string) bool { return slices.Contains(ar.Prompt, p) }

// NewAuthorizeRequest starts an authorization request of client c from
// the parameters q: it resolves the redirect URI and keeps the recognised
// parameters. The /authorize and PAR endpoints both build requests here.
func NewAuthorizeRequest(c *storage.Client, q url.Values) (*AuthorizeRequest, *protocol.Error, error) {
	param := q.Get("redirect_uri")
	ru, perr := ResolveRedirectURI(c, param, q.Has("redirect_uri"))
	if perr != nil {
		return nil, perr, nil
	}
	params := url.Values{}
	for _, p := range AuthorizeParams {
		if v, ok := q[p]; ok {
			params[p] = slices.Clone(v)
		}
	}
	if v, ok := q["resource"]; ok {
		// RFC 8707 §2: the one parameter that may be repeated.
		params["resource"] = slices.Clone(v)
	}
	return &AuthorizeRequest{Client: c, RedirectURI: ru, RedirectParam: param, Params: params}, nil, nil
}

// Validate checks the rest of the request; its errors are redirected to
// the client.
func (ar *AuthorizeRequest) Validate(q url.Values) *protocol.Error {
	for _, p := range AuthorizeParams {
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
	if !slices.Contains(ar.Client.GrantTypes, protocol.GrantAuthorizationCode) {
		return protocol.NewError(protocol.ErrUnauthorizedClient, "the client may not use the authorization code grant")
	}
	if perr := ar.validatePKCE(q); perr != nil {
		return perr
	}
	scopes, err := resolveScopes(ar.Client, ParseScope(q.Get("scope")))
	if err != nil {
		return protocol.AsError(err)
	}
	ar.Scopes = scopes
	ar.Nonce = q.Get("nonce")
	// RFC 9449 §10: dpop_jkt is the base64url SHA-256 JWK thumbprint, 43
	// characters.
	if q.Has("dpop_jkt") {
		if !validChallenge(q.Get("dpop_jkt")) {
			return protocol.NewError(protocol.ErrInvalidRequest, "dpop_jkt must be a JWK SHA-256 thumbprint: 43 base64url characters")
		}
		ar.DPoPJKT = q.Get("dpop_jkt")
	}
	// OIDC Core §6.1: request objects are not supported; say so instead
	// of ignoring parameters the client relies on. (A request_uri is
	// read by the authorization endpoint: only pushed ones, RFC 9126, are known.)
	if q.Has("request") {
		return protocol.NewError(protocol.ErrRequestNotSupported, "request objects are not supported; send the parameters in the query or push them (RFC 9126)")
	}
	ar.MaxAge = -1
	if q.Has("max_age") {
		n, err := strconv.ParseInt(q.Get("max_age"), 10, 64)
		if err != nil || n < 0 {
			return protocol.NewError(protocol.ErrInvalidRequest, "max_age must be a non-negative number of seconds")
		}
		ar.MaxAge = n
	}
	ar.Prompt = strings.Fields(q.Get("prompt"))
	if ar.HasPrompt("none") && len(ar.Prompt) > 1 {
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
func (ar *AuthorizeRequest) validatePKCE(q url.Values) *protocol.Error {
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if !q.Has("code_challenge") {
		if q.Has("code_challenge_method") {
			return protocol.NewError(protocol.ErrInvalidRequest, "code_challenge_method without code_challenge")
		}
		if ar.Client.Public {
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
	ar.Challenge, ar.Method = challenge, method
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

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
