// Package signing manages the authorization server's JWT signing keys:
// it creates and rotates them, publishes their public halves as a JWK Set,
// signs tokens with the current key and verifies tokens the server issued.
//
// # Key lifecycle
//
// Every key is a row in the store (storage.SigningKey) with three times:
// CreatedAt, ActiveAt and RetiredAt (zero while in use). At a time now:
//
//   - The signing key is the newest key (greatest ActiveAt, then
//     CreatedAt, then kid) with CreatedAt <= now, ActiveAt <= now and
//     (RetiredAt zero or now < RetiredAt).
//   - JWKS publishes every key with CreatedAt <= now and (RetiredAt zero
//     or now < RetiredAt + Options.Retain).
//   - Verify accepts only tokens whose kid is published now.
//
// Rotate creates a key that is published at once and starts signing after
// a pre-publication delay, so that resource servers and the other server
// processes have fetched it before the first token signed with it appears;
// the key it replaces retires at that moment and stays published for
// Options.Retain, which must exceed the longest access-token lifetime so
// that tokens it signed stay verifiable until they expire (RFC 7517 §5,
// RFC 8725 §3.11). A key whose Retain has passed is "expired": its tokens
// fail with ErrUnknownKey (SECURITY-CASES 20).
//
// Rotate works on the store directly, so `gatehouse keys rotate` can run
// in another process; the server picks the change up on its next Reload.
//
// # Keys at rest
//
// Private keys are stored as PKCS #8 sealed with the server secret key
// (secret.Key.Seal, AES-256-GCM) with the kid as additional data; the
// public JWK is stored as JSON. Loading a key checks that the stored public
// key is the public half of the decrypted private key, so a row inserted
// by someone who can write the database but lacks the secret key is
// refused. JWKS never contains private members (SECURITY-CASES 29).
//
// # Tokens
//
// Sign makes compact JWS (RFC 7515) with the header {"alg","kid","typ"};
// Verify checks typ, kid, alg and signature but no claims: exp, iss and
// aud are the caller's job. Only ES256 and EdDSA exist here, so "none"
// and HMAC algorithms are never accepted (RFC 8725 §3.1).
package signing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// KeyStore is the part of storage.Store the Manager needs.
type KeyStore = storage.SigningKeyStore

// Default option values.
const (
	DefaultAlgorithm  = ES256
	DefaultPrePublish = time.Hour
	DefaultRetain     = 24 * time.Hour
)

// Options configure a Manager. Zero fields take the defaults.
type Options struct {
	// Algorithm of new keys: ES256 (default) or EdDSA. Existing keys keep
	// theirs.
	Algorithm string
	// PrePublish is how long a rotated-in key is published before it
	// signs; Rotate uses it when asked for a negative delay. Default 1h.
	PrePublish time.Duration
	// Retain is how long a retired key stays published, and so
	// verifiable. It must exceed the longest access-token (and ID token)
	// lifetime. Default 24h.
	Retain time.Duration
}

func (o Options) withDefaults() Options {
	if o.Algorithm == "" {
		o.Algorithm = DefaultAlgorithm
	}
	if o.PrePublish <= 0 {
		o.PrePublish = DefaultPrePublish
	}
	if o.Retain <= 0 {
		o.Retain = DefaultRetain
	}
	return o
}

// Key states reported by Keys.
const (
	StateNext    = "next"    // published, not yet signing
	StateActive  = "active"  // may sign (the newest active key does)
	StateRetired = "retired" // no longer signs, still published
	StateExpired = "expired" // neither signs nor is published
)

// KeyInfo describes a key for `gatehouse keys list`.
type KeyInfo struct {
	ID        string
	Algorithm string
	CreatedAt time.Time
	ActiveAt  time.Time
	RetiredAt time.Time // zero while in use
	State     string    // StateNext, StateActive, StateRetired or StateExpired
	// Signing is true for the one key Sign uses now.
	Signing bool
}

// Manager holds the signing keys of one process. It is safe for
// concurrent use; Sign, Verify and JWKS take no locks on the fast path.
type Manager struct {
	store KeyStore
	key   *secret.Key
	clk   clock.Clock
	opts  Options

	ioMu   sync.Mutex // serialises Init, Reload and Rotate
	viewMu sync.Mutex // serialises building views and swapping sets
	set    atomic.Pointer[keySet]
	view   atomic.Pointer[view]

	// loadedAt is when the keys were last read from the store (unix
	// nanoseconds on clk), for ReloadIfStale.
	loadedAt atomic.Int64
}

