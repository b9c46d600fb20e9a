// Package accountapi is the account API: what a signed-in user does on the
// /account page, for `gatehouse account` in a terminal. Today that is
// turning on two-step verification (TOTP): start an enrolment, confirm it
// with a first code.
//
// The server authenticates the caller and hands the API what it needs in
// Deps: the API is authorised only by the bearer access token of a user
// login (a token with a grant, whose subject is the user acting on their
// own account) that is meant for it: its aud names the account resource
// and it carries the account scope, which only a first-party client can
// obtain. Never by the session cookie, an API key, a client-credentials
// token or a token for another resource (the server's Authenticate
// decides). Starting an MFA enrolment (which reveals the new secret) also
// needs a recent sign-in (auth_time within tokens.account_recent_auth) or
// the current password in the request. Enrolment goes through the same
// functions as the page (Deps.TOTP), so the same rules apply: a code of a
// step already used is refused, and code attempts count against the login
// limits (Deps.LimitAttempt).
package accountapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Paths of the account API, under the server's base path.
const (
	PathMFAEnroll  = "/account/api/mfa/enroll"
	PathMFAConfirm = "/account/api/mfa/confirm"
)

// maxBody bounds the JSON body of an account API request.
const maxBody = 4 << 10

// MFAEnrollResponse is the answer of POST /account/api/mfa/enroll: the key
// to add to an authenticator app.
type MFAEnrollResponse struct {
	// URI is the otpauth:// URI (the content of the QR code).
	URI string `json:"otpauth_uri"`
	// Secret is the base32 secret, for typing into an app.
	Secret string `json:"secret"`
}

// MFAEnrollRequest is the optional body of POST /account/api/mfa/enroll.
type MFAEnrollRequest struct {
	// Password is the user's current password; needed when the sign-in
	// behind the access token is older than tokens.account_recent_auth.
	Password string `json:"password,omitempty"`
}

// MFAConfirmRequest is the body of POST /account/api/mfa/confirm.
type MFAConfirmRequest struct {
	// Code is the first six-digit code from the app.
	Code string `json:"code"`
}

// MFAConfirmResponse is the answer of a successful confirm: the recovery
// codes, which are shown this once.
type MFAConfirmResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// Error codes of the account API besides the RFC 6750 ones.
const (
	ErrCodeAlreadyEnrolled = "already_enrolled"
	ErrCodeBadCode         = "invalid_code"
	// ErrCodeReauth asks for a fresh sign-in or the current password.
	ErrCodeReauth = "reauthentication_required"
)

// Caller is the user an account API request acts for.
type Caller struct {
	User *storage.User
	// AuthTime is when the user signed in for the access token; zero
	// when the token does not say.
	AuthTime time.Time
}

// ErrAlreadyEnrolled is what TOTP.Begin returns when the user's TOTP is
// already on.
var ErrAlreadyEnrolled = errors.New("accountapi: totp already enrolled")

// TOTP is the TOTP enrolment the account page also uses.
type TOTP interface {
	// Begin starts (or restarts) u's enrolment with a new secret and
	// returns its otpauth URI and base32 secret, or ErrAlreadyEnrolled.
	Begin(ctx context.Context, u *storage.User) (uri, secret string, err error)
	// Confirm completes u's pending enrolment when code is a valid first
	// code, returning the new recovery codes; ok is false for a wrong
	// code or when no enrolment is pending. It audits both outcomes.
	Confirm(r *http.Request, u *storage.User, code string) (codes []string, ok bool, err error)
}

// PasswordVerifier checks a password against its stored hash
// (*password.Hasher).
type PasswordVerifier interface {
	Verify(ctx context.Context, encoded, password string) (bool, error)
}

// Deps are what the account API uses; every field is required but
// Logger (slog.Default) and Clock (clock.System).
type Deps struct {
	// Authenticate returns the caller of r, a user login's access token
	// meant for the account API; when there is none it has answered the
	// request (401 or 403 with a challenge) and returns nil.
	Authenticate func(w http.ResponseWriter, r *http.Request) *Caller
	// TOTP starts and confirms enrolments.
	TOTP TOTP
	// LimitAttempt counts a code or password attempt of u against the
	// login limits: a non-nil refusal (429 with Retry-After) when it is
	// refused, an error when the limiter failed.
	LimitAttempt func(r *http.Request, u *storage.User) (refusal *protocol.Error, err error)
	// Passwords checks the current password of a request without a
	// recent sign-in.
	Passwords PasswordVerifier
	// WriteError renders any other error as the server does (503 for an
	// unavailable dependency, server_error otherwise).
	WriteError func(w http.ResponseWriter, r *http.Request, err error)
	// RecentAuth is how recent a sign-in lets an enrolment start without
	// the password (tokens.account_recent_auth).
	RecentAuth time.Duration
	Clock      clock.Clock
	Logger     *slog.Logger
}

