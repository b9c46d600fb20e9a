package pages

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Passkeys (WebAuthn Level 3) with github.com/go-webauthn/webauthn.
//
// A passkey signs in on its own (a discoverable credential: the
// authenticator names the user), or stands in for the TOTP code after the
// password. User verification (a PIN or biometric on the authenticator)
// is required in every ceremony, so a passkey sign-in is two factors in
// itself — something the user has and something they know or are — and
// counts as multi-factor: it is never followed by a code step, and
// mfa.required_roles is satisfied by either TOTP or a passkey.
//
// Each ceremony is two JSON exchanges made by static/passkey.js (the pages
// otherwise run no scripts): begin returns the options for
// navigator.credentials, finish checks the authenticator's answer. Both
// are form POSTs carrying the CSRF token like every other form. What
// finish needs of begin (challenge, user, kind) travels in a cookie sealed
// with the server secret key, like the pending-login cookie, valid for
// webauthn.timeout; its challenge is also recorded as used (UseJTI), so an
// answer is accepted once even by a replica that never saw the begin.
//
// The library checks the challenge, the origin (webauthn.origins), the RP
// ID hash (webauthn.rp_id), the UV flag and the signature. On top of it, a
// signature counter that does not increase (when either it or the stored
// one is not zero) is refused as a cloned authenticator (WebAuthn §6.1.1),
// audited with reason passkey_cloned, and leaves the stored counter as it
// was; the check is made again inside the transaction that stores the new
// counter, so two parallel sign-ins with the same counter cannot both
// pass. The backup state (BS flag: the passkey is synced) is stored anew
// at each sign-in.

// Paths of the passkey ceremonies (each has /begin and /finish).
const (
	PathLoginPasskey    = "/login/passkey"
	PathLoginMFAPasskey = "/login/mfa/passkey"
	PathAccountPasskeys = "/account/passkeys"
)

const (
	passkeyCookieName = "gatehouse_passkey"
	passkeyAD         = "gatehouse-passkey-ceremony"
	ceremonyRegister  = "register"
	ceremonyLogin     = "login"
	ceremonySecond    = "mfa"
	maxPasskeyNameLen = 100
	// maxPasskeys bounds a user's passkeys (and the allow list the
	// second-factor ceremony carries in its cookie).
	maxPasskeys    = 10
	limitPasskeyIP = "passkey-ip"

	msgPasskeyRefused = "That passkey was not accepted. Use a passkey registered for this site, or sign in with your password."
	msgPasskeyExpired = "The passkey request expired. Try again."
)

var (
	errPasskeyCloned  = errors.New("server: passkey signature counter did not increase")
	errPasskeyUnknown = errors.New("server: unknown passkey")
	errPasskeyUser    = errors.New("server: passkey user unknown or disabled")
)

// NewWebAuthn is the relying party of cfg, or nil when passkeys are off
// (no RP ID: see config.Server.PasskeyRPID).
func NewWebAuthn(cfg *config.Server) (*webauthn.WebAuthn, error) {
	rpID := cfg.PasskeyRPID()
	if rpID == "" {
		return nil, nil
	}
	timeout := time.Duration(cfg.WebAuthn.Timeout)
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	t := webauthn.TimeoutConfig{Enforce: true, Timeout: timeout, TimeoutUVD: timeout}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  rpID,
		RPDisplayName:         cfg.PasskeyRPName(),
		RPOrigins:             cfg.PasskeyOrigins(),
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: t, Registration: t},
	})
	if err != nil {
		return nil, fmt.Errorf("server: webauthn: %w", err)
	}
	return wa, nil
}

// passkeysOn reports whether the server offers passkeys.
func (pg *Pages) passkeysOn() bool { return pg.webauthn != nil && pg.secretKey != nil }

// passkeyUser is a user with their passkeys, as go-webauthn sees them.
// The user handle is the user's id: random, with no personal data.
type passkeyUser struct {
	u    *storage.User
	keys []*storage.Passkey
}

func (p passkeyUser) WebAuthnID() []byte   { return []byte(p.u.ID) }
func (p passkeyUser) WebAuthnName() string { return p.u.Username }
func (p passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Username
}

func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, 0, len(p.keys))
	for _, k := range p.keys {
		tr := make([]protocol.AuthenticatorTransport, len(k.Transports))
		for i, t := range k.Transports {
			tr[i] = protocol.AuthenticatorTransport(t)
		}
		out = append(out, webauthn.Credential{
			ID:                k.CredentialID,
			PublicKey:         k.PublicKey,
			AttestationType:   k.AttestationType,
			AttestationFormat: k.AttestationFormat,
			Transport:         tr,
			Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: k.UserVerified,
				BackupEligible: k.BackupEligible, BackupState: k.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
		})
	}
	return out
}

