package pages

import (
	"context"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/secondfactor"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// The /account page: change password (ends the other sessions), TOTP
// enrolment and removal, and the user's own sessions. It needs a session,
// except that a user who must enrol (mfa.required_roles) may enrol with
// the pending-login cookie of the password step (mfa.go).

// Page template names of the MFA and account pages.
const (
	pageMFA     = "mfa"
	pageAccount = "account"
)

// accountPage is the data of the account page.
type accountPage struct {
	page
	Username      string
	HasSession    bool
	MFARequired   bool
	Enrolled      bool
	Enrolling     *enrolment
	RecoveryCodes []string
	// RecoveryDownload is a data: URL of the recovery codes as a text
	// file, for a download link (the pages run no scripts).
	RecoveryDownload template.URL
	// ContinueTo is where the user was going (the application) when
	// the page interrupted the way there.
	ContinueTo string
	Sessions   []sessionRow
	APIKeys    []apiKeyRow
	NewAPIKey  string
	// PasskeysOn says the server offers passkeys; Passkeys are the
	// user's.
	PasskeysOn bool
	Passkeys   []passkeyRow
	// Message and Error are the outcome of the form just sent; Section
	// names the section of that form (one of the section constants), so
	// the outcome is shown next to the form and the browser scrolls
	// there (each form's action ends in #section). "" shows it at the
	// top.
	Message string
	Error   string
	Section string
}

// The sections of the account page, as element ids: the page shows the
// outcome of a form in the form's section.
const (
	sectionMFA      = "mfa"
	sectionPasskeys = "passkeys"
	sectionAPIKeys  = "api-keys"
	sectionSessions = "sessions"
	sectionPassword = "password"
)

// enrolment is what the user needs to add the key to an app.
type enrolment struct {
	QR     template.URL // data: URI of a PNG
	URI    string
	Secret string
}

// sessionRow is one of the user's sessions in the list on /account.
type sessionRow struct {
	ID               string
	Created, Expires string
	// Device describes the browser and system ("Firefox on Windows"),
	// IP is the address it signed in from ("" for sessions from before
	// both were kept) and LastSeen when it was last used, to the minute.
	Device, IP, LastSeen string
	Current              bool
}

// newSessionRow is the row of x; current is the session of the request.
func newSessionRow(x *storage.Session, current bool) sessionRow {
	const when = "2006-01-02 15:04 UTC"
	row := sessionRow{
		ID:      x.Hash,
		Created: x.CreatedAt.UTC().Format(when),
		Expires: x.ExpiresAt.UTC().Format(when),
		Device:  describeUserAgent(x.UserAgent),
		IP:      x.IP,
		Current: current,
	}
	if !x.LastSeen.IsZero() {
		row.LastSeen = x.LastSeen.UTC().Format(when)
	}
	return row
}

// accountActor is the user the account page acts for: the signed-in user
// (sess set) or a user in the middle of a required enrolment (pend set).
type accountActor struct {
	user *storage.User
	sess *storage.Session
	pend *pendingLogin
}

// actor finds who is using the account page; nil when nobody is.
func (pg *Pages) actor(r *http.Request) (*accountActor, error) {
	u, sess, err := pg.sessions.CurrentUser(r)
	if err != nil || u != nil {
		if u == nil {
			return nil, err
		}
		return &accountActor{user: u, sess: sess}, nil
	}
	p := pg.pending(r, pendingKindEnrol)
	if p == nil {
		return nil, nil
	}
	u, err = pg.store.GetUser(r.Context(), p.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("server: get pending user: %w", err)
	}
	if u.Disabled {
		return nil, nil
	}
	return &accountActor{user: u, pend: p}, nil
}

// accountRequest resolves the actor of a request to the account page and,
// for a POST, parses and checks the form. needSession refuses the pending
// enrolment actor. It answers the request itself and returns nil when the
// request cannot go on.
func (pg *Pages) accountRequest(w http.ResponseWriter, r *http.Request, needSession bool) *accountActor {
	if r.Method == http.MethodPost && !pg.sessions.ParsePostForm(w, r) {
		return nil
	}
	a, err := pg.actor(r)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return nil
	}
	if a == nil || needSession && a.sess == nil {
		webpage.Redirect(w, pg.loginURL(pg.at(PathAccount), false), http.StatusSeeOther)
		return nil
	}
	return a
}

