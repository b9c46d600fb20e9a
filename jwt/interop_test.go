package jwt_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// TestGoJoseMintedTokens verifies tokens that go-jose signs.
func TestGoJoseMintedTokens(t *testing.T) {
	testKeys(t)
	for _, tt := range []struct {
		alg jose.SignatureAlgorithm
		key crypto.Signer
	}{
		{jose.ES256, ec256}, {jose.ES384, ec384}, {jose.ES512, ec521}, {jose.EdDSA, edKey},
		{jose.RS256, rsaKey}, {jose.PS256, rsaKey}, {jose.PS512, rsaKey},
	} {
		t.Run(string(tt.alg), func(t *testing.T) {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: tt.alg, Key: tt.key},
				(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "gj"))
			if err != nil {
				t.Fatal(err)
			}
			obj, err := s.Sign([]byte(mustJSON(t, goodClaims())))
			if err != nil {
				t.Fatal(err)
			}
			tok, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			keys := jwt.NewKeySet(newKey(t, tt.key.Public(), "gj", ""))
			got, err := newVerifier(t, keys, func(c *jwt.Config) { c.Type = jwt.TypeJWT }).Verify(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got.Claims.Subject != "alice" {
				t.Errorf("claims %+v", got.Claims)
			}
		})
	}
}

// TestGoJoseVerifiesOurTokens checks the other direction.
func TestGoJoseVerifiesOurTokens(t *testing.T) {
	testKeys(t)
	for _, tt := range []struct {
		alg string
		key crypto.Signer
	}{
		{jwt.ES256, ec256}, {jwt.ES384, ec384}, {jwt.ES512, ec521}, {jwt.EdDSA, edKey},
		{jwt.RS256, rsaKey}, {jwt.PS256, rsaKey},
	} {
		tok, err := newSigner(t, tt.key, tt.alg, "k").Sign(jwt.TypeJWT, goodClaims())
		if err != nil {
			t.Fatal(err)
		}
		obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tt.alg)})
		if err != nil {
			t.Fatalf("%s: %v", tt.alg, err)
		}
		if _, err := obj.Verify(tt.key.Public()); err != nil {
			t.Errorf("%s: go-jose: %v", tt.alg, err)
		}
	}
}

// rsaIssuer is an RS256 issuer with its JWKS on an httptest server.
type rsaIssuer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	fetches atomic.Int32
	down    atomic.Bool
}

func newRSAIssuer(t *testing.T) *rsaIssuer {
	is := &rsaIssuer{keys: map[string]*rsa.PrivateKey{}}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		is.mu.Lock()
		defer is.mu.Unlock()
		var set jose.JSONWebKeySet
		for kid, k := range is.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"})
		}
		w.Header().Set("Cache-Control", "max-age=60")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(is.srv.Close)
	return is
}

func (is *rsaIssuer) add(t *testing.T, kid string) *jwt.Signer {
	t.Helper()
	k := rsaKey
	if len(is.keys) > 0 {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	}
	is.mu.Lock()
	is.keys[kid] = k
	is.mu.Unlock()
	return newSigner(t, k, "", kid)
}

func TestRemoteKeySetRS256Issuer(t *testing.T) {
	testKeys(t)
	is := newRSAIssuer(t)
	s1 := is.add(t, "r1")
	clk := clocktest.New(t0)
	keys := jwt.NewRemoteKeySet(is.srv.URL, jwt.RemoteOptions{HTTPClient: is.srv.Client(), Clock: clk})
	v := newVerifier(t, keys, func(c *jwt.Config) { c.Clock = clk })
	verify := func(s *jwt.Signer) error {
		tok, err := s.Sign(jwt.TypeJWT, goodClaims())
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(ctx, tok)
		return err
	}
	if err := verify(s1); err != nil {
		t.Fatal(err)
	}
	if err := verify(s1); err != nil || is.fetches.Load() != 1 {
		t.Fatalf("second token: %v, %d fetches", err, is.fetches.Load())
	}
	if keys.Cached("r1") == nil || keys.Cached("r2") != nil {
		t.Error("Cached")
	}

	// A new key right after the first fetch: the refetch waits for the
	// rate limit.
	s2 := is.add(t, "r2")
	if err := verify(s2); !errors.Is(err, jwt.ErrUnknownKey) || is.fetches.Load() != 1 {
		t.Fatalf("new kid inside the rate limit: %v, %d fetches", err, is.fetches.Load())
	}
	clk.Advance(jwt.MinJWKSRefetchInterval)
	if err := verify(s2); err != nil || is.fetches.Load() != 2 {
		t.Fatalf("new kid after the rate limit: %v, %d fetches", err, is.fetches.Load())
	}
	r1 := keys.Cached("r1")

	// The issuer goes down: keys in hand keep working, unknown kids are
	// "unavailable", not "unknown".
	is.down.Store(true)
	clk.Advance(jwt.MinJWKSRefetchInterval)
	if err := verify(s1); err != nil {
		t.Errorf("cached key while the issuer is down: %v", err)
	}
	rogue := newSigner(t, ec256, "", "r3")
	if err := verify(rogue); !errors.Is(err, jwt.ErrUnavailable) {
		t.Errorf("unknown kid while the issuer is down: %v", err)
	}
	is.down.Store(false)

	// Max-age (60 s) passes: a background refresh; unchanged keys keep
	// their identity.
	clk.Advance(time.Minute)
	keys.RefreshIfStale(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for is.fetches.Load() < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if is.fetches.Load() < 4 {
		t.Fatal("RefreshIfStale did not fetch")
	}
	for keys.Cached("r1") == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if keys.Cached("r1") != r1 {
		t.Error("an unchanged key lost its identity across a refresh")
	}
	// A token without kid is tried against every key, unless the set
	// requires a kid.
	if all, err := keys.Keys(ctx, ""); err != nil || len(all) != 2 {
		t.Errorf("empty kid: %v, %v", all, err)
	}
	strict := jwt.NewRemoteKeySet(is.srv.URL, jwt.RemoteOptions{HTTPClient: is.srv.Client(), Clock: clk, RequireKeyID: true})
	if _, err := strict.Keys(ctx, ""); !errors.Is(err, jwt.ErrUnknownKey) {
		t.Errorf("empty kid with RequireKeyID: %v", err)
	}
}

// TestRemoteKeySetConcurrentFirstFetch: callers that arrive while the
// first JWKS fetch is under way wait for it rather than fail with "the
// JWKS could not be fetched yet".
func TestRemoteKeySetConcurrentFirstFetch(t *testing.T) {
	testKeys(t)
	is := newRSAIssuer(t)
	is.add(t, "r1")
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(started) })
		<-release
		resp, err := is.srv.Client().Get(is.srv.URL)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(slow.Close)
	keys := jwt.NewRemoteKeySet(slow.URL, jwt.RemoteOptions{HTTPClient: slow.Client(), Clock: clocktest.New(t0)})
	const n = 6
	errs := make(chan error, n)
	get := func() {
		_, err := keys.Keys(ctx, "r1")
		errs <- err
	}
	go get()
	<-started
	for range n - 1 {
		go get()
	}
	time.Sleep(100 * time.Millisecond) // let them arrive during the fetch
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
