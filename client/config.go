package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Config is an OAuth 2.0 client of one authorization server: the client's
// registration and the collaborators every flow uses. The zero values of
// HTTPClient and Clock mean http.DefaultClient and clock.System.
type Config struct {
	// Issuer is the authorization server's issuer identifier. It is used
	// for discovery when Metadata is nil, and must equal Metadata.Issuer
	// when both are set.
	Issuer string
	// Metadata is the server's metadata, usually from Discover. When nil,
	// each flow discovers it from Issuer.
	Metadata *protocol.Metadata
	// ClientID is the registered client; ClientSecret is empty for a
	// public client such as gatehouse-cli.
	ClientID     string
	ClientSecret string
	// Scopes are requested by every flow.
	Scopes []string
	// Resources are the resource indicators (RFC 8707) every flow sends as
	// resource parameters: the audiences the access tokens are for. Empty
	// leaves the audience to the server (the client's default).
	Resources []string
	// HTTPClient makes every request to the server.
	HTTPClient *http.Client
	// Clock tells the time: token expiry, device polling, login timeout.
	Clock clock.Clock
	// DPoP, when set, binds the tokens to its key (RFC 9449): every token
	// request — authorization code exchange, device code, client
	// credentials — carries a proof, the browser login asks for a code
	// bound to the key (dpop_jkt, §10), and a server that supports DPoP
	// answers with token_type DPoP. Such tokens must then be sent with
	// proofs: through Transport with the same DPoP, or a TokenSource of
	// the stored login (UserCredential stores the key).
	DPoP *DPoP
}

// tokenClient is the client for token requests: HTTPClient, adding a
// proof to each request when c.DPoP is set.
func (c *Config) tokenClient() *http.Client {
	if c.DPoP == nil {
		return c.HTTPClient
	}
	return c.DPoP.HTTPClient(c.HTTPClient)
}

func (c *Config) clock() clock.Clock {
	if c.Clock == nil {
		return clock.System
	}
	return c.Clock
}

// metadata returns the configured metadata or discovers it.
func (c *Config) metadata(ctx context.Context) (*protocol.Metadata, error) {
	if c.Metadata == nil {
		if c.Issuer == "" {
			return nil, fmt.Errorf("client: config has neither Issuer nor Metadata")
		}
		return Discover(ctx, c.HTTPClient, c.Issuer)
	}
	if c.Issuer != "" && c.Metadata.Issuer != c.Issuer {
		return nil, fmt.Errorf("client: metadata is for issuer %q, not %q: %w", c.Metadata.Issuer, c.Issuer, ErrIssuerMismatch)
	}
	return c.Metadata, nil
}

// oauth2Config is the x/oauth2 view of c at the server described by md.
func (c *Config) oauth2Config(md *protocol.Metadata, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Endpoint:     endpointFor(md, c.ClientSecret),
		RedirectURL:  redirectURL,
		Scopes:       c.Scopes,
	}
}

// endpointFor is Endpoint with the authentication style of a client with
// or without a secret. RFC 6749 §2.3.1 and §3.2.1: a public client sends
// client_id in the request body.
func endpointFor(md *protocol.Metadata, secret string) oauth2.Endpoint {
	e := Endpoint(md)
	if secret == "" {
		e.AuthStyle = oauth2.AuthStyleInParams
	}
	return e
}