// renderAccount fills in the common data and shows the account page.
func (pg *Pages) renderAccount(w http.ResponseWriter, r *http.Request, status int, a *accountActor, d accountPage) {
	ctx := r.Context()
	d.page = page{Title: "Your account", CSRF: pg.sessions.CSRFToken(w, r)}
	if len(d.RecoveryCodes) > 0 {
		d.RecoveryDownload = recoveryDownload(pg.cfg.UI.BrandName, a.user.Username, d.RecoveryCodes)
	}
	d.Username = a.user.Username
	d.HasSession = a.sess != nil
	d.MFARequired = pg.mfaRequired(a.user)
	t, err := pg.store.GetTOTP(ctx, a.user.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		pg.pages.ServerError(w, r, err)
		return
	}
	d.Enrolled = t != nil && t.Enrolled
	keys, err := pg.userPasskeys(ctx, a.user.ID)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	d.PasskeysOn = pg.passkeysOn()
	d.Passkeys = passkeyRows(keys)
	d.Script = d.PasskeysOn
	d.Copy = d.NewAPIKey != "" || len(d.RecoveryCodes) > 0
	if a.sess != nil {
		list, err := pg.store.ListUserSessions(ctx, a.user.ID)
		if err != nil {
			pg.pages.ServerError(w, r, err)
			return
		}
		now := pg.clock.Now()
		for _, x := range list {
			if !now.Before(x.ExpiresAt) {
				continue
			}
			d.Sessions = append(d.Sessions, newSessionRow(x, x.Hash == a.sess.Hash))
		}
		// This browser's session first, the others oldest first.
		slices.SortStableFunc(d.Sessions, func(x, y sessionRow) int {
			switch {
			case x.Current == y.Current:
				return 0
			case x.Current:
				return -1
			}
			return 1
		})
		if d.APIKeys, err = pg.ownAPIKeys(r, a.user.ID); err != nil {
			pg.pages.ServerError(w, r, err)
			return
		}
	}
	pg.pages.Render(w, status, pageAccount, d)
}

func (pg *Pages) handleAccount(w http.ResponseWriter, r *http.Request) {
	if a := pg.accountRequest(w, r, false); a != nil {
		pg.renderAccount(w, r, http.StatusOK, a, accountPage{})
	}
}

func (pg *Pages) handleAccountPassword(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, true)
	if a == nil || !pg.allowPasswordAttempt(w, r, a.user) {
		return
	}
	ctx := r.Context()
	cur, pw, pw2 := r.PostFormValue("current_password"), r.PostFormValue("new_password"), r.PostFormValue("new_password2")
	if a.user.ConnectorID != "" {
		pg.renderAccount(w, r, http.StatusBadRequest, a, accountPage{Section: sectionPassword, Error: "Your password is managed where you sign in (" +
			pg.links.Name(a.user.ConnectorID) + "); change it there."})
		return
	}
	ok, err := pg.hasher.Verify(ctx, a.user.PasswordHash, cur)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	fail := func(msg string) {
		pg.renderAccount(w, r, http.StatusBadRequest, a, accountPage{Section: sectionPassword, Error: msg})
	}
	switch {
	case !ok:
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, UserID: a.user.ID,
			Username: a.user.Username, IP: pg.clientIP(r), Reason: "bad_password"})
		fail("The current password is not correct.")
		return
	case pw != pw2:
		fail("The new passwords do not match.")
		return
	}
	if err := password.CheckPolicy(pw); err != nil {
		fail(err.Error())
		return
	}
	hash, err := pg.hasher.Hash(ctx, pw)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	now := pg.clock.Now().UTC()
	err = pg.store.UpdateUser(ctx, a.user.ID, func(u *storage.User) error {
		u.PasswordHash = hash
		u.UpdatedAt = now
		return nil
	})
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	n, err := pg.store.DeleteUserSessions(ctx, a.user.ID, a.sess.Hash)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r),
		Details: map[string]string{"change": "password changed", "sessions_ended": fmt.Sprint(n)}})
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionPassword, Message: "Password changed. Your other sessions were signed out."})
}

