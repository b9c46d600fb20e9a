package oidc

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// tokenResponse is the part of the token response (OIDC Core §3.1.3.3)
// the connector reads. expires_in and the rest are left alone, so a
// provider that writes them oddly (Entra ID v1 sent strings) is no
// problem.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	IDToken     string `json:"id_token"`
}

// redeem exchanges code at the token endpoint (RFC 6749 §4.1.3) with the
// PKCE code_verifier (RFC 7636 §4.5) and the client's authentication.
func (c *Connector) redeem(ctx context.Context, prov *provider, code string, p connector.Pending) (*tokenResponse, error) {
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {p.RedirectURI},
		"code_verifier": {p.CodeVerifier},
	}
	if prov.authMethod != protocol.AuthMethodBasic {
		form.Set("client_id", c.cfg.ClientID)
	}
	if prov.authMethod == protocol.AuthMethodPost {
		form.Set("client_secret", c.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, prov.md.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, c.unavailable("token endpoint: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if prov.authMethod == protocol.AuthMethodBasic {
		// RFC 6749 §2.3.1: client id and secret are form-urlencoded
		// before they go into the Basic credentials.
		req.SetBasicAuth(url.QueryEscape(c.cfg.ClientID), url.QueryEscape(c.secret))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError("token endpoint", ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, c.transportError("token endpoint", ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code        string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		switch {
		case e.Code == protocol.ErrInvalidClient || resp.StatusCode == http.StatusUnauthorized:
			// The operator's problem, not the person's.
			return nil, c.unavailable("token endpoint refused the client (%s %.200q); check client_id and the client secret", resp.Status, e.Description)
		case resp.StatusCode == http.StatusBadRequest && e.Code != "":
			// invalid_grant: a code used twice, expired, or for another
			// redirect URI or verifier.
			return nil, c.invalid("token endpoint answered %.64q: %.200q", e.Code, e.Description)
		}
		return nil, c.unavailable("token endpoint: %s", resp.Status)
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil {
		return nil, c.unavailable("token endpoint: the response is not JSON: %v", err)
	}
	// RFC 6749 §5.1: access_token and token_type are REQUIRED; OIDC Core
	// §3.1.3.3: the token_type "MUST be Bearer" (case-insensitive, RFC
	// 6749 §5.1) and an id_token is returned for the openid scope.
	switch {
	case tok.IDToken == "":
		return nil, c.invalid("the token response has no id_token (was the openid scope granted?)")
	case tok.AccessToken == "":
		return nil, c.invalid("the token response has no access_token")
	case !strings.EqualFold(tok.TokenType, protocol.TokenTypeBearer):
		return nil, c.invalid("the token response has token_type %.32q, want Bearer", tok.TokenType)
	}
	return &tok, nil
}

// verifyIDToken validates the ID token as OIDC Core §3.1.3.7 says, with
// the jwt package doing signature, alg, iss, aud, exp and iat.
func (c *Connector) verifyIDToken(ctx context.Context, prov *provider, tok *tokenResponse, nonce string) (*jwt.Token, error) {
	// Steps 2, 3, 6, 7, 9 and 10: iss equals the issuer byte for byte,
	// aud contains client_id, the signature verifies with a key of the
	// provider's JWKS under an alg from the allow-list (never "none",
	// never HMAC unless configured), exp is in the future and iat not.
	t, err := prov.verifier.Verify(ctx, tok.IDToken)
	if err != nil {
		if errors.Is(err, jwt.ErrUnavailable) {
			return nil, c.unavailable("ID token keys: %v", err)
		}
		return nil, c.invalid("ID token: %v", err)
	}
	claims := t.ClaimSet
	if t.Claims.Subject == "" {
		return nil, c.invalid("ID token: sub is missing (OIDC Core §2)")
	}
	if t.Claims.IssuedAt.IsZero() {
		return nil, c.invalid("ID token: iat is missing (OIDC Core §2)")
	}
	// Steps 4 and 5: "If the ID Token contains multiple audiences, the
	// Client SHOULD verify that an azp Claim is present. If an azp
	// (authorized party) Claim is present, the Client SHOULD verify that
	// its client_id is the Claim Value."
	azp, hasAzp := claims["azp"]
	switch {
	case hasAzp && azp != c.cfg.ClientID:
		return nil, c.invalid("ID token: azp %.128v is not this client (%s)", azp, c.cfg.ClientID)
	case !hasAzp && len(t.Claims.Audience) > 1:
		return nil, c.invalid("ID token: several audiences %.128q but no azp", t.Claims.Audience)
	}
	// Step 11: "If a nonce value was sent in the Authentication Request,
	// a nonce Claim MUST be present and its value checked to verify that
	// it is the same value as the one that was sent".
	got, _ := claims["nonce"].(string)
	if got == "" {
		return nil, c.invalid("ID token: nonce is missing (a replayed token?)")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(nonce)) != 1 {
		return nil, c.invalid("ID token: nonce does not match the sign-in (a replayed token?)")
	}
	// §3.1.3.8: at_hash is optional with the code flow; when present it
	// must match the access token, which userinfo is read with.
	if atHash, ok := claims["at_hash"]; ok {
		want, err := accessTokenHash(t.Header.Algorithm, tok.AccessToken)
		if err != nil {
			return nil, c.invalid("ID token: %v", err)
		}
		if s, _ := atHash.(string); subtle.ConstantTimeCompare([]byte(s), []byte(want)) != 1 {
			return nil, c.invalid("ID token: at_hash does not match the access token")
		}
	}
	return t, nil
}

// accessTokenHash is the at_hash of an access token (OIDC Core
// §3.1.3.6): "the base64url encoding of the left-most half of the hash of
// the octets of the ASCII representation of the access_token value, where
// the hash algorithm used is the hash algorithm used in the alg Header
// Parameter of the ID Token's JOSE Header" (SHA-512 for EdDSA with
// Ed25519, as OpenID Connect's errata and every provider do).
func accessTokenHash(alg, accessToken string) (string, error) {
	var h crypto.Hash
	switch alg {
	case jwt.RS256, jwt.PS256, jwt.ES256, jwt.HS256:
		h = crypto.SHA256
	case jwt.RS384, jwt.PS384, jwt.ES384:
		h = crypto.SHA384
	case jwt.RS512, jwt.PS512, jwt.ES512, jwt.EdDSA, jwt.Ed25519:
		h = crypto.SHA512
	default:
		return "", fmt.Errorf("no at_hash for alg %.32q", alg)
	}
	w := h.New()
	w.Write([]byte(accessToken))
	sum := w.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2]), nil
}

// wantUserinfo reports whether to read userinfo: the provider has the
// endpoint, it is not turned off, and the ID token lacks the email, the
// name or the groups.
func (c *Connector) wantUserinfo(prov *provider, idClaims map[string]any) bool {
	if c.cfg.SkipUserinfo || prov.md.UserinfoEndpoint == "" {
		return false
	}
	for _, path := range []string{orDefault(c.cfg.EmailClaim, "email"), orDefault(c.cfg.NameClaim, "name"), orDefault(c.cfg.GroupsClaim, DefaultGroupsClaim)} {
		if _, ok := lookup(idClaims, path); !ok {
			return true
		}
	}
	return false
}

// userinfo reads the UserInfo endpoint (OIDC Core §5.3) with the access
// token. §5.3.2: "The sub (subject) Claim MUST always be returned in the
// UserInfo Response", and "The sub Claim in the UserInfo Response MUST be
// verified to exactly match the sub Claim in the ID Token; if they do not
// match, the UserInfo Response values MUST NOT be used."
func (c *Connector) userinfo(ctx context.Context, prov *provider, accessToken, subject string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, prov.md.UserinfoEndpoint, nil)
	if err != nil {
		return nil, c.unavailable("userinfo: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError("userinfo", ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if err != nil {
		return nil, c.transportError("userinfo", ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.unavailable("userinfo: %s (set skip_userinfo: true if the provider's userinfo is not usable)", resp.Status)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/jwt" {
		return nil, c.unavailable("userinfo: signed userinfo responses are not supported; configure the provider to answer JSON or set skip_userinfo: true")
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil || info == nil {
		return nil, c.unavailable("userinfo: the response is not a JSON object")
	}
	if sub, _ := info["sub"].(string); sub != subject {
		return nil, c.invalid("userinfo: sub %.128q does not match the ID token's %.128q (OIDC Core §5.3.2)", sub, subject)
	}
	return info, nil
}
