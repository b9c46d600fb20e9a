package dpop_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	mathrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

const (
	tokenURL = "https://auth.example.com/oauth2/token"
	apiURL   = "https://api.example.com/v1/things"
)

func newSigner(t testing.TB, clk *clocktest.Fake) *dpop.Signer {
	t.Helper()
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := dpop.NewSigner(k, dpop.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newVerifier(t testing.TB, clk *clocktest.Fake, edit ...func(*dpop.Config)) *dpop.Verifier {
	t.Helper()
	cfg := dpop.Config{Clock: clk}
	for _, e := range edit {
		e(&cfg)
	}
	v, err := dpop.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func proof(t testing.TB, s *dpop.Signer, method, url, at, nonce string) string {
	t.Helper()
	p, err := s.Proof(method, url, at, nonce)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func wantCode(t *testing.T, err error, code string, contains string) {
	t.Helper()
	var e *dpop.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *dpop.Error", err)
	}
	if e.Code != code {
		t.Fatalf("code = %s, want %s (%v)", e.Code, code, err)
	}
	if contains != "" && !strings.Contains(err.Error(), contains) {
		t.Fatalf("err = %q, want it to mention %q", err, contains)
	}
}

func TestProofShape(t *testing.T) {
	clk := clocktest.New(t0)
	s := newSigner(t, clk)
	p := proof(t, s, "GET", apiURL+"?q=1#frag", "tok", "n-1")
	parts := strings.Split(p, ".")
	var h map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &h); err != nil {
		t.Fatal(err)
	}
	if h["typ"] != "dpop+jwt" || h["alg"] != "ES256" {
		t.Fatalf("header %v", h)
	}
	jwk, _ := h["jwk"].(map[string]any)
	if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk["d"] != nil || h["kid"] != nil {
		t.Fatalf("jwk %v", jwk)
	}
	tok, err := jwt.DecodeUnverified(p)
	if err != nil {
		t.Fatal(err)
	}
	c := tok.ClaimSet
	if c["htm"] != "GET" || c["htu"] != apiURL || c["nonce"] != "n-1" || c["ath"] != dpop.AccessTokenHash("tok") || c["iat"] != float64(t0.Unix()) {
		t.Fatalf("claims %v", c)
	}
	if jti, _ := c["jti"].(string); len(jti) < 16 {
		t.Fatalf("jti %q", jti)
	}
	if p2 := proof(t, s, "GET", apiURL, "", ""); p2 == p {
		t.Fatal("two proofs are equal")
	} else if d, _ := jwt.DecodeUnverified(p2); d.ClaimSet["ath"] != nil || d.ClaimSet["nonce"] != nil || d.ClaimSet["jti"] == c["jti"] {
		t.Fatalf("second proof claims %v", d.ClaimSet)
	}
	// RFC 9449 §4.2 example value: ath of "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
	if got := dpop.AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Fatalf("ath = %s", got)
	}
	if _, err := s.Proof("GET", "/relative", "", ""); err == nil {
		t.Fatal("a relative URL made a proof")
	}
	if _, err := s.Proof("", apiURL, "", ""); err == nil {
		t.Fatal("no method made a proof")
	}
}

func TestThumbprintRFC7638(t *testing.T) {
	// RFC 7638 §3.1's example key and thumbprint.
	const n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	nb, _ := base64.RawURLEncoding.DecodeString(n)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537}
	got, err := dpop.Thumbprint(pub)
	if err != nil {
		t.Fatal(err)
	}
	if got != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" {
		t.Fatalf("thumbprint = %s", got)
	}
	clk := clocktest.New(t0)
	s := newSigner(t, clk)
	if tp, _ := dpop.Thumbprint(s.Key().Public()); tp != s.Thumbprint() || len(tp) != 43 {
		t.Fatalf("Signer.Thumbprint %s, Thumbprint %s", s.Thumbprint(), tp)
	}
}

