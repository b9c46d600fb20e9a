package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// AssertionAlgorithms are the only algorithms accepted for private_key_jwt
// client assertions: asymmetric ones, so "none" and HMAC keyed with a
// public key can never verify (RFC 8725 §3.1, §3.2).
var AssertionAlgorithms = []string{"ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"}

// MaxAssertionLifetime bounds how far in the future a client assertion's
// exp may be, which also bounds how long its jti is remembered.
const MaxAssertionLifetime = time.Hour

var errInvalidClient = protocol.NewError(protocol.ErrInvalidClient, "client authentication failed")

// authenticateClient identifies and authenticates the client of a token,
// revocation, introspection or device authorization request (RFC 6749 §2.3).
// The form must already be parsed. It rejects credentials in the query
// string and requests that use more than one authentication method
// (RFC 6749 §2.3.1), and a method other than the one the client is
// registered for (OIDC Core §9).
func (e *Endpoints) authenticateClient(r *http.Request) (*storage.Client, error) {
	q := r.URL.Query()
	for _, p := range []string{"client_secret", "client_assertion", "client_assertion_type"} {
		if q.Has(p) {
			return nil, protocol.Errorf(protocol.ErrInvalidRequest, "%s must not be sent in the URL query", p)
		}
	}
	user, pass, hasBasic := r.BasicAuth()
	hasPost := r.PostForm.Has("client_secret")
	hasJWT := r.PostForm.Has("client_assertion") || r.PostForm.Has("client_assertion_type")
	n := 0
	for _, b := range []bool{hasBasic, hasPost, hasJWT} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "use exactly one client authentication method")
	}

	var (
		method   string
		clientID string
	)
	switch {
	case hasBasic:
		method = protocol.AuthMethodBasic
		// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic.
		id, err1 := url.QueryUnescape(user)
		sec, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, errInvalidClient
		}
		clientID, pass = id, sec
		if f := r.PostForm.Get("client_id"); f != "" && f != clientID {
			return nil, protocol.NewError(protocol.ErrInvalidRequest, "client_id does not match the Authorization header")
		}
	case hasPost:
		method = protocol.AuthMethodPost
		clientID, pass = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	case hasJWT:
		method = protocol.AuthMethodPrivateKeyJWT
	default:
		method = protocol.AuthMethodNone
		clientID = r.PostForm.Get("client_id")
	}

	if method == protocol.AuthMethodPrivateKeyJWT {
		c, err := e.authenticateAssertion(r.Context(), r.PostForm)
		if err != nil {
			e.clientAuthFailed(r, clientID, err)
			return nil, err
		}
		return c, nil
	}
	if clientID == "" {
		return nil, errInvalidClient
	}
	c, err := e.clients.Get(r.Context(), clientID)
	if errors.Is(err, storage.ErrNotFound) {
		e.clientAuthFailed(r, clientID, errInvalidClient)
		return nil, errInvalidClient
	}
	if err != nil {
		return nil, fmt.Errorf("client auth: %w", err)
	}
	if c.AuthMethod != method {
		err := protocol.Errorf(protocol.ErrInvalidClient, "client must authenticate with %s", c.AuthMethod)
		e.clientAuthFailed(r, clientID, err)
		return nil, err
	}
	if method == protocol.AuthMethodNone {
		return c, nil
	}
	if c.SecretHash == "" || !secret.Equal(secret.Hash(pass), c.SecretHash) {
		e.clientAuthFailed(r, clientID, errInvalidClient)
		return nil, errInvalidClient
	}
	return c, nil
}

// clientAuthFailed records a failed client authentication.
func (e *Endpoints) clientAuthFailed(r *http.Request, clientID string, err error) {
	e.audit.Log(audit.Event{
		Type: audit.TokenRefused, Outcome: "failure", ClientID: clientID,
		IP: e.clientIP(r), Reason: "client authentication failed: " + protocol.AsError(err).Description,
	})
}

// assertionClaims are the claims of an RFC 7523 client assertion.
type assertionClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  audience `json:"aud"`
	ExpiresAt *int64   `json:"exp"`
	NotBefore *int64   `json:"nbf"`
	ID        string   `json:"jti"`
}

