package secret

import (
	"crypto/rand"
	"strings"
	"unicode"
)

// UserCodeAlphabet is the set of characters in a device user code: 20 upper
// case consonants, following RFC 8628 §6.1, which suggests "BCDFGHJKLMNPQRSTVWXZ"
// (no vowels, so no words) and notes that a code of 8 such characters
// carries 34.5 bits of entropy.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLength is the number of alphabet characters in a user code; the
// formatted code has a '-' after the fourth.
const UserCodeLength = 8

// NewUserCode returns a new device user code such as "WDJB-MJHT": eight
// characters drawn uniformly from UserCodeAlphabet with crypto/rand.
func NewUserCode() string {
	const n = len(UserCodeAlphabet)
	// Reject bytes >= 240 so that every letter is equally likely (no
	// modulo bias): 240 is the largest multiple of 20 not above 256.
	const limit = 256 / n * n
	var out [UserCodeLength + 1]byte
	buf := make([]byte, 16)
	i := 0
	for i < UserCodeLength {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			pos := i
			if i >= UserCodeLength/2 {
				pos++ // leave room for the '-'
			}
			out[pos] = UserCodeAlphabet[int(b)%n]
			i++
			if i == UserCodeLength {
				break
			}
		}
	}
	out[UserCodeLength/2] = '-'
	return string(out[:])
}

// NormalizeUserCode turns what a user typed into the canonical form used
// for lookups: '-' and white space are dropped and ASCII letters are upper
// cased. Nothing else changes, so a mistyped character still fails to match
// ("wdjb mjht" and "WDJB-MJHT" give "WDJBMJHT"). Hash the result for storage
// and compare the normalised forms, never the formatted ones.
func NormalizeUserCode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '-' || unicode.IsSpace(r):
			continue
		case 'a' <= r && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			// Only ASCII is upper cased: strings.ToUpper would map
			// e.g. 'ſ' (U+017F) to 'S' and accept a code that was
			// not typed.
			b.WriteRune(r)
		}
	}
	return b.String()
}