func TestMarshalKeyRoundTrip(t *testing.T) {
	ec, _ := dpop.NewKey()
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for _, k := range []crypto.Signer{ec, ed} {
		b, err := dpop.MarshalKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(b), "-----BEGIN PRIVATE KEY-----") {
			t.Fatalf("marshalled %q", b)
		}
		back, err := dpop.UnmarshalKey(b)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := dpop.Thumbprint(k.Public())
		c, _ := dpop.Thumbprint(back.Public())
		if a != c {
			t.Fatal("round trip changed the key")
		}
	}
	for _, bad := range []string{"", "garbage", "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"} {
		if _, err := dpop.UnmarshalKey([]byte(bad)); err == nil {
			t.Fatalf("UnmarshalKey(%q) succeeded", bad)
		}
	}
}

func TestVerifyAccepts(t *testing.T) {
	clk := clocktest.New(t0)
	s := newSigner(t, clk)
	v := newVerifier(t, clk)
	// Normalization: case of scheme and host, default port, query and
	// fragment, escapes (RFC 9449 §4.3, RFC 3986 §6.2).
	p := proof(t, s, "POST", "HTTPS://Auth.Example.com:443/oauth2/%7etoken?x=1", "", "")
	got, err := v.Verify(ctx, p, dpop.Request{Method: "POST", URL: "https://auth.example.com/oauth2/~token"})
	if err != nil {
		t.Fatal(err)
	}
	if got.JKT != s.Thumbprint() || got.Algorithm != "ES256" || !got.IssuedAt.Equal(t0) || got.ID == "" {
		t.Fatalf("proof %+v", got)
	}
	// With an access token and the key it is bound to.
	p = proof(t, s, "GET", apiURL, "at-1", "")
	if _, err := v.Verify(ctx, p, dpop.Request{Method: "GET", URL: apiURL + "?page=2", AccessToken: "at-1", JKT: s.Thumbprint()}); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyOtherAlgorithms(t *testing.T) {
	clk := clocktest.New(t0)
	v := newVerifier(t, clk)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for _, k := range []crypto.Signer{ed, rk} {
		s, err := dpop.NewSigner(k, dpop.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, proof(t, s, "GET", apiURL, "", ""), dpop.Request{Method: "GET", URL: apiURL}); err != nil {
			t.Fatalf("%s: %v", s.Algorithm(), err)
		}
	}
	// ES384 is not on the default list.
	s, _ := dpop.NewSigner(p384, dpop.WithClock(clk))
	_, err := v.Verify(ctx, proof(t, s, "GET", apiURL, "", ""), dpop.Request{Method: "GET", URL: apiURL})
	wantCode(t, err, dpop.CodeInvalidProof, "not allowed")
	// An ES256-only verifier refuses EdDSA.
	v256 := newVerifier(t, clk, func(c *dpop.Config) { c.Algorithms = []string{"ES256"} })
	se, _ := dpop.NewSigner(ed, dpop.WithClock(clk))
	_, err = v256.Verify(ctx, proof(t, se, "GET", apiURL, "", ""), dpop.Request{Method: "GET", URL: apiURL})
	wantCode(t, err, dpop.CodeInvalidProof, "not allowed")
	for _, bad := range []string{"none", "HS256", "XX1"} {
		if _, err := dpop.NewVerifier(dpop.Config{Algorithms: []string{bad}}); err == nil {
			t.Fatalf("NewVerifier accepted alg %s", bad)
		}
	}
}

// forge signs a proof with key but with the given header and claims, to
// make proofs the Signer never makes.
func forge(t *testing.T, key *ecdsa.PrivateKey, header map[string]any, claims map[string]any) string {
	t.Helper()
	hb, _ := json.Marshal(header)
	cb, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb)
	return input + "." + base64.RawURLEncoding.EncodeToString(ecSign(t, key, input))
}

