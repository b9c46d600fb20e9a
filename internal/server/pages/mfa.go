package pages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/secondfactor"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Multi-factor login with TOTP (RFC 6238; SECURITY-CASES 30, 31).
//
// After a correct password, a user with an enrolled TOTP gets no session
// yet: a pending-login cookie, sealed with the server secret key, bound to
// the user and valid for pendingTTL, leads to the code page. A code is
// accepted for the current time step or one step either side, and only for
// a step after the last accepted one, which is stored in the same
// transaction (UpdateTOTP), so a code cannot be replayed. A recovery code
// works once. Code attempts are rate limited per IP and per user with the
// login limits, and failures are audited with reason "bad_totp".
//
// On top of the rate limits, wrong codes back off exponentially per user,
// wherever they are tried (login page, account pages, account API): the
// first secondfactor.FreeFailures wrong codes in a row cost nothing, each
// further one locks code entry for a minute doubled per failure beyond the
// free ones, up to a day (secondfactor.Backoff); an accepted code (or
// recovery code) clears the count, and so does `gatehouse users mfa-reset`. The count and
// the lock live in the user's TOTP row and change in the same transaction
// as the check, so parallel guesses cannot slip past the lock. With ±1
// step, a guess succeeds with probability about 3 in 10^6, so the limit
// of one guess a day an attacker soon reaches gives about 0.1% a year,
// where the rate limits alone (10 a minute) gave about 50% in 16 days.
//
// A user with a role in mfa.required_roles and no TOTP gets a pending
// cookie of kind "enrol" instead, which only lets them enrol at /account;
// the session starts when the first code is confirmed.

// Paths of the second login step and the account page.
const (
	PathLoginMFA = "/login/mfa"
	PathAccount  = "/account"
)

const (
	pendingCookieName = "gatehouse_mfa"
	pendingTTL        = 5 * time.Minute
	LimitMFAIP        = "mfa-ip"
	limitMFAUser      = "mfa-user"
	msgBadCode        = "That code is not valid. Try the current code from your app, or a recovery code."
	pendingKindTOTP   = "totp"
	pendingKindEnrol  = "enrol"
	// limitMFABackoff is the audit reason of a code refused during the
	// TOTP back-off (internal/server/secondfactor).
	limitMFABackoff = "mfa-backoff"
)

// pendingLogin is the sealed content of the pending-login cookie.
type pendingLogin struct {
	UserID   string `json:"u"`
	Kind     string `json:"k"`
	Expires  int64  `json:"e"`
	ReturnTo string `json:"r"`
}

const pendingAD = "gatehouse-mfa-pending"

// setPending starts the second login step for u.
func (pg *Pages) setPending(w http.ResponseWriter, u *storage.User, kind, rawReturn string) error {
	return pg.sessions.SetSealed(w, pendingCookieName, pendingAD, pendingLogin{UserID: u.ID, Kind: kind,
		Expires: pg.clock.Now().Add(pendingTTL).Unix(), ReturnTo: rawReturn}, pendingTTL)
}

// pending returns the browser's unexpired pending login of kind, or nil.
func (pg *Pages) pending(r *http.Request, kind string) *pendingLogin {
	var p pendingLogin
	if !pg.sessions.Sealed(r, pendingCookieName, pendingAD, &p) || p.Kind != kind || pg.clock.Now().Unix() >= p.Expires {
		return nil
	}
	return &p
}

func (pg *Pages) clearPending(w http.ResponseWriter) {
	pg.sessions.ClearCookie(w, pendingCookieName)
}

// mfaRequired reports whether u's roles oblige them to use TOTP.
func (pg *Pages) mfaRequired(u *storage.User) bool {
	for _, r := range u.Roles {
		if slices.Contains(pg.cfg.MFA.RequiredRoles, r) {
			return true
		}
	}
	return false
}

// loginNeedsMFA is called after a correct password. When u must pass a
// second step it sets the pending cookie, answers the request and returns
// true; otherwise the caller starts the session. A user with TOTP or a
// passkey is enrolled and asked for either on the code page.
func (pg *Pages) loginNeedsMFA(w http.ResponseWriter, r *http.Request, u *storage.User, rawReturn string) bool {
	totpOn, keys, err := pg.secondFactors(r.Context(), u.ID)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return true
	}
	kind, target := "", ""
	switch {
	case totpOn || len(keys) > 0:
		kind, target = pendingKindTOTP, pg.at(PathLoginMFA)
	case pg.mfaRequired(u):
		kind, target = pendingKindEnrol, pg.at(PathAccount)
	default:
		return false
	}
	if err := pg.setPending(w, u, kind, rawReturn); err != nil {
		pg.pages.ServerError(w, r, err)
		return true
	}
	webpage.Redirect(w, target, http.StatusSeeOther)
	return true
}

