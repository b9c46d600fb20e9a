package signing

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/jwt"
)

var enc = base64.RawURLEncoding

// forge builds a compact JWS from a raw header and payload with a given
// signature.
func forge(header, payload string, sig []byte) string {
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture()
			m := f.manager(t, Options{Algorithm: alg})
			claims := map[string]any{"sub": "alice", "aud": []string{"api"}, "n": 1.5}
			tok, err := m.Sign(TypeAccessToken, claims)
			if err != nil {
				t.Fatal(err)
			}
			hb, _ := enc.DecodeString(strings.Split(tok, ".")[0])
			var h map[string]string
			if err := json.Unmarshal(hb, &h); err != nil {
				t.Fatal(err)
			}
			if h["alg"] != alg || h["typ"] != "at+jwt" || h["kid"] != m.Keys()[0].ID || len(h) != 3 {
				t.Errorf("header = %s", hb)
			}
			got, err := m.Verify(tok, TypeAccessToken)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want, _ := json.Marshal(claims)
			if string(got) != string(want) {
				t.Errorf("Verify claims = %s, want %s", got, want)
			}
			// Two signatures of the same claims differ for ES256
			// (random k) and match for Ed25519 (deterministic).
			tok2, _ := m.Sign(TypeAccessToken, claims)
			if (tok2 == tok) != (alg == EdDSA) {
				t.Errorf("second token equal = %v", tok2 == tok)
			}
		})
	}
}