func publicJWK(t *testing.T, k crypto.PublicKey) map[string]any {
	t.Helper()
	b, err := jwt.PublicJWK(k)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func TestVerifyRefuses(t *testing.T) {
	clk := clocktest.New(t0)
	s := newSigner(t, clk)
	key := s.Key().(*ecdsa.PrivateKey)
	other := newSigner(t, clk)
	good := func() map[string]any {
		return map[string]any{"jti": "j-" + t.Name() + time.Now().String(), "htm": "GET", "htu": apiURL, "iat": t0.Unix(), "ath": dpop.AccessTokenHash("at")}
	}
	hdr := func() map[string]any {
		return map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": publicJWK(t, key.Public())}
	}
	req := dpop.Request{Method: "GET", URL: apiURL, AccessToken: "at"}
	priv := publicJWK(t, key.Public())
	priv["d"] = base64.RawURLEncoding.EncodeToString(key.D.Bytes())
	edit := func(h func(map[string]any), c func(map[string]any)) string {
		hh, cc := hdr(), good()
		if h != nil {
			h(hh)
		}
		if c != nil {
			c(cc)
		}
		return forge(t, key, hh, cc)
	}
	cases := []struct {
		name, proof string
		req         dpop.Request
		contains    string
	}{
		{"forged baseline passes", "", req, ""},
		{"typ missing", edit(func(h map[string]any) { delete(h, "typ") }, nil), req, "typ"},
		{"typ JWT", edit(func(h map[string]any) { h["typ"] = "JWT" }, nil), req, "typ"},
		{"typ application/dpop+jwt", edit(func(h map[string]any) { h["typ"] = "application/dpop+jwt" }, nil), req, "typ"},
		{"alg none", edit(func(h map[string]any) { h["alg"] = "none" }, nil), req, "not allowed"},
		{"alg HS256", edit(func(h map[string]any) { h["alg"] = "HS256" }, nil), req, "not allowed"},
		{"no jwk", edit(func(h map[string]any) { delete(h, "jwk") }, nil), req, "jwk"},
		{"private jwk", edit(func(h map[string]any) { h["jwk"] = priv }, nil), req, "private"},
		{"jwk of another key", edit(func(h map[string]any) { h["jwk"] = publicJWK(t, other.Key().Public()) }, nil), req, "signature"},
		{"crit", edit(func(h map[string]any) { h["crit"] = []string{"x"} }, nil), req, "crit"},
		{"no jti", edit(nil, func(c map[string]any) { delete(c, "jti") }), req, "jti"},
		{"jti not a string", edit(nil, func(c map[string]any) { c["jti"] = 7 }), req, "jti"},
		{"htm POST", edit(nil, func(c map[string]any) { c["htm"] = "POST" }), req, "htm"},
		{"htm lower case", edit(nil, func(c map[string]any) { c["htm"] = "get" }), req, "htm"},
		{"no htm", edit(nil, func(c map[string]any) { delete(c, "htm") }), req, "htm"},
		{"htu other path", edit(nil, func(c map[string]any) { c["htu"] = "https://api.example.com/v1/other" }), req, "htu"},
		{"htu other host", edit(nil, func(c map[string]any) { c["htu"] = "https://evil.example.com/v1/things" }), req, "htu"},
		{"htu http", edit(nil, func(c map[string]any) { c["htu"] = "http://api.example.com/v1/things" }), req, "htu"},
		{"htu other port", edit(nil, func(c map[string]any) { c["htu"] = "https://api.example.com:8443/v1/things" }), req, "htu"},
		{"htu relative", edit(nil, func(c map[string]any) { c["htu"] = "/v1/things" }), req, "htu"},
		{"no iat", edit(nil, func(c map[string]any) { delete(c, "iat") }), req, "iat"},
		{"iat too old", edit(nil, func(c map[string]any) { c["iat"] = t0.Add(-61 * time.Second).Unix() }), req, "iat"},
		{"iat in the future", edit(nil, func(c map[string]any) { c["iat"] = t0.Add(61 * time.Second).Unix() }), req, "iat"},
		{"iat a string", edit(nil, func(c map[string]any) { c["iat"] = "now" }), req, "iat"},
		{"no ath", edit(nil, func(c map[string]any) { delete(c, "ath") }), req, "ath"},
		{"ath of another token", edit(nil, func(c map[string]any) { c["ath"] = dpop.AccessTokenHash("other") }), req, "ath"},
		{"wrong jkt", edit(nil, nil), dpop.Request{Method: "GET", URL: apiURL, AccessToken: "at", JKT: other.Thumbprint()}, "bound"},
		{"nonce not a string", edit(nil, func(c map[string]any) { c["nonce"] = 1 }), req, "nonce"},
		{"bad signature", edit(nil, nil)[:len(edit(nil, nil))-4] + "AAAA", req, "signature"},
		{"not a JWT", "abc", req, "malformed"},
		{"too long", strings.Repeat("a", dpop.MaxProofSize+1), req, "longer"},
	}
	v := newVerifier(t, clk)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if i == 0 {
				if _, err := v.Verify(ctx, edit(nil, nil), req); err != nil {
					t.Fatalf("the forged baseline fails: %v", err)
				}
				return
			}
			_, err := v.Verify(ctx, c.proof, c.req)
			wantCode(t, err, dpop.CodeInvalidProof, c.contains)
			if !errors.Is(err, dpop.ErrInvalidProof) || errors.Is(err, dpop.ErrUseNonce) {
				t.Fatalf("errors.Is: %v", err)
			}
		})
	}
	// Within the window either way is fine.
	for _, d := range []time.Duration{-60 * time.Second, 60 * time.Second} {
		if _, err := v.Verify(ctx, edit(nil, func(c map[string]any) { c["iat"] = t0.Add(d).Unix() }), req); err != nil {
			t.Fatalf("iat %s: %v", d, err)
		}
	}
	// A configured window.
	v5 := newVerifier(t, clk, func(c *dpop.Config) { c.Window = 5 * time.Second })
	_, err := v5.Verify(ctx, edit(nil, func(c map[string]any) { c["iat"] = t0.Add(-6 * time.Second).Unix() }), req)
	wantCode(t, err, dpop.CodeInvalidProof, "iat")
}

