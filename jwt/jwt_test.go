package jwt_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

var ctx = context.Background()

func TestSignVerifyEveryAlgorithm(t *testing.T) {
	testKeys(t)
	hmacSecret := []byte(strings.Repeat("s", 32))
	hmacSigner, err := jwt.NewHMACSigner(hmacSecret, "h1")
	if err != nil {
		t.Fatal(err)
	}
	hmacKey, err := jwt.NewHMACKey(hmacSecret, "h1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		alg    string
		signer *jwt.Signer
		key    *jwt.Key
	}{
		{jwt.ES256, newSigner(t, ec256, "", "k"), newKey(t, &ec256.PublicKey, "k", "")},
		{jwt.ES384, newSigner(t, ec384, "", "k"), newKey(t, &ec384.PublicKey, "k", "")},
		{jwt.ES512, newSigner(t, ec521, "", "k"), newKey(t, &ec521.PublicKey, "k", "")},
		{jwt.EdDSA, newSigner(t, edKey, "", "k"), newKey(t, edKey.Public(), "k", "")},
		{jwt.RS256, newSigner(t, rsaKey, "", "k"), newKey(t, &rsaKey.PublicKey, "k", "")},
		{jwt.RS512, newSigner(t, rsaKey, jwt.RS512, "k"), newKey(t, &rsaKey.PublicKey, "k", "")},
		{jwt.PS256, newSigner(t, rsaKey, jwt.PS256, "k"), newKey(t, &rsaKey.PublicKey, "k", jwt.PS256)},
		{jwt.PS384, newSigner(t, rsaKey, jwt.PS384, "k"), newKey(t, &rsaKey.PublicKey, "k", "")},
		{jwt.HS256, hmacSigner, hmacKey},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			if got := tt.signer.Algorithm(); got != tt.alg {
				t.Fatalf("signer algorithm %s, want %s", got, tt.alg)
			}
			tok, err := tt.signer.Sign(jwt.TypeJWT, goodClaims())
			if err != nil {
				t.Fatal(err)
			}
			v := newVerifier(t, jwt.NewKeySet(tt.key), func(c *jwt.Config) {
				c.Algorithms = append([]string{tt.alg}, jwt.DefaultAlgorithms...)
			})
			got, err := v.Verify(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if got.Header.Algorithm != tt.alg || got.Header.KeyID != "k" && tt.alg != jwt.HS256 || got.Claims.Subject != "alice" || got.Key != tt.key {
				t.Errorf("verified token %+v", got)
			}
			// The signer's own verification key verifies too.
			v2 := newVerifier(t, jwt.NewKeySet(tt.signer.VerificationKey()), func(c *jwt.Config) { c.Algorithms = []string{tt.alg} })
			if _, err := v2.Verify(ctx, tok); err != nil {
				t.Errorf("VerificationKey: %v", err)
			}
		})
	}
}

func TestSignerRefusesAlgorithmThatDoesNotFitTheKey(t *testing.T) {
	testKeys(t)
	for _, tt := range []struct {
		key crypto.Signer
		alg string
	}{
		{ec256, jwt.ES384}, {ec256, jwt.RS256}, {ec256, jwt.HS256}, {edKey, jwt.ES256},
		{rsaKey, jwt.ES256}, {rsaKey, jwt.HS256}, {rsaKey, "none"}, {ec384, "ES999"},
	} {
		if _, err := jwt.NewSigner(tt.key, tt.alg, ""); !errors.Is(err, jwt.ErrAlgorithm) {
			t.Errorf("NewSigner(%T, %s) = %v, want ErrAlgorithm", tt.key, tt.alg, err)
		}
	}
	if _, err := jwt.NewHMACSigner([]byte("short"), ""); err == nil {
		t.Error("NewHMACSigner accepted a 5-byte secret")
	}
	if _, err := jwt.NewHMACKey([]byte("short"), ""); err == nil {
		t.Error("NewHMACKey accepted a 5-byte secret")
	}
}