// secondFactors says whether userID's TOTP is on and lists their passkeys
// (none when passkeys are off).
func (pg *Pages) secondFactors(ctx context.Context, userID string) (totpOn bool, keys []*storage.Passkey, err error) {
	t, err := pg.store.GetTOTP(ctx, userID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, nil, err
	}
	keys, err = pg.userPasskeys(ctx, userID)
	if err != nil {
		return false, nil, err
	}
	return t != nil && t.Enrolled, keys, nil
}

// afterLogin is where a completed login goes: rawReturn when it is a
// local path under the base path, the "signed in" page when there is
// none, and the base path's root (never another site) when rawReturn is
// not safe.
func (pg *Pages) afterLogin(rawReturn string) string {
	switch {
	case rawReturn == "":
		return pg.at(PathLogin)
	case !pg.safeReturnTo(rawReturn):
		return pg.at("/")
	}
	return rawReturn
}

// mfaPage is the data of the code form.
type mfaPage struct {
	page
	Error string
	// TOTP shows the code form (TOTP or a recovery code); Passkey the
	// "Use a passkey" button.
	TOTP, Passkey bool
}

func (pg *Pages) handleMFAPage(w http.ResponseWriter, r *http.Request) {
	if pg.pending(r, pendingKindTOTP) == nil {
		webpage.Redirect(w, pg.at(PathLogin), http.StatusSeeOther)
		return
	}
	pg.renderMFA(w, r, http.StatusOK, "")
}

// renderMFA shows the code form and, for a user with a passkey, the
// passkey button. Like the login form, it may end in a redirect to the
// client of the authorization request the sign-in continues, so that
// client's origin joins form-action.
func (pg *Pages) renderMFA(w http.ResponseWriter, r *http.Request, status int, msg string) {
	target := ""
	d := mfaPage{Error: msg, TOTP: true}
	if p := pg.pending(r, pendingKindTOTP); p != nil {
		target = pg.authorizeTargetOrigin(r.Context(), p.ReturnTo)
		totpOn, keys, err := pg.secondFactors(r.Context(), p.UserID)
		if err != nil {
			pg.pages.ServerError(w, r, err)
			return
		}
		d.TOTP, d.Passkey = totpOn || len(keys) == 0, len(keys) > 0
	}
	title := "Verification code"
	if d.Passkey {
		title = "Verify it is you"
	}
	d.page = page{Title: title, CSRF: pg.sessions.CSRFToken(w, r), Script: d.Passkey}
	pg.pages.Render(w, status, pageMFA, d, target)
}

func (pg *Pages) handleMFASubmit(w http.ResponseWriter, r *http.Request) {
	if !pg.sessions.ParsePostForm(w, r) {
		return
	}
	p := pg.pending(r, pendingKindTOTP)
	if p == nil {
		webpage.Redirect(w, pg.at(PathLogin), http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	u, err := pg.store.GetUser(ctx, p.UserID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && u.Disabled {
		pg.clearPending(w)
		webpage.Redirect(w, pg.at(PathLogin), http.StatusSeeOther)
		return
	}
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if !pg.allowCodeAttempt(w, r, u) {
		return
	}
	ok, err := pg.consumeCode(ctx, u.ID, r.PostFormValue("code"), true, nil)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	ip := pg.clientIP(r)
	if !ok {
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure,
			UserID: u.ID, Username: u.Username, IP: ip, Reason: "bad_totp"})
		pg.renderMFA(w, r, http.StatusUnauthorized, msgBadCode)
		return
	}
	if err := pg.sessions.Start(w, r, u); err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.clearPending(w)
	pg.audit.Log(audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success,
		Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, IP: ip,
		Details: map[string]string{"mfa": "totp"}})
	webpage.Redirect(w, pg.afterLogin(p.ReturnTo), http.StatusSeeOther)
}

// allowCodeAttempt counts a code attempt per IP and per user under the
// login limits and applies the TOTP back-off; when refused (or the limiter
// fails) it has answered.
func (pg *Pages) allowCodeAttempt(w http.ResponseWriter, r *http.Request, u *storage.User) bool {
	return pg.allowAttempt(w, r, u, true)
}

// allowPasswordAttempt is allowCodeAttempt for a password check on the
// account page: the same rate limits, but not the TOTP back-off, so that
// someone guessing a user's codes cannot stop them changing the password.
func (pg *Pages) allowPasswordAttempt(w http.ResponseWriter, r *http.Request, u *storage.User) bool {
	return pg.allowAttempt(w, r, u, false)
}

