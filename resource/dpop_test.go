package resource_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/cputime"
	"github.com/gatehouse-auth/gatehouse/resource"
)

const apiURL = "http://example.com/api"

func newDPoPKey(t testing.TB, is *testIssuer) *dpop.Signer {
	t.Helper()
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpop.NewSigner(k, dpop.WithClock(is.clock))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// boundToken is the issuer's token with cnf.jkt of key.
func boundToken(is *testIssuer, key *dpop.Signer) string {
	return signWith(is, claim("cnf", map[string]any{"jkt": key.Thumbprint()}))
}

// dpopRequest is a GET of apiURL with "Authorization: <scheme> tok" and,
// when proof is not empty, a DPoP header.
func dpopRequest(scheme, tok, proof string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, apiURL, nil)
	r.Header.Set("Authorization", scheme+" "+tok)
	if proof != "" {
		r.Header.Set("DPoP", proof)
	}
	return r
}

func mustProof(t testing.TB, s *dpop.Signer, method, u, tok string) string {
	t.Helper()
	p, err := s.Proof(method, u, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDPoPMiddleware(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier()
	h := v.Middleware(whoami)
	key := newDPoPKey(t, is)
	tok := boundToken(is, key)
	run := func(r *http.Request) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}

	// The owner: the DPoP scheme and a proof of the token's key.
	if w := run(dpopRequest("DPoP", tok, mustProof(t, key, "GET", apiURL, tok))); w.Code != 200 || w.Body.String() != "user-1" {
		t.Fatalf("owner: %d %s", w.Code, w.Body)
	}
	replayed := mustProof(t, key, "GET", apiURL, tok)
	if w := run(dpopRequest("DPoP", tok, replayed)); w.Code != 200 {
		t.Fatalf("first use: %d", w.Code)
	}
	old := mustProof(t, key, "GET", apiURL, tok)
	thief := newDPoPKey(t, is)
	other := boundToken(is, thief)

	cases := []struct {
		name      string
		r         *http.Request
		code      string
		challenge string
	}{
		{"stolen token as Bearer", dpopRequest("Bearer", tok, ""), "invalid_token", `DPoP algs="ES256 EdDSA RS256 PS256", error="invalid_token"`},
		{"stolen token with the thief's proof", dpopRequest("DPoP", tok, mustProof(t, thief, "GET", apiURL, tok)), "invalid_dpop_proof", `DPoP algs=`},
		{"no proof", dpopRequest("DPoP", tok, ""), "invalid_dpop_proof", `DPoP algs=`},
		{"replayed proof", dpopRequest("DPoP", tok, replayed), "invalid_dpop_proof", `DPoP algs=`},
		{"wrong htu", dpopRequest("DPoP", tok, mustProof(t, key, "GET", "http://example.com/other", tok)), "invalid_dpop_proof", ""},
		{"wrong host", dpopRequest("DPoP", tok, mustProof(t, key, "GET", "https://example.com/api", tok)), "invalid_dpop_proof", ""},
		{"wrong htm", dpopRequest("DPoP", tok, mustProof(t, key, "POST", apiURL, tok)), "invalid_dpop_proof", ""},
		{"ath of another token", dpopRequest("DPoP", tok, mustProof(t, key, "GET", apiURL, other)), "invalid_dpop_proof", ""},
		{"no ath", dpopRequest("DPoP", tok, mustProof(t, key, "GET", apiURL, "")), "invalid_dpop_proof", ""},
		{"unbound token as DPoP", dpopRequest("DPoP", is.token(), mustProof(t, key, "GET", apiURL, is.token())), "invalid_token", `DPoP algs=`},
	}
	is.clock.Advance(30 * time.Second)
	for _, c := range cases {
		w := run(c.r)
		if w.Code != 401 || !strings.Contains(w.Body.String(), `"`+c.code+`"`) || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), c.challenge) {
			t.Errorf("%s: %d %s %q", c.name, w.Code, w.Body, w.Header().Get("WWW-Authenticate"))
		}
	}
	// An expired iat: the proof was made 61 s before the clock.
	is.clock.Advance(31 * time.Second)
	if w := run(dpopRequest("DPoP", tok, old)); w.Code != 401 || !strings.Contains(w.Body.String(), "invalid_dpop_proof") {
		t.Errorf("expired iat: %d %s", w.Code, w.Body)
	}
	// No credential: both challenges.
	w := run(httptest.NewRequest("GET", apiURL, nil))
	if got := w.Header().Values("WWW-Authenticate"); w.Code != 401 || len(got) != 2 || got[0] != "Bearer" || !strings.HasPrefix(got[1], "DPoP algs=") {
		t.Errorf("no credential: %d %q", w.Code, got)
	}
	// Unbound tokens still work as Bearer.
	if w := run(dpopRequest("Bearer", is.token(), "")); w.Code != 200 {
		t.Errorf("unbound bearer: %d %s", w.Code, w.Body)
	}
}