func TestVerifyReplay(t *testing.T) {
	clk := clocktest.New(t0)
	s := newSigner(t, clk)
	v := newVerifier(t, clk)
	p := proof(t, s, "GET", apiURL, "", "")
	req := dpop.Request{Method: "GET", URL: apiURL}
	if _, err := v.Verify(ctx, p, req); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(ctx, p, req)
	wantCode(t, err, dpop.CodeInvalidProof, "used before")
	if !errors.Is(err, dpop.ErrReplayed) {
		t.Fatalf("err %v is not ErrReplayed", err)
	}
	// A failed proof is not recorded: fixing the request makes it pass.
	p2 := proof(t, s, "GET", apiURL, "", "")
	if _, err := v.Verify(ctx, p2, dpop.Request{Method: "POST", URL: apiURL}); err == nil {
		t.Fatal("wrong method accepted")
	}
	if _, err := v.Verify(ctx, p2, req); err != nil {
		t.Fatalf("a proof refused for a wrong method was recorded: %v", err)
	}
	// A shared cache: a second verifier refuses what the first accepted.
	shared := dpop.NewMemoryReplayCache(10, clk)
	a := newVerifier(t, clk, func(c *dpop.Config) { c.Replay = shared })
	b := newVerifier(t, clk, func(c *dpop.Config) { c.Replay = shared })
	p3 := proof(t, s, "GET", apiURL, "", "")
	if _, err := a.Verify(ctx, p3, req); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(ctx, p3, req); !errors.Is(err, dpop.ErrReplayed) {
		t.Fatalf("replica accepted a replay: %v", err)
	}
	// A cache that fails refuses the proof.
	broken := newVerifier(t, clk, func(c *dpop.Config) { c.Replay = failingCache{} })
	_, err = broken.Verify(ctx, proof(t, s, "GET", apiURL, "", ""), req)
	wantCode(t, err, dpop.CodeInvalidProof, "replay cache")
}

type failingCache struct{}

func (failingCache) Seen(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("redis down")
}

func TestMemoryReplayCacheBounded(t *testing.T) {
	clk := clocktest.New(t0)
	c := dpop.NewMemoryReplayCache(3, clk)
	for i, k := range []string{"a", "b", "c", "d"} {
		if seen, _ := c.Seen(ctx, k, t0.Add(time.Duration(10+i)*time.Second)); seen {
			t.Fatalf("%s seen", k)
		}
	}
	if c.Len() != 3 {
		t.Fatalf("len %d, want 3", c.Len())
	}
	// "a" expired first and was dropped; "d" is remembered.
	if seen, _ := c.Seen(ctx, "d", t0.Add(time.Minute)); !seen {
		t.Fatal("d not seen")
	}
	// After expiry a key is forgotten.
	clk.Advance(20 * time.Second)
	if seen, _ := c.Seen(ctx, "d", t0.Add(time.Minute)); seen {
		t.Fatal("expired d still seen")
	}
	if c.Len() != 1 {
		t.Fatalf("len %d after expiry, want 1", c.Len())
	}
}

