package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The account API: what a signed-in user does on /account, for
// `gatehouse account` in a terminal. It is authorised only by the bearer
// access token of a user login (a token with a grant, whose subject is
// the user acting on their own account) that is meant for it: its aud
// names AccountResource and it carries the account scope, which only a
// first-party client can obtain. Never by the session cookie, an API key,
// a client-credentials token or a token for another resource. Starting an
// MFA enrolment (which reveals the new secret) also needs a recent sign-in
// (auth_time within tokens.account_recent_auth) or the current password
// in the request. Enrolment uses the same
// functions as the page (beginEnrolment, confirmEnrolment), so the same
// rules apply: a code of a step already used is refused, and code
// attempts count against the login limits.

// Paths of the account API.
const (
	PathAccountAPIMFAEnroll  = "/account/api/mfa/enroll"
	PathAccountAPIMFAConfirm = "/account/api/mfa/confirm"
)

// maxAccountAPIBody bounds the JSON body of an account API request.
const maxAccountAPIBody = 4 << 10

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
	errCodeAlreadyEnrolled = "already_enrolled"
	errCodeBadCode         = "invalid_code"
	// errCodeReauth asks for a fresh sign-in or the current password.
	errCodeReauth = "reauthentication_required"
)

func (s *Server) accountAPIRoutes(handle func(pattern, route string, h http.HandlerFunc)) {
	handle("POST "+PathAccountAPIMFAEnroll, "account_api", s.handleAPIMFAEnroll)
	handle("POST "+PathAccountAPIMFAConfirm, "account_api", s.handleAPIMFAConfirm)
}

// apiUser authenticates the user of an account API request by their
// access token. It answers the request itself and returns nil when the
// request cannot go on.
func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) *storage.User {
	u, _ := s.apiUserClaims(w, r)
	return u
}

// apiUserClaims is apiUser that also returns the token's claims.
func (s *Server) apiUserClaims(w http.ResponseWriter, r *http.Request) (*storage.User, *AccessClaims) {
	p, ok := presentedToken(r)
	if !ok {
		writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidRequest,
			Description: "a bearer access token of a user login is required", Status: http.StatusUnauthorized})
		return nil, nil
	}
	claims, err := s.verifyAccessToken(r.Context(), p.token)
	if errors.Is(err, errInactive) {
		s.writeResourceError(w, p, protocol.NewError(protocol.ErrInvalidToken, "the access token is invalid or expired"))
		return nil, nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil
	}
	if perr := s.checkBinding(r, p, claims); perr != nil {
		s.writeResourceError(w, p, perr)
		return nil, nil
	}
	if claims.GrantID == "" {
		// A client-credentials token: its subject is a client, not a user.
		writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidToken,
			Description: "the account API needs the access token of a user login", Status: http.StatusUnauthorized})
		return nil, nil
	}
	if !hasAudience(claims.Audience, AccountResource(s.issuer)) || !containsScope(parseScope(claims.Scope), ScopeAccount) {
		writeBearerError(w, protocol.Errorf(protocol.ErrInsufficientScope,
			"the access token is not for the account API (it needs the audience %s and the %s scope)", AccountResource(s.issuer), ScopeAccount))
		return nil, nil
	}
	u, err := s.store.GetUser(r.Context(), claims.Subject)
	if errors.Is(err, storage.ErrNotFound) || err == nil && u.Disabled {
		writeBearerError(w, protocol.NewError(protocol.ErrInvalidToken, "the user no longer exists"))
		return nil, nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil, nil
	}
	return u, claims
}

func (s *Server) handleAPIMFAEnroll(w http.ResponseWriter, r *http.Request) {
	u, claims := s.apiUserClaims(w, r)
	if u == nil {
		return
	}
	var req MFAEnrollRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAccountAPIBody))
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, protocol.NewError(protocol.ErrInvalidRequest, "the body must be empty or JSON: {\"password\": \"...\"}"))
		return
	}
	if ok := s.recentlyAuthenticated(w, r, u, claims, req.Password); !ok {
		return
	}
	e, err := s.beginEnrolment(r.Context(), u)
	if errors.Is(err, errAlreadyEnrolled) {
		writeJSON(w, http.StatusConflict, &protocol.Error{Code: errCodeAlreadyEnrolled,
			Description: "two-step verification is already on"})
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MFAEnrollResponse{URI: e.URI, Secret: e.Secret})
}

func (s *Server) handleAPIMFAConfirm(w http.ResponseWriter, r *http.Request) {
	u := s.apiUser(w, r)
	if u == nil {
		return
	}
	var req MFAConfirmRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, maxAccountAPIBody)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, protocol.NewError(protocol.ErrInvalidRequest, "the body must be JSON: {\"code\": \"123456\"}"))
		return
	}
	refused, err := s.limitCodeAttempt(r, u)
	if err != nil {
		s.log.Error("mfa rate limiter failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, protocol.NewError(protocol.ErrTemporarilyUnavailable, "try again in a moment"))
		return
	}
	if refused != nil {
		s.writeError(w, r, tooManyRequests(*refused))
		return
	}
	codes, ok, err := s.confirmEnrolment(r, u, req.Code)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !ok {
		writeJSON(w, http.StatusBadRequest, &protocol.Error{Code: errCodeBadCode,
			Description: "that code is not valid, or no enrolment is pending; try the current code from your app"})
		return
	}
	writeJSON(w, http.StatusOK, MFAConfirmResponse{RecoveryCodes: codes})
}

// recentlyAuthenticated lets a sensitive account change through when the
// sign-in behind the token is recent (auth_time within
// tokens.account_recent_auth) or password is the user's current password
// (counted against the login limits). Otherwise it answers 401
// reauthentication_required and returns false.
func (s *Server) recentlyAuthenticated(w http.ResponseWriter, r *http.Request, u *storage.User, c *AccessClaims, password string) bool {
	window := time.Duration(s.cfg.Tokens.AccountRecentAuth)
	if c.AuthTime > 0 && s.clock.Now().Sub(time.Unix(c.AuthTime, 0)) <= window {
		return true
	}
	if password != "" {
		refused, err := s.limitCodeAttempt(r, u)
		if err != nil {
			s.log.Error("rate limiter failed", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, protocol.NewError(protocol.ErrTemporarilyUnavailable, "try again in a moment"))
			return false
		}
		if refused != nil {
			s.writeError(w, r, tooManyRequests(*refused))
			return false
		}
		ok, err := s.hasher.Verify(r.Context(), u.PasswordHash, password)
		if err != nil {
			s.writeError(w, r, err)
			return false
		}
		if ok {
			return true
		}
	}
	writeJSON(w, http.StatusUnauthorized, &protocol.Error{Code: errCodeReauth,
		Description: fmt.Sprintf("this change needs a sign-in within the last %s or your current password (\"password\" in the request)", window)})
	return false
}
