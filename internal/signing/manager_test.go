package signing

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	store *memStore
	key   *secret.Key
	clk   *clocktest.Fake
}

func newFixture() *fixture {
	return &fixture{store: newMemStore(), key: secret.NewKey(), clk: clocktest.New(t0)}
}

func (f *fixture) manager(t testing.TB, opts Options) *Manager {
	t.Helper()
	m := NewManager(f.store, f.key, f.clk, opts)
	if err := m.Init(context.Background()); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return m
}

// kidOf returns the kid in a token's header.
func kidOf(t testing.TB, token string) string {
	t.Helper()
	hb, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	return h.Kid
}

func sign(t testing.TB, m *Manager, typ string) string {
	t.Helper()
	tok, err := m.Sign(typ, map[string]any{"sub": "alice", "scope": "read"})
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return tok
}

// jwksKids returns the kids in a JWKS document.
func jwksKids(t testing.TB, doc []byte) []string {
	t.Helper()
	var set struct {
		Keys []struct{ Kid string } `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("JWKS %s: %v", doc, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

func TestInitCreatesOneActiveKey(t *testing.T) {
	f := newFixture()
	m := f.manager(t, Options{})
	keys := m.Keys()
	if len(keys) != 1 {
		t.Fatalf("Keys() = %+v, want one key", keys)
	}
	k := keys[0]
	if k.State != StateActive || !k.Signing || k.Algorithm != ES256 || !k.ActiveAt.Equal(t0) || !k.RetiredAt.IsZero() {
		t.Errorf("first key = %+v, want an active signing ES256 key from %v", k, t0)
	}
	tok := sign(t, m, TypeAccessToken)
	if kidOf(t, tok) != k.ID {
		t.Errorf("token kid %q, want %q", kidOf(t, tok), k.ID)
	}
	if kids := jwksKids(t, m.JWKS()); len(kids) != 1 || kids[0] != k.ID {
		t.Errorf("JWKS kids %v, want [%s]", kids, k.ID)
	}

	// A second process (or restart) on the same store adds no key.
	m2 := f.manager(t, Options{})
	if n := len(m2.Keys()); n != 1 {
		t.Errorf("after second Init %d keys, want 1", n)
	}
	if _, err := m2.Verify(tok, TypeAccessToken); err != nil {
		t.Errorf("second manager rejects the first one's token: %v", err)
	}
}

// TestPrivateKeyEncryptedAtRest: the stored private key is sealed with the
// server key and bound to its kid.
func TestPrivateKeyEncryptedAtRest(t *testing.T) {
	f := newFixture()
	m := f.manager(t, Options{})
	row := f.store.row(m.Keys()[0].ID)

	if _, err := f.key.Open(row.EncryptedPrivateKey, []byte("another-kid")); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("Open with a wrong kid as AAD = %v, want ErrOpen", err)
	}
	if _, err := secret.NewKey().Open(row.EncryptedPrivateKey, []byte(row.ID)); !errors.Is(err, secret.ErrOpen) {
		t.Errorf("Open with another secret key = %v, want ErrOpen", err)
	}
	der, err := f.key.Open(row.EncryptedPrivateKey, []byte(row.ID))
	if err != nil {
		t.Fatalf("Open with the kid: %v", err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err != nil {
		t.Fatalf("decrypted key is not PKCS #8: %v", err)
	}
	if strings.Contains(string(row.EncryptedPrivateKey), string(der[len(der)-32:])) {
		t.Error("stored key contains the plain private key bytes")
	}
	if strings.Contains(row.PublicJWK, `"d"`) {
		t.Errorf("stored public JWK has a private member: %s", row.PublicJWK)
	}
	// The wrong server key cannot load the keys.
	m2 := NewManager(f.store, secret.NewKey(), f.clk, Options{})
	if err := m2.Init(context.Background()); err == nil {
		t.Error("Init with another secret key succeeded")
	}
}

// TestRotation walks a key through next → active → retired → expired
// (SECURITY-CASES 20: a token signed by a rotated-out key is rejected).
func TestRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	const retain = 3 * time.Hour
	m := f.manager(t, Options{Retain: retain})
	oldKid := m.Keys()[0].ID
	oldTok := sign(t, m, TypeAccessToken)

	f.clk.Advance(10 * time.Minute)
	rotatedAt := f.clk.Now()
	newRow, err := m.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if newRow.ID == oldKid || !newRow.CreatedAt.Equal(rotatedAt) || !newRow.ActiveAt.Equal(rotatedAt.Add(time.Hour)) {
		t.Fatalf("Rotate = %+v", newRow)
	}
	states := func() map[string]string {
		out := map[string]string{}
		for _, k := range m.Keys() {
			out[k.ID] = k.State
		}
		return out
	}

	// Pre-published: in JWKS, not signing.
	if kids := jwksKids(t, m.JWKS()); !slices.Contains(kids, newRow.ID) || !slices.Contains(kids, oldKid) {
		t.Errorf("JWKS after rotate = %v, want both keys", kids)
	}
	if got := kidOf(t, sign(t, m, TypeAccessToken)); got != oldKid {
		t.Errorf("before ActiveAt Sign used %s, want the old key %s", got, oldKid)
	}
	if s := states(); s[oldKid] != StateActive || s[newRow.ID] != StateNext {
		t.Errorf("states before ActiveAt = %v", s)
	}
	f.clk.Advance(time.Hour - time.Nanosecond)
	if got := kidOf(t, sign(t, m, TypeAccessToken)); got != oldKid {
		t.Errorf("just before ActiveAt Sign used %s, want the old key", got)
	}

	// At ActiveAt the new key signs; the old one is retired but verifies.
	f.clk.Advance(time.Nanosecond)
	newTok := sign(t, m, TypeAccessToken)
	if got := kidOf(t, newTok); got != newRow.ID {
		t.Errorf("at ActiveAt Sign used %s, want the new key %s", got, newRow.ID)
	}
	if s := states(); s[oldKid] != StateRetired || s[newRow.ID] != StateActive {
		t.Errorf("states after ActiveAt = %v", s)
	}
	for _, k := range m.Keys() {
		if k.Signing != (k.ID == newRow.ID) {
			t.Errorf("key %s Signing = %v", k.ID, k.Signing)
		}
	}
	if _, err := m.Verify(oldTok, TypeAccessToken); err != nil {
		t.Errorf("retired key's token rejected within Retain: %v", err)
	}

	// After Retain the old key leaves JWKS and its tokens fail.
	f.clk.Advance(retain - time.Nanosecond)
	if _, err := m.Verify(oldTok, TypeAccessToken); err != nil {
		t.Errorf("retired key's token rejected just before Retain ends: %v", err)
	}
	f.clk.Advance(time.Nanosecond)
	if _, err := m.Verify(oldTok, TypeAccessToken); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("expired key's token: err = %v, want ErrUnknownKey", err)
	}
	if kids := jwksKids(t, m.JWKS()); len(kids) != 1 || kids[0] != newRow.ID {
		t.Errorf("JWKS after Retain = %v, want only %s", kids, newRow.ID)
	}
	if s := states(); s[oldKid] != StateExpired {
		t.Errorf("states after Retain = %v", s)
	}
	if _, err := m.Verify(newTok, TypeAccessToken); err != nil {
		t.Errorf("new key's token: %v", err)
	}
	// A reload skips the expired key but still lists it.
	if err := m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(m.Keys()); n != 2 {
		t.Errorf("Keys after reload = %d, want 2", n)
	}
	if _, err := m.Verify(oldTok, TypeAccessToken); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("expired key's token after reload: err = %v, want ErrUnknownKey", err)
	}
}

// TestRotateFromAnotherProcess: `gatehouse keys rotate` runs its own
// Manager on the database; the server sees the change after Reload.
func TestRotateFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	server := f.manager(t, Options{})
	oldKid := server.Keys()[0].ID

	cli := f.manager(t, Options{})
	newRow, err := cli.Rotate(ctx, -1) // negative: Options.PrePublish (1h)
	if err != nil {
		t.Fatal(err)
	}
	if !newRow.ActiveAt.Equal(t0.Add(DefaultPrePublish)) {
		t.Errorf("ActiveAt = %v, want now + default PrePublish", newRow.ActiveAt)
	}
	if slices.Contains(jwksKids(t, server.JWKS()), newRow.ID) {
		t.Error("server published the new key before Reload")
	}
	if err := server.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(jwksKids(t, server.JWKS()), newRow.ID) {
		t.Error("server does not publish the new key after Reload")
	}
	if got := kidOf(t, sign(t, server, TypeAccessToken)); got != oldKid {
		t.Errorf("Sign used %s before ActiveAt, want %s", got, oldKid)
	}
	f.clk.Advance(DefaultPrePublish)
	tok := sign(t, server, TypeAccessToken)
	if got := kidOf(t, tok); got != newRow.ID {
		t.Errorf("Sign used %s after ActiveAt, want %s", got, newRow.ID)
	}
	if _, err := cli.Verify(tok, TypeAccessToken); err != nil {
		t.Errorf("cli cannot verify server token: %v", err)
	}
}

// TestRotateTwice: a second rotation before the first took over retires
// the pending key too, so exactly one key signs afterwards.
func TestRotateTwice(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	m := f.manager(t, Options{})
	a := m.Keys()[0].ID
	b, err := m.Rotate(ctx, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Rotate(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Hour)
	if got := kidOf(t, sign(t, m, TypeAccessToken)); got != c.ID {
		t.Errorf("after 1h Sign used %s, want %s", got, c.ID)
	}
	f.clk.Advance(2 * time.Hour)
	if got := kidOf(t, sign(t, m, TypeAccessToken)); got != c.ID {
		t.Errorf("after 3h Sign used %s, want %s (b must not take over)", got, c.ID)
	}
	for _, k := range m.Keys() {
		switch k.ID {
		case a, b.ID:
			if k.State != StateRetired {
				t.Errorf("key %s state %s, want retired", k.ID, k.State)
			}
		case c.ID:
			if k.State != StateActive || !k.Signing {
				t.Errorf("key %s = %+v, want the active signing key", k.ID, k)
			}
		}
	}
}

// TestConcurrentFirstStart: two processes start on an empty database at
// once; after a reload they agree on the signing key.
func TestConcurrentFirstStart(t *testing.T) {
	f := newFixture()
	ms := []*Manager{
		NewManager(f.store, f.key, f.clk, Options{}),
		NewManager(f.store, f.key, f.clk, Options{}),
	}
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() {
			if err := m.Init(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, m := range ms {
		if err := m.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	k0, k1 := kidOf(t, sign(t, ms[0], "JWT")), kidOf(t, sign(t, ms[1], "JWT"))
	if k0 != k1 {
		t.Errorf("managers sign with %s and %s, want the same key", k0, k1)
	}
}

func TestTamperedStoreRefused(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	m := f.manager(t, Options{})
	kid := m.Keys()[0].ID

	other := newFixture()
	om := other.manager(t, Options{})
	otherRow := other.store.row(om.Keys()[0].ID)

	// Someone with database access swaps in their own public key.
	f.store.edit(kid, func(k *storage.SigningKey) { k.PublicJWK = otherRow.PublicJWK })
	if err := m.Reload(ctx); err == nil {
		t.Error("Reload accepted a public JWK that does not match the private key")
	}
	// The previous keys stay in use after a failed reload.
	if _, err := m.Sign(TypeAccessToken, map[string]string{}); err != nil {
		t.Errorf("Sign after failed reload: %v", err)
	}
	// ... or inserts a whole row sealed with another server key.
	m2 := NewManager(f.store, f.key, f.clk, Options{})
	if err := f.store.CreateSigningKey(ctx, &otherRow); err != nil {
		t.Fatal(err)
	}
	if err := m2.Reload(ctx); err == nil {
		t.Error("Reload accepted a key sealed with another secret key")
	}
}

func TestAlgorithms(t *testing.T) {
	f := newFixture()
	m := f.manager(t, Options{})
	if got := m.Algorithms(); len(got) != 1 || got[0] != ES256 {
		t.Errorf("Algorithms() = %v, want [ES256]", got)
	}
	// Switching new keys to EdDSA: both are in use until the ES256 key expires.
	m2 := NewManager(f.store, f.key, f.clk, Options{Algorithm: EdDSA})
	if err := m2.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Rotate(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	if got := m2.Algorithms(); len(got) != 2 || got[0] != ES256 || got[1] != EdDSA {
		t.Errorf("Algorithms() = %v, want [ES256 EdDSA]", got)
	}
	f.clk.Advance(DefaultRetain)
	if got := m2.Algorithms(); len(got) != 1 || got[0] != EdDSA {
		t.Errorf("Algorithms() after Retain = %v, want [EdDSA]", got)
	}
}

func TestBadAlgorithmOption(t *testing.T) {
	f := newFixture()
	m := NewManager(f.store, f.key, f.clk, Options{Algorithm: "HS256"})
	if err := m.Init(context.Background()); err == nil {
		t.Error("Init accepted algorithm HS256")
	}
	if _, err := m.Sign("JWT", nil); !errors.Is(err, ErrNoSigningKey) {
		t.Errorf("Sign without keys = %v, want ErrNoSigningKey", err)
	}
}

// TestConcurrentUse exercises the lock-free paths under -race while keys
// rotate and time moves.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture()
	m := f.manager(t, Options{PrePublish: time.Minute, Retain: 10 * time.Minute})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := m.Sign(TypeAccessToken, map[string]int{"n": 1})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := m.Verify(tok, TypeAccessToken); err != nil && !errors.Is(err, ErrUnknownKey) {
					t.Error(err)
					return
				}
				_ = m.JWKS()
				_ = m.Keys()
			}
		})
	}
	for range 20 {
		if _, err := m.Rotate(ctx, -1); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(45 * time.Second)
		if err := m.Reload(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