// TestMemoryReplayCacheFarExpiry: expiries beyond what Unix nanoseconds
// hold (before 1678, after 2262) are saturated, not wrapped: a key that
// expires in the year 3000 stays remembered, one that expired in the
// year 1 is never a replay, and neither disturbs the order of the rest.
func TestMemoryReplayCacheFarExpiry(t *testing.T) {
	clk := clocktest.New(t0)
	c := dpop.NewMemoryReplayCache(10, clk)
	far := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	past := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range []struct {
		key string
		exp time.Time
	}{{"far", far}, {"past", past}, {"soon", t0.Add(time.Second)}} {
		if seen, _ := c.Seen(ctx, k.key, k.exp); seen {
			t.Fatalf("%s seen the first time", k.key)
		}
	}
	if seen, _ := c.Seen(ctx, "past", past); seen {
		t.Fatal("a key that expired in the year 1 is a replay")
	}
	if seen, _ := c.Seen(ctx, "soon", t0.Add(time.Second)); !seen {
		t.Fatal("soon forgotten before it expired")
	}
	clk.Advance(100 * 365 * 24 * time.Hour)
	if seen, _ := c.Seen(ctx, "far", far); !seen {
		t.Fatal("a key that expires in the year 3000 was forgotten a century early")
	}
	if seen, _ := c.Seen(ctx, "soon", t0.Add(time.Second)); seen {
		t.Fatal("soon still remembered a century after it expired")
	}
}

// TestMemoryReplayCacheExpiryOrder puts proofs in with expiries in
// random order: whatever the order, the cache forgets exactly the expired
// ones, and when full it drops the one closest to expiry, never a later
// one (which could then be replayed).
func TestMemoryReplayCacheExpiryOrder(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	for round := range 20 {
		clk := clocktest.New(t0)
		const n = 200
		c := dpop.NewMemoryReplayCache(n, clk)
		exp := map[string]time.Time{}
		for i := range n {
			k := fmt.Sprintf("r%d-%d", round, i)
			exp[k] = t0.Add(time.Duration(1+rng.IntN(1000)) * time.Second)
			if seen, _ := c.Seen(ctx, k, exp[k]); seen {
				t.Fatalf("%s seen", k)
			}
		}
		// Full: one more drops the entry closest to expiry.
		earliest := ""
		for k, e := range exp {
			if earliest == "" || e.Before(exp[earliest]) || e.Equal(exp[earliest]) && k < earliest {
				earliest = k
			}
		}
		if seen, _ := c.Seen(ctx, "extra", t0.Add(2000*time.Second)); seen {
			t.Fatal("extra seen")
		}
		for k, e := range exp {
			if e.Equal(exp[earliest]) {
				continue // ties: either may go
			}
			if seen, _ := c.Seen(ctx, k, e); !seen {
				t.Fatalf("round %d: %s (expires %s) was dropped before %s (expires %s)", round, k, e, earliest, exp[earliest])
			}
		}
		// Half the time later, exactly the unexpired entries are kept.
		clk.Advance(500 * time.Second)
		if seen, _ := c.Seen(ctx, "probe", t0.Add(3000*time.Second)); seen {
			t.Fatal("probe seen")
		}
		want := 2 // "extra" and "probe"
		for _, e := range exp {
			if e.After(clk.Now()) {
				want++
			}
		}
		if c.Len() != want {
			t.Fatalf("round %d: %d entries after expiry, want %d", round, c.Len(), want)
		}
	}
}

