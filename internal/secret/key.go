package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of the server secret key in bytes (AES-256).
const KeySize = 32

// sealVersion is the first byte of every sealed message. A new format gets a
// new version, and Open keeps reading the old ones.
const sealVersion byte = 1

const nonceSize = 12

// ErrOpen is returned by Key.Open when a sealed message is malformed, was
// sealed with another key or other additional data, or was modified.
var ErrOpen = errors.New("secret: cannot decrypt: wrong key, wrong additional data or corrupted data")

// Key is the server secret key: 32 bytes used with AES-256-GCM to encrypt
// data at rest. Its String method never prints the key.
type Key struct {
	aead cipher.AEAD
	raw  [KeySize]byte
}

// NewKey returns a new random Key.
func NewKey() *Key {
	var b [KeySize]byte
	_, _ = rand.Read(b[:])
	k, err := keyFromBytes(b[:])
	if err != nil {
		// AES accepts every 32-byte key.
		panic(err)
	}
	return k
}

func keyFromBytes(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("secret: key is %d bytes, want %d", len(b), KeySize)
	}
	block, err := aes.NewCipher(b)
	if err != nil {
		return nil, fmt.Errorf("secret: key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: key: %w", err)
	}
	k := &Key{aead: aead}
	copy(k.raw[:], b)
	return k, nil
}

// ParseKey parses a key written as 64 hexadecimal characters or as the
// base64 (standard or URL alphabet, padded or not) of 32 bytes. Surrounding
// white space is ignored. The error never contains the input.
func ParseKey(s string) (*Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("secret: key is empty; want 64 hex characters or base64 of 32 bytes")
	}
	if len(s) == 2*KeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return keyFromBytes(b)
		}
	}
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding,
		base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.Strict().DecodeString(s)
		if err != nil || len(b) != KeySize {
			continue
		}
		return keyFromBytes(b)
	}
	return nil, fmt.Errorf("secret: key is not 64 hex characters or base64 of %d bytes (got %d characters); generate one with `openssl rand -hex 32`", KeySize, len(s))
}

// Encode returns the key as 64 lowercase hexadecimal characters, the form
// ParseKey reads and LoadOrCreateKeyFile writes.
func (k *Key) Encode() string { return hex.EncodeToString(k.raw[:]) }

// String returns a placeholder so that the key never ends up in logs.
func (k *Key) String() string { return "secret.Key(redacted)" }

// GoString returns the same placeholder as String for %#v.
func (k *Key) GoString() string { return k.String() }

// Seal encrypts and authenticates plaintext and authenticates additionalData
// (which is not stored: Open needs the same value). Binding a ciphertext to
// what it belongs to, such as a row id, stops it from being moved to another
// row. The result is a version byte, a random 12-byte nonce and the
// AES-256-GCM ciphertext with its tag.
func (k *Key) Seal(plaintext, additionalData []byte) ([]byte, error) {
	if k == nil || k.aead == nil {
		return nil, errors.New("secret: seal: key is not initialised; use ParseKey, NewKey or LoadOrCreateKeyFile")
	}
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+k.aead.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1 : 1+nonceSize])
	return k.aead.Seal(out, out[1:1+nonceSize], plaintext, additionalData), nil
}

// Open decrypts a message from Seal with the same additionalData. Any
// failure is ErrOpen (wrapped), or an error naming an unknown version.
func (k *Key) Open(ciphertext, additionalData []byte) ([]byte, error) {
	if k == nil || k.aead == nil {
		return nil, errors.New("secret: open: key is not initialised; use ParseKey, NewKey or LoadOrCreateKeyFile")
	}
	if len(ciphertext) == 0 {
		return nil, fmt.Errorf("secret: open: empty message: %w", ErrOpen)
	}
	if ciphertext[0] != sealVersion {
		return nil, fmt.Errorf("secret: open: unknown format version %d: %w", ciphertext[0], ErrOpen)
	}
	if len(ciphertext) < 1+nonceSize+k.aead.Overhead() {
		return nil, fmt.Errorf("secret: open: message too short: %w", ErrOpen)
	}
	nonce := ciphertext[1 : 1+nonceSize]
	plain, err := k.aead.Open(nil, nonce, ciphertext[1+nonceSize:], additionalData)
	if err != nil {
		return nil, fmt.Errorf("secret: open: %w", ErrOpen)
	}
	return plain, nil
}

// Derive returns 32 bytes derived from the key for one purpose named by
// label (HMAC-SHA-256 of the label under the key). Different labels give
// independent values; processes sharing the key derive the same value,
// which is how replicas agree on a secret without storing it.
func (k *Key) Derive(label string) []byte {
	m := hmac.New(sha256.New, k.raw[:])
	m.Write([]byte("gatehouse derive v1\x00" + label))
	return m.Sum(nil)
}