// keySet is what the last load found.
type keySet struct {
	rows []storage.SigningKey // every row, including expired keys
	keys []*material          // parsed keys that were not expired
	at   time.Time            // when it was loaded: keys expired then are left out
}

// NewManager returns a Manager with no keys; call Init before use.
func NewManager(store KeyStore, key *secret.Key, clk clock.Clock, opts Options) *Manager {
	m := &Manager{store: store, key: key, clk: clk, opts: opts.withDefaults()}
	m.set.Store(&keySet{})
	return m
}

// Init loads the keys and, if none can sign now (first start), creates
// one that is published and active at once.
func (m *Manager) Init(ctx context.Context) error {
	if err := checkAlgorithm(m.opts.Algorithm); err != nil {
		return err
	}
	if m.key == nil {
		return errors.New("signing: no server secret key")
	}
	m.ioMu.Lock()
	defer m.ioMu.Unlock()
	if err := m.reload(ctx); err != nil {
		return err
	}
	if m.current(m.clk.Now()).signer != nil {
		return nil
	}
	now := storedTime(m.clk.Now())
	row, err := generate(m.opts.Algorithm, m.key)
	if err != nil {
		return err
	}
	row.CreatedAt, row.ActiveAt = now, now
	if err := m.store.CreateSigningKey(ctx, row); err != nil {
		return fmt.Errorf("signing: create first key: %w", err)
	}
	// Reload rather than add the row: if another process started at the
	// same moment, both now see both keys and agree on the newest.
	return m.reload(ctx)
}

// Reload re-reads the keys from the store. The server calls it
// periodically so that a rotation made by another process is picked up.
// On error the keys loaded before stay in use.
func (m *Manager) Reload(ctx context.Context) error {
	m.ioMu.Lock()
	defer m.ioMu.Unlock()
	return m.reload(ctx)
}

func (m *Manager) reload(ctx context.Context) error {
	rows, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("signing: list keys: %w", err)
	}
	now := m.clk.Now()
	prev := make(map[string]*material)
	for _, k := range m.set.Load().keys {
		prev[k.row.ID] = k
	}
	set := &keySet{rows: make([]storage.SigningKey, 0, len(rows)), at: now}
	for _, r := range rows {
		if r == nil {
			continue
		}
		set.rows = append(set.rows, *r)
		if m.expired(r, now) {
			continue // never needed again: skip decrypting it
		}
		if old, ok := prev[r.ID]; ok && sameKey(&old.row, r) {
			k := *old // reuse the parsed key and its header cache
			k.row = *r
			set.keys = append(set.keys, &k)
			continue
		}
		k, err := parse(r, m.key)
		if err != nil {
			return err
		}
		set.keys = append(set.keys, k)
	}
	slices.SortFunc(set.rows, func(a, b storage.SigningKey) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	m.viewMu.Lock()
	m.set.Store(set)
	m.view.Store(nil)
	m.viewMu.Unlock()
	m.loadedAt.Store(now.UnixNano())
	return nil
}

// ReloadIfStale re-reads the keys when they were last read more than maxAge
// ago, and reports whether it did. Several replicas share one key table:
// a key another replica created (two replicas starting together on an
// empty database each create a first key; a rotation) becomes known here
// without waiting for the periodic Reload. Concurrent callers share one
// reload.
func (m *Manager) ReloadIfStale(ctx context.Context, maxAge time.Duration) (bool, error) {
	if m.clk.Now().UnixNano()-m.loadedAt.Load() <= int64(maxAge) {
		return false, nil
	}
	m.ioMu.Lock()
	defer m.ioMu.Unlock()
	if m.clk.Now().UnixNano()-m.loadedAt.Load() <= int64(maxAge) {
		return false, nil // another caller reloaded while we waited
	}
	return true, m.reload(ctx)
}

// VerifyFresh is Verify, except that a token signed with a key this
// process does not know makes it re-read the keys (at most once per
// maxAge) and try again, so tokens signed by another replica's new key
// verify at once.
func (m *Manager) VerifyFresh(ctx context.Context, token, typ string, maxAge time.Duration) ([]byte, error) {
	payload, err := m.Verify(token, typ)
	if !errors.Is(err, ErrUnknownKey) {
		return payload, err
	}
	reloaded, rerr := m.ReloadIfStale(ctx, maxAge)
	if rerr != nil || !reloaded {
		return nil, err
	}
	return m.Verify(token, typ)
}

