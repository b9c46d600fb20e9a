package jwtcmd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// update rewrites the golden files in testdata/.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// jwtTester runs the jwt commands in-process with a fake clock, in a
// temporary directory for key files.
type jwtTester struct {
	t     *testing.T
	clock *clocktest.Fake
	dir   string
}

func newJWTTester(t *testing.T) *jwtTester {
	t.Helper()
	return &jwtTester{t: t, clock: clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), dir: t.TempDir()}
}

func (j *jwtTester) path(name string) string { return filepath.Join(j.dir, name) }

func (j *jwtTester) run(stdin string, args ...string) commandtest.Result {
	j.t.Helper()
	streams, out, errOut := command.NewTestIOStreams(stdin)
	streams.Clock = j.clock
	f := &command.Factory{IOStreams: streams}
	return commandtest.Run(j.t.Context(), streams, out, errOut, []*cobra.Command{NewCmdJWT(f)}, args...)
}

func (j *jwtTester) ok(stdin string, args ...string) commandtest.Result {
	j.t.Helper()
	r := j.run(stdin, args...)
	if r.Err != nil {
		j.t.Fatalf("gatehouse %s: %v (exit %d)\nstderr:\n%s", strings.Join(args, " "), r.Err, r.Code, r.ErrOut)
	}
	return r
}

func (j *jwtTester) fail(code int, want, stdin string, args ...string) commandtest.Result {
	j.t.Helper()
	r := j.run(stdin, args...)
	if r.Err == nil {
		j.t.Fatalf("gatehouse %s succeeded, want exit %d\nstdout:\n%s", strings.Join(args, " "), code, r.Out)
	}
	if r.Code != code {
		j.t.Errorf("gatehouse %s: exit %d, want %d (error: %v)", strings.Join(args, " "), r.Code, code, r.Err)
	}
	if !strings.Contains(r.Err.Error(), want) {
		j.t.Errorf("gatehouse %s: error %q does not mention %q", strings.Join(args, " "), r.Err, want)
	}
	return r
}

// keygen makes a key pair and returns the private key and JWKS paths.
func (j *jwtTester) keygen(alg, out string) (key, jwks string) {
	j.t.Helper()
	key, jwks = j.path(out), j.path(out+".jwks.json")
	j.ok("", "jwt", "keygen", "--alg", alg, "--out", key, "--jwks-out", jwks)
	return key, jwks
}

// sign runs jwt sign and returns the token.
func (j *jwtTester) sign(args ...string) string {
	j.t.Helper()
	return strings.TrimSpace(j.ok("", append([]string{"jwt", "sign"}, args...)...).Out)
}

// jwtVerified decodes a `jwt verify --json` document.
func jwtVerified(t *testing.T, out string) jwtJSON {
	t.Helper()
	var doc jwtJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("not a JSON document: %v\n%s", err, out)
	}
	return doc
}

func TestJWTKeygenSignVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ alg, out string }{
		{"ES256", "es.pem"},
		{"EdDSA", "ed.jwk.json"},
		{"RS256", "rsa.pem"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			t.Parallel()
			j := newJWTTester(t)
			key, jwks := j.keygen(tc.alg, tc.out)
			if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("private key file: %v, %v; want mode 0600", fi, err)
			}
			tok := j.sign("--key", key, "--iss", "me", "--sub", "alice", "--aud", "api", "--exp", "5m",
				"--claim", "role=admin", "--claim", "n:=12345678901234567890")

			for _, source := range [][]string{{"--key", jwks}, {"--key", key}, {"--jwks", jwks}} {
				args := append([]string{"jwt", "verify", tok, "--audience", "api", "--json"}, source...)
				doc := jwtVerified(t, j.ok("", args...).Out)
				if !doc.SignatureVerified || doc.Header["alg"] != tc.alg || doc.Claims["role"] != "admin" || doc.Claims["sub"] != "alice" {
					t.Errorf("verify %v: %+v", source, doc)
				}
				if n, _ := doc.Claims["n"].(float64); n != 12345678901234567890 {
					t.Errorf("claim n = %v", doc.Claims["n"])
				}
				if want := j.clock.Now().Add(5 * time.Minute).Format(time.RFC3339); doc.Times["exp"] != want {
					t.Errorf("times.exp = %q, want %q", doc.Times["exp"], want)
				}
			}

			// The JWKS served over HTTP, as a client's jwks_uri would be.
			set, err := os.ReadFile(jwks)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(set) }))
			defer srv.Close()
			r := j.ok("", "jwt", "verify", tok, "--jwks", srv.URL)
			if !strings.Contains(r.Out, `"role": "admin"`) || !strings.Contains(r.ErrOut, "Signature verified ("+tc.alg) {
				t.Errorf("verify --jwks URL:\nstdout %s\nstderr %s", r.Out, r.ErrOut)
			}
		})
	}
}