// passkeyCeremony is the sealed content of the ceremony cookie.
type passkeyCeremony struct {
	Kind     string               `json:"k"`
	UserID   string               `json:"u,omitempty"`
	ReturnTo string               `json:"r,omitempty"`
	Expires  int64                `json:"e"`
	Session  webauthn.SessionData `json:"s"`
}

func (pg *Pages) ceremonyTTL() time.Duration {
	if d := time.Duration(pg.cfg.WebAuthn.Timeout); d > 0 {
		return d
	}
	return 5 * time.Minute
}

func (pg *Pages) setCeremony(w http.ResponseWriter, c passkeyCeremony) error {
	c.Expires = pg.clock.Now().Add(pg.ceremonyTTL()).Unix()
	return pg.sessions.SetSealed(w, passkeyCookieName, passkeyAD, c, pg.ceremonyTTL())
}

// ceremony returns the browser's unexpired ceremony of kind, or nil, and
// clears the cookie: a ceremony is finished once.
func (pg *Pages) ceremony(w http.ResponseWriter, r *http.Request, kind string) *passkeyCeremony {
	var c passkeyCeremony
	ok := pg.sessions.Sealed(r, passkeyCookieName, passkeyAD, &c)
	pg.sessions.ClearCookie(w, passkeyCookieName)
	if !ok || c.Kind != kind || pg.clock.Now().Unix() >= c.Expires || c.Session.Challenge == "" {
		return nil
	}
	return &c
}

// useChallenge records c's challenge as answered; false when it was
// answered before (a replayed answer).
// passkeyAssertion reads the browser's answer to a sign-in ceremony and
// spends the ceremony's challenge, refusing (and answering) a malformed
// answer or a challenge used before; u is the user of a second step, nil
// for a first-factor sign-in. It reports whether the caller goes on.
func (pg *Pages) passkeyAssertion(w http.ResponseWriter, r *http.Request, c *passkeyCeremony, u *storage.User) (*protocol.ParsedCredentialAssertionData, bool) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(r.PostFormValue("credential")))
	if err != nil {
		pg.refusePasskey(w, r, u, nil, "passkey_malformed", http.StatusBadRequest)
		return nil, false
	}
	if ok, err := pg.useChallenge(r.Context(), c); err != nil {
		pg.passkeyServerError(w, r, err)
		return nil, false
	} else if !ok {
		pg.refusePasskey(w, r, u, nil, "passkey_replay", http.StatusUnauthorized)
		return nil, false
	}
	return parsed, true
}

func (pg *Pages) useChallenge(ctx context.Context, c *passkeyCeremony) (bool, error) {
	err := pg.store.UseJTI(ctx, "webauthn:"+c.Session.Challenge, time.Unix(c.Expires, 0).Add(time.Minute))
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("server: record passkey challenge: %w", err)
	}
	return true, nil
}

// passkeyAnswer is the JSON answer of the passkey endpoints: the options
// for navigator.credentials (begin), where to go next (finish, or a
// sign-in that is needed first), or a message to show.
type passkeyAnswer struct {
	Options  any    `json:"options,omitempty"`
	Redirect string `json:"redirect,omitempty"`
	Error    string `json:"error,omitempty"`
}

func passkeyFail(w http.ResponseWriter, status int, msg string) {
	respond.JSON(w, status, passkeyAnswer{Error: msg})
}

// passkeyForm reads the POST form of a passkey endpoint and checks its
// CSRF token as the pages' forms do, answering in JSON when it cannot go
// on.
func (pg *Pages) passkeyForm(w http.ResponseWriter, r *http.Request) bool {
	if !pg.passkeysOn() {
		passkeyFail(w, http.StatusNotFound, "Passkeys are not available on this server.")
		return false
	}
	switch err := pg.sessions.ReadForm(w, r); {
	case errors.Is(err, browser.ErrCSRF):
		passkeyFail(w, http.StatusForbidden, "The page was stale or was not sent from this site. Reload the page and try again.")
		return false
	case err != nil:
		passkeyFail(w, http.StatusBadRequest, "The request could not be read. Reload the page and try again.")
		return false
	}
	return true
}

