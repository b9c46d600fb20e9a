package credstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// dataKeySize is the size of a profile's data key: AES-256.
const dataKeySize = 32

// decodeDataKey parses a data key as stored in the keyring (standard
// base64, 44 characters: well under every platform's item size limit).
func decodeDataKey(s string) ([]byte, bool) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) != dataKeySize {
		return nil, false
	}
	return key, true
}

// seal encrypts plain with AES-256-GCM under key and a fresh random
// 96-bit nonce. A data key encrypts one profile's credential once per
// write, far below GCM's limit for random nonces.
func seal(key, plain, additional []byte) (sealed, error) {
	aead, err := newGCM(key)
	if err != nil {
		return sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return sealed{Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plain, additional)}, nil
}

// open decrypts and authenticates box.
func open(key []byte, box sealed, additional []byte) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(box.Nonce) != aead.NonceSize() {
		return nil, errors.New("bad nonce")
	}
	plain, err := aead.Open(nil, box.Nonce, box.Ciphertext, additional)
	if err != nil {
		return nil, errors.New("authentication failed")
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("credstore: cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("credstore: cipher: %w", err)
	}
	return aead, nil
}
