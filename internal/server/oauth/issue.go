package oauth

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// AccessClaims are the claims of a Gatehouse access token, an RFC 9068 JWT
// with header typ "at+jwt". Client-credentials tokens have the client as
// subject and no grant; tokens from a user's login carry the grant (token
// family) id in "gid", so revoking the grant deactivates them.
type AccessClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  []string `json:"aud"`
	ExpiresAt int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	ID        string   `json:"jti"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	// Permissions is the sorted union of the permissions of Roles when
	// the token was issued (see Permissions); omitted when empty.
	Permissions []string `json:"permissions,omitempty"`
	AuthTime    int64    `json:"auth_time,omitempty"`
	Username    string   `json:"preferred_username,omitempty"`
	GrantID     string   `json:"gid,omitempty"`
	// Cnf binds the token to a DPoP key: its JWK thumbprint (RFC 9449
	// §6.1). Such a token is accepted only with a proof of that key.
	Cnf *protocol.Confirmation `json:"cnf,omitempty"`
}

// issuance is what a grant decided to issue.
type issuance struct {
	client *storage.Client
	user   *storage.User // nil for client credentials
	scopes []string
	// resources are the access token's aud (RFC 8707, RFC 9068 §2.2).
	resources []string
	grant     *storage.Grant // nil for client credentials
	refresh   string         // the new refresh token, if any
	nonce     string
	authTime  time.Time
	// jkt is the thumbprint of the DPoP key of the token request's proof
	// ("" without one): the access token is bound to it.
	jkt string
}

// respond signs the access token (and ID token) for an issuance and builds
// the token response (RFC 6749 §5.1). The access token carries the
// subject's roles and their permissions as they are now, so a change to a
// role shows in the tokens issued after it.
func (e *Endpoints) respond(ctx context.Context, is issuance) (*protocol.TokenResponse, error) {
	now := e.clock.Now()
	ttl := time.Duration(e.cfg.Tokens.AccessTokenTTL)
	claims := AccessClaims{
		Issuer:    e.issuer,
		Audience:  is.resources,
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(ttl).Unix(),
		ID:        secret.NewID(),
		ClientID:  is.client.ID,
		Scope:     JoinScope(is.scopes),
	}
	if is.user != nil {
		claims.Subject = is.user.ID
		claims.Username = is.user.Username
		claims.Roles = is.user.Roles
		claims.AuthTime = is.authTime.Unix()
	} else {
		claims.Subject = is.client.ID
		claims.Roles = is.client.Roles
	}
	if is.grant != nil {
		claims.GrantID = is.grant.ID
	}
	tokenType := protocol.TokenTypeBearer
	if is.jkt != "" {
		// RFC 9449 §6.1: the jkt confirmation method in cnf; §5: the
		// token_type of a bound token is DPoP.
		claims.Cnf = &protocol.Confirmation{JKT: is.jkt}
		tokenType = protocol.TokenTypeDPoP
	}
	perms, err := rolereg.Permissions(ctx, e.store, claims.Roles)
	if err != nil {
		return nil, fmt.Errorf("role permissions: %w", err)
	}
	claims.Permissions = perms
	at, err := e.keys.Sign(protocol.AccessTokenJWTType, claims)
	if err != nil {
		return nil, fmt.Errorf("sign access token: %w", err)
	}
	resp := &protocol.TokenResponse{
		AccessToken:  at,
		TokenType:    tokenType,
		ExpiresIn:    int64(ttl / time.Second),
		RefreshToken: is.refresh,
		Scope:        claims.Scope,
	}
	if is.user != nil && ContainsScope(is.scopes, "openid") {
		// OIDC Core §2 and, for the scopes asked for, §5.4.
		id := e.userClaims(is.user, is.scopes)
		id["iss"], id["sub"], id["aud"] = e.issuer, is.user.ID, is.client.ID
		id["iat"], id["exp"] = now.Unix(), now.Add(time.Duration(e.cfg.Tokens.IDTokenTTL)).Unix()
		id["auth_time"] = is.authTime.Unix()
		if is.nonce != "" {
			id["nonce"] = is.nonce
		}
		if resp.IDToken, err = e.keys.Sign("JWT", id); err != nil {
			return nil, fmt.Errorf("sign id token: %w", err)
		}
	}
	e.tokenIssued(grantLabel(is))
	return resp, nil
}

func grantLabel(is issuance) string {
	if is.user == nil {
		return "client_credentials"
	}
	return "user"
}

// ContainsScope reports whether scopes has s.
func ContainsScope(scopes []string, s string) bool {
	for _, x := range scopes {
		if x == s {
			return true
		}
	}
	return false
}

// newGrant creates the token family with the given id for a user's
// authorization of scopes for resources.
func (e *Endpoints) newGrant(ctx context.Context, id string, c *storage.Client, userID string, scopes, resources []string, authTime time.Time) (*storage.Grant, error) {
	now := e.clock.Now().UTC()
	g := &storage.Grant{
		ID:        id,
		ClientID:  c.ID,
		UserID:    userID,
		Scopes:    scopes,
		Resources: resources,
		AuthTime:  authTime,
		CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(e.cfg.Tokens.RefreshTokenTTL)),
	}
	if err := e.store.CreateGrant(ctx, g); err != nil {
		return nil, fmt.Errorf("create grant: %w", err)
	}
	return g, nil
}

// newRefreshToken makes a refresh token of grant g (not yet stored).
func (e *Endpoints) newRefreshToken(g *storage.Grant, scopes []string) (string, *storage.RefreshToken) {
	tok := secret.NewToken()
	return tok, &storage.RefreshToken{
		Hash:      secret.Hash(tok),
		GrantID:   g.ID,
		ClientID:  g.ClientID,
		UserID:    g.UserID,
		Scopes:    scopes,
		CreatedAt: e.clock.Now().UTC(),
		ExpiresAt: g.ExpiresAt,
	}
}

// issueForGrant stores a first refresh token (when the client may refresh)
// and responds with tokens for a new grant, the access token for the
// resource parameters of the token request (RFC 8707 §2.2), or for all of
// the grant's resources without any.
//
// With a DPoP proof (jkt not empty) the access token is bound to its key,
// and so is a public client's refresh token: RFC 9449 §5, "refresh tokens
// issued to public clients ... MUST be bound to the DPoP public key". A
// confidential client's refresh token is bound by its client
// authentication and stays unbound.
func (e *Endpoints) issueForGrant(ctx context.Context, r *http.Request, c *storage.Client, u *storage.User, g *storage.Grant, nonce, jkt string) (*protocol.TokenResponse, error) {
	aud, err := narrowResources(g.Resources, ResourceParams(r.PostForm))
	if err != nil {
		return nil, err
	}
	is := issuance{client: c, user: u, scopes: g.Scopes, resources: aud, grant: g, nonce: nonce, authTime: g.AuthTime, jkt: jkt}
	if hasGrantType(c, protocol.GrantRefreshToken) {
		tok, rt := e.newRefreshToken(g, g.Scopes)
		if c.Public {
			rt.DPoPJKT = jkt
		}
		if err := e.store.CreateRefreshToken(ctx, rt); err != nil {
			return nil, fmt.Errorf("create refresh token: %w", err)
		}
		is.refresh = tok
	}
	return e.respond(ctx, is)
}

func hasGrantType(c *storage.Client, gt string) bool {
	for _, g := range c.GrantTypes {
		if g == gt {
			return true
		}
	}
	return false
}