// passkeyServerError logs err and answers with a generic message.
func (pg *Pages) passkeyServerError(w http.ResponseWriter, r *http.Request, err error) {
	ref := webpage.NewErrorRef()
	pg.log.Error("passkey request failed", "ref", ref, "path", r.URL.Path, "err", err)
	passkeyFail(w, http.StatusInternalServerError, "The server could not complete the request. Please try again in a moment (reference "+ref+").")
}

// passkeyLimited counts a passkey sign-in attempt under the per-IP login
// limit; when refused (or the limiter fails) it has answered.
func (pg *Pages) passkeyLimited(w http.ResponseWriter, r *http.Request) bool {
	ip := pg.clientIP(r)
	res, err := pg.allow(r.Context(), limitPasskeyIP, ip, pg.cfg.Limits.LoginPerIP)
	if err != nil {
		pg.log.Error("passkey rate limiter failed", "err", err)
		passkeyFail(w, http.StatusServiceUnavailable, "Sign-in is temporarily unavailable. Please try again in a moment.")
		return true
	}
	if !res.Allowed {
		pg.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure, IP: ip, Reason: limitPasskeyIP})
		respond.JSON(w, http.StatusTooManyRequests, passkeyAnswer{Error: "Too many attempts. Wait a moment and try again."})
		return true
	}
	return false
}

// recordPasskeyUse stores the sign-in with passkey id: the new signature
// counter, the backup state and the time. A counter that did not increase
// is errPasskeyCloned (go-webauthn's CloneWarning, checked again under the
// row lock) and changes nothing.
func (pg *Pages) recordPasskeyUse(ctx context.Context, id string, cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData) error {
	if cred.Authenticator.CloneWarning {
		return errPasskeyCloned
	}
	data := parsed.Response.AuthenticatorData
	now := pg.clock.Now().UTC()
	return pg.store.UpdatePasskey(ctx, id, func(p *storage.Passkey) error {
		// WebAuthn Level 3 §7.2 step 22: "If authData.signCount is
		// nonzero or storedSignCount is nonzero ... less than or equal
		// to storedSignCount: This is a signal that the authenticator
		// may be cloned".
		if (data.Counter != 0 || p.SignCount != 0) && data.Counter <= p.SignCount {
			return errPasskeyCloned
		}
		p.SignCount = data.Counter
		p.BackupState = data.Flags.HasBackupState()
		p.UserVerified = p.UserVerified || data.Flags.HasUserVerified()
		p.LastUsedAt = now
		return nil
	})
}

// refusePasskey audits a refused passkey sign-in and answers it.
func (pg *Pages) refusePasskey(w http.ResponseWriter, r *http.Request, u *storage.User, pk *storage.Passkey, reason string, status int) {
	ev := audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, IP: pg.clientIP(r), Reason: reason}
	if u != nil {
		ev.UserID, ev.Username = u.ID, u.Username
	}
	if pk != nil {
		ev.Details = map[string]string{"passkey_id": pk.ID}
	}
	pg.audit.Log(ev)
	passkeyFail(w, status, msgPasskeyRefused)
}

// finishPasskeySignIn starts the session of a user who signed in with
// passkey pk and answers with where to go next.
func (pg *Pages) finishPasskeySignIn(w http.ResponseWriter, r *http.Request, u *storage.User, pk *storage.Passkey, step, rawReturn string) {
	if err := pg.sessions.Start(w, r, u); err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	pg.clearPending(w)
	pg.audit.Log(audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success,
		Actor: "user:" + u.ID, UserID: u.ID, Username: u.Username, IP: pg.clientIP(r),
		Details: map[string]string{"method": step, "mfa": "passkey", "passkey_id": pk.ID}})
	respond.JSON(w, http.StatusOK, passkeyAnswer{Redirect: pg.afterLogin(rawReturn)})
}

// handleLoginPasskeyBegin starts a sign-in with a discoverable passkey.
func (pg *Pages) handleLoginPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	if !pg.passkeyForm(w, r) {
		return
	}
	opts, sd, err := pg.webauthn.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	if err := pg.setCeremony(w, passkeyCeremony{Kind: ceremonyLogin, ReturnTo: r.PostFormValue("return_to"), Session: *sd}); err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, passkeyAnswer{Options: opts})
}

