package resource

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func TestParseJWKS(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := func(key any, kid, alg, use string) json.RawMessage {
		b, err := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: use}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	set := map[string][]json.RawMessage{"keys": {
		jwk(&ec.PublicKey, "ec", "ES256", "sig"),
		jwk(edPub, "ed", "", ""), // alg and use are optional
		jwk(&ec.PublicKey, "ec-as-eddsa", "EdDSA", "sig"),
		jwk(edPub, "ed-as-es256", "ES256", "sig"),
		jwk(&ec.PublicKey, "ec-enc", "", "enc"),
		jwk(&ec.PublicKey, "", "ES256", "sig"),
		jwk(ec, "ec-private", "ES256", "sig"),
		jwk(&ec384.PublicKey, "p384", "ES384", "sig"),
		jwk(&rsaKey.PublicKey, "rsa", "RS256", "sig"),
		jwk(&ec.PublicKey, "twice", "ES256", "sig"),
		jwk(edPub, "twice", "EdDSA", "sig"),
		json.RawMessage(`{"kty":"EC","kid":"broken","crv":"P-256","x":"AA","y":"AA"}`),
	}}
	body, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for kid := range keys {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	if !slices.Equal(kids, []string{"ec", "ed"}) {
		t.Errorf("usable kids %v, want [ec ed]", kids)
	}
	if keys["ec"].alg != ES256 || keys["ed"].alg != EdDSA {
		t.Errorf("algorithms %s, %s", keys["ec"].alg, keys["ed"].alg)
	}

	for _, bad := range []string{`{}`, `{"keys":null}`, `[]`, `not json`} {
		if _, err := parseJWKS([]byte(bad)); err == nil {
			t.Errorf("parseJWKS(%s) succeeded", bad)
		}
	}
	if keys, err := parseJWKS([]byte(`{"keys":[]}`)); err != nil || len(keys) != 0 {
		t.Errorf("empty set: %v, %v", keys, err)
	}
}

func TestRefreshInterval(t *testing.T) {
	tests := []struct {
		cacheControl []string
		want         time.Duration
	}{
		{nil, DefaultJWKSRefresh},
		{[]string{"public, max-age=300"}, 300 * time.Second},
		{[]string{"public", "MAX-AGE=\"120\""}, 120 * time.Second},
		{[]string{"max-age=0"}, MinJWKSRefetchInterval},
		{[]string{"no-store"}, DefaultJWKSRefresh},
		{[]string{"max-age=abc, max-age=60"}, 60 * time.Second},
		{[]string{"max-age=-5"}, DefaultJWKSRefresh},
		{[]string{"max-age=99999999999999999"}, maxJWKSRefresh},
	}
	for _, tt := range tests {
		if got := refreshInterval(tt.cacheControl); got != tt.want {
			t.Errorf("refreshInterval(%q) = %v, want %v", tt.cacheControl, got, tt.want)
		}
	}
}

func TestScanToken(t *testing.T) {
	tests := []struct {
		tok  string
		dots int
		ok   bool
	}{
		{"a.b.c", 2, true},
		{"gatehouse_k1_abc-DEF~+/", 0, true},
		{"abc==", 0, true},
		{"==", 0, false},
		{"a=b", 0, false},
		{"a b", 0, false},
		{"a\"b", 0, false},
		{"a\nb", 0, false},
		{"a.b.c.d.e", 4, true},
	}
	for _, tt := range tests {
		dots, ok := scanToken(tt.tok)
		if dots != tt.dots || ok != tt.ok {
			t.Errorf("scanToken(%q) = %d, %v; want %d, %v", tt.tok, dots, ok, tt.dots, tt.ok)
		}
	}
}

// TestFetchRateLimit checks both guards of the rate limit: due (the cheap
// check before joining a fetch) and claim (inside the single flight).
func TestFetchRateLimit(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true},                           // first fetch
		{0, false},                          // same instant
		{MinJWKSRefetchInterval - 1, false}, // inside the interval
		{MinJWKSRefetchInterval, true},      // next window
		{-time.Hour, true},                  // the clock went backwards
	}
	var s keySource
	for i, st := range steps {
		now := t0.Add(st.at)
		if got := s.due(now); got != st.want {
			t.Errorf("step %d: due = %v, want %v", i, got, st.want)
		}
		if got := s.claim(now); got != st.want {
			t.Errorf("step %d: claim = %v, want %v", i, got, st.want)
		}
	}
}
