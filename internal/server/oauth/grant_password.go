package oauth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Terminal sign-in: the resource owner password credentials grant
// (RFC 6749 §4.3) for `gatehouse login --terminal`, and its second step
// for users with TOTP.
//
// RFC 9700 §2.4: "The resource owner password credentials grant MUST NOT
// be used." It teaches users to type their password into programs, and it
// cannot be phishing-resistant or carry any login step but a password. So
// it is off: an admin turns it on for one first-party client
// (storage.Client.TerminalLogin, `gatehouse clients update gatehouse-cli
// --terminal-login`), and a third-party client never gets it, whatever its
// flag says. It is not listed in the discovery document's
// grant_types_supported, which describes what any client may use.
//
// Everything else is the login page's, which the server hands over as
// Deps.SignIn: the same rate limits per address and per username (one
// budget for both doors), the same password check (unknown users cost the
// same argon2 work, disabled users are refused),
// the same audit events with details via=terminal, and the same second
// factor. A user with an enrolled TOTP gets the error mfa_required with
// an mfa_token (as Auth0's MFA API answers); the client sends it back with
// a code in a GrantMFAOTP request. The mfa_token is sealed with the secret
// key, bound to the user and the client, lives TerminalMFATTL, and works
// once: its nonce's hash is the user's TOTP terminal challenge, cleared in
// the transaction that accepts the code (SignIn.ConsumeCodeIf: TOTP step
// replay check, recovery codes, back-off). A newer mfa_token replaces an older
// one. A user whose role requires MFA but who has not enrolled is refused
// with a pointer to /account, where enrolment happens in a browser.

// TerminalMFATTL is how long an mfa_token may be answered.
const TerminalMFATTL = 5 * time.Minute

// viaTerminal marks the audit events of terminal sign-ins.
var viaTerminal = map[string]string{"via": "terminal"}

// terminalMFAAD binds sealed mfa_tokens to their use.
const terminalMFAAD = "gatehouse-terminal-mfa"

// terminalMFA is the sealed content of an mfa_token.
type terminalMFA struct {
	UserID    string   `json:"u"`
	ClientID  string   `json:"c"`
	Scopes    []string `json:"s,omitempty"`
	Resources []string `json:"r,omitempty"`
	AuthTime  int64    `json:"t"`
	Expires   int64    `json:"e"`
	Nonce     string   `json:"n"`
}

// errTerminalLoginOff is the refusal of a client without terminal sign-in.
func errTerminalLoginOff(c *storage.Client) error {
	if !c.FirstParty {
		return protocol.Errorf(protocol.ErrUnsupportedGrantType,
			"terminal sign-in (the password grant) is never available to third-party clients such as %s", c.ID)
	}
	return protocol.Errorf(protocol.ErrUnsupportedGrantType,
		"terminal sign-in (the password grant) is not enabled for client %s; an admin may enable it for a first-party client with `gatehouse clients update %s --terminal-login`",
		c.ID, c.ID)
}

// terminalLoginAllowed reports whether c may sign users in at a terminal:
// an admin enabled it, and c is first-party (never a third party, even
// with the flag set in the database by hand).
func terminalLoginAllowed(c *storage.Client) bool {
	return c.TerminalLogin && c.FirstParty
}