// handleLoginPasskeyFinish checks the answer of a passkey sign-in and
// starts the session.
func (pg *Pages) handleLoginPasskeyFinish(w http.ResponseWriter, r *http.Request) {
	if !pg.passkeyForm(w, r) {
		return
	}
	c := pg.ceremony(w, r, ceremonyLogin)
	if c == nil {
		passkeyFail(w, http.StatusBadRequest, msgPasskeyExpired)
		return
	}
	if pg.passkeyLimited(w, r) {
		return
	}
	ctx := r.Context()
	parsed, ok := pg.passkeyAssertion(w, r, c, nil)
	if !ok {
		return
	}
	var (
		pk        *storage.Passkey
		u         *storage.User
		lookupErr error
	)
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		pk, u, lookupErr = pg.passkeyOwner(ctx, rawID, userHandle)
		if lookupErr != nil {
			return nil, lookupErr
		}
		return passkeyUser{u: u, keys: []*storage.Passkey{pk}}, nil
	}
	_, cred, err := pg.webauthn.ValidatePasskeyLogin(handler, c.Session, parsed)
	switch {
	case lookupErr != nil && !errors.Is(lookupErr, errPasskeyUnknown) && !errors.Is(lookupErr, errPasskeyUser):
		pg.passkeyServerError(w, r, lookupErr)
		return
	case errors.Is(lookupErr, errPasskeyUnknown):
		pg.refusePasskey(w, r, nil, nil, "passkey_unknown", http.StatusUnauthorized)
		return
	case errors.Is(lookupErr, errPasskeyUser):
		pg.refusePasskey(w, r, u, pk, "disabled", http.StatusUnauthorized)
		return
	case err != nil:
		pg.log.Info("passkey sign-in refused", "err", err, "info", passkeyErrInfo(err))
		pg.refusePasskey(w, r, u, pk, "passkey_invalid", http.StatusUnauthorized)
		return
	}
	pg.signInWithPasskey(w, r, u, pk, cred, parsed, "passkey", c.ReturnTo)
}

// passkeyOwner finds the passkey with credential id rawID and its user,
// who must be the one the authenticator names (userHandle) and enabled.
func (pg *Pages) passkeyOwner(ctx context.Context, rawID, userHandle []byte) (*storage.Passkey, *storage.User, error) {
	pk, err := pg.store.GetPasskeyByCredentialID(ctx, rawID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, errPasskeyUnknown
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: get passkey: %w", err)
	}
	if string(userHandle) != pk.UserID {
		return pk, nil, errPasskeyUnknown
	}
	u, err := pg.store.GetUser(ctx, pk.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return pk, nil, errPasskeyUser
	}
	if err != nil {
		return nil, nil, fmt.Errorf("server: get passkey user: %w", err)
	}
	if u.Disabled {
		return pk, u, errPasskeyUser
	}
	return pk, u, nil
}

// passkeyErrInfo is the developer detail of a go-webauthn error, for the
// log.
func passkeyErrInfo(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Details + ": " + pe.DevInfo
	}
	return ""
}

// handleMFAPasskeyBegin starts the second login step with a passkey of
// the user of the pending login.
func (pg *Pages) handleMFAPasskeyBegin(w http.ResponseWriter, r *http.Request) {
	if !pg.passkeyForm(w, r) {
		return
	}
	u, keys, ok := pg.pendingPasskeyUser(w, r)
	if !ok {
		return
	}
	opts, sd, err := pg.webauthn.BeginLogin(passkeyUser{u: u, keys: keys}, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	if err := pg.setCeremony(w, passkeyCeremony{Kind: ceremonySecond, UserID: u.ID, Session: *sd}); err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, passkeyAnswer{Options: opts})
}

// pendingPasskeyUser is the user of the browser's pending login with
// their passkeys; otherwise it has answered.
func (pg *Pages) pendingPasskeyUser(w http.ResponseWriter, r *http.Request) (*storage.User, []*storage.Passkey, bool) {
	p := pg.pending(r, pendingKindTOTP)
	if p == nil {
		respond.JSON(w, http.StatusUnauthorized, passkeyAnswer{Error: "Your sign-in expired.", Redirect: pg.at(PathLogin)})
		return nil, nil, false
	}
	ctx := r.Context()
	u, err := pg.store.GetUser(ctx, p.UserID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && u.Disabled {
		pg.clearPending(w)
		respond.JSON(w, http.StatusUnauthorized, passkeyAnswer{Error: "Your sign-in expired.", Redirect: pg.at(PathLogin)})
		return nil, nil, false
	}
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return nil, nil, false
	}
	keys, err := pg.store.ListUserPasskeys(ctx, u.ID)
	if err != nil {
		pg.passkeyServerError(w, r, err)
		return nil, nil, false
	}
	if len(keys) == 0 {
		passkeyFail(w, http.StatusBadRequest, "Your account has no passkey. Enter a code instead.")
		return nil, nil, false
	}
	return u, keys, true
}

