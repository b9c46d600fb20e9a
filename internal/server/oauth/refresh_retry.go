package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// An idempotent refresh retry. A client that sends a refresh request may
// die (SIGKILL, a crash, a lost connection) after the server rotated the
// refresh token and before it stored the answer; it then holds only the
// spent token. To make that retry harmless, the client sends a random
// Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) with the
// request, after writing it next to the refresh token it is about to
// spend. The server keeps, with the rotated token, a hash of the key and
// the successor refresh token sealed with its secret key. A repeat of the
// request with the old token is answered with the same successor (and a
// new access token) only when:
//
//   - the client is the one the token was issued to (checked for every
//     refresh) and the token and its family are not revoked;
//   - the key is the same, and so is the DPoP key of the proof (the hash
//     covers both), so neither a copied token nor a copied key alone is
//     enough where the token is bound;
//   - it comes within tokens.refresh_retry_window (24 h; at least
//     tokens.refresh_reuse_interval) of the rotation;
//   - the successor has not been used itself (rotated, revoked, expired).
//
// Anything else is a repeat or a reuse as before: invalid_grant, and the
// family revoked once the reuse interval has passed. A credential file
// copied while a refresh is pending lets its holder retry like the owner;
// that is no more than the same file copied at any other time gives (a
// live refresh token), and the second use of the successor revokes the
// family. Two requests with the same
// token and no key, or different keys, still get exactly one success.

// retryWindow is how long after a rotation a keyed retry is answered:
// tokens.refresh_retry_window, never less than the reuse interval.
func (e *Endpoints) retryWindow() time.Duration {
	return max(time.Duration(e.cfg.Tokens.RefreshRetryWindow), time.Duration(e.cfg.Tokens.RefreshReuseInterval))
}

// withinRotation reports whether now is no later than window after the
// rotation of rt (false for a zero window or an unknown rotation time).
func (e *Endpoints) withinRotation(rt *storage.RefreshToken, now time.Time, window time.Duration) bool {
	return window > 0 && !rt.RotatedAt.IsZero() && !now.After(rt.RotatedAt.Add(window))
}

// IdempotencyKeyHeader is the request header of the key
// (draft-ietf-httpapi-idempotency-key-header §2).
const IdempotencyKeyHeader = "Idempotency-Key"

// Bounds of an idempotency key's value. The draft sets none; 16
// characters is the shortest a random 128-bit value takes in base64 or
// hex-like encodings that clients use (a UUID has 36), and the upper
// bound keeps a header from carrying anything but a key.
const (
	minIdempotencyKey = 16
	maxIdempotencyKey = 255
)

var (
	// errRefreshRetried is a rotated token presented again with the
	// idempotency key of its rotation within the reuse interval.
	errRefreshRetried = errors.New("refresh retried with the idempotency key of its rotation")
	// errRetryNotAnswered: the retry's successor can no longer be sent
	// (used, revoked, expired, or no longer readable).
	errRetryNotAnswered = errors.New("the successor of a retried refresh cannot be sent again")
)

// idempotencyKey returns the request's Idempotency-Key ("" without one).
// The draft (§2) makes its value a Structured Field String (RFC 8941
// §3.3.3): characters between double quotes, with \" and \\ as the only
// escapes.
func idempotencyKey(h http.Header) (string, error) {
	values := h.Values(IdempotencyKeyHeader)
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", protocol.Errorf(protocol.ErrInvalidRequest, "send one %s header, not %d", IdempotencyKeyHeader, len(values))
	}
	key, err := parseSFString(strings.TrimSpace(values[0]))
	if err == nil && (len(key) < minIdempotencyKey || len(key) > maxIdempotencyKey) {
		err = fmt.Errorf("the key is %d characters; want %d to %d", len(key), minIdempotencyKey, maxIdempotencyKey)
	}
	if err != nil {
		return "", protocol.Errorf(protocol.ErrInvalidRequest, "the %s header must be a quoted random string such as \"Ut9mhnP0sLRlV3e8x0p6Bw\": %v", IdempotencyKeyHeader, err)
	}
	return key, nil
}

// parseSFString parses an RFC 8941 §4.2.5 sf-string.
func parseSFString(s string) (string, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", errors.New("not in double quotes")
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if i == len(s)-1 || (s[i] != '"' && s[i] != '\\') {
				return "", errors.New(`a backslash escapes only " and \`)
			}
			b.WriteByte(s[i])
		case c == '"':
			return "", errors.New("an unescaped double quote inside")
		case c < 0x20 || c > 0x7e:
			return "", fmt.Errorf("a character outside printable ASCII at %d", i)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// retryKeyHash is what a rotated token keeps of the idempotency key of
// the request that rotated it: a hash of the key together with the DPoP
// key thumbprint of that request's proof ("" without one), so a retry
// must repeat both.
func retryKeyHash(key, jkt string) string {
	sum := sha256.Sum256([]byte("gatehouse refresh retry v1\x00" + jkt + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// retryKeyMatches reports whether a retry's key hash is the one stored
// with the rotation, in constant time.
func retryKeyMatches(stored, presented string) bool {
	return stored != "" && subtle.ConstantTimeCompare([]byte(stored), []byte(presented)) == 1
}

// retrySuccessorAD binds a sealed successor to the row of the token it
// replaced, so it cannot be moved to another row.
func retrySuccessorAD(rotatedHash string) []byte {
	return []byte("gatehouse refresh successor v1\x00" + rotatedHash)
}

// sealRetry records on old, which is being rotated into the refresh
// token successor by a request with the key hash keyHash, what a retry
// of that request needs.
func (e *Endpoints) sealRetry(old *storage.RefreshToken, keyHash, successor string) error {
	sealed, err := e.secretKey.Seal([]byte(successor), retrySuccessorAD(old.Hash))
	if err != nil {
		return fmt.Errorf("seal refresh successor: %w", err)
	}
	old.RetryKeyHash, old.RetrySuccessor = keyHash, sealed
	return nil
}

// retriedSuccessor returns the successor refresh token of rotated, the
// token a retry presented, with its stored row, when it may be sent again:
// it has not been rotated, revoked or expired since. Otherwise the error
// is errRetryNotAnswered.
func (e *Endpoints) retriedSuccessor(r *http.Request, rotated *storage.RefreshToken) (string, *storage.RefreshToken, error) {
	plain, err := e.secretKey.Open(rotated.RetrySuccessor, retrySuccessorAD(rotated.Hash))
	if err != nil {
		// Sealed under another secret key (it was replaced since).
		e.log.Warn("server: cannot open the successor of a retried refresh", "err", err)
		return "", nil, errRetryNotAnswered
	}
	successor := string(plain)
	next, err := e.store.GetRefreshToken(r.Context(), secret.Hash(successor))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return "", nil, errRetryNotAnswered
	case err != nil:
		return "", nil, err
	}
	if next.Rotated || next.Revoked || !e.clock.Now().Before(next.ExpiresAt) {
		return "", nil, errRetryNotAnswered
	}
	return successor, next, nil
}
