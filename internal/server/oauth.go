package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The back channel (internal/server/oauth: the token, PAR, device
// authorization, revocation, introspection and userinfo endpoints) is
// wired in here: the server gives it its store, keys and caches, the
// client address, its limits and error writer, and for terminal sign-in
// the login page's password check and second factor (terminalSignIn) and
// the directory refresh of connector users.

// errChallengeUsed is the refusal of consumeCodeIf's guard, which terminal
// sign-in tells apart from a wrong code.
var errChallengeUsed = oauth.ErrChallengeUsed

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
		SignIn:       terminalSignIn{s},
		RefreshUser: func(ctx context.Context, u *storage.User, clientID, ip string) (*storage.User, error) {
			u, err := s.refreshConnectorUser(ctx, u, clientID, ip)
			if errors.Is(err, errConnectorAccountGone) {
				return nil, oauth.ErrAccountGone
			}
			return u, err
		},
		DevicePage:  s.issuer + PathDevice,
		AccountPage: s.issuer + PathAccount,
	})
}

// terminalSignIn is the login page's password sign-in (login.go, limits.go)
// and second factor (mfa.go) for the password grant.
type terminalSignIn struct{ s *Server }

func (t terminalSignIn) Name(typed string) string { return signInName(typed) }

func (t terminalSignIn) TakeLimits(ctx context.Context, ip, name string) (*ratelimit.Result, string, error) {
	return t.s.takeLoginLimits(ctx, ip, name)
}

func (t terminalSignIn) CheckPassword(ctx context.Context, ip, name, pw string) (*storage.User, string, error) {
	return t.s.checkPassword(withIP(ctx, ip), name, pw)
}

func (t terminalSignIn) UpgradeHash(ctx context.Context, u *storage.User, pw string) {
	t.s.upgradeHash(ctx, u, pw)
}

func (t terminalSignIn) MFARequired(u *storage.User) bool { return t.s.mfaRequired(u) }

func (t terminalSignIn) LimitCodeAttempt(r *http.Request, u *storage.User) (*ratelimit.Result, error) {
	return t.s.limitCodeAttempt(r, u)
}

func (t terminalSignIn) ConsumeCodeIf(ctx context.Context, userID, code string, enrolled bool, guard func(*storage.TOTP) bool, then func(*storage.TOTP)) (bool, error) {
	return t.s.consumeCodeIf(ctx, userID, code, enrolled, guard, then)
}
