package resource

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// JWKS refresh timing.
const (
	// MinJWKSRefetchInterval is the least time between two JWKS fetches,
	// whatever asks for them: unknown kids, expired max-age, retries.
	MinJWKSRefetchInterval = 10 * time.Second
	// DefaultJWKSRefresh is how long a JWKS is used before it is fetched
	// again when its response carries no Cache-Control max-age.
	DefaultJWKSRefresh = 5 * time.Minute
	// maxJWKSRefresh caps a max-age hint.
	maxJWKSRefresh = 24 * time.Hour
)

// publicKey is one usable key of the issuer's JWKS.
type publicKey struct {
	alg string // ES256 or EdDSA: the one algorithm this key verifies
	ec  *ecdsa.PublicKey
	ed  ed25519.PublicKey
}

// verify checks a JWS signature (RFC 7515 §5.2) with the key's own
// algorithm, never one named by the token.
func (k *publicKey) verify(signingInput string, sig []byte) bool {
	switch k.alg {
	case ES256:
		// RFC 7518 §3.4: the signature is R || S, 32 bytes each.
		if len(sig) != 64 {
			return false
		}
		digest := sha256.Sum256([]byte(signingInput))
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(k.ec, digest[:], r, s)
	case EdDSA:
		return len(sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, []byte(signingInput), sig)
	}
	return false
}

func (k *publicKey) equal(o *publicKey) bool {
	if k.alg != o.alg {
		return false
	}
	if k.ec != nil {
		return k.ec.Equal(o.ec)
	}
	return k.ed.Equal(o.ed)
}

// keySet is one fetched JWKS.
type keySet struct {
	keys      map[string]*publicKey // by kid
	refreshAt time.Time             // when to fetch it again
}

// keySource fetches the JWKS lazily, keeps the last good one, and fetches
// again when a kid is unknown or the set's max-age has passed — at most
// once per MinJWKSRefetchInterval, and one fetch at a time.
type keySource struct {
	url    string
	client *http.Client
	clock  clock.Clock

	set         atomic.Pointer[keySet] // nil until the first good fetch
	lastAttempt atomic.Int64           // UnixNano of the last fetch started; 0: none
	refreshing  atomic.Bool            // a background refresh is running
	flight      singleflight.Group
}

// errNoKeys means no JWKS could be fetched yet.
var errNoKeys = fmt.Errorf("%w: the issuer's JWKS could not be fetched", ErrUnavailable)

// current returns the key set in use, or nil.
func (s *keySource) current() *keySet { return s.set.Load() }

// lookup returns the key for kid. A kid the current set does not hold makes
// it fetch the JWKS again (if the rate limit allows) and look once more; a
// kid still unknown then is an invalid token.
func (s *keySource) lookup(ctx context.Context, kid string, now time.Time) (*publicKey, error) {
	if set := s.current(); set != nil {
		if k := set.keys[kid]; k != nil {
			return k, nil
		}
	}
	set, err := s.refetch(ctx, now)
	if set != nil {
		if k := set.keys[kid]; k != nil {
			return k, nil
		}
	}
	if err != nil {
		return nil, err
	}
	return nil, invalidf("kid %.64q is not in the issuer's JWKS", kid)
}

// due reports whether the rate limit allows a fetch now. A clock that went
// backwards does not block fetches.
func (s *keySource) due(now time.Time) bool {
	last := s.lastAttempt.Load()
	d := now.UnixNano() - last
	return last == 0 || d < 0 || d >= int64(MinJWKSRefetchInterval)
}

// claim records a fetch attempt at now if the rate limit allows one.
func (s *keySource) claim(now time.Time) bool {
	for {
		last := s.lastAttempt.Load()
		if d := now.UnixNano() - last; last != 0 && d >= 0 && d < int64(MinJWKSRefetchInterval) {
			return false
		}
		if s.lastAttempt.CompareAndSwap(last, now.UnixNano()) {
			return true
		}
	}
}