// Rotate creates a key of Options.Algorithm that is published now and
// signs from now+activateIn (a negative activateIn means
// Options.PrePublish). Every key that would still sign after that moment
// retires then, so the new key takes over exactly at its ActiveAt. It
// works on the store directly and reloads afterwards, so it may run in a
// process other than the server.
//
// Rotating with activateIn 0 makes the new key sign at once, before other
// processes and resource servers have seen it; keep that for emergencies.
func (m *Manager) Rotate(ctx context.Context, activateIn time.Duration) (*storage.SigningKey, error) {
	if err := checkAlgorithm(m.opts.Algorithm); err != nil {
		return nil, err
	}
	if activateIn < 0 {
		activateIn = m.opts.PrePublish
	}
	m.ioMu.Lock()
	defer m.ioMu.Unlock()
	now := storedTime(m.clk.Now())
	activeAt := now.Add(activateIn)
	row, err := generate(m.opts.Algorithm, m.key)
	if err != nil {
		return nil, err
	}
	row.CreatedAt, row.ActiveAt = now, activeAt
	// Create first, retire second: if the retiring fails half-way, the
	// new key still wins as the newest once active.
	if err := m.store.CreateSigningKey(ctx, row); err != nil {
		return nil, fmt.Errorf("signing: create key: %w", err)
	}
	rows, err := m.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("signing: list keys: %w", err)
	}
	for _, r := range rows {
		if r == nil || r.ID == row.ID || !retiresAfter(r, activeAt) {
			continue
		}
		err := m.store.UpdateSigningKey(ctx, r.ID, func(k *storage.SigningKey) error {
			if retiresAfter(k, activeAt) {
				k.RetiredAt = activeAt
			}
			return nil
		})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("signing: retire key %s: %w", r.ID, err)
		}
	}
	if err := m.reload(ctx); err != nil {
		return nil, err
	}
	out := *row
	return &out, nil
}

// retiresAfter reports whether k would still be in use at t.
func retiresAfter(k *storage.SigningKey, t time.Time) bool {
	return k.RetiredAt.IsZero() || k.RetiredAt.After(t)
}

// expired reports whether k is past its retention at now.
func (m *Manager) expired(k *storage.SigningKey, now time.Time) bool {
	return !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt.Add(m.opts.Retain))
}

// Keys describes every stored key, oldest first, as of now.
func (m *Manager) Keys() []KeyInfo {
	now := m.clk.Now()
	v := m.current(now)
	rows := m.set.Load().rows
	out := make([]KeyInfo, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		info := KeyInfo{
			ID:        r.ID,
			Algorithm: r.Algorithm,
			CreatedAt: r.CreatedAt,
			ActiveAt:  r.ActiveAt,
			RetiredAt: r.RetiredAt,
			Signing:   v.signer != nil && v.signer.KeyID() == r.ID,
		}
		switch {
		case m.expired(r, now):
			info.State = StateExpired
		case !r.RetiredAt.IsZero() && !now.Before(r.RetiredAt):
			info.State = StateRetired
		case now.Before(r.ActiveAt) || now.Before(r.CreatedAt):
			info.State = StateNext
		default:
			info.State = StateActive
		}
		out = append(out, info)
	}
	return out
}

// Algorithms returns the algorithms of the published keys and of new keys,
// sorted, for the discovery metadata (id_token_signing_alg_values_supported
// and the like).
func (m *Manager) Algorithms() []string {
	v := m.current(m.clk.Now())
	algs := []string{m.opts.Algorithm}
	for _, k := range v.published {
		algs = append(algs, k.row.Algorithm)
	}
	slices.Sort(algs)
	return slices.Compact(algs)
}

// JWKS returns the JWK Set (RFC 7517 §5) of the published keys:
// {"keys":[...]} with kty, crv, x, (y,) kid, alg and use "sig" for each,
// the newest first. It is computed once per change of keys or state.
func (m *Manager) JWKS() []byte {
	return slices.Clone(m.current(m.clk.Now()).jwks)
}