func TestSignedHeader(t *testing.T) {
	testKeys(t)
	tok, err := newSigner(t, ec256, "", "kid-1").Sign(jwt.TypeAccessToken, map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	got, err := jwt.DecodeUnverified(tok)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Header.Raw) != `{"alg":"ES256","kid":"kid-1","typ":"at+jwt"}` {
		t.Errorf("header %s", got.Header.Raw)
	}
	tok, err = newSigner(t, ec256, "", "").Sign("", map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := jwt.DecodeUnverified(tok); string(got.Header.Raw) != `{"alg":"ES256"}` {
		t.Errorf("header without kid and typ %s", got.Header.Raw)
	}
	if _, err := newSigner(t, ec256, "", "").Sign("", []int{1}); !errors.Is(err, jwt.ErrMalformed) {
		t.Errorf("Sign of an array: %v", err)
	}
	if _, err := newSigner(t, ec256, "", "").SignJSON("", []byte(`{"a":1,"a":2}`)); !errors.Is(err, jwt.ErrMalformed) {
		t.Errorf("SignJSON with a duplicate claim: %v", err)
	}
}

func TestClaimsMarshal(t *testing.T) {
	c := jwt.Claims{
		Issuer: "i", Subject: "s", Audience: []string{"a"}, ID: "j",
		IssuedAt: t0, ExpiresAt: t0.Add(time.Minute),
		Extra: map[string]any{"scope": "x y"},
	}
	if got, want := mustJSON(t, c), `{"aud":"a","exp":1772366460,"iat":1772366400,"iss":"i","jti":"j","scope":"x y","sub":"s"}`; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	c.Audience = []string{"a", "b"}
	if got := mustJSON(t, jwt.Claims{Audience: c.Audience}); got != `{"aud":["a","b"]}` {
		t.Errorf("two audiences: %s", got)
	}
	c.Extra["iss"] = "other"
	if _, err := c.MarshalJSON(); err == nil {
		t.Error("iss set twice was accepted")
	}
}

// TestVerifyRejects holds the negative cases of RFC 7515, RFC 7519 and
// RFC 8725: each must fail with its own error.
func TestVerifyRejects(t *testing.T) {
	testKeys(t)
	signer := newSigner(t, ec256, "", "k1")
	key := newKey(t, &ec256.PublicKey, "k1", jwt.ES256)
	keys := jwt.NewKeySet(key)
	pubPEM := pemPublic(t, &ec256.PublicKey)

	sign := func(header, claims string) string {
		input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
		d := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, ec256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return input + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	withClaim := func(name string, v any) string {
		c := goodClaims()
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
		return mustJSON(t, c)
	}
	hdr := `{"alg":"ES256","kid":"k1","typ":"JWT"}`
	claims := mustJSON(t, goodClaims())
	good := sign(hdr, claims)
	hmacWithPublicKey := func(alg string) string {
		input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"`+alg+`","kid":"k1"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
		m := hmac.New(sha256.New, pubPEM)
		m.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	other := newSigner(t, ec384, "", "k1")
	otherTok, err := other.Sign(jwt.TypeJWT, goodClaims())
	if err != nil {
		t.Fatal(err)
	}
	// A DER (ASN.1) ECDSA signature over the right input: valid elsewhere,
	// not a JWS signature (RFC 7518 §3.4).
	derTok := func() string {
		input := good[:strings.LastIndexByte(good, '.')]
		d := sha256.Sum256([]byte(input))
		r, s, _ := ecdsa.Sign(rand.Reader, ec256, d[:])
		der, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s})
		return input + "." + base64.RawURLEncoding.EncodeToString(der)
	}()

	tests := []struct {
		name  string
		token string
		mod   func(*jwt.Config)
		want  error
	}{
		{"alg none", rawToken(`{"alg":"none","kid":"k1"}`, claims, nil), nil, jwt.ErrAlgorithm},
		{"alg None", rawToken(`{"alg":"None","kid":"k1"}`, claims, nil), nil, jwt.ErrAlgorithm},
		{"no alg", sign(`{"kid":"k1"}`, claims), nil, jwt.ErrAlgorithm},
		{"HS256 keyed with the public key", hmacWithPublicKey("HS256"), nil, jwt.ErrAlgorithm},
		{"HS256 keyed with the public key, HS256 allowed", hmacWithPublicKey("HS256"),
			func(c *jwt.Config) { c.Algorithms = []string{jwt.HS256, jwt.ES256} }, jwt.ErrBadSignature},
		{"alg of another key type", sign(`{"alg":"RS256","kid":"k1"}`, claims), nil, jwt.ErrBadSignature},
		{"alg of another curve", otherTok, nil, jwt.ErrBadSignature},
		{"alg allowed but not the key's", sign(`{"alg":"EdDSA","kid":"k1"}`, claims), nil, jwt.ErrBadSignature},
		{"alg not on the allow-list", good, func(c *jwt.Config) { c.Algorithms = []string{jwt.EdDSA} }, jwt.ErrAlgorithm},
		{"crit", sign(`{"alg":"ES256","kid":"k1","crit":["exp"],"exp":1}`, claims), nil, jwt.ErrMalformed},
		{"crit empty", sign(`{"alg":"ES256","kid":"k1","crit":[]}`, claims), nil, jwt.ErrMalformed},
		{"duplicate alg", sign(`{"alg":"ES256","kid":"k1","alg":"ES256"}`, claims), nil, jwt.ErrMalformed},
		{"duplicate kid, escaped", sign(`{"alg":"ES256","kid":"k1","\u006bid":"k2"}`, claims), nil, jwt.ErrMalformed},
		{"duplicate claim", sign(hdr, `{"sub":"alice","sub":"admin","iss":"https://issuer.example","aud":"https://api.example","exp":4000000000}`), nil, jwt.ErrMalformed},
		{"alg not a string", sign(`{"alg":["ES256"],"kid":"k1"}`, claims), nil, jwt.ErrMalformed},
		{"header not an object", sign(`["ES256"]`, claims), nil, jwt.ErrMalformed},
		{"header null", sign(`null`, claims), nil, jwt.ErrMalformed},
		{"claims not an object", sign(hdr, `["alice"]`), nil, jwt.ErrMalformed},
		{"claims with trailing data", sign(hdr, claims+`{}`), nil, jwt.ErrMalformed},
		{"huge token", sign(hdr, `{"pad":"`+strings.Repeat("x", jwt.MaxTokenSize)+`"}`), nil, jwt.ErrMalformed},
		{"two parts", good[:strings.LastIndexByte(good, '.')], nil, jwt.ErrMalformed},
		{"four parts", good + ".x", nil, jwt.ErrMalformed},
		{"JWE", "a.b.c.d.e", nil, jwt.ErrMalformed},
		{"padding", good + "==", nil, jwt.ErrMalformed},
		{"white space", good[:10] + "\n" + good[10:], nil, jwt.ErrMalformed},
		{"standard base64", strings.Replace(good, good[:4], "ey+/", 1), nil, jwt.ErrMalformed},
		{"typ", good, func(c *jwt.Config) { c.Type = jwt.TypeAccessToken }, jwt.ErrType},
		{"unknown kid", sign(`{"alg":"ES256","kid":"k9"}`, claims), nil, jwt.ErrUnknownKey},
		{"jwk header", signWithEmbeddedKey(t, "jwk"), nil, jwt.ErrBadSignature},
		{"jku header", signWithEmbeddedKey(t, "jku"), nil, jwt.ErrBadSignature},
		{"x5u header", signWithEmbeddedKey(t, "x5u"), nil, jwt.ErrBadSignature},
		{"altered claims", rawToken(hdr, withClaim("sub", "admin"), sigOf(t, good)), nil, jwt.ErrBadSignature},
		{"DER signature", derTok, nil, jwt.ErrBadSignature},
		{"empty signature", good[:strings.LastIndexByte(good, '.')+1], nil, jwt.ErrBadSignature},
		{"wrong issuer", sign(hdr, withClaim("iss", "https://evil.example")), nil, jwt.ErrIssuer},
		{"no issuer", sign(hdr, withClaim("iss", nil)), nil, jwt.ErrIssuer},
		{"wrong audience", sign(hdr, withClaim("aud", "https://other.example")), nil, jwt.ErrAudience},
		{"no audience", sign(hdr, withClaim("aud", nil)), nil, jwt.ErrAudience},
		{"audience list without ours", sign(hdr, withClaim("aud", []string{"a", "b"})), nil, jwt.ErrAudience},
		{"audience a number", sign(hdr, withClaim("aud", 5)), nil, jwt.ErrClaim},
		{"expired", sign(hdr, withClaim("exp", t0.Add(-31*time.Second).Unix())), nil, jwt.ErrExpired},
		{"expired, no leeway", sign(hdr, withClaim("exp", t0.Unix())), func(c *jwt.Config) { c.Leeway = -1 }, jwt.ErrExpired},
		{"exp missing", sign(hdr, withClaim("exp", nil)), nil, jwt.ErrClaim},
		{"exp a string", sign(hdr, withClaim("exp", "tomorrow")), nil, jwt.ErrClaim},
		{"exp negative", sign(hdr, withClaim("exp", -1)), nil, jwt.ErrClaim},
		{"nbf in the future", sign(hdr, withClaim("nbf", t0.Add(time.Minute).Unix())), nil, jwt.ErrNotYetValid},
		{"nbf a string", sign(hdr, withClaim("nbf", "now")), nil, jwt.ErrClaim},
		{"iat in the future", sign(hdr, withClaim("iat", t0.Add(time.Minute).Unix())), nil, jwt.ErrNotYetValid},
		{"sub a number", sign(hdr, withClaim("sub", 7)), nil, jwt.ErrClaim},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mods := []func(*jwt.Config){}
			if tt.mod != nil {
				mods = append(mods, tt.mod)
			}
			_, err := newVerifier(t, keys, mods...).Verify(ctx, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
			if len(tt.token) > 200 && strings.Contains(err.Error(), tt.token[:200]) {
				t.Errorf("the error quotes the token: %v", err)
			}
		})
	}

	// The controls: the good token passes, also with a "jku" header that
	// is ignored, and within the leeway.
	if _, err := newVerifier(t, keys).Verify(ctx, good); err != nil {
		t.Fatalf("good token: %v", err)
	}
	if _, err := newVerifier(t, keys).Verify(ctx, sign(`{"alg":"ES256","kid":"k1","jku":"https://evil.example/jwks"}`, claims)); err != nil {
		t.Errorf("a jku header is to be ignored, not refused: %v", err)
	}
	if _, err := newVerifier(t, keys).Verify(ctx, sign(hdr, withClaim("exp", t0.Add(-29*time.Second).Unix()))); err != nil {
		t.Errorf("expired within the leeway: %v", err)
	}
	if _, err := newVerifier(t, keys, func(c *jwt.Config) { c.ExpiryOptional = true }).Verify(ctx, sign(hdr, withClaim("exp", nil))); err != nil {
		t.Errorf("ExpiryOptional: %v", err)
	}
	if _, err := newVerifier(t, keys, func(c *jwt.Config) { c.Type = "application/JWT" }).Verify(ctx, good); err != nil {
		t.Errorf("typ application/JWT: %v", err)
	}
	if _, err := newVerifier(t, keys, func(c *jwt.Config) {
		c.Issuer, c.AnyIssuer, c.Audience, c.AnyAudience = "", true, nil, true
	}).Verify(ctx, sign(hdr, withClaim("aud", "x"))); err != nil {
		t.Errorf("AnyIssuer, AnyAudience: %v", err)
	}
	if _, err := signer.Sign(jwt.TypeJWT, goodClaims()); err != nil {
		t.Fatal(err)
	}
}

