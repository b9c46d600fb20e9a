package oauth

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// userinfoResponse is the UserInfo response (OIDC Core §5.3.2).
type userinfoResponse struct {
	Subject  string   `json:"sub"`
	Username string   `json:"preferred_username,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	// Permissions is the union of the permissions of Roles (see
	// Permissions); omitted when empty.
	Permissions []string `json:"permissions,omitempty"`
	ClientID    string   `json:"client_id,omitempty"`
}

// handleUserinfo answers who the bearer of an access token is. A user's
// roles, and their permissions, come from the database, so a change shows
// at once; name, email and groups follow the scopes of the token (OIDC
// Core §5.4); a client-credentials token is answered with its own claims. An
// API key is answered for too (userinfoAPIKey).
func (e *Endpoints) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	p, ok := PresentedToken(r)
	if !ok {
		respond.BearerError(w, &protocol.Error{Code: protocol.ErrInvalidRequest, Description: "a bearer token is required", Status: http.StatusUnauthorized})
		return
	}
	tok := p.Token
	if apikey.HasPrefix(tok) && !p.DPoP {
		e.userinfoAPIKey(w, r, tok)
		return
	}
	claims := e.VerifiedToken(w, r, p)
	if claims == nil {
		return
	}
	if claims.GrantID == "" {
		// A client-credentials token: the subject is the client.
		respond.JSON(w, http.StatusOK, userinfoResponse{Subject: claims.Subject, ClientID: claims.ClientID, Roles: claims.Roles,
			Permissions: claims.Permissions})
		return
	}
	u := e.TokenUser(w, r, claims.Subject, "the user no longer exists")
	if u == nil {
		return
	}
	perms, err := rolereg.Permissions(r.Context(), e.store, u.Roles)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	// OIDC Core §5.3.2: the claims of the scopes the token was granted.
	out := e.userClaims(u, ParseScope(claims.Scope))
	out["sub"] = u.ID
	if len(perms) > 0 {
		out["permissions"] = perms
	}
	respond.JSON(w, http.StatusOK, out)
}
