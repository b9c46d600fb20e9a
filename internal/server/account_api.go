package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The account API: what a signed-in user does on /account, for
// `gatehouse account` in a terminal. It is authorised only by the bearer
// access token of a user login (a token with a grant, whose subject is
// the user acting on their own account): never by the session cookie, an
// API key or a client-credentials token. Enrolment uses the same
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
)

func (s *Server) accountAPIRoutes(handle func(pattern, route string, h http.HandlerFunc)) {
	handle("POST "+PathAccountAPIMFAEnroll, "account_api", s.handleAPIMFAEnroll)
	handle("POST "+PathAccountAPIMFAConfirm, "account_api", s.handleAPIMFAConfirm)
}

// apiUser authenticates the user of an account API request by their
// access token. It answers the request itself and returns nil when the
// request cannot go on.
func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) *storage.User {
	tok, ok := bearerToken(r)
	if !ok {
		writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidRequest,
			Description: "a bearer access token of a user login is required", Status: http.StatusUnauthorized})
		return nil
	}
	claims, err := s.verifyAccessToken(r.Context(), tok)
	if errors.Is(err, errInactive) {
		writeBearerError(w, protocol.NewError(protocol.ErrInvalidToken, "the access token is invalid or expired"))
		return nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	if claims.GrantID == "" {
		// A client-credentials token: its subject is a client, not a user.
		writeBearerError(w, &protocol.Error{Code: protocol.ErrInvalidToken,
			Description: "the account API needs the access token of a user login", Status: http.StatusUnauthorized})
		return nil
	}
	u, err := s.store.GetUser(r.Context(), claims.Subject)
	if errors.Is(err, storage.ErrNotFound) || err == nil && u.Disabled {
		writeBearerError(w, protocol.NewError(protocol.ErrInvalidToken, "the user no longer exists"))
		return nil
	}
	if err != nil {
		s.writeError(w, r, err)
		return nil
	}
	return u
}

func (s *Server) handleAPIMFAEnroll(w http.ResponseWriter, r *http.Request) {
	u := s.apiUser(w, r)
	if u == nil {
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
