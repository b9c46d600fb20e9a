package oauth

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// handleIntrospect is the introspection endpoint (RFC 7662). Only an
// authenticated confidential client may call it (§2.1); a token that is
// expired, revoked, unknown or malformed is answered with exactly
// {"active":false} (§2.2).
func (e *Endpoints) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	resp, err := e.introspect(w, r)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	if !resp.Active {
		respond.JSON(w, http.StatusOK, inactive{})
		return
	}
	respond.JSON(w, http.StatusOK, resp)
}

// introspection is an active introspection response with the
// "permissions" member: the access token's own claim for a JWT; for a
// refresh token or an API key, the permissions of the roles reported.
type introspection struct {
	*protocol.IntrospectionResponse
	Permissions []string `json:"permissions,omitempty"`
}

// inactive renders as exactly {"active":false}.
type inactive struct {
	Active bool `json:"active"`
}

func (e *Endpoints) introspect(w http.ResponseWriter, r *http.Request) (*introspection, error) {
	if err := parsePostForm(w, r); err != nil {
		return nil, err
	}
	c, err := e.authenticateClient(r)
	if err != nil {
		return nil, err
	}
	if c.Public {
		return nil, protocol.NewError(protocol.ErrInvalidClient, "introspection requires client authentication")
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "token is required")
	}
	if looksLikeJWT(tok) {
		claims, err := e.verifyAccessToken(r.Context(), tok)
		if errors.Is(err, ErrInactive) {
			return &introspection{IntrospectionResponse: &protocol.IntrospectionResponse{}}, nil
		}
		if err != nil {
			return nil, err
		}
		return &introspection{IntrospectionResponse: &protocol.IntrospectionResponse{
			Active:    true,
			Scope:     claims.Scope,
			ClientID:  claims.ClientID,
			Username:  claims.Username,
			TokenType: tokenTypeOf(claims),
			Exp:       claims.ExpiresAt,
			Iat:       claims.IssuedAt,
			Sub:       claims.Subject,
			Aud:       claims.Audience,
			Iss:       claims.Issuer,
			Jti:       claims.ID,
			Roles:     claims.Roles,
			Cnf:       claims.Cnf,
		}, Permissions: claims.Permissions}, nil
	}
	var resp *protocol.IntrospectionResponse
	if apikey.HasPrefix(tok) {
		resp, err = e.introspectAPIKey(r.Context(), tok)
	} else {
		resp, err = e.introspectRefreshToken(r, tok, c)
	}
	if err != nil {
		return nil, err
	}
	if !resp.Active {
		return &introspection{IntrospectionResponse: resp}, nil
	}
	// Refresh tokens and API keys report the roles the subject has now.
	perms, err := rolereg.Permissions(r.Context(), e.store, resp.Roles)
	if err != nil {
		return nil, err
	}
	return &introspection{IntrospectionResponse: resp, Permissions: perms}, nil
}

// introspectRefreshToken answers for a refresh token. Only the client the
// token was issued to sees it as active: a refresh token is a credential
// between that client and this server, never presented to a resource
// server, so any other caller learns nothing. RFC 7662 §2.2: "the
// authorization server MAY respond ... with an 'active' value of 'false'"
// when "the protected resource is not allowed to know about this token".
// A rotated (spent) token is inactive too.
func (e *Endpoints) introspectRefreshToken(r *http.Request, tok string, caller *storage.Client) (*protocol.IntrospectionResponse, error) {
	ctx := r.Context()
	rt, err := e.store.GetRefreshToken(ctx, secret.Hash(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return &protocol.IntrospectionResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	if rt.ClientID != caller.ID || rt.Rotated || rt.Revoked || !now.Before(rt.ExpiresAt) {
		return &protocol.IntrospectionResponse{}, nil
	}
	g, err := e.store.GetGrant(ctx, rt.GrantID)
	if errors.Is(err, storage.ErrNotFound) {
		return &protocol.IntrospectionResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	if g.Revoked {
		return &protocol.IntrospectionResponse{}, nil
	}
	resp := &protocol.IntrospectionResponse{
		Active:    true,
		Scope:     JoinScope(rt.Scopes),
		ClientID:  rt.ClientID,
		TokenType: protocol.TokenTypeHintRefreshToken,
		Exp:       rt.ExpiresAt.Unix(),
		Iat:       rt.CreatedAt.Unix(),
		Sub:       rt.UserID,
		Iss:       e.issuer,
	}
	if u, err := e.store.GetUser(ctx, rt.UserID); err == nil {
		resp.Username, resp.Roles = u.Username, u.Roles
	}
	return resp, nil
}

// tokenTypeOf is the token_type of an access token: DPoP when it is bound
// to a key (RFC 9449 §6.2), else Bearer.
func tokenTypeOf(c *AccessClaims) string {
	if c.Cnf != nil && c.Cnf.JKT != "" {
		return protocol.TokenTypeDPoP
	}
	return protocol.TokenTypeBearer
}