func (pg *Pages) handleMFAEnroll(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, false)
	if a == nil || !pg.recentSignIn(w, r, a) {
		return
	}
	e, err := pg.beginEnrolment(r.Context(), a.user)
	switch {
	case errors.Is(err, secondfactor.ErrAlreadyEnrolled):
		pg.renderAccount(w, r, http.StatusConflict, a, accountPage{Section: sectionMFA, Error: "Two-step verification is already on."})
		return
	case err != nil:
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionMFA, Enrolling: e})
}

// beginEnrolment starts (or restarts) u's TOTP enrolment with a new
// secret, stored sealed and not yet enrolled. It returns
// secondfactor.ErrAlreadyEnrolled when u's TOTP is already on.
func (pg *Pages) beginEnrolment(ctx context.Context, u *storage.User) (*enrolment, error) {
	sec, err := pg.codes().Begin(ctx, u.ID, pg.cfg.UI.BrandName, u.Username)
	if err != nil {
		return nil, err
	}
	return newEnrolment(pg.cfg.UI.BrandName, u.Username, sec)
}

// confirmEnrolment completes u's pending enrolment when code is a valid
// first code (replays refused as for any code): TOTP is on from then and
// the new recovery codes, returned here once, replace any others. ok is
// false for a wrong code or when no enrolment is pending. Both outcomes
// are audited.
func (pg *Pages) confirmEnrolment(r *http.Request, u *storage.User, code string) (codes []string, ok bool, err error) {
	codes, hashes := secondfactor.NewRecoveryCodes()
	ok, err = pg.consumeCode(r.Context(), u.ID, code, false, func(t *storage.TOTP) {
		t.Enrolled = true
		t.RecoveryCodes = hashes
	})
	if err != nil {
		return nil, false, err
	}
	if !ok {
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, UserID: u.ID,
			Username: u.Username, IP: pg.clientIP(r), Reason: "bad_totp"})
		return nil, false, nil
	}
	pg.audit.Log(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "user:" + u.ID,
		UserID: u.ID, Username: u.Username, IP: pg.clientIP(r),
		Details: map[string]string{"change": "mfa enrolled"}})
	return codes, true, nil
}

// newEnrolment builds the otpauth URI and its QR code for a base32 secret;
// issuer (the brand name) names the server in authenticator apps, as the
// issuer parameter and the label prefix ("issuer:username").
func newEnrolment(issuer, username, b32 string) (*enrolment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(b32, "="))
	if err != nil {
		return nil, fmt.Errorf("server: totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: username, Secret: raw})
	if err != nil {
		return nil, fmt.Errorf("server: totp key: %w", err)
	}
	png, err := qrPNG(key.URL())
	if err != nil {
		return nil, err
	}
	return &enrolment{
		// Built here from our own PNG bytes, so it is a safe URL.
		QR:     template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		URI:    key.URL(),
		Secret: key.Secret(),
	}, nil
}

// pendingEnrolment rebuilds the enrolment of a not yet confirmed TOTP.
func (pg *Pages) pendingEnrolment(ctx context.Context, u *storage.User) (*enrolment, error) {
	t, err := pg.store.GetTOTP(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if t.Enrolled {
		return nil, nil
	}
	sec, err := pg.codes().Secret(t, u.ID)
	if err != nil {
		return nil, err
	}
	return newEnrolment(pg.cfg.UI.BrandName, u.Username, string(sec))
}

func (pg *Pages) handleMFAConfirm(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, false)
	if a == nil || !pg.allowCodeAttempt(w, r, a.user) {
		return
	}
	ctx := r.Context()
	codes, ok, err := pg.confirmEnrolment(r, a.user, r.PostFormValue("code"))
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if !ok {
		e, err := pg.pendingEnrolment(ctx, a.user)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			pg.pages.ServerError(w, r, err)
			return
		}
		pg.renderAccount(w, r, http.StatusBadRequest, a, accountPage{Section: sectionMFA, Enrolling: e, Error: msgBadCode})
		return
	}
	d := accountPage{RecoveryCodes: codes}
	if a.pend != nil {
		// A required enrolment completes the login.
		if err := pg.sessions.Start(w, r, a.user); err != nil {
			pg.pages.ServerError(w, r, err)
			return
		}
		pg.clearPending(w)
		pg.audit.Log(audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success, Actor: "user:" + a.user.ID,
			UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r), Details: map[string]string{"mfa": "totp"}})
		d.ContinueTo = pg.afterLogin(a.pend.ReturnTo)
		a = &accountActor{user: a.user} // the page shows no session forms yet
	}
	pg.renderAccount(w, r, http.StatusOK, a, d)
}

