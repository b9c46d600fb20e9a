package password

import (
	"errors"
	"unicode/utf8"
)

// Policy limits. NIST SP 800-63B §3.1.1.2 asks for at least 8 characters
// and for accepting long passphrases; the upper bound only keeps request
// sizes sane.
const (
	MinLength = 8    // characters (Unicode code points)
	MaxBytes  = 1024 // bytes of UTF-8
)

// Policy errors returned by CheckPolicy. Their messages can be shown to
// the user as they are.
var (
	ErrTooShort = errors.New("password must be at least 8 characters long")
	ErrTooLong  = errors.New("password must be at most 1024 bytes long")
)

// CheckPolicy reports whether password may be set as a new password:
// ErrTooShort under MinLength characters, ErrTooLong over MaxBytes bytes.
// Login does not call it, so a policy change never locks anyone out.
func CheckPolicy(password string) error {
	if len(password) > MaxBytes {
		return ErrTooLong
	}
	if utf8.RuneCountInString(password) < MinLength {
		return ErrTooShort
	}
	return nil
}