// signWithEmbeddedKey returns a token signed by an attacker's key that
// names the victim's kid and carries the attacker's key (or a URL to it)
// in the header: the verifier must use its own key and fail.
func signWithEmbeddedKey(t *testing.T, member string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(ec256.Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var value any = "https://evil.example/keys"
	if member == "jwk" {
		value = map[string]any{
			"kty": "EC", "crv": "P-256",
			"x": base64.RawURLEncoding.EncodeToString(k.X.FillBytes(make([]byte, 32))),
			"y": base64.RawURLEncoding.EncodeToString(k.Y.FillBytes(make([]byte, 32))),
		}
	}
	header := mustJSON(t, map[string]any{"alg": "ES256", "kid": "k1", member: value})
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(mustJSON(t, goodClaims())))
	d := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, k, d[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func sigOf(t *testing.T, tok string) []byte {
	t.Helper()
	sig, err := base64.RawURLEncoding.DecodeString(tok[strings.LastIndexByte(tok, '.')+1:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func pemPublic(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestConfigValidate(t *testing.T) {
	keys := jwt.NewKeySet()
	for _, tt := range []struct {
		name string
		cfg  jwt.Config
	}{
		{"no keys", jwt.Config{Issuer: "i", Audience: []string{"a"}}},
		{"no issuer", jwt.Config{Keys: keys, Audience: []string{"a"}}},
		{"no audience", jwt.Config{Keys: keys, Issuer: "i"}},
		{"empty audience", jwt.Config{Keys: keys, Issuer: "i", Audience: []string{""}}},
		{"issuer and AnyIssuer", jwt.Config{Keys: keys, Issuer: "i", AnyIssuer: true, Audience: []string{"a"}}},
		{"audience and AnyAudience", jwt.Config{Keys: keys, Issuer: "i", Audience: []string{"a"}, AnyAudience: true}},
		{"alg none", jwt.Config{Keys: keys, Issuer: "i", Audience: []string{"a"}, Algorithms: []string{"none"}}},
		{"unknown alg", jwt.Config{Keys: keys, Issuer: "i", Audience: []string{"a"}, Algorithms: []string{"ES256K"}}},
	} {
		if _, err := jwt.NewVerifier(tt.cfg); err == nil {
			t.Errorf("%s: NewVerifier accepted %+v", tt.name, tt.cfg)
		}
	}
}

func TestDecodeUnverified(t *testing.T) {
	testKeys(t)
	c := goodClaims()
	c["exp"] = 1 // long expired
	tok, err := newSigner(t, ec256, "", "k1").Sign(jwt.TypeAccessToken, c)
	if err != nil {
		t.Fatal(err)
	}
	tok = tok[:strings.LastIndexByte(tok, '.')+1] + "AAAA" // and a broken signature
	got, err := jwt.DecodeUnverified(tok)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Type != "at+jwt" || got.Header.KeyID != "k1" || got.Claims.Subject != "alice" ||
		got.Claims.Audience[0] != "https://api.example" || got.Claims.ExpiresAt.Unix() != 1 || got.Key != nil {
		t.Errorf("decoded %+v", got)
	}
	for _, bad := range []string{"", "a.b", "e30.e30", "e30.W10.", "e30.e30.!", rawToken(`{}`, `{"a":1,"a":1}`, nil)} {
		if _, err := jwt.DecodeUnverified(bad); !errors.Is(err, jwt.ErrMalformed) {
			t.Errorf("DecodeUnverified(%q) = %v, want ErrMalformed", bad, err)
		}
	}
	// crit is a verification rule, not a syntax rule: decode shows it.
	if _, err := jwt.DecodeUnverified(rawToken(`{"alg":"ES256","crit":["x"]}`, `{}`, nil)); err != nil {
		t.Errorf("decode with crit: %v", err)
	}
}

func TestHelpers(t *testing.T) {
	testKeys(t)
	s := newSigner(t, ec256, "", "k1")
	keys := jwt.NewKeySet(s.VerificationKey())

	a, err := s.SignClientAssertion("svc", "https://issuer.example/oauth2/token", t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, keys, func(c *jwt.Config) {
		c.Issuer, c.Audience = "svc", []string{"https://issuer.example/oauth2/token"}
	})
	got, err := v.Verify(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if got.Claims.Subject != "svc" || len(got.Claims.ID) < 22 || got.Claims.ExpiresAt.Sub(got.Claims.IssuedAt) != jwt.DefaultAssertionLifetime {
		t.Errorf("assertion claims %+v", got.Claims)
	}

	at, err := s.SignAccessToken(jwt.AccessToken{
		Issuer: "https://issuer.example", Subject: "alice", ClientID: "cli",
		Audience: []string{"https://api.example"}, Scope: "read write",
		IssuedAt: t0, Lifetime: time.Minute, Extra: map[string]any{"roles": []string{"admin"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = newVerifier(t, keys, func(c *jwt.Config) { c.Type = jwt.TypeAccessToken }).Verify(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClaimSet["client_id"] != "cli" || got.ClaimSet["scope"] != "read write" || got.Claims.ID == "" {
		t.Errorf("access token claims %v", got.ClaimSet)
	}
	if _, err := s.SignAccessToken(jwt.AccessToken{Issuer: "i"}); err == nil {
		t.Error("an access token without its required claims was signed")
	}
}

// TestAlgorithmBoundToKey checks the key-type binding on its own: with
// every algorithm allowed, a header alg that does not fit the key is
// refused before any signature check, and so is one the JWK pins away.
func TestAlgorithmBoundToKey(t *testing.T) {
	testKeys(t)
	all := append([]string{jwt.HS256}, jwt.DefaultAlgorithms...)
	claims := mustJSON(t, goodClaims())
	for _, tt := range []struct {
		name string
		key  *jwt.Key
		alg  string
	}{
		{"RS256 on an EC key", newKey(t, &ec256.PublicKey, "k", ""), jwt.RS256},
		{"ES384 on a P-256 key", newKey(t, &ec256.PublicKey, "k", ""), jwt.ES384},
		{"EdDSA on an EC key", newKey(t, &ec256.PublicKey, "k", ""), jwt.EdDSA},
		{"HS256 on an EC key", newKey(t, &ec256.PublicKey, "k", ""), jwt.HS256},
		{"HS256 on an RSA key", newKey(t, &rsaKey.PublicKey, "k", ""), jwt.HS256},
		{"PS256 on an RSA key pinned to RS256", newKey(t, &rsaKey.PublicKey, "k", jwt.RS256), jwt.PS256},
	} {
		tok := rawToken(`{"alg":"`+tt.alg+`","kid":"k"}`, claims, make([]byte, 64))
		_, err := newVerifier(t, jwt.NewKeySet(tt.key), func(c *jwt.Config) { c.Algorithms = all }).Verify(ctx, tok)
		if !errors.Is(err, jwt.ErrBadSignature) || !strings.Contains(err.Error(), "does not fit") {
			t.Errorf("%s: %v, want a refusal before the signature check", tt.name, err)
		}
	}
}