// grantPassword implements the password grant (RFC 6749 §4.3.2) for
// clients with terminal sign-in.
func (e *Endpoints) grantPassword(r *http.Request, c *storage.Client, jkt string) (*protocol.TokenResponse, error) {
	if !terminalLoginAllowed(c) {
		return nil, errTerminalLoginOff(c)
	}
	ctx := r.Context()
	typed, pw := r.PostForm.Get("username"), r.PostForm.Get("password")
	if typed == "" || pw == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "username and password are required")
	}
	scopes, err := resolveScopes(c, ParseScope(r.PostForm.Get("scope")))
	if err != nil {
		return nil, err
	}
	resources, err := e.ResolveResources(c, ResourceParams(r.PostForm))
	if err != nil {
		return nil, err
	}
	name := e.signIn.Name(typed)
	ip := e.clientIP(r)
	// The login page's limits, taken before any hashing; a limiter
	// failure refuses (fail closed), as there.
	refused, limit, err := e.signIn.TakeLimits(ctx, ip, name)
	if err != nil {
		e.log.Error("login rate limiter failed", "err", err)
		return nil, protocol.NewError(protocol.ErrTemporarilyUnavailable, "sign-in is temporarily unavailable; try again in a moment")
	}
	if refused != nil {
		e.audit.Log(audit.Event{Type: audit.LoginRateLimited, Outcome: audit.Failure,
			Username: name, IP: ip, ClientID: c.ID, Reason: limit, Details: viaTerminal})
		return nil, TooManyRequests(*refused)
	}
	u, reason, err := e.signIn.CheckPassword(ctx, ip, name, pw)
	if errors.Is(err, connector.ErrUnavailable) {
		// A directory that is down: as the login page's 503, never a
		// wrong password.
		e.log.Warn("terminal sign-in: directory unavailable", "err", err)
		return nil, protocol.NewError(protocol.ErrTemporarilyUnavailable, "the directory that checks this account's password is unavailable; try again in a moment")
	}
	if err != nil {
		return nil, err
	}
	if reason != "" {
		ev := audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, Username: name, IP: ip,
			ClientID: c.ID, Reason: reason, Details: viaTerminal}
		if u != nil {
			ev.UserID = u.ID
		}
		e.audit.Log(ev)
		// One answer for every reason, as on the login page.
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "invalid username or password")
	}
	e.signIn.UpgradeHash(ctx, u, pw)
	now := e.clock.Now().UTC()
	t, err := e.store.GetTOTP(ctx, u.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	switch {
	case t != nil && t.Enrolled:
		return nil, e.terminalMFARequired(r, c, u, scopes, resources, now)
	case e.signIn.MFARequired(u):
		e.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, UserID: u.ID, Username: u.Username,
			IP: ip, ClientID: c.ID, Reason: "mfa_enrolment_required", Details: viaTerminal})
		return nil, protocol.Errorf(protocol.ErrAccessDenied,
			"your role requires a second factor and you have none yet: sign in at %s in a browser to set up an authenticator app, then try again",
			e.accountPage)
	}
	return e.finishTerminalLogin(r, c, u, scopes, resources, now, "", jkt)
}

// terminalMFARequired starts the second step for u: it stores a new
// challenge and answers mfa_required with its mfa_token.
func (e *Endpoints) terminalMFARequired(r *http.Request, c *storage.Client, u *storage.User, scopes, resources []string, now time.Time) error {
	if e.secretKey == nil {
		return errors.New("server: multi-factor login needs the secret key")
	}
	nonce := secret.NewToken()
	b, err := json.Marshal(terminalMFA{UserID: u.ID, ClientID: c.ID, Scopes: scopes, Resources: resources,
		AuthTime: now.Unix(), Expires: now.Add(TerminalMFATTL).Unix(), Nonce: nonce})
	if err != nil {
		return fmt.Errorf("server: mfa token: %w", err)
	}
	sealed, err := e.secretKey.Seal(b, []byte(terminalMFAAD))
	if err != nil {
		return fmt.Errorf("server: seal mfa token: %w", err)
	}
	err = e.store.UpdateTOTP(r.Context(), u.ID, func(t *storage.TOTP) error {
		t.TerminalChallenge = secret.Hash(nonce)
		return nil
	})
	if err != nil {
		return fmt.Errorf("server: store mfa challenge: %w", err)
	}
	return &protocol.Error{
		Code:        protocol.ErrMFARequired,
		Description: "a code from your authenticator app is required; send it with grant_type " + protocol.GrantMFAOTP,
		Status:      http.StatusForbidden,
		MFAToken:    base64.RawURLEncoding.EncodeToString(sealed),
	}
}