func (pg *Pages) allowAttempt(w http.ResponseWriter, r *http.Request, u *storage.User, code bool) bool {
	limit := pg.limitAttempt
	if code {
		limit = pg.limitCodeAttempt
	}
	refused, err := limit(r, u)
	if err != nil {
		pg.log.Error("mfa rate limiter failed", "err", err)
		pg.pages.Error(w, r, http.StatusServiceUnavailable, "Try again later",
			"Sign-in is temporarily unavailable. Please try again in a moment.")
		return false
	}
	if refused != nil {
		pg.pages.TooMany(w, r, oauth.TooManyRequests(*refused).RetryAfter)
		return false
	}
	return true
}

// limitCodeAttempt counts a code attempt per IP and per user under the
// login limits and returns the limiter's answer when the attempt is
// refused (audited), nil when it may go on.
func (pg *Pages) limitCodeAttempt(r *http.Request, u *storage.User) (*ratelimit.Result, error) {
	if res, err := pg.limitAttempt(r, u); res != nil || err != nil {
		return res, err
	}
	// The per-user back-off after wrong codes. consumeCode enforces it
	// again inside its transaction; this answers early with Retry-After.
	t, err := pg.store.GetTOTP(r.Context(), u.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("server: mfa back-off: %w", err)
	}
	if now := pg.clock.Now(); t != nil && now.Before(t.LockedUntil) {
		pg.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure,
			UserID: u.ID, Username: u.Username, IP: pg.clientIP(r), Reason: limitMFABackoff})
		return &ratelimit.Result{RetryAfter: t.LockedUntil.Sub(now)}, nil
	}
	return nil, nil
}

// limitAttempt is limitCodeAttempt without the TOTP back-off.
func (pg *Pages) limitAttempt(r *http.Request, u *storage.User) (*ratelimit.Result, error) {
	ip := pg.clientIP(r)
	for _, l := range []struct {
		prefix, subject string
		rate            config.Rate
	}{
		{LimitMFAIP, ip, pg.cfg.Limits.LoginPerIP},
		{limitMFAUser, u.ID, pg.cfg.Limits.LoginPerUser},
	} {
		res, err := pg.allow(r.Context(), l.prefix, l.subject, l.rate)
		if err != nil {
			return nil, fmt.Errorf("server: mfa rate limit: %w", err)
		}
		if !res.Allowed {
			pg.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure,
				UserID: u.ID, Username: u.Username, IP: ip, Reason: l.prefix})
			return &res, nil
		}
	}
	return nil, nil
}

// consumeCode is secondfactor.TOTP.Consume: it checks code against userID's TOTP
// state and records its use (internal/server/secondfactor).
func (pg *Pages) consumeCode(ctx context.Context, userID, code string, enrolled bool, then func(*storage.TOTP)) (bool, error) {
	return pg.consumeCodeIf(ctx, userID, code, enrolled, nil, then)
}

// consumeCodeIf is consumeCode that first asks guard, when not nil, in
// the same transaction: when it says no, nothing changes and the error is
// oauth.ErrChallengeUsed.
func (pg *Pages) consumeCodeIf(ctx context.Context, userID, code string, enrolled bool, guard func(*storage.TOTP) bool, then func(*storage.TOTP)) (bool, error) {
	ok, err := pg.codes().ConsumeIf(ctx, userID, code, enrolled, guard, then)
	if errors.Is(err, secondfactor.ErrGuard) {
		return false, oauth.ErrChallengeUsed
	}
	return ok, err
}

// codes are the TOTP codes of the pages' users.
func (pg *Pages) codes() *secondfactor.TOTP {
	return secondfactor.New(pg.store, pg.secretKey, pg.clock)
}

func (pg *Pages) mfaRoutes(page func(pattern, route string, h http.HandlerFunc)) {
	page("GET "+PathLoginMFA, "login_mfa", pg.handleMFAPage)
	page("POST "+PathLoginMFA, "login_mfa", pg.handleMFASubmit)
	page("GET "+PathAccount, "account", pg.handleAccount)
	page("POST "+PathAccount+"/password", "account", pg.handleAccountPassword)
	page("POST "+PathAccount+"/mfa/enroll", "account", pg.handleMFAEnroll)
	page("POST "+PathAccount+"/mfa/confirm", "account", pg.handleMFAConfirm)
	page("POST "+PathAccount+"/mfa/disable", "account", pg.handleMFADisable)
	page("POST "+PathAccount+"/sessions/end", "account", pg.handleSessionEnd)
	page("POST "+PathAccount+"/apikeys", "account", pg.handleAPIKeyCreate)
	page("POST "+PathAccount+"/apikeys/revoke", "account", pg.handleAPIKeyRevoke)
}
