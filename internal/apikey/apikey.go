// Package apikey makes and parses Gatehouse API keys.
//
// A key is written
//
//	gatehouse_<id>_<secret>
//
// where id is 16 characters of [a-z0-9] and secret is 32 random bytes as
// unpadded base64url (43 characters, which may contain "_" and "-"). The
// fixed prefix lets secret scanners (GitHub secret scanning, gitleaks,
// trufflehog) recognise a leaked key; the id names the key in listings,
// audit events and the "apikey:<id>" subject without revealing anything;
// the secret carries 256 random bits, above the 128 bits RFC 6749 §10.10
// asks for ("The probability of an attacker guessing generated tokens ...
// MUST be less than or equal to 2^(-128)").
//
// The server stores only secret.Hash of the secret part, looks the key up
// by its id and compares hashes in constant time.
package apikey

import (
	"crypto/rand"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
)

// Prefix starts every API key.
const Prefix = "gatehouse_"

// Lengths of the parts of a key.
const (
	IDLen     = 16
	SecretLen = 43
	// Len is the length of a whole key.
	Len = len(Prefix) + IDLen + 1 + SecretLen
)

// idAlphabet is what an id is made of.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Generate returns a new key and its id.
func Generate() (id, key string) {
	id = newID()
	return id, ForID(id)
}

// ForID returns a new key with a fresh secret for an existing id, as a
// rotation does. id must satisfy ValidID.
func ForID(id string) string {
	return Prefix + id + "_" + secret.NewToken()
}

// newID returns IDLen characters drawn uniformly from idAlphabet with
// crypto/rand (rejection sampling: bytes ≥ 252 are redrawn so that every
// character has probability 1/36).
func newID() string {
	const limit = 256 - 256%len(idAlphabet)
	b := make([]byte, IDLen)
	buf := make([]byte, 2*IDLen)
	for i := 0; i < IDLen; {
		// crypto/rand.Read never returns an error.
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if int(c) >= limit {
				continue
			}
			b[i] = idAlphabet[int(c)%len(idAlphabet)]
			if i++; i == IDLen {
				break
			}
		}
	}
	return string(b)
}

// Parse splits a key into its id and secret. It reports false for anything
// that is not exactly the format Generate produces. The prefix and the id
// are split off at the first two underscores; the rest is the secret,
// which may itself contain underscores.
func Parse(key string) (id, sec string, ok bool) {
	rest, ok := strings.CutPrefix(key, Prefix)
	if !ok || len(key) != Len {
		return "", "", false
	}
	id, sec, ok = strings.Cut(rest, "_")
	if !ok || !ValidID(id) || !validSecret(sec) {
		return "", "", false
	}
	return id, sec, true
}

// HasPrefix reports whether tok claims to be an API key: it starts with
// Prefix. Such a token is judged as an API key, and rejected if Parse
// refuses it, rather than being tried as another kind of token.
func HasPrefix(tok string) bool { return strings.HasPrefix(tok, Prefix) }

// ValidID reports whether id has the form of a key id.
func ValidID(id string) bool {
	if len(id) != IDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !strings.ContainsRune(idAlphabet, rune(id[i])) {
			return false
		}
	}
	return true
}

// validSecret reports whether s is SecretLen characters of the unpadded
// base64url alphabet.
func validSecret(s string) bool {
	if len(s) != SecretLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