// API serves the account API.
type API struct {
	d Deps
}

// New returns the account API on d.
func New(d Deps) *API {
	if d.Clock == nil {
		d.Clock = clock.System
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &API{d: d}
}

// Routes registers the API's endpoints with handle, which takes a
// "METHOD /path" pattern, the route's name for the metrics and the
// handler.
func (a *API) Routes(handle func(pattern, route string, h http.HandlerFunc)) {
	handle("POST "+PathMFAEnroll, "account_api", a.handleMFAEnroll)
	handle("POST "+PathMFAConfirm, "account_api", a.handleMFAConfirm)
}

func (a *API) handleMFAEnroll(w http.ResponseWriter, r *http.Request) {
	c := a.d.Authenticate(w, r)
	if c == nil {
		return
	}
	var req MFAEnrollRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		respond.Error(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "the body must be empty or JSON: {\"password\": \"...\"}")
		return
	}
	if ok := a.recentlyAuthenticated(w, r, c, req.Password); !ok {
		return
	}
	uri, sec, err := a.d.TOTP.Begin(r.Context(), c.User)
	if errors.Is(err, ErrAlreadyEnrolled) {
		respond.Error(w, http.StatusConflict, ErrCodeAlreadyEnrolled, "two-step verification is already on")
		return
	}
	if err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	respond.JSON(w, http.StatusOK, MFAEnrollResponse{URI: uri, Secret: sec})
}

func (a *API) handleMFAConfirm(w http.ResponseWriter, r *http.Request) {
	c := a.d.Authenticate(w, r)
	if c == nil {
		return
	}
	var req MFAConfirmRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&req); err != nil {
		respond.Error(w, http.StatusBadRequest, protocol.ErrInvalidRequest, "the body must be JSON: {\"code\": \"123456\"}")
		return
	}
	if !a.allowAttempt(w, r, c.User, "mfa rate limiter failed") {
		return
	}
	codes, ok, err := a.d.TOTP.Confirm(r, c.User, req.Code)
	if err != nil {
		a.d.WriteError(w, r, err)
		return
	}
	if !ok {
		respond.Error(w, http.StatusBadRequest, ErrCodeBadCode, "that code is not valid, or no enrolment is pending; try the current code from your app")
		return
	}
	respond.JSON(w, http.StatusOK, MFAConfirmResponse{RecoveryCodes: codes})
}

// allowAttempt counts an attempt of u (LimitAttempt) and answers the
// request when it may not go on: 503 when the limiter failed (logged as
// failed), 429 when it refused.
func (a *API) allowAttempt(w http.ResponseWriter, r *http.Request, u *storage.User, failed string) bool {
	refusal, err := a.d.LimitAttempt(r, u)
	if err != nil {
		a.d.Logger.Error(failed, "err", err)
		respond.Error(w, http.StatusServiceUnavailable, protocol.ErrTemporarilyUnavailable, "try again in a moment")
		return false
	}
	if refusal != nil {
		a.d.WriteError(w, r, refusal)
		return false
	}
	return true
}

// recentlyAuthenticated lets a sensitive account change through when the
// sign-in behind the token is recent (within RecentAuth) or password is
// the user's current password (counted against the login limits).
// Otherwise it answers 401 reauthentication_required and returns false.
func (a *API) recentlyAuthenticated(w http.ResponseWriter, r *http.Request, c *Caller, password string) bool {
	window := a.d.RecentAuth
	if !c.AuthTime.IsZero() && a.d.Clock.Now().Sub(c.AuthTime) <= window {
		return true
	}
	if password != "" {
		if !a.allowAttempt(w, r, c.User, "rate limiter failed") {
			return false
		}
		ok, err := a.d.Passwords.Verify(r.Context(), c.User.PasswordHash, password)
		if err != nil {
			a.d.WriteError(w, r, err)
			return false
		}
		if ok {
			return true
		}
	}
	respond.Error(w, http.StatusUnauthorized, ErrCodeReauth, fmt.Sprintf("this change needs a sign-in within the last %s or your current password (\"password\" in the request)", window))
	return false
}
