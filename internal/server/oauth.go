package server

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The back channel (internal/server/oauth: the token, PAR, device
// authorization, revocation, introspection and userinfo endpoints) is
// wired in here: the server gives it its store, keys and caches, the
// client address, its limits and error writer, and for terminal sign-in
// the login page's password check and second factor (pages.SignIn) and
// the directory refresh of connector users (linking).

// backChannel builds the back-channel endpoints on the server.
func (s *Server) backChannel() *oauth.Endpoints {
	return oauth.New(oauth.Deps{
		Config:       s.cfg,
		Store:        s.store,
		Keys:         s.keys,
		Audit:        s.audit,
		Clock:        s.clock,
		Logger:       s.log,
		SecretKey:    s.secretKey,
		DPoP:         s.dpop,
		Clients:      s.clients,
		ClientIP:     s.clientIP,
		Allow:        s.allow,
		WriteError:   s.writeError,
		TokenIssued:  func(kind string) { s.metrics.tokens.WithLabelValues(kind).Inc() },
		TokenRefused: s.metrics.tokenError,
		SignIn:       s.site.SignIn(),
		RefreshUser: func(ctx context.Context, u *storage.User, clientID, ip string) (*storage.User, error) {
			u, err := s.links.Refresh(ctx, u, clientID, ip)
			if errors.Is(err, linking.ErrAccountGone) {
				return nil, oauth.ErrAccountGone
			}
			return u, err
		},
		DevicePage:  s.issuer + PathDevice,
		AccountPage: s.issuer + PathAccount,
	})
}