func (pg *Pages) handleMFADisable(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, true)
	if a == nil || !pg.allowCodeAttempt(w, r, a.user) {
		return
	}
	ctx := r.Context()
	ok, err := pg.consumeCode(ctx, a.user.ID, r.PostFormValue("code"), true, nil)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	if !ok {
		pg.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, UserID: a.user.ID,
			Username: a.user.Username, IP: pg.clientIP(r), Reason: "bad_totp"})
		pg.renderAccount(w, r, http.StatusBadRequest, a, accountPage{Section: sectionMFA, Error: msgBadCode})
		return
	}
	if err := pg.store.DeleteTOTP(ctx, a.user.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r),
		Details: map[string]string{"change": "mfa disabled"}})
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionMFA, Message: "Two-step verification is off."})
}

func (pg *Pages) handleSessionEnd(w http.ResponseWriter, r *http.Request) {
	a := pg.accountRequest(w, r, true)
	if a == nil {
		return
	}
	ctx := r.Context()
	id := r.PostFormValue("id")
	list, err := pg.store.ListUserSessions(ctx, a.user.ID)
	if err != nil {
		pg.pages.ServerError(w, r, err)
		return
	}
	found := false
	for _, x := range list {
		found = found || x.Hash == id
	}
	if !found {
		pg.renderAccount(w, r, http.StatusNotFound, a, accountPage{Section: sectionSessions, Error: "That session has already ended."})
		return
	}
	if err := pg.store.DeleteSession(ctx, id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		pg.pages.ServerError(w, r, err)
		return
	}
	pg.audit.Log(audit.Event{Type: audit.Logout, Outcome: audit.Success, Actor: "user:" + a.user.ID,
		UserID: a.user.ID, Username: a.user.Username, IP: pg.clientIP(r), Details: map[string]string{"via": "account"}})
	if id == a.sess.Hash {
		pg.sessions.ClearCookie(w, browser.SessionCookie)
		webpage.Redirect(w, pg.at(PathLogin), http.StatusSeeOther)
		return
	}
	pg.renderAccount(w, r, http.StatusOK, a, accountPage{Section: sectionSessions, Message: "Signed out of that session."})
}

// recoveryDownload is a data: URL of a text file with the recovery codes
// of username, for the download link of the account page. The codes are
// generated base32 groups and the rest is percent-encoded, so the URL is
// safe to write into an href.
func recoveryDownload(brand, username string, codes []string) template.URL {
	text := "Recovery codes of " + username + " at " + brand + "\n" +
		"Each code works once in place of a code from your authenticator app.\n\n" +
		strings.Join(codes, "\n") + "\n"
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(text))
}

// recentSignIn lets a sensitive change on /account through (starting an
// MFA enrolment, which reveals the new secret; creating an API key) when
// the session signed in within tokens.account_recent_auth — so that a
// script on a page of the same origin, or a browser left signed in, cannot
// make one with the session alone (SECURITY-CASES 56). Otherwise it sends
// the browser to sign in again and back to /account, and returns false.
// Password changes and turning MFA off ask for the password or a code
// instead; a user in the middle of a required enrolment has just typed the
// password.
func (pg *Pages) recentSignIn(w http.ResponseWriter, r *http.Request, a *accountActor) bool {
	if a.sess == nil || pg.clock.Now().Sub(a.sess.AuthTime) <= time.Duration(pg.cfg.Tokens.AccountRecentAuth) {
		return true
	}
	webpage.Redirect(w, pg.loginURL(pg.at(PathAccount), true), http.StatusSeeOther)
	return false
}