// audience decodes "aud" as a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// authenticateAssertion checks a private_key_jwt client assertion
// (RFC 7523 §3, OIDC Core §9): signed with one of the client's registered
// keys and an asymmetric algorithm, iss = sub = client_id, aud naming this
// server, an exp in the near future and a jti never seen before.
func (e *Endpoints) authenticateAssertion(ctx context.Context, form url.Values) (*storage.Client, error) {
	if form.Get("client_assertion_type") != protocol.ClientAssertionTypeJWT {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "unsupported client_assertion_type")
	}
	assertion := form.Get("client_assertion")
	unverifiedToken, err := jwt.DecodeUnverified(assertion)
	if err != nil {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "malformed client assertion")
	}
	var unverified assertionClaims
	if err := json.Unmarshal(unverifiedToken.Payload, &unverified); err != nil {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "malformed client assertion claims")
	}
	clientID := unverified.Issuer
	if id := form.Get("client_id"); id != "" && id != clientID {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client_id does not match the assertion")
	}
	c, err := e.clients.Get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errInvalidClient
	}
	if err != nil {
		return nil, fmt.Errorf("client assertion: %w", err)
	}
	if c.AuthMethod != protocol.AuthMethodPrivateKeyJWT {
		return nil, protocol.Errorf(protocol.ErrInvalidClient, "client must authenticate with %s", c.AuthMethod)
	}
	// Only the public signature keys of the registered JWKS, each for the
	// algorithms that fit its type (RFC 8725 §3.1).
	keys, err := jwt.ParseJWKS([]byte(c.JWKS))
	if err != nil {
		return nil, fmt.Errorf("client %s: registered JWKS: %w", c.ID, err)
	}
	verified, err := jwt.VerifySignature(ctx, assertion, keys, AssertionAlgorithms, "")
	if errors.Is(err, jwt.ErrMalformed) {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "malformed client assertion")
	}
	if err != nil {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion signature does not verify")
	}
	payload := verified.Payload
	var cl assertionClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "malformed client assertion claims")
	}
	now := e.clock.Now()
	switch {
	case cl.Issuer != c.ID || cl.Subject != c.ID:
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion iss and sub must be the client_id")
	case !e.assertionAudienceOK(cl.Audience):
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion aud must be this server's issuer (or its token endpoint) as the only audience")
	case cl.ExpiresAt == nil:
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion has no exp")
	case !now.Before(time.Unix(*cl.ExpiresAt, 0)):
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion expired")
	case time.Unix(*cl.ExpiresAt, 0).Sub(now) > MaxAssertionLifetime:
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion exp is too far in the future")
	case cl.NotBefore != nil && now.Add(clockSkew).Before(time.Unix(*cl.NotBefore, 0)):
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion not yet valid")
	case cl.ID == "":
		return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion has no jti")
	}
	if err := e.store.UseJTI(ctx, c.ID+":"+cl.ID, time.Unix(*cl.ExpiresAt, 0)); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return nil, protocol.NewError(protocol.ErrInvalidClient, "client assertion replayed")
		}
		return nil, fmt.Errorf("client assertion jti: %w", err)
	}
	return c, nil
}

// assertionAudienceOK reports whether aud names this server and nothing
// else. draft-ietf-oauth-rfc7523bis §5 (updating RFC 7523 §3): "The
// authorization server MUST reject any JWT that does not contain its
// issuer identifier as its sole audience value", because an assertion that
// also names another party may have been made for, or shown to, that
// party. So an array is accepted only with exactly one element, and an
// array with extra values is refused even when one of them is ours. For
// RFC 7523 §3 and OIDC Core §9 ("The Audience SHOULD be the URL of the
// Authorization Server's Token Endpoint") the token endpoint URL is still
// accepted as that one value: it names this server alone too, and existing
// clients (`gatehouse jwt sign --token-endpoint` among them) send it.
// Values are compared as exact strings (RFC 3986 §6.2.1).
func (e *Endpoints) assertionAudienceOK(aud audience) bool {
	// RFC 9126 §2: the server "MUST accept its issuer identifier, token
	// endpoint URL, or pushed authorization request endpoint URL" as the
	// audience of an assertion sent to the PAR endpoint.
	return len(aud) == 1 && (aud[0] == e.issuer || aud[0] == e.issuer+PathToken || aud[0] == e.issuer+PathPAR)
}

// clockSkew is the tolerance for nbf/iat checks on tokens from others.
const clockSkew = 30 * time.Second
