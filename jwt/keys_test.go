package jwt_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

func jwkJSON(t testing.TB, key any, kid, alg, use string) json.RawMessage {
	t.Helper()
	b, err := jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: use}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kids(s *jwt.KeySet) []string {
	var out []string
	for _, k := range s.All() {
		out = append(out, k.ID+"/"+k.Algorithm)
	}
	slices.Sort(out)
	return out
}

func TestParseJWKS(t *testing.T) {
	testKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string][]json.RawMessage{"keys": {
		jwkJSON(t, &ec256.PublicKey, "ec", "ES256", "sig"),
		jwkJSON(t, edKey.Public(), "ed", "", ""), // alg and use are optional
		jwkJSON(t, &ec384.PublicKey, "p384", "ES384", "sig"),
		jwkJSON(t, &rsaKey.PublicKey, "rsa", "RS256", "sig"),
		jwkJSON(t, &rsaKey.PublicKey, "rsa-any", "", "sig"),
		jwkJSON(t, &ec256.PublicKey, "ec-as-eddsa", "EdDSA", "sig"),
		jwkJSON(t, edKey.Public(), "ed-as-es256", "ES256", "sig"),
		jwkJSON(t, &rsaKey.PublicKey, "rsa-as-hs256", "HS256", "sig"),
		jwkJSON(t, &ec256.PublicKey, "ec-enc", "", "enc"),
		jwkJSON(t, ec256, "ec-private", "ES256", "sig"),
		jwkJSON(t, []byte("0123456789abcdef0123456789abcdef"), "oct", "HS256", "sig"),
		jwkJSON(t, &small.PublicKey, "rsa-1024", "RS256", "sig"),
		jwkJSON(t, &ec256.PublicKey, "twice", "ES256", "sig"),
		jwkJSON(t, edKey.Public(), "twice", "EdDSA", "sig"),
		json.RawMessage(`{"kty":"EC","kid":"broken","crv":"P-256","x":"AA","y":"AA"}`),
	}}
	s, err := jwt.ParseJWKS([]byte(mustJSON(t, set)))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ec/ES256", "ed/", "p384/ES384", "rsa-any/", "rsa/RS256"}
	if got := kids(s); !slices.Equal(got, want) {
		t.Errorf("usable keys %v, want %v", got, want)
	}
	for _, bad := range []string{`{}`, `{"keys":null}`, `[]`, `not json`} {
		if _, err := jwt.ParseJWKS([]byte(bad)); err == nil {
			t.Errorf("ParseJWKS(%s) succeeded", bad)
		}
	}
	if s, err := jwt.ParseJWKS([]byte(`{"keys":[]}`)); err != nil || len(s.All()) != 0 {
		t.Errorf("empty set: %v, %v", s, err)
	}
}

func TestParseKeys(t *testing.T) {
	testKeys(t)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ec256)
	if err != nil {
		t.Fatal(err)
	}
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"PEM public", pemPublic(t, &ec256.PublicKey), []string{"/"}},
		{"PEM PKCS #8 private", pemOf("PRIVATE KEY", pkcs8), []string{"/"}},
		{"PEM PKCS #1 RSA", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), []string{"/"}},
		{"PEM two keys", append(pemPublic(t, &ec256.PublicKey), pemPublic(t, edKey.Public())...), []string{"/", "/"}},
		{"JWK", jwkJSON(t, &ec256.PublicKey, "k1", "ES256", ""), []string{"k1/ES256"}},
		{"private JWK", jwkJSON(t, edKey, "k2", "", ""), []string{"k2/"}},
		{"JWK Set", []byte(`{"keys":[` + string(jwkJSON(t, &rsaKey.PublicKey, "r", "PS256", "sig")) + `]}`), []string{"r/PS256"}},
	}
	for _, tt := range tests {
		s, err := jwt.ParseKeys(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := kids(s); !slices.Equal(got, tt.want) {
			t.Errorf("%s: keys %v, want %v", tt.name, got, tt.want)
		}
		for _, k := range s.All() {
			if _, private := k.Public.(interface{ Public() any }); private {
				t.Errorf("%s: kept a private key", tt.name)
			}
		}
	}
	for _, bad := range [][]byte{
		nil, []byte("hello"), pemOf("ENCRYPTED PRIVATE KEY", []byte{1}), pemOf("FOO", []byte{1}),
		jwkJSON(t, []byte("0123456789abcdef0123456789abcdef"), "oct", "", ""),
		[]byte(`{"keys":[]}`),
	} {
		if _, err := jwt.ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%.40q) succeeded", bad)
		}
	}

	path := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(path, pemPublic(t, &ec256.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := jwt.ReadKeyFile(path); err != nil {
		t.Error(err)
	}
	if _, err := jwt.ReadKeyFile(path + ".missing"); err == nil {
		t.Error("ReadKeyFile of a missing file succeeded")
	}
}

func TestKeySetLookup(t *testing.T) {
	testKeys(t)
	a := newKey(t, &ec256.PublicKey, "a", "")
	b := newKey(t, &ec384.PublicKey, "b", "")
	anon := newKey(t, edKey.Public(), "", "")
	s := jwt.NewKeySet(a, b, anon)
	for _, tt := range []struct {
		kid  string
		want []*jwt.Key
	}{
		{"a", []*jwt.Key{a, anon}},
		{"zzz", []*jwt.Key{anon}},
		{"", []*jwt.Key{a, b, anon}},
	} {
		got, err := s.Keys(ctx, tt.kid)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Keys(%q) = %v, %v", tt.kid, got, err)
		}
	}
	if _, err := jwt.NewKeySet(a).Keys(ctx, "b"); !errors.Is(err, jwt.ErrUnknownKey) {
		t.Errorf("unknown kid: %v", err)
	}
	if _, err := jwt.NewKey(&rsaKey.PublicKey, "", jwt.ES256); !errors.Is(err, jwt.ErrAlgorithm) {
		t.Errorf("NewKey(RSA, ES256) = %v", err)
	}
	if _, err := jwt.NewKey("not a key", "", ""); err == nil {
		t.Error("NewKey of a string succeeded")
	}
	if !a.Equal(newKey(t, &ec256.PublicKey, "a", "")) || a.Equal(b) || a.Equal(newKey(t, &ec256.PublicKey, "a", jwt.ES256)) {
		t.Error("Key.Equal")
	}
}
