package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Token checks done with libraries Gatehouse did not write: go-oidc for
// discovery, JWKS and signatures, x/oauth2 for the wire format.

// metadata are the discovery fields go-oidc does not expose.
type metadata struct {
	Issuer                string   `json:"issuer"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	IssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// discover runs OIDC discovery against g with go-oidc, which also checks
// that the document's issuer is exactly g.URL.
func discover(t testing.TB, ctx context.Context, g *gatehouse) (*oidc.Provider, metadata) {
	t.Helper()
	p, err := oidc.NewProvider(ctx, g.URL)
	if err != nil {
		t.Fatalf("oidc discovery at %s: %v", g.URL, err)
	}
	var m metadata
	if err := p.Claims(&m); err != nil {
		t.Fatalf("discovery document: %v", err)
	}
	if m.RevocationEndpoint == "" || m.IntrospectionEndpoint == "" {
		t.Fatalf("discovery lacks revocation or introspection endpoint: %+v", m)
	}
	if p.Endpoint().DeviceAuthURL == "" || p.UserInfoEndpoint() == "" {
		t.Fatalf("discovery lacks device authorization or userinfo endpoint: %+v", p.Endpoint())
	}
	if !slices.Equal(m.CodeChallengeMethods, []string{"S256"}) || !m.IssParameterSupported {
		t.Errorf("discovery: code_challenge_methods_supported %v, authorization_response_iss_parameter_supported %v; want [S256], true",
			m.CodeChallengeMethods, m.IssParameterSupported)
	}
	return p, m
}

// accessClaims are the claims of a Gatehouse access token (RFC 9068).
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Roles    []string `json:"roles"`
	Username string   `json:"preferred_username"`
	ID       string   `json:"jti"`
	Expiry   int64    `json:"exp"`
	Audience []string `json:"aud"`
}

// verifyAccessToken checks raw as an RFC 9068 access token of g: header
// typ at+jwt, ES256 and a kid, and a signature, issuer, audience and
// expiry that go-oidc accepts with the keys from the JWKS. The clients of
// these tests register no audience, so the token's aud is its client's
// own id (never the issuer: a token for one client opens nothing else).
func verifyAccessToken(t testing.TB, ctx context.Context, p *oidc.Provider, g *gatehouse, raw string) accessClaims {
	t.Helper()
	h, err := jwtHeader(raw)
	if err != nil {
		t.Fatalf("access token: %v", err)
	}
	if h.Type != "at+jwt" || h.Algorithm != "ES256" || h.KeyID == "" {
		t.Errorf("access token header = %+v; want typ at+jwt, alg ES256 and a kid", h)
	}
	tok, err := p.VerifierContext(ctx, &oidc.Config{SkipClientIDCheck: true}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejects the access token: %v", err)
	}
	var c accessClaims
	if err := tok.Claims(&c); err != nil {
		t.Fatal(err)
	}
	if len(c.Audience) != 1 || c.Audience[0] != c.ClientID {
		t.Errorf("access token aud = %v; want the client's own id [%s]", c.Audience, c.ClientID)
	}
	if _, err := p.VerifierContext(ctx, &oidc.Config{ClientID: g.URL}).Verify(ctx, raw); err == nil {
		t.Errorf("a verifier expecting the issuer as audience accepts the access token")
	}
	if c.Issuer != g.URL || c.Subject == "" || c.ID == "" || c.ClientID == "" {
		t.Errorf("access token claims = %+v; want iss %s and non-empty sub, jti, client_id", c, g.URL)
	}
	return c
}

// idClaims are the ID token claims the tests look at.
type idClaims struct {
	Username string   `json:"preferred_username"`
	Roles    []string `json:"roles"`
}

// verifyIDToken checks the ID token of a token response for clientID with
// go-oidc, and its nonce.
func verifyIDToken(t testing.TB, ctx context.Context, p *oidc.Provider, tok *oauth2.Token, clientID, nonce string) (*oidc.IDToken, idClaims) {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatalf("token response without id_token")
	}
	idt, err := p.VerifierContext(ctx, &oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc rejects the ID token (aud = %s): %v", clientID, err)
	}
	if idt.Nonce != nonce {
		t.Errorf("ID token nonce = %q, want %q", idt.Nonce, nonce)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return idt, c
}

// joseHeader is the protected header of a JWS.
type joseHeader struct {
	Algorithm string `json:"alg"`
	Type      string `json:"typ"`
	KeyID     string `json:"kid"`
}

func jwtHeader(raw string) (joseHeader, error) {
	var h joseHeader
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return h, errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return h, err
	}
	err = json.Unmarshal(b, &h)
	return h, err
}

// withPayload returns raw with its payload replaced by claims, keeping the
// original header and signature: a forgery every verifier must reject.
func withPayload(t testing.TB, raw string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(raw, ".")
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(b) + "." + parts[2]
}

// payload decodes the claims of a JWT without verifying it.
func payload(t testing.TB, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// introspection is an RFC 7662 introspection response.
type introspection struct {
	Active   bool     `json:"active"`
	ClientID string   `json:"client_id"`
	Subject  string   `json:"sub"`
	Scope    string   `json:"scope"`
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
	// fields is the number of members of the response object.
	fields int
}

// introspect asks the introspection endpoint about token, authenticating
// as the confidential client id with client_secret_basic.
func introspect(t testing.TB, ctx context.Context, m metadata, id, secret, token string) introspection {
	t.Helper()
	resp := postForm(t, ctx, m.IntrospectionEndpoint, url.Values{"token": {token}}, id, secret)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: status %d", resp.StatusCode)
	}
	var raw map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("introspection response: %v", err)
	}
	b, _ := json.Marshal(raw)
	var in introspection
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatalf("introspection response: %v", err)
	}
	in.fields = len(raw)
	if !in.Active && in.fields != 1 {
		// RFC 7662 §2.2: nothing about an inactive token is revealed.
		t.Errorf("inactive introspection response has %d members: %s", in.fields, b)
	}
	return in
}

// revoke posts an RFC 7009 revocation request as the public client
// clientID and expects 200.
func revoke(t testing.TB, ctx context.Context, m metadata, clientID, token, hint string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {hint}, "client_id": {clientID}}
	resp := postForm(t, ctx, m.RevocationEndpoint, form, "", "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: status %d, want 200", resp.StatusCode)
	}
}

// postForm posts form to endpoint, with HTTP Basic client authentication
// when id is not empty (RFC 6749 §2.3.1 encoding).
func postForm(t testing.TB, ctx context.Context, endpoint string, form url.Values, id, secret string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", endpoint, err)
	}
	return resp
}

// wantOAuthError checks that err is a token endpoint error with the given
// RFC 6749 §5.2 code, as x/oauth2 parses it.
func wantOAuthError(t testing.TB, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v; want an *oauth2.RetrieveError with code %q", err, code)
	}
	if re.ErrorCode != code {
		t.Errorf("error code = %q (%s); want %q", re.ErrorCode, re.ErrorDescription, code)
	}
}

// expired is a token that x/oauth2 refreshes before use.
func expired(refreshToken string) *oauth2.Token {
	return &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Now().Add(-time.Hour)}
}

// randomName is a unique suffix for names of clients and users.
func randomName(prefix string) string {
	return prefix + "-" + strings.ToLower(rand.Text()[:10])
}
