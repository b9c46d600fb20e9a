package server

import (
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/accountapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The account API (internal/server/accountapi) is wired in here: the
// server authenticates its callers (accountCaller), and gives it the TOTP
// enrolment of the account page and the login limits (internal/server/pages).

// accountAPI builds the account API on the server.
func (s *Server) accountAPI() *accountapi.API {
	return accountapi.New(accountapi.Deps{
		Authenticate: s.accountCaller,
		TOTP:         s.site.AccountTOTP(),
		LimitAttempt: func(r *http.Request, u *storage.User) (*protocol.Error, error) {
			refused, err := s.site.LimitCodeAttempt(r, u)
			if err != nil || refused == nil {
				return nil, err
			}
			return oauth.TooManyRequests(*refused), nil
		},
		Passwords:  s.hasher,
		WriteError: s.writeError,
		RecentAuth: time.Duration(s.cfg.Tokens.AccountRecentAuth),
		Clock:      s.clock,
		Logger:     s.log,
	})
}

// accountCaller authenticates the user of an account API request by their
// access token: a user login's token (not client credentials) for the
// account resource with the account scope, bound as it says (DPoP), whose
// user still exists and is enabled. It answers the request itself and
// returns nil when the request cannot go on.
func (s *Server) accountCaller(w http.ResponseWriter, r *http.Request) *accountapi.Caller {
	p, ok := oauth.PresentedToken(r)
	if !ok {
		writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidRequest,
			Description: "a bearer access token of a user login is required", Status: http.StatusUnauthorized})
		return nil
	}
	claims := s.oauth.VerifiedToken(w, r, p)
	if claims == nil {
		return nil
	}
	if claims.GrantID == "" {
		// A client-credentials token: its subject is a client, not a user.
		writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidToken,
			Description: "the account API needs the access token of a user login", Status: http.StatusUnauthorized})
		return nil
	}
	if !oauth.HasAudience(claims.Audience, oauth.AccountResource(s.issuer)) || !oauth.ContainsScope(oauth.ParseScope(claims.Scope), oauth.ScopeAccount) {
		writeBearerError(w, protocol.Errorf(protocol.ErrInsufficientScope,
			"the access token is not for the account API (it needs the audience %s and the %s scope)", oauth.AccountResource(s.issuer), oauth.ScopeAccount))
		return nil
	}
	u := s.oauth.TokenUser(w, r, claims.Subject, "the user no longer exists")
	if u == nil {
		return nil
	}
	c := &accountapi.Caller{User: u}
	if claims.AuthTime > 0 {
		c.AuthTime = time.Unix(claims.AuthTime, 0)
	}
	return c
}
