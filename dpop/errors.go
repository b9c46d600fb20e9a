package dpop

import (
	"errors"
	"fmt"
)

// OAuth error codes of RFC 9449.
const (
	// CodeInvalidProof: the proof is missing where required, malformed,
	// or fails a check (§5, §7.1).
	CodeInvalidProof = "invalid_dpop_proof"
	// CodeUseNonce: the server requires a nonce it provides in the
	// DPoP-Nonce header (§8, §9).
	CodeUseNonce = "use_dpop_nonce"
)

// Error is a refused proof. Code is the OAuth error code to answer with;
// Description says which check failed, for the error_description (it never
// quotes the whole proof).
type Error struct {
	Code        string
	Description string
	// Err is the cause, when there is one (a jwt error, ErrReplayed, a
	// replay cache failure).
	Err error
}

func (e *Error) Error() string {
	if e.Description == "" {
		return "dpop: " + e.Code
	}
	return "dpop: " + e.Code + ": " + e.Description
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, ErrInvalidProof) matches every invalid proof.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Description == "" && t.Err == nil
}

// Sentinels to compare with errors.Is.
var (
	// ErrInvalidProof matches every error with CodeInvalidProof.
	ErrInvalidProof = &Error{Code: CodeInvalidProof}
	// ErrUseNonce matches every error with CodeUseNonce.
	ErrUseNonce = &Error{Code: CodeUseNonce}
	// ErrReplayed is the cause of the error for a proof whose jti was
	// seen before (RFC 9449 §11.1).
	ErrReplayed = errors.New("dpop: proof replayed")
	// ErrNoProof is the cause of the error for a request without a DPoP
	// header where one is required.
	ErrNoProof = errors.New("dpop: no DPoP header")
)

// invalid returns an invalid_dpop_proof error.
func invalid(cause error, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidProof, Description: fmt.Sprintf(format, args...), Err: cause}
}
