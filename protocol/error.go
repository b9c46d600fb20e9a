package protocol

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes from RFC 6749 §4.1.2.1 and §5.2, RFC 8628 §3.5, RFC 7009 §2.2.1,
// RFC 6750 §3.1 and RFC 8707 §2.
const (
	ErrInvalidRequest          = "invalid_request"
	ErrInvalidClient           = "invalid_client"
	ErrInvalidGrant            = "invalid_grant"
	ErrUnauthorizedClient      = "unauthorized_client"
	ErrUnsupportedGrantType    = "unsupported_grant_type"
	ErrInvalidScope            = "invalid_scope"
	ErrAccessDenied            = "access_denied"
	ErrUnsupportedResponseType = "unsupported_response_type"
	ErrServerError             = "server_error"
	ErrTemporarilyUnavailable  = "temporarily_unavailable"
	ErrAuthorizationPending    = "authorization_pending"
	ErrSlowDown                = "slow_down"
	ErrExpiredToken            = "expired_token"
	ErrUnsupportedTokenType    = "unsupported_token_type"
	ErrInvalidToken            = "invalid_token"
	ErrInsufficientScope       = "insufficient_scope"
	ErrLoginRequired           = "login_required"
	ErrConsentRequired         = "consent_required"
	ErrTooManyRequests         = "too_many_requests"
	// ErrInvalidTarget is RFC 8707 §2: "The requested resource is invalid,
	// missing, unknown, or malformed."
	ErrInvalidTarget = "invalid_target"
	// OIDC Core §3.1.2.6: request objects are not supported.
	ErrRequestNotSupported    = "request_not_supported"
	ErrRequestURINotSupported = "request_uri_not_supported"
	// ErrInvalidDPoPProof is RFC 9449 §5, §7.1: the DPoP proof is
	// missing where required, or invalid.
	ErrInvalidDPoPProof = "invalid_dpop_proof"
	// ErrUseDPoPNonce is RFC 9449 §8, §9: retry with the nonce in the
	// DPoP-Nonce response header.
	ErrUseDPoPNonce = "use_dpop_nonce"
)

// Error is an OAuth 2.0 error response (RFC 6749 §5.2). Grants return it as
// a value; the HTTP edge renders it once. Status is the HTTP status to use;
// zero means the default for the code.
type Error struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
	URI         string `json:"error_uri,omitempty"`
	Status      int    `json:"-"`
	// RetryAfter, when positive, is sent as a Retry-After header (seconds).
	RetryAfter int `json:"-"`
	// DPoPNonce, when set, is sent as the DPoP-Nonce header (RFC 9449
	// §8): with use_dpop_nonce, the nonce the next proof must carry. A
	// client that parses an error response fills it from that header.
	DPoPNonce string `json:"-"`
}

// NewError returns an *Error with the given code and description.
func NewError(code, description string) *Error {
	return &Error{Code: code, Description: description}
}

// Errorf returns an *Error with a formatted description.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Description == "" {
		return e.Code
	}
	return e.Code + ": " + e.Description
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidGrant}) works.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}

// HTTPStatus is the status code the error is rendered with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	switch e.Code {
	case ErrInvalidClient, ErrInvalidToken:
		return http.StatusUnauthorized
	case ErrInsufficientScope, ErrAccessDenied:
		return http.StatusForbidden
	case ErrServerError:
		return http.StatusInternalServerError
	case ErrTemporarilyUnavailable:
		return http.StatusServiceUnavailable
	case ErrTooManyRequests:
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

// WithStatus returns a copy of e with the HTTP status set.
func (e *Error) WithStatus(status int) *Error {
	c := *e
	c.Status = status
	return &c
}

// AsError converts any error into an *Error. Errors that are not already an
// *Error become server_error with no description, so internal details never
// reach the wire.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: ErrServerError}
}
