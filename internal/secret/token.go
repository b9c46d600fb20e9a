// Package secret makes and compares the server's opaque secrets and holds
// the server secret key.
//
// Opaque tokens (authorization codes, refresh tokens, device codes, session
// ids, client secrets, API keys) come from NewToken: 256 random bits, far
// above the 128 bits RFC 6749 §10.10 asks for ("The probability of an
// attacker guessing generated tokens ... MUST be less than or equal to
// 2^(-128)"). They are high-entropy, so storage keeps their SHA-256 (Hash)
// instead of a slow password hash, and comparisons use Equal.
//
// Device user codes (RFC 8628) come from NewUserCode and are read back
// through NormalizeUserCode.
//
// Key is the server secret key (AES-256-GCM) that encrypts data at rest,
// such as the private signing keys. LoadOrCreateKeyFile keeps it in a 0600
// file that is created atomically on first start.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
)

// TokenBytes is the number of random bytes in a token from NewToken.
const TokenBytes = 32

// NewToken returns a new opaque token: 32 bytes from crypto/rand encoded as
// unpadded base64url (43 characters).
func NewToken() string {
	b := make([]byte, TokenBytes)
	// crypto/rand.Read never returns an error; it crashes the program if
	// the system's random source fails.
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewID returns a random identifier for users, grants and tokens: 128
// bits of a NewToken, base64url (22 characters).
func NewID() string { return NewToken()[:22] }

// Hash returns the SHA-256 of token as lowercase hex. It is how opaque
// secrets are stored and looked up.
func Hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Equal reports whether a and b are equal in time that depends only on their
// lengths, not on where they differ.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