// errBadMFAToken refuses an mfa_token that is unknown, expired, for
// another client, or already used.
var errBadMFAToken = protocol.NewError(protocol.ErrInvalidGrant, "mfa_token is invalid, expired or already used; sign in again")

// grantMFAOTP answers an mfa_required error: mfa_token and otp (a TOTP
// code or a recovery code).
func (e *Endpoints) grantMFAOTP(r *http.Request, c *storage.Client, jkt string) (*protocol.TokenResponse, error) {
	if !terminalLoginAllowed(c) {
		return nil, errTerminalLoginOff(c)
	}
	raw, code := r.PostForm.Get("mfa_token"), r.PostForm.Get("otp")
	if raw == "" || code == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "mfa_token and otp are required")
	}
	m, ok := e.openTerminalMFA(raw)
	now := e.clock.Now().UTC()
	if !ok || m.ClientID != c.ID || now.Unix() >= m.Expires {
		return nil, errBadMFAToken
	}
	u, err := e.activeUser(r, m.UserID)
	if err != nil {
		return nil, err
	}
	refused, err := e.signIn.LimitCodeAttempt(r, u)
	if err != nil {
		e.log.Error("mfa rate limiter failed", "err", err)
		return nil, protocol.NewError(protocol.ErrTemporarilyUnavailable, "sign-in is temporarily unavailable; try again in a moment")
	}
	if refused != nil {
		return nil, TooManyRequests(*refused)
	}
	challenge := secret.Hash(m.Nonce)
	ok, err = e.signIn.ConsumeCodeIf(r.Context(), u.ID, code, true,
		func(t *storage.TOTP) bool { return t.TerminalChallenge == challenge },
		func(t *storage.TOTP) { t.TerminalChallenge = "" })
	if errors.Is(err, ErrChallengeUsed) {
		return nil, errBadMFAToken
	}
	if err != nil {
		return nil, err
	}
	ip := e.clientIP(r)
	if !ok {
		e.audit.Log(audit.Event{Type: audit.LoginFailure, Outcome: audit.Failure, UserID: u.ID, Username: u.Username,
			IP: ip, ClientID: c.ID, Reason: "bad_totp", Details: viaTerminal})
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "the code is not valid; use the current code from your authenticator app, or a recovery code")
	}
	return e.finishTerminalLogin(r, c, u, m.Scopes, m.Resources, time.Unix(m.AuthTime, 0).UTC(), "totp", jkt)
}

// openTerminalMFA unseals an mfa_token.
func (e *Endpoints) openTerminalMFA(raw string) (*terminalMFA, bool) {
	if e.secretKey == nil || len(raw) > 4096 {
		return nil, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil, false
	}
	b, err := e.secretKey.Open(sealed, []byte(terminalMFAAD))
	if err != nil {
		return nil, false
	}
	var m terminalMFA
	if json.Unmarshal(b, &m) != nil || m.UserID == "" || m.Nonce == "" {
		return nil, false
	}
	return &m, true
}

// finishTerminalLogin records the sign-in and issues what a browser login
// of the client gets: a grant, a refresh token when the client may
// refresh, the access token and, with openid, the ID token.
func (e *Endpoints) finishTerminalLogin(r *http.Request, c *storage.Client, u *storage.User, scopes, resources []string, authTime time.Time, mfa, jkt string) (*protocol.TokenResponse, error) {
	details := map[string]string{"via": "terminal"}
	if mfa != "" {
		details["mfa"] = mfa
	}
	e.audit.Log(audit.Event{Type: audit.LoginSuccess, Outcome: audit.Success, Actor: "user:" + u.ID,
		UserID: u.ID, Username: u.Username, IP: e.clientIP(r), ClientID: c.ID, Details: details})
	g, err := e.newGrant(r.Context(), secret.NewID(), c, u.ID, scopes, resources, authTime)
	if err != nil {
		return nil, err
	}
	return e.issueForGrant(r.Context(), r, c, u, g, "", jkt)
}