func TestVerifyTypes(t *testing.T) {
	f := newFixture()
	m := f.manager(t, Options{})
	idTok := sign(t, m, TypeIDToken)
	atTok := sign(t, m, TypeAccessToken)

	// SECURITY-CASES 20: an ID token presented as an access token.
	if _, err := m.Verify(idTok, TypeAccessToken); !errors.Is(err, ErrBadType) {
		t.Errorf("ID token as access token: %v, want ErrBadType", err)
	}
	if _, err := m.Verify(atTok, TypeIDToken); !errors.Is(err, ErrBadType) {
		t.Errorf("access token as ID token: %v, want ErrBadType", err)
	}
	noTyp := sign(t, m, "")
	if _, err := m.Verify(noTyp, TypeAccessToken); !errors.Is(err, ErrBadType) {
		t.Errorf("token without typ: %v, want ErrBadType", err)
	}
	// An empty typ asks for a token without one.
	if _, err := m.Verify(noTyp, ""); err != nil {
		t.Errorf("token without typ, none wanted: %v", err)
	}
	if _, err := m.Verify(atTok, ""); !errors.Is(err, ErrBadType) {
		t.Errorf("token with typ, none wanted: %v, want ErrBadType", err)
	}
	for _, typ := range []string{"application/at+jwt", "AT+JWT", "Application/AT+JWT"} {
		if _, err := m.Verify(sign(t, m, typ), TypeAccessToken); err != nil {
			t.Errorf("typ %q as at+jwt: %v", typ, err)
		}
	}
	if _, err := m.Verify(sign(t, m, "jwt"), TypeIDToken); err != nil {
		t.Errorf("typ jwt as JWT: %v", err)
	}
	for _, typ := range []string{"at+jwt2", "application/x/at+jwt", "text/at+jwt", "JWT"} {
		if _, err := m.Verify(sign(t, m, typ), TypeAccessToken); !errors.Is(err, ErrBadType) {
			t.Errorf("typ %q as at+jwt: %v, want ErrBadType", typ, err)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture()
	m := f.manager(t, Options{})
	kid := m.Keys()[0].ID
	good := sign(t, m, TypeAccessToken)
	parts := strings.Split(good, ".")
	hdr := `{"alg":"ES256","kid":"` + kid + `","typ":"at+jwt"}`
	sig, _ := enc.DecodeString(parts[2])

	// Re-sign arbitrary header/payload with the real key, to reach the
	// checks behind the signature.
	row := f.store.row(kid)
	der, err := f.key.Open(row.EncryptedPrivateKey, []byte(row.ID))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	resign := func(header, payload string) string {
		in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
		d := sha256.Sum256([]byte(in))
		r, ss, err := ecdsa.Sign(rand.Reader, priv.(*ecdsa.PrivateKey), d[:])
		if err != nil {
			t.Fatal(err)
		}
		sg := make([]byte, 64)
		r.FillBytes(sg[:32])
		ss.FillBytes(sg[32:])
		return in + "." + enc.EncodeToString(sg)
	}
	// HS256 keyed with the public JWK (RFC 8725 §2.1 key confusion).
	pubJWK := f.store.row(kid).PublicJWK
	hsIn := enc.EncodeToString([]byte(`{"alg":"HS256","kid":"`+kid+`","typ":"at+jwt"}`)) + "." + parts[1]
	mac := hmac.New(sha256.New, []byte(pubJWK))
	mac.Write([]byte(hsIn))
	hs256 := hsIn + "." + enc.EncodeToString(mac.Sum(nil))

	tamperedPayload := parts[0] + "." + enc.EncodeToString([]byte(`{"sub":"admin","scope":"read"}`)) + "." + parts[2]
	flipped := append([]byte(nil), sig...)
	flipped[10] ^= 1

	for name, tc := range map[string]struct {
		tok  string
		want error
	}{
		"alg none":            {forge(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`, `{"sub":"alice"}`, nil), ErrBadSignature},
		"alg none no kid":     {forge(`{"alg":"none","typ":"at+jwt"}`, `{"sub":"alice"}`, nil), ErrBadSignature},
		"alg NONE":            {forge(`{"alg":"NONE","kid":"`+kid+`","typ":"at+jwt"}`, `{"sub":"alice"}`, nil), ErrBadSignature},
		"alg HS256":           {hs256, ErrBadSignature},
		"alg EdDSA on EC key": {forge(`{"alg":"EdDSA","kid":"`+kid+`","typ":"at+jwt"}`, `{}`, sig), ErrBadSignature},
		"alg es256 lowercase": {forge(`{"alg":"es256","kid":"`+kid+`","typ":"at+jwt"}`, `{}`, sig), ErrBadSignature},
		"signed, alg none":    {resign(`{"alg":"none","kid":"`+kid+`","typ":"at+jwt"}`, `{}`), ErrBadSignature},
		"signed, alg ES384":   {resign(`{"alg":"ES384","kid":"`+kid+`","typ":"at+jwt"}`, `{}`), ErrBadSignature},
		"signed, no alg":      {resign(`{"kid":"`+kid+`","typ":"at+jwt"}`, `{}`), ErrBadSignature},
		"tampered payload":    {tamperedPayload, ErrBadSignature},
		"flipped signature":   {parts[0] + "." + parts[1] + "." + enc.EncodeToString(flipped), ErrBadSignature},
		"short signature":     {parts[0] + "." + parts[1] + "." + enc.EncodeToString(sig[:63]), ErrBadSignature},
		"zero signature":      {parts[0] + "." + parts[1] + "." + enc.EncodeToString(make([]byte, 64)), ErrBadSignature},
		"empty signature":     {parts[0] + "." + parts[1] + ".", ErrBadSignature},
		"unknown kid":         {forge(`{"alg":"ES256","kid":"nope","typ":"at+jwt"}`, `{}`, sig), ErrUnknownKey},
		// The allow-list (ES256, EdDSA) is applied before the key lookup.
		"RS256, unknown kid":   {forge(`{"alg":"RS256","kid":"nope","typ":"at+jwt"}`, `{}`, sig), ErrBadSignature},
		"no kid":               {forge(`{"alg":"ES256","typ":"at+jwt"}`, `{}`, sig), ErrUnknownKey},
		"two parts":            {parts[0] + "." + parts[1], ErrMalformed},
		"four parts":           {good + ".x", ErrMalformed},
		"empty":                {"", ErrMalformed},
		"padding":              {parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformed},
		"newline":              {parts[0] + "\n." + parts[1] + "." + parts[2], ErrMalformed},
		"std base64":           {parts[0] + "." + parts[1] + "." + base64.StdEncoding.EncodeToString(sig), ErrMalformed},
		"header not json":      {forge(`not json`, `{}`, sig), ErrMalformed},
		"header array":         {forge(`["ES256"]`, `{}`, sig), ErrMalformed},
		"header trailing":      {forge(hdr+`{}`, `{}`, sig), ErrMalformed},
		"typ not string":       {forge(`{"alg":"ES256","kid":"`+kid+`","typ":1}`, `{}`, sig), ErrMalformed},
		"duplicate alg":        {forge(`{"alg":"none","alg":"ES256","kid":"`+kid+`","typ":"at+jwt"}`, `{}`, sig), ErrMalformed},
		"duplicate kid":        {forge(`{"alg":"ES256","kid":"x","kid":"`+kid+`","typ":"at+jwt"}`, `{}`, sig), ErrMalformed},
		"crit":                 {resign(`{"alg":"ES256","kid":"`+kid+`","typ":"at+jwt","crit":["exp"],"exp":1}`, `{}`), ErrMalformed},
		"payload not object":   {resign(hdr, `"sub"`), ErrMalformed},
		"payload not json":     {resign(hdr, `{"sub":`), ErrMalformed},
		"payload empty":        {resign(hdr, ``), ErrMalformed},
		"too long":             {strings.Repeat("a", jwt.MaxTokenSize+1), ErrMalformed},
		"duplicate claim":      {resign(hdr, `{"sub":"alice","sub":"admin"}`), ErrMalformed},
		"payload not base64":   {parts[0] + ".!!!." + parts[2], ErrMalformed},
		"header not base64url": {"e30*." + parts[1] + "." + parts[2], ErrMalformed},
	} {
		claims, err := m.Verify(tc.tok, TypeAccessToken)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Verify = %s, %v; want %v", name, claims, err, tc.want)
		}
	}
	// Unknown header members (jku, x5u, jwk) are ignored, never used.
	if _, err := m.Verify(resign(`{"alg":"ES256","kid":"`+kid+`","typ":"at+jwt","jku":"https://evil.example/jwks"}`, `{"sub":"x"}`), TypeAccessToken); err != nil {
		t.Errorf("token with extra header member: %v", err)
	}
	if _, err := m.Verify(good, TypeAccessToken); err != nil {
		t.Errorf("good token: %v", err)
	}
}

// TestJWKSPublicOnly: SECURITY-CASES 29, for both algorithms.
func TestJWKSPublicOnly(t *testing.T) {
	f := newFixture()
	m := f.manager(t, Options{})
	m2 := NewManager(f.store, f.key, f.clk, Options{Algorithm: EdDSA})
	if _, err := m2.Rotate(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if err := m.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	doc := m.JWKS()
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2: %s", len(raw.Keys), doc)
	}
	kty := map[string]bool{}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
			if _, ok := k[private]; ok {
				t.Errorf("JWKS key has private member %q: %v", private, k)
			}
		}
		if k["use"] != "sig" || k["kid"] == "" || k["alg"] == "" {
			t.Errorf("JWKS key lacks use/kid/alg: %v", k)
		}
		kty[k["kty"].(string)+"/"+k["crv"].(string)] = true
	}
	if !kty["EC/P-256"] || !kty["OKP/Ed25519"] {
		t.Errorf("key types %v, want EC/P-256 and OKP/Ed25519", kty)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			t.Errorf("go-jose sees key %s as not a valid public key", k.KeyID)
		}
	}
	// The cached document is not shared with callers.
	doc[0] = 'X'
	if m.JWKS()[0] != '{' {
		t.Error("JWKS returned the cached slice")
	}
}

// TestGoJoseInterop: go-jose verifies our tokens against our JWKS, and we
// verify tokens go-jose signs with our key.
func TestGoJoseInterop(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA} {
		t.Run(alg, func(t *testing.T) {
			f := newFixture()
			m := f.manager(t, Options{Algorithm: alg})
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(m.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			tok := sign(t, m, TypeAccessToken)
			jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("go-jose parse: %v", err)
			}
			h := jws.Signatures[0].Header
			keys := set.Key(h.KeyID)
			if len(keys) != 1 {
				t.Fatalf("kid %q not in JWKS", h.KeyID)
			}
			payload, err := jws.Verify(keys[0])
			if err != nil {
				t.Fatalf("go-jose verify: %v", err)
			}
			if string(payload) != `{"scope":"read","sub":"alice"}` {
				t.Errorf("payload = %s", payload)
			}
			if h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
				t.Errorf("typ = %v", h.ExtraHeaders[jose.HeaderType])
			}

			// The other way round.
			row := f.store.row(h.KeyID)
			der, err := f.key.Open(row.EncryptedPrivateKey, []byte(row.ID))
			if err != nil {
				t.Fatal(err)
			}
			priv, err := x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				t.Fatal(err)
			}
			signer, err := jose.NewSigner(
				jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: priv, KeyID: row.ID}},
				(&jose.SignerOptions{}).WithType("at+jwt"))
			if err != nil {
				t.Fatal(err)
			}
			obj, err := signer.Sign([]byte(`{"sub":"bob"}`))
			if err != nil {
				t.Fatal(err)
			}
			compact, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Verify(compact, TypeAccessToken)
			if err != nil || string(got) != `{"sub":"bob"}` {
				t.Errorf("Verify(go-jose token) = %s, %v", got, err)
			}
		})
	}
}

func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{ES256, EdDSA} {
		b.Run(alg, func(b *testing.B) {
			f := newFixture()
			m := f.manager(b, Options{Algorithm: alg})
			claims := accessClaims()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Sign(TypeAccessToken, claims); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{ES256, EdDSA} {
		b.Run(alg, func(b *testing.B) {
			f := newFixture()
			m := f.manager(b, Options{Algorithm: alg})
			tok, err := m.Sign(TypeAccessToken, accessClaims())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := m.Verify(tok, TypeAccessToken); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// accessClaims is a typical RFC 9068 access token payload.
func accessClaims() any {
	return struct {
		Iss      string   `json:"iss"`
		Sub      string   `json:"sub"`
		Aud      []string `json:"aud"`
		Exp      int64    `json:"exp"`
		Iat      int64    `json:"iat"`
		Jti      string   `json:"jti"`
		ClientID string   `json:"client_id"`
		Scope    string   `json:"scope"`
	}{"https://auth.example.com", "u_123", []string{"https://api.example.com"}, 1740830400, 1740826800,
		"Yx1f2Hk3L0pQw8", "gatehouse-cli", "openid profile read"}
}
