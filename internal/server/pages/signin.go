package pages

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server/accountapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/secondfactor"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// SignIn is the login page's password sign-in (login.go, limits.go) and
// second factor (mfa.go) for the password grant's terminal sign-in.
func (pg *Pages) SignIn() oauth.SignIn { return terminalSignIn{pg} }

type terminalSignIn struct{ s *Pages }

func (t terminalSignIn) Name(typed string) string { return signInName(typed) }

func (t terminalSignIn) TakeLimits(ctx context.Context, ip, name string) (*ratelimit.Result, string, error) {
	return t.s.takeLoginLimits(ctx, ip, name)
}

func (t terminalSignIn) CheckPassword(ctx context.Context, ip, name, pw string) (*storage.User, string, error) {
	return t.s.checkPassword(linking.WithIP(ctx, ip), name, pw)
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

// LimitCodeAttempt counts a code attempt of u per address and per user
// under the login limits and applies the TOTP back-off, as the code page
// does: it returns the limiter's answer when the attempt is refused
// (audited), nil when it may go on.
func (pg *Pages) LimitCodeAttempt(r *http.Request, u *storage.User) (*ratelimit.Result, error) {
	return pg.limitCodeAttempt(r, u)
}

// AccountTOTP is the account page's TOTP enrolment (account.go) for the
// account API.
func (pg *Pages) AccountTOTP() accountapi.TOTP { return accountTOTP{pg} }

type accountTOTP struct{ s *Pages }

func (t accountTOTP) Begin(ctx context.Context, u *storage.User) (uri, secret string, err error) {
	e, err := t.s.beginEnrolment(ctx, u)
	if errors.Is(err, secondfactor.ErrAlreadyEnrolled) {
		return "", "", accountapi.ErrAlreadyEnrolled
	}
	if err != nil {
		return "", "", err
	}
	return e.URI, e.Secret, nil
}

func (t accountTOTP) Confirm(r *http.Request, u *storage.User, code string) ([]string, bool, error) {
	return t.s.confirmEnrolment(r, u, code)
}