func TestJWTKeygenFiles(t *testing.T) {
	t.Parallel()
	j := newJWTTester(t)
	key := j.path("k.json")
	r := j.ok("", "jwt", "keygen", "--alg", "EdDSA", "--out", key, "--kid", "k-2026")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.Out), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("JWKS on stdout: %v\n%s", err, r.Out)
	}
	pub := set.Keys[0]
	if pub["kid"] != "k-2026" || pub["alg"] != "EdDSA" || pub["use"] != "sig" || pub["d"] != nil {
		t.Errorf("public JWK %v", pub)
	}
	// The private JWK carries kid and alg, which sign then uses.
	tok := j.sign("--key", key, "--sub", "x")
	p, err := jwtSplit(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header["kid"] != "k-2026" || p.Header["alg"] != "EdDSA" || p.Header["typ"] != "JWT" {
		t.Errorf("header %v", p.Header)
	}

	j.fail(command.ExitUsage, "already exists", "", "jwt", "keygen", "--out", key)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	j.ok("", "jwt", "keygen", "--out", key, "--force")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("overwritten key: %v %v, want mode 0600", fi, err)
	}
	j.fail(command.ExitUsage, "--out FILE is required", "", "jwt", "keygen")
	j.fail(command.ExitUsage, "use ES256, EdDSA or RS256", "", "jwt", "keygen", "--alg", "HS256", "--out", j.path("x.pem"))
}

// jwtCraft builds a compact JWS from a header, claims and signature.
func jwtCraft(t *testing.T, header, claims map[string]any, sign func(input string) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign(input))
}

