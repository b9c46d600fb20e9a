package server

import (
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The caller of one of the server's own protected resources (userinfo,
// the account API, the admin API) is authenticated in two steps shared by
// all of them: the access token it presents (verifiedToken), and, for a
// user login's token, the user it acts for (tokenUser). Each resource
// then applies its own rules (audience, scope, roles). An API package
// receives the result as a function in its Deps (accountCaller,
// adminCaller).

// verifiedToken verifies the access token p that r presents, with its
// DPoP binding (RFC 9449 §7). When the token does not pass it has
// answered the request (invalid_token, a DPoP error, or the server error)
// and returns nil.
func (s *Server) verifiedToken(w http.ResponseWriter, r *http.Request, p presented) *AccessClaims {
	claims, err := s.verifyAccessToken(r.Context(), p.token)
	if errors.Is(err, errInactive) {
		s.writeResourceError(w, p, protocol.NewError(protocol.ErrInvalidToken, "the access token is invalid or expired"))
		return nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	if perr := s.checkBinding(r, p, claims); perr != nil {
		s.writeResourceError(w, p, perr)
		return nil
	}
	return claims
}

// tokenUser returns the user a user login's access token acts for (its
// subject). When that user is gone or disabled it answers invalid_token
// with the description gone, on a failure the server error, and returns
// nil.
func (s *Server) tokenUser(w http.ResponseWriter, r *http.Request, subject, gone string) *storage.User {
	u, err := s.store.GetUser(r.Context(), subject)
	if errors.Is(err, storage.ErrNotFound) || err == nil && u.Disabled {
		writeBearerError(w, protocol.NewError(protocol.ErrInvalidToken, gone))
		return nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	return u
}