// handleMFAPasskeyFinish checks the passkey of the second login step and
// starts the session.
func (pg *Pages) handleMFAPasskeyFinish(w http.ResponseWriter, r *http.Request) {
	if !pg.passkeyForm(w, r) {
		return
	}
	c := pg.ceremony(w, r, ceremonySecond)
	p := pg.pending(r, pendingKindTOTP)
	if c == nil || p == nil || c.UserID != p.UserID {
		passkeyFail(w, http.StatusBadRequest, msgPasskeyExpired)
		return
	}
	u, keys, ok := pg.pendingPasskeyUser(w, r)
	if !ok {
		return
	}
	if res, err := pg.limitAttempt(r, u); err != nil {
		pg.passkeyServerError(w, r, err)
		return
	} else if res != nil {
		respond.JSON(w, http.StatusTooManyRequests, passkeyAnswer{Error: "Too many attempts. Wait a moment and try again."})
		return
	}
	parsed, ok := pg.passkeyAssertion(w, r, c, u)
	if !ok {
		return
	}
	cred, err := pg.webauthn.ValidateLogin(passkeyUser{u: u, keys: keys}, c.Session, parsed)
	if err != nil {
		pg.log.Info("passkey second step refused", "err", err, "info", passkeyErrInfo(err))
		pg.refusePasskey(w, r, u, nil, "passkey_invalid", http.StatusUnauthorized)
		return
	}
	var pk *storage.Passkey
	for _, k := range keys {
		if string(k.CredentialID) == string(cred.ID) {
			pk = k
		}
	}
	if pk == nil { // ValidateLogin only accepts the user's own credentials
		pg.refusePasskey(w, r, u, nil, "passkey_unknown", http.StatusUnauthorized)
		return
	}
	pg.signInWithPasskey(w, r, u, pk, cred, parsed, "password+passkey", p.ReturnTo)
}

// signInWithPasskey records the use of pk (its sign counter and backup
// state), refusing a cloned authenticator, and completes the sign-in of u
// by method.
func (pg *Pages) signInWithPasskey(w http.ResponseWriter, r *http.Request, u *storage.User, pk *storage.Passkey, cred *webauthn.Credential, parsed *protocol.ParsedCredentialAssertionData, method, returnTo string) {
	if err := pg.recordPasskeyUse(r.Context(), pk.ID, cred, parsed); errors.Is(err, errPasskeyCloned) {
		pg.refusePasskey(w, r, u, pk, "passkey_cloned", http.StatusUnauthorized)
		return
	} else if err != nil {
		pg.passkeyServerError(w, r, err)
		return
	}
	pg.finishPasskeySignIn(w, r, u, pk, method, returnTo)
}

// userPasskeys lists userID's passkeys; none when passkeys are off.
func (pg *Pages) userPasskeys(ctx context.Context, userID string) ([]*storage.Passkey, error) {
	if !pg.passkeysOn() {
		return nil, nil
	}
	keys, err := pg.store.ListUserPasskeys(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("server: list passkeys: %w", err)
	}
	return keys, nil
}

// aaguidString formats an AAGUID as a UUID for the audit trail.
func aaguidString(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	h := hex.EncodeToString(b)
	return strings.Join([]string{h[:8], h[8:12], h[12:16], h[16:20], h[20:]}, "-")
}

func (pg *Pages) passkeyRoutes(page func(pattern, route string, h http.HandlerFunc)) {
	page("POST "+PathLoginPasskey+"/begin", "login_passkey", pg.handleLoginPasskeyBegin)
	page("POST "+PathLoginPasskey+"/finish", "login_passkey", pg.handleLoginPasskeyFinish)
	page("POST "+PathLoginMFAPasskey+"/begin", "login_mfa", pg.handleMFAPasskeyBegin)
	page("POST "+PathLoginMFAPasskey+"/finish", "login_mfa", pg.handleMFAPasskeyFinish)
	page("POST "+PathAccountPasskeys+"/begin", "account", pg.handlePasskeyRegisterBegin)
	page("POST "+PathAccountPasskeys+"/finish", "account", pg.handlePasskeyRegisterFinish)
	page("POST "+PathAccountPasskeys+"/rename", "account", pg.handlePasskeyRename)
	page("POST "+PathAccountPasskeys+"/remove", "account", pg.handlePasskeyRemove)
}