// refetch fetches the JWKS if the rate limit allows, sharing one fetch
// among concurrent callers, and returns the set in use afterwards. When it
// fetched and failed, it returns the previous set (if any) and the error.
func (s *keySource) refetch(ctx context.Context, now time.Time) (*keySet, error) {
	if !s.due(now) {
		return s.loaded()
	}
	ch := s.flight.DoChan("", func() (any, error) { return s.fetch(ctx, now) })
	select {
	case r := <-ch:
		set, _ := r.Val.(*keySet)
		return set, r.Err
	case <-ctx.Done():
		return s.current(), fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// refreshIfStale starts a background fetch when the set's max-age has
// passed. Requests go on with the keys they have meanwhile, so a slow or
// unreachable issuer does not hold them up.
func (s *keySource) refreshIfStale(ctx context.Context, now time.Time) {
	set := s.current()
	if set == nil || now.Before(set.refreshAt) || !s.due(now) || !s.refreshing.CompareAndSwap(false, true) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	go func() {
		defer s.refreshing.Store(false)
		_, _, _ = s.flight.Do("", func() (any, error) { return s.fetch(ctx, now) })
	}()
}

// loaded returns the set in use, or errNoKeys.
func (s *keySource) loaded() (*keySet, error) {
	if set := s.current(); set != nil {
		return set, nil
	}
	return nil, errNoKeys
}

// fetch claims a fetch attempt, fetches and installs the JWKS. It runs in
// the single flight; a caller that arrives just after another fetch
// finished finds the rate limit spent and gets that fetch's result.
func (s *keySource) fetch(ctx context.Context, now time.Time) (*keySet, error) {
	if !s.claim(now) {
		return s.loaded()
	}
	// The fetch is shared: one caller giving up must not fail the others.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultHTTPTimeout)
	defer cancel()
	keys, maxAge, err := s.download(ctx)
	if err != nil {
		set := s.current()
		return set, fmt.Errorf("%w: jwks: %w", ErrUnavailable, err)
	}
	// Keys that did not change keep their identity, so tokens cached as
	// verified by them stay cached; tokens of removed or replaced keys are
	// verified again (and fail).
	if old := s.current(); old != nil {
		for kid, k := range keys {
			if o := old.keys[kid]; o != nil && o.equal(k) {
				keys[kid] = o
			}
		}
	}
	set := &keySet{keys: keys, refreshAt: s.clock.Now().Add(maxAge)}
	s.set.Store(set)
	return set, nil
}

// download GETs the JWKS and parses it.
func (s *keySource) download(ctx context.Context) (map[string]*publicKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, 0, err
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	return keys, refreshInterval(resp.Header.Values("Cache-Control")), nil
}

// parseJWKS reads a JWK set (RFC 7517 §5) with go-jose and keeps the keys a
// Verifier can use: signature keys with a kid, EC P-256 (ES256) or Ed25519
// (EdDSA), whose "alg", when present, names that algorithm. Other keys are
// skipped, not errors, so an issuer may publish keys of other types. A kid
// that appears twice is dropped: which key it means is ambiguous.
func parseJWKS(body []byte) (map[string]*publicKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if doc.Keys == nil {
		return nil, errors.New(`no "keys" member`)
	}
	keys := make(map[string]*publicKey, len(doc.Keys))
	dup := map[string]bool{}
	for _, raw := range doc.Keys {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			continue
		}
		k := usableKey(&jwk)
		if k == nil {
			continue
		}
		if _, seen := keys[jwk.KeyID]; seen || dup[jwk.KeyID] {
			delete(keys, jwk.KeyID)
			dup[jwk.KeyID] = true
			continue
		}
		keys[jwk.KeyID] = k
	}
	return keys, nil
}

func usableKey(jwk *jose.JSONWebKey) *publicKey {
	if jwk.KeyID == "" || (jwk.Use != "" && jwk.Use != "sig") || !jwk.IsPublic() {
		return nil
	}
	var k *publicKey
	switch pub := jwk.Key.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P256() {
			k = &publicKey{alg: ES256, ec: pub}
		}
	case ed25519.PublicKey:
		k = &publicKey{alg: EdDSA, ed: pub}
	}
	if k == nil || (jwk.Algorithm != "" && jwk.Algorithm != k.alg) {
		return nil
	}
	return k
}

// refreshInterval reads max-age from Cache-Control as the time to use the
// JWKS before fetching it again, within [MinJWKSRefetchInterval, 24h].
func refreshInterval(cacheControl []string) time.Duration {
	for _, line := range cacheControl {
		for d := range strings.SplitSeq(line, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
			if !strings.EqualFold(name, "max-age") {
				continue
			}
			n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err != nil || n < 0 {
				continue
			}
			age := maxJWKSRefresh
			if n < int64(maxJWKSRefresh/time.Second) {
				age = time.Duration(n) * time.Second
			}
			return max(age, MinJWKSRefetchInterval)
		}
	}
	return DefaultJWKSRefresh
}
