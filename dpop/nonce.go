package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// DefaultNonceWindow is how long a nonce from Nonces stays current; it is
// accepted for one more window after that.
const DefaultNonceWindow = 5 * time.Minute

// Nonces makes and checks server-provided nonces (RFC 9449 §8) without
// state: a nonce is the number of the current time window and an HMAC of
// it under a secret, so every replica that shares the secret makes the
// same nonce and accepts the others'. A nonce is accepted during its own
// window and the next, so a client that just fetched one does not see it
// expire at once. It is safe for concurrent use.
type Nonces struct {
	secret []byte
	window time.Duration
	clock  clock.Clock
	// last holds the nonces of the latest window asked for: the server
	// sends and checks the same two nonces for a whole window, so the
	// two HMACs are computed once per window, not per request. Only the
	// window's number, never a client's input, selects the entry.
	last atomic.Pointer[windowNonces]
}

// windowNonces are the nonces of window slot and of the window before.
type windowNonces struct {
	slot            uint64
	current, before string
}

// NewNonces returns Nonces keyed with secret (32 bytes or more; derive it
// from the server's own key material, never reuse a signing key as is).
// window zero means DefaultNonceWindow; clk nil means clock.System.
func NewNonces(secret []byte, window time.Duration, clk clock.Clock) (*Nonces, error) {
	if len(secret) < 32 {
		return nil, errors.New("dpop: nonce secret must be 32 bytes or more")
	}
	if window <= 0 {
		window = DefaultNonceWindow
	}
	if clk == nil {
		clk = clock.System
	}
	return &Nonces{secret: append([]byte(nil), secret...), window: window, clock: clk}, nil
}

// Nonce returns the current nonce, for the DPoP-Nonce header.
func (n *Nonces) Nonce() string { return n.at(n.slot()).current }

// Valid reports whether nonce is the current nonce or the previous
// window's.
func (n *Nonces) Valid(nonce string) bool {
	if len(nonce) != nonceLen {
		return false
	}
	w := n.at(n.slot())
	return hmac.Equal([]byte(nonce), []byte(w.current)) || hmac.Equal([]byte(nonce), []byte(w.before))
}

// at returns the nonces of window slot and the one before, computed
// once per window.
func (n *Nonces) at(slot uint64) *windowNonces {
	if w := n.last.Load(); w != nil && w.slot == slot {
		return w
	}
	w := &windowNonces{slot: slot, current: n.make(slot), before: n.make(slot - 1)}
	n.last.Store(w)
	return w
}

// nonceLen is the length of a nonce: base64url of 8 + 16 bytes.
const nonceLen = 32

func (n *Nonces) slot() uint64 { return uint64(n.clock.Now().UnixNano() / int64(n.window)) }

func (n *Nonces) make(slot uint64) string {
	var b [8 + 32]byte
	binary.BigEndian.PutUint64(b[:8], slot)
	m := hmac.New(sha256.New, n.secret)
	m.Write([]byte("gatehouse dpop nonce\x00"))
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:8+16])
}