// withHTTPClient is how x/oauth2 is told which *http.Client to use. It
// stays inside this package: callers pass the client as an option.
func withHTTPClient(ctx context.Context, hc *http.Client) context.Context {
	if hc == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// ErrTokenType is returned for a token response whose token_type the
// client does not understand: anything but Bearer (RFC 6750) or DPoP
// (RFC 9449), compared without regard to case, including none at all.
var ErrTokenType = errors.New("unsupported token_type")

// checkTokenType refuses a token response with a token_type other than
// Bearer or DPoP. RFC 6749 §7.1: "The client MUST NOT use an access token
// if it does not understand the token type"; §5.1 makes token_type
// REQUIRED. A token of another type (MAC, N_A, a typo) is never sent as a
// bearer token.
func checkTokenType(tok *oauth2.Token) error {
	if strings.EqualFold(tok.TokenType, protocol.TokenTypeBearer) || strings.EqualFold(tok.TokenType, "DPoP") {
		return nil
	}
	return fmt.Errorf("%w %q in the token response; expected Bearer or DPoP", ErrTokenType, tok.TokenType)
}

// stampExpiry sets tok.Expiry from expires_in on the injected clock.
// x/oauth2 computes it from the wall clock, which tests cannot move.
func stampExpiry(tok *oauth2.Token, now time.Time) *oauth2.Token {
	if tok == nil {
		return nil
	}
	secs := tok.ExpiresIn
	if secs == 0 {
		// x/oauth2/clientcredentials keeps expires_in only in Extra.
		switch v := tok.Extra("expires_in").(type) {
		case float64:
			secs = int64(v)
		case json.Number:
			secs, _ = v.Int64()
		case string:
			secs, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if secs > 0 {
		tok.ExpiresIn = secs
		tok.Expiry = now.Add(time.Duration(secs) * time.Second)
	}
	return tok
}

// UserCredential returns what to store after a browser or device login
// with c: the access, refresh and ID tokens, their expiry and the granted
// scopes (the token response's scope, else the requested ones). When the
// server bound the tokens to c.DPoP's key (token_type DPoP), the key is
// stored with them (Credential.DPoPKey), so that the TokenSource of the
// profile can refresh and use them; a server that answered Bearer ignored
// DPoP, and the login is stored as a bearer login.
func (c *Config) UserCredential(tok *oauth2.Token) *credstore.Credential {
	issuer := c.Issuer
	if issuer == "" && c.Metadata != nil {
		issuer = c.Metadata.Issuer
	}
	cred := &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       issuer,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenType:    tok.Type(),
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		IDToken:      idToken(tok),
		Expiry:       tok.Expiry,
		Scopes:       grantedScopes(tok, c.Scopes),
		UpdatedAt:    c.clock().Now().UTC(),
	}
	cred.Subject, cred.Username = identity(cred.IDToken, issuer, c.ClientID)
	cred.DPoPKey = c.boundKey(tok)
	return cred
}

// boundKey is the key to store with tok: c.DPoP's, when tok is bound to
// it.
func (c *Config) boundKey(tok *oauth2.Token) string {
	if c.DPoP == nil || !isDPoPType(tok.TokenType) {
		return ""
	}
	return c.DPoP.PrivateKeyPEM()
}

// ClientCredential returns what to store for a client-credentials
// profile: the client's secret, so that NewTokenSource can fetch tokens,
// and c.DPoP's key when there is one, so that they are bound to it too.
func (c *Config) ClientCredential() *credstore.Credential {
	issuer := c.Issuer
	if issuer == "" && c.Metadata != nil {
		issuer = c.Metadata.Issuer
	}
	return &credstore.Credential{
		Kind:         credstore.KindClientCredentials,
		Issuer:       issuer,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		Scopes:       slices.Clone(c.Scopes),
		UpdatedAt:    c.clock().Now().UTC(),
		DPoPKey:      c.dpopKey(),
	}
}

func (c *Config) dpopKey() string {
	if c.DPoP == nil {
		return ""
	}
	return c.DPoP.PrivateKeyPEM()
}

// idToken returns the OpenID Connect ID token of a token response.
func idToken(tok *oauth2.Token) string {
	s, _ := tok.Extra("id_token").(string)
	return s
}

// identity reads who logged in from an ID token: its sub and
// preferred_username (else name, else email) claims, when its iss and aud
// are the expected ones.
// The token came straight from the token endpoint, where OpenID Connect
// Core §3.1.3.7 lets TLS server validation stand in for the signature
// check; the claims only label the stored login, they authorize nothing.
func identity(idToken, issuer, clientID string) (subject, username string) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return "", ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", ""
	}
	var claims struct {
		Iss      string          `json:"iss"`
		Sub      string          `json:"sub"`
		Aud      json.RawMessage `json:"aud"`
		Username string          `json:"preferred_username"`
		Name     string          `json:"name"`
		Email    string          `json:"email"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Iss != issuer {
		return "", ""
	}
	var one string
	var many []string
	if json.Unmarshal(claims.Aud, &one) == nil {
		many = []string{one}
	} else if json.Unmarshal(claims.Aud, &many) != nil {
		return "", ""
	}
	if !slices.Contains(many, clientID) {
		return "", ""
	}
	// A person's name for the login: the username, else (Dex, Entra ID,
	// Google send none) the display name, else the email address; never
	// the opaque sub when the token has better.
	for _, n := range []string{claims.Username, claims.Name, claims.Email} {
		if n != "" {
			return claims.Sub, n
		}
	}
	return claims.Sub, ""
}

// grantedScopes returns the token response's scope (RFC 6749 §5.1), or
// the requested scopes when the server did not list them.
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Fields(s)
	}
	return slices.Clone(requested)
}