func TestDPoPVerifyRefusesBoundToken(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier()
	key := newDPoPKey(t, is)
	tok := boundToken(is, key)
	if _, err := v.Verify(ctx, tok); !errors.Is(err, resource.ErrBoundToken) || !errors.Is(err, resource.ErrInvalidToken) {
		t.Fatalf("Verify of a bound token: %v", err)
	}
	id, err := v.VerifyRequest(dpopRequest("DPoP", tok, mustProof(t, key, "GET", apiURL, tok)))
	if err != nil || id.JKT != key.Thumbprint() {
		t.Fatalf("VerifyRequest: %+v %v", id, err)
	}
	_, err = v.VerifyRequest(dpopRequest("DPoP", tok, mustProof(t, newDPoPKey(t, is), "GET", apiURL, tok)))
	if !errors.Is(err, resource.ErrInvalidProof) {
		t.Fatalf("VerifyRequest with another key: %v", err)
	}
	// A cnf this package cannot check makes the token unusable.
	mtls := signWith(is, claim("cnf", map[string]any{"x5t#S256": "abc"}))
	if _, err := v.VerifyRequest(dpopRequest("Bearer", mtls, "")); !errors.Is(err, resource.ErrInvalidToken) {
		t.Fatalf("mTLS-bound token: %v", err)
	}
}

func TestDPoPIntrospectedToken(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier(withIntrospection)
	key := newDPoPKey(t, is)
	const opaque = "opaque-token-1"
	is.setActive(opaque, map[string]any{"active": true, "sub": "user-1", "client_id": "c", "scope": "read",
		"exp": is.clock.Now().Add(time.Hour).Unix(), "token_type": "DPoP", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	if _, err := v.VerifyRequest(dpopRequest("Bearer", opaque, "")); !errors.Is(err, resource.ErrBoundToken) {
		t.Fatalf("introspected bound token as Bearer: %v", err)
	}
	id, err := v.VerifyRequest(dpopRequest("DPoP", opaque, mustProof(t, key, "GET", apiURL, opaque)))
	if err != nil || id.JKT != key.Thumbprint() || id.Method != resource.MethodIntrospection {
		t.Fatalf("introspected bound token with proof: %+v %v", id, err)
	}
}

func TestDPoPRequestURLBehindProxy(t *testing.T) {
	is := newTestIssuer(t)
	v := is.verifier(func(c *resource.Config) {
		c.DPoP.RequestURL = func(r *http.Request) string { return "https://api.example.com" + r.URL.EscapedPath() }
	})
	key := newDPoPKey(t, is)
	tok := boundToken(is, key)
	// The client addressed https://api.example.com/api; the proxy sent
	// http://example.com/api.
	if _, err := v.VerifyRequest(dpopRequest("DPoP", tok, mustProof(t, key, "GET", "https://api.example.com/api", tok))); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyRequest(dpopRequest("DPoP", tok, mustProof(t, key, "GET", apiURL, tok))); !errors.Is(err, resource.ErrInvalidProof) {
		t.Fatalf("internal URL accepted: %v", err)
	}
}

// BenchmarkVerifyRequestDPoP is the cached path of a DPoP-bound token:
// the token is verified once and then found in the cache; every request
// brings a new proof (a proof is single-use), whose ES256 signature must
// be verified. The proof's key is parsed once (dpop caches parsed keys).
func BenchmarkVerifyRequestDPoP(b *testing.B) {
	is := newTestIssuer(b)
	v := is.verifier()
	key := newDPoPKey(b, is)
	tok := boundToken(is, key)
	if _, err := v.VerifyRequest(dpopRequest("DPoP", tok, mustProof(b, key, "GET", apiURL, tok))); err != nil {
		b.Fatal(err)
	}
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		reqs[i] = dpopRequest("DPoP", tok, mustProof(b, key, "GET", apiURL, tok))
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		if _, err := v.VerifyRequest(reqs[i]); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu)
}

// BenchmarkVerifyRequestBearer is the same cached path for an unbound
// token sent as Bearer: what a DPoP-bound request adds is the
// difference.
func BenchmarkVerifyRequestBearer(b *testing.B) {
	is := newTestIssuer(b)
	v := is.verifier()
	tok := is.token()
	r := dpopRequest("Bearer", tok, "")
	if _, err := v.VerifyRequest(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.VerifyRequest(r); err != nil {
			b.Fatal(err)
		}
	}
}
