package oauth

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The caller of one of the server's own protected resources (userinfo,
// the account API, the admin API) is authenticated in two steps shared by
// all of them: the access token it presents (VerifiedToken), and, for a
// user login's token, the user it acts for (TokenUser). Each resource
// then applies its own rules (audience, scope, roles). The server hands
// an API package the result as a function in its Deps (accountCaller and
// adminCaller in internal/server).

// VerifiedToken verifies the access token p that r presents, with its
// DPoP binding (RFC 9449 §7). When the token does not pass it has
// answered the request (invalid_token, a DPoP error, or the server error)
// and returns nil.
func (e *Endpoints) VerifiedToken(w http.ResponseWriter, r *http.Request, p Presented) *AccessClaims {
	claims, err := e.verifyAccessToken(r.Context(), p.Token)
	if errors.Is(err, ErrInactive) {
		e.writeResourceError(w, p, protocol.NewError(protocol.ErrInvalidToken, "the access token is invalid or expired"))
		return nil
	}
	if err != nil {
		e.writeError(w, r, err)
		return nil
	}
	if perr := e.checkBinding(r, p, claims); perr != nil {
		e.writeResourceError(w, p, perr)
		return nil
	}
	return claims
}

// TokenUser returns the user a user login's access token acts for (its
// subject). When that user is gone or disabled it answers invalid_token
// with the description gone, on a failure the server error, and returns
// nil.
func (e *Endpoints) TokenUser(w http.ResponseWriter, r *http.Request, subject, gone string) *storage.User {
	u, err := e.store.GetUser(r.Context(), subject)
	if errors.Is(err, storage.ErrNotFound) || err == nil && u.Disabled {
		respond.BearerError(w, protocol.NewError(protocol.ErrInvalidToken, gone))
		return nil
	}
	if err != nil {
		e.writeError(w, r, err)
		return nil
	}
	return u
}