func TestNonces(t *testing.T) {
	clk := clocktest.New(t0)
	secret := []byte("0123456789abcdef0123456789abcdef")
	n, err := dpop.NewNonces(secret, time.Minute, clk)
	if err != nil {
		t.Fatal(err)
	}
	replica, _ := dpop.NewNonces(secret, time.Minute, clk)
	stranger, _ := dpop.NewNonces([]byte("ffffffffffffffffffffffffffffffff"), time.Minute, clk)
	nonce := n.Nonce()
	if !replica.Valid(nonce) || stranger.Valid(nonce) || n.Valid("") || n.Valid(nonce[:len(nonce)-1]+"A") {
		t.Fatal("nonce validity")
	}
	clk.Advance(time.Minute)
	if !n.Valid(nonce) {
		t.Fatal("previous window's nonce refused")
	}
	clk.Advance(time.Minute)
	if n.Valid(nonce) {
		t.Fatal("nonce two windows old accepted")
	}
	if _, err := dpop.NewNonces([]byte("short"), 0, nil); err == nil {
		t.Fatal("short secret accepted")
	}

	s := newSigner(t, clk)
	v := newVerifier(t, clk, func(c *dpop.Config) { c.Nonces = n; c.RequireNonce = true })
	req := dpop.Request{Method: "POST", URL: tokenURL}
	_, err = v.Verify(ctx, proof(t, s, "POST", tokenURL, "", ""), req)
	wantCode(t, err, dpop.CodeUseNonce, "requires")
	if !errors.Is(err, dpop.ErrUseNonce) || errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("errors.Is: %v", err)
	}
	_, err = v.Verify(ctx, proof(t, s, "POST", tokenURL, "", nonce), req)
	wantCode(t, err, dpop.CodeUseNonce, "stale")
	if _, err := v.Verify(ctx, proof(t, s, "POST", tokenURL, "", n.Nonce()), req); err != nil {
		t.Fatal(err)
	}
	// Not required: no nonce is fine, a bad one is still refused.
	opt := newVerifier(t, clk, func(c *dpop.Config) { c.Nonces = n })
	if _, err := opt.Verify(ctx, proof(t, s, "POST", tokenURL, "", ""), req); err != nil {
		t.Fatal(err)
	}
	_, err = opt.Verify(ctx, proof(t, s, "POST", tokenURL, "", "bogus"), req)
	wantCode(t, err, dpop.CodeUseNonce, "")
	if _, err := dpop.NewVerifier(dpop.Config{RequireNonce: true}); err == nil {
		t.Fatal("RequireNonce without Nonces accepted")
	}
}

func TestVerifyRequestHeader(t *testing.T) {
	clk := clocktest.New(t0)
	s := newSigner(t, clk)
	v := newVerifier(t, clk)
	r := httptest.NewRequest("GET", apiURL, nil)
	_, err := v.VerifyRequest(r, apiURL, "", "")
	wantCode(t, err, dpop.CodeInvalidProof, "no DPoP header")
	if !errors.Is(err, dpop.ErrNoProof) {
		t.Fatal("not ErrNoProof")
	}
	r.Header.Add("DPoP", proof(t, s, "GET", apiURL, "", ""))
	r.Header.Add("DPoP", proof(t, s, "GET", apiURL, "", ""))
	_, err = v.VerifyRequest(r, apiURL, "", "")
	wantCode(t, err, dpop.CodeInvalidProof, "more than one")
	r.Header.Del("DPoP")
	r.Header.Set("DPoP", proof(t, s, "GET", apiURL, "", ""))
	if _, err := v.VerifyRequest(r, dpop.RequestURL(r, "", ""), "", s.Thumbprint()); err != nil {
		t.Fatal(err)
	}
	r2 := httptest.NewRequest("GET", "http://internal:8080/v1/things?x", nil)
	if got := dpop.RequestURL(r2, "https", "api.example.com"); got != apiURL {
		t.Fatalf("RequestURL = %s", got)
	}
	if got := dpop.RequestURL(r2, "", ""); got != "http://internal:8080/v1/things" {
		t.Fatalf("RequestURL = %s", got)
	}
	_ = http.MethodGet
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://A.example:443":             "https://a.example/",
		"HTTP://a.example:80/x?y#z":         "http://a.example/x",
		"http://a.example:8080/%7euser/%2f": "http://a.example:8080/~user/%2F",
		"https://user:pw@a.example/p":       "https://a.example/p",
		"https://[::1]:443/p":               "https://[::1]/p",
	} {
		got, ok := dpop.NormalizeURL(in)
		if !ok || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "/p", "ftp://a/p", "mailto:x@y", "https://"} {
		if _, ok := dpop.NormalizeURL(bad); ok {
			t.Errorf("NormalizeURL(%q) ok", bad)
		}
	}
}
