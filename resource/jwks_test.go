package resource_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/resource"
)

func TestKeyRotationRefetchesJWKS(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier()
	if _, err := v.Verify(ctx, is.token()); err != nil {
		t.Fatal(err)
	}
	k := is.addKey(resource.ES256)
	is.clock.Advance(resource.MinJWKSRefetchInterval)
	if _, err := v.Verify(ctx, sign(t, k, header(k), is.claims())); err != nil {
		t.Fatalf("token from the new key: %v", err)
	}
	if n := is.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (first use, new kid)", n)
	}
}

func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier()
	if _, err := v.Verify(ctx, is.token()); err != nil {
		t.Fatal(err)
	}
	is.clock.Advance(resource.MinJWKSRefetchInterval)
	garbage := func(i int) string { return signWith(is, hdr("kid", fmt.Sprintf("junk-%d", i))) }
	verifyAll := func(n int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := v.Verify(ctx, garbage(i)); !errors.Is(err, resource.ErrInvalidToken) {
					t.Errorf("garbage kid %d: %v, want ErrInvalidToken", i, err)
				}
			})
		}
		wg.Wait()
	}
	verifyAll(30)
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times for 30 unknown kids, want 2", n)
	}
	is.clock.Advance(resource.MinJWKSRefetchInterval - time.Second)
	verifyAll(10)
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times within the interval, want 2", n)
	}
	is.clock.Advance(time.Second)
	verifyAll(30)
	if n := is.jwksHits.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times after the interval, want 3", n)
	}
	// A real new key inside the interval waits for the next window.
	k := is.addKey(resource.ES256)
	tok := sign(t, k, header(k), is.claims())
	if _, err := v.Verify(ctx, tok); !errors.Is(err, resource.ErrInvalidToken) {
		t.Fatalf("new kid inside the interval: %v, want ErrInvalidToken", err)
	}
	is.clock.Advance(resource.MinJWKSRefetchInterval)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("new kid after the interval: %v", err)
	}
}

func TestRemovedKeyRejectedAfterRefetch(t *testing.T) {
	is := newTestIssuer(t)
	old := is.key(0)
	kept := is.addKey(resource.EdDSA)
	v := is.verifier()
	oldTok := is.token()
	keptTok := sign(t, kept, header(kept), is.claims())
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	keptID, err := v.Verify(ctx, keptTok)
	if err != nil {
		t.Fatal(err)
	}

	is.removeKey(old)
	// Still cached: nothing has told the verifier yet.
	if _, err := v.Verify(ctx, oldTok); err != nil {
		t.Fatalf("before the refetch: %v", err)
	}
	// A new kid makes it refetch the JWKS.
	is.clock.Advance(resource.MinJWKSRefetchInterval)
	n := is.addKey(resource.ES256)
	if _, err := v.Verify(ctx, sign(t, n, header(n), is.claims())); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, oldTok); !errors.Is(err, resource.ErrInvalidToken) || !strings.Contains(err.Error(), "kid") {
		t.Fatalf("token of the removed key: %v, want ErrInvalidToken (kid)", err)
	}
	// Tokens of keys that stayed keep their cache entries.
	if id, err := v.Verify(ctx, keptTok); err != nil || id != keptID {
		t.Fatalf("token of a kept key: %p, %v; want the cached %p", id, err, keptID)
	}
}

// TestJWKSMaxAgeRefresh: after the JWKS's max-age the verifier fetches it
// again in the background, so a removed key stops working even when no new
// kid shows up.
func TestJWKSMaxAgeRefresh(t *testing.T) {
	is := newTestIssuer(t)
	is.cacheControl = "public, max-age=60"
	v := is.verifier()
	tok := is.token()
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	is.clock.Advance(59 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if n := is.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times before max-age, want 1", n)
	}
	is.addKey(resource.EdDSA)
	is.removeKey(is.key(0))
	is.clock.Advance(time.Second)
	eventually(t, func() bool {
		_, err := v.Verify(ctx, tok)
		return errors.Is(err, resource.ErrInvalidToken)
	})
	if n := is.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}
}

// eventually polls cond (the background refresh runs on its own goroutine).
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestJWKSUnavailable(t *testing.T) {
	is := newTestIssuer(t)
	is.jwksStatus = http.StatusInternalServerError
	v := is.verifier()
	tok := is.token()
	for range 3 {
		if _, err := v.Verify(ctx, tok); !errors.Is(err, resource.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable", err)
		}
	}
	if n := is.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times while failing, want 1 per interval", n)
	}
	is.mu.Lock()
	is.jwksStatus = http.StatusOK
	is.mu.Unlock()
	is.clock.Advance(resource.MinJWKSRefetchInterval)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatal(err)
	}

	// Once keys are known, a failing refresh keeps them in use.
	is.mu.Lock()
	is.jwksStatus = http.StatusBadGateway
	is.mu.Unlock()
	is.clock.Advance(resource.DefaultJWKSRefresh)
	fresh := signWith(is, claim("jti", "tok-2"))
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("with stale keys: %v", err)
	}
}

func TestDiscovery(t *testing.T) {
	t.Run("jwks_uri from discovery", func(t *testing.T) {
		is := newTestIssuer(t) // serves the JWKS only at /keys, as discovery says
		v := is.verifier()
		if _, err := v.Verify(ctx, is.token()); err != nil {
			t.Fatal(err)
		}
		if is.discoveryHits.Load() != 1 || is.jwksHits.Load() != 1 {
			t.Errorf("discovery %d, jwks %d hits; want 1, 1", is.discoveryHits.Load(), is.jwksHits.Load())
		}
	})
	t.Run("explicit JWKSURL skips discovery", func(t *testing.T) {
		is := newTestIssuer(t)
		v := is.verifier(func(c *resource.Config) { c.JWKSURL = is.url + "/keys" })
		if _, err := v.Verify(ctx, is.token()); err != nil {
			t.Fatal(err)
		}
		if n := is.discoveryHits.Load(); n != 0 {
			t.Errorf("discovery fetched %d times", n)
		}
	})
	t.Run("no discovery document: default path", func(t *testing.T) {
		is := newTestIssuer(t)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /oauth2/jwks", is.serveJWKS)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		is.url = srv.URL // tokens are issued by this server now
		v := is.verifier()
		if _, err := v.Verify(ctx, is.token()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("discovery for another issuer", func(t *testing.T) {
		is := newTestIssuer(t)
		is.docIssuer = is.url + "/other"
		_, err := resource.NewVerifier(ctx, resource.Config{Issuer: is.url, Audience: []string{is.url}, HTTPClient: is.srv.Client()})
		if err == nil || !strings.Contains(err.Error(), "issuer") {
			t.Fatalf("err = %v, want a refusal of the mix-up (RFC 8414 §3.3)", err)
		}
	})
	t.Run("issuer down", func(t *testing.T) {
		is := newTestIssuer(t)
		is.srv.Close()
		if _, err := resource.NewVerifier(ctx, resource.Config{Issuer: is.url, Audience: []string{is.url}}); err == nil {
			t.Fatal("want an error")
		}
	})
}