func TestJWTVerifyRejects(t *testing.T) {
	t.Parallel()
	j := newJWTTester(t)
	key, jwks := j.keygen("ES256", "k.pem")
	_, otherJWKS := j.keygen("ES256", "other.pem")
	good := j.sign("--key", key, "--sub", "alice", "--aud", "api", "--exp", "1m")
	verify := func(tok string, extra ...string) []string {
		return append([]string{"jwt", "verify", tok, "--key", jwks}, extra...)
	}
	j.ok("", verify(good, "--audience", "api")...)

	parts := strings.Split(good, ".")
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"aud":"api","exp":9999999999,"sub":"admin"}`))
	j.fail(command.ExitError, "signature does not verify", "", verify(parts[0]+"."+forged+"."+parts[2])...)
	j.fail(command.ExitError, "signature does not verify", "", "jwt", "verify", good, "--key", otherJWKS)
	j.fail(command.ExitError, "does not name other", "", verify(good, "--audience", "other")...)

	none := jwtCraft(t, map[string]any{"alg": "none", "typ": "JWT"}, map[string]any{"sub": "admin"}, func(string) []byte { return nil })
	j.fail(command.ExitError, `alg "none"`, "", verify(none)...)
	// HS256 keyed with the public key: the classic algorithm confusion.
	pubJWKS, _ := os.ReadFile(jwks)
	hs := jwtCraft(t, map[string]any{"alg": "HS256"}, map[string]any{"sub": "admin"}, func(in string) []byte {
		m := hmac.New(sha256.New, pubJWKS)
		m.Write([]byte(in))
		return m.Sum(nil)
	})
	j.fail(command.ExitError, "HMAC", "", verify(hs)...)

	// The key set's only key has another kid (its thumbprint).
	j.fail(command.ExitError, `no key with kid "k1"`, "", verify(j.sign("--key", key, "--kid", "k1"))...)

	// exp with the default 30s leeway, and without.
	j.clock.Advance(80 * time.Second)
	j.ok("", verify(good)...)
	j.fail(command.ExitError, "expired at", "", verify(good, "--leeway", "0s")...)
	j.clock.Advance(time.Minute)
	j.fail(command.ExitError, "expired at", "", verify(good)...)

	future := j.clock.Now().Add(time.Hour).Unix()
	notYet := j.sign("--key", key, "--claim", "nbf:="+jsonNumber(future))
	j.fail(command.ExitError, "not valid before", "", verify(notYet)...)

	// Bad input is exit 2; an unreachable JWKS is exit 5.
	j.fail(command.ExitUsage, "exactly one of --issuer, --jwks or --key", "", "jwt", "verify", good)
	j.fail(command.ExitUsage, "exactly one of --issuer, --jwks or --key", "", "jwt", "verify", good, "--key", jwks, "--jwks", jwks)
	j.fail(command.ExitUsage, "malformed JWT", "", verify("not-a-token")...)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	j.fail(command.ExitUnreachable, "fetch JWKS", "", "jwt", "verify", good, "--jwks", dead.URL)
	j.fail(command.ExitUnreachable, "", "", "jwt", "verify", good, "--issuer", dead.URL)
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestJWTVerifyPEMPublicKeyAndCertificateForms(t *testing.T) {
	t.Parallel()
	j := newJWTTester(t)
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	writePEM := func(name, typ string, der []byte) string {
		p := j.path(name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ecDER, _ := x509.MarshalECPrivateKey(ec)
	ecPriv := writePEM("ec.pem", "EC PRIVATE KEY", ecDER)
	ecPubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPub := writePEM("ec.pub.pem", "PUBLIC KEY", ecPubDER)
	rsaPriv := writePEM("rsa.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	rsaPub := writePEM("rsa.pub.pem", "RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey))

	tok := j.sign("--key", ecPriv, "--sub", "s")
	if p, _ := jwtSplit(tok); p.Header["alg"] != "ES384" {
		t.Errorf("alg inferred from a P-384 key = %v, want ES384", p.Header["alg"])
	}
	j.ok("", "jwt", "verify", tok, "--key", ecPub)

	ps := j.sign("--key", rsaPriv, "--alg", "PS256", "--sub", "s")
	j.ok("", "jwt", "verify", ps, "--key", rsaPub)
	j.fail(command.ExitError, "does not fit", "", "jwt", "verify", ps, "--key", ecPub)

	// A certificate for the EC key verifies too.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: j.clock.Now(), NotAfter: j.clock.Now().Add(time.Hour)}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &ec.PublicKey, ec)
	if err != nil {
		t.Fatal(err)
	}
	j.ok("", "jwt", "verify", tok, "--key", writePEM("ec.crt", "CERTIFICATE", certDER))
}

func TestJWTSignClaimsAndFlags(t *testing.T) {
	t.Parallel()
	j := newJWTTester(t)
	key, jwks := j.keygen("ES256", "k.pem")

	claimsFile := j.path("claims.json")
	if err := os.WriteFile(claimsFile, []byte(`{"sub":"from-file","scope":"read","nested":{"a":[1,2]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := j.sign("--key", key, "--claims", claimsFile, "--claim", "scope=write", "--claim", `flag:=true`,
		"--sub", "override", "--aud", "a1", "--aud", "a2", "--jti", "id-1", "--typ", "at+jwt", "--kid", "mine")
	p, err := jwtSplit(tok)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sub": "override", "scope": "write", "flag": "true", "aud": `["a1","a2"]`, "jti": "id-1", "nested": `{"a":[1,2]}`}
	for k, v := range want {
		got, _ := json.Marshal(p.Claims[k])
		if strings.Trim(string(got), `"`) != v {
			t.Errorf("claim %s = %s, want %s", k, got, v)
		}
	}
	if p.Header["typ"] != "at+jwt" || p.Header["kid"] != "mine" {
		t.Errorf("header %v", p.Header)
	}
	if _, ok := p.Claims["exp"]; ok {
		t.Errorf("exp set without --exp: %v", p.Claims)
	}

	// Claims from standard input.
	tok = strings.TrimSpace(j.ok(`{"sub":"stdin"}`, "jwt", "sign", "--key", key, "--claims", "-").Out)
	if p, _ := jwtSplit(tok); p.Claims["sub"] != "stdin" {
		t.Errorf("claims from stdin: %v", p.Claims)
	}
	r := j.ok("", "jwt", "verify", tok, "--key", jwks)
	if !strings.Contains(r.ErrOut, "no exp claim") {
		t.Errorf("no warning about the missing exp:\n%s", r.ErrOut)
	}

	j.fail(command.ExitUsage, "--key FILE is required", "", "jwt", "sign", "--sub", "x")
	j.fail(command.ExitUsage, "HMAC", "", "jwt", "sign", "--key", key, "--alg", "HS256")
	j.fail(command.ExitUsage, `"none"`, "", "jwt", "sign", "--key", key, "--alg", "none")
	j.fail(command.ExitUsage, "does not fit this key", "", "jwt", "sign", "--key", key, "--alg", "EdDSA")
	j.fail(command.ExitUsage, "public key", "", "jwt", "sign", "--key", jwks)
	j.fail(command.ExitUsage, "want K=V", "", "jwt", "sign", "--key", key, "--claim", "novalue")
	j.fail(command.ExitUsage, "must be JSON", "", "jwt", "sign", "--key", key, "--claim", "x:={nope")
	j.fail(command.ExitUsage, "not a JSON object", "[1]", "jwt", "sign", "--key", key, "--claims", "-")
	j.fail(command.ExitUsage, "positive duration", "", "jwt", "sign", "--key", key, "--exp", "-1m")
	j.fail(command.ExitUsage, "--assertion needs --client-id", "", "jwt", "sign", "--key", key, "--assertion")
	j.fail(command.ExitUsage, "sets iss, sub and aud itself", "", "jwt", "sign", "--key", key, "--assertion",
		"--client-id", "c", "--token-endpoint", "https://a.example/token", "--sub", "x")
	j.fail(command.ExitUsage, "go with --assertion", "", "jwt", "sign", "--key", key, "--client-id", "c")
	j.fail(command.ExitUsage, "key file", "", "jwt", "sign", "--key", j.path("missing.pem"))
	garbage := j.path("garbage.pem")
	if err := os.WriteFile(garbage, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	j.fail(command.ExitUsage, "no key found", "", "jwt", "sign", "--key", garbage)
}

func TestJWTSignAssertionClaims(t *testing.T) {
	t.Parallel()
	j := newJWTTester(t)
	key, jwks := j.keygen("ES256", "k.pem")
	endpoint := "https://auth.example.com/oauth2/token"
	a1 := j.sign("--key", key, "--assertion", "--client-id", "svc", "--token-endpoint", endpoint)
	a2 := j.sign("--key", key, "--assertion", "--client-id", "svc", "--token-endpoint", endpoint)
	doc := jwtVerified(t, j.ok("", "jwt", "verify", a1, "--key", jwks, "--audience", endpoint, "--json").Out)
	c := doc.Claims
	now := float64(j.clock.Now().Unix())
	if c["iss"] != "svc" || c["sub"] != "svc" || c["aud"] != endpoint || c["iat"] != now || c["exp"] != now+60 {
		t.Errorf("assertion claims %v", c)
	}
	p2, _ := jwtSplit(a2)
	if jti, _ := c["jti"].(string); len(jti) < 22 || jti == p2.Claims["jti"] {
		t.Errorf("jti %v and %v: want two different random values", c["jti"], p2.Claims["jti"])
	}
}

func TestJWTDecode(t *testing.T) {
	t.Parallel()
	j := newJWTTester(t)
	key, _ := j.keygen("EdDSA", "k.jwk.json")
	tok := j.sign("--key", key, "--sub", "alice", "--exp", "10m")

	r := j.ok("", "jwt", "decode", tok)
	for _, want := range []string{"Header:\n{\n", `"alg": "EdDSA"`, "Claims:\n{\n", `"sub": "alice"`, "exp       2026-01-02T03:14:05Z  (in 10m0s)", "iat       2026-01-02T03:04:05Z  (now)"} {
		if !strings.Contains(r.Out, want) {
			t.Errorf("decode output lacks %q:\n%s", want, r.Out)
		}
	}
	if !strings.Contains(r.ErrOut, "signature was not verified") {
		t.Errorf("no warning on stderr: %q", r.ErrOut)
	}
	j.clock.Advance(time.Hour)
	if r := j.ok(tok+"\n", "jwt", "decode", "-"); !strings.Contains(r.Out, "(expired 50m0s ago)") {
		t.Errorf("decode - after expiry:\n%s", r.Out)
	}
	if r := j.ok("Bearer "+tok, "jwt", "decode"); !strings.Contains(r.Out, `"sub": "alice"`) {
		t.Errorf("decode from stdin without argument:\n%s", r.Out)
	}

	b64 := base64.RawURLEncoding.EncodeToString
	for _, bad := range []struct{ name, token, want string }{
		{"garbage", "garbage", "three base64url parts"},
		{"empty", "  ", "empty"},
		{"two parts", "a.b", "three base64url parts"},
		{"JWE", "a.b.c.d.e", "encrypted JWT"},
		{"header not base64", "!!!." + b64([]byte(`{}`)) + ".", "not base64url"},
		{"header not JSON", b64([]byte("nope")) + "." + b64([]byte(`{}`)) + ".", "header is not a JSON object"},
		{"claims an array", b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`[1]`)) + ".", "claims: not a JSON object"},
		{"trailing data", b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`{} {}`)) + ".", "claims: not a JSON object"},
		{"signature not base64", b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`{}`)) + ".***", "not base64url"},
		{"duplicate claim", b64([]byte(`{"alg":"ES256"}`)) + "." + b64([]byte(`{"sub":"a","sub":"b"}`)) + ".", "duplicate member name"},
	} {
		r := j.fail(command.ExitUsage, bad.want, "", "jwt", "decode", bad.token)
		if r.Out != "" {
			t.Errorf("%s: printed %q", bad.name, r.Out)
		}
	}
}

// TestJWTDecodeGolden pins the --json document of `jwt decode` for a fixed
// token (testdata/decode.token, an EdDSA token with every kind of
// claim). Rewrite it with -update.
func TestJWTDecodeGolden(t *testing.T) {
	t.Parallel()
	j := newJWTTester(t)
	token, err := os.ReadFile(filepath.Join("testdata", "decode.token"))
	if err != nil {
		t.Fatal(err)
	}
	got := j.ok("", "jwt", "decode", "--json", strings.TrimSpace(string(token))).Out
	path := filepath.Join("testdata", "decode.golden.json")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal([]byte(got), want) {
		t.Errorf("jwt decode --json changed; if intended, run with -update.\ngot:\n%s\nwant:\n%s", got, want)
	}
}
