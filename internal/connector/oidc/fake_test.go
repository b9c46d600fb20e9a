package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// The fake provider: a small OpenID Connect provider in-process, with
// discovery, JWKS, an authorization endpoint that signs in at once, a
// token endpoint that checks the client, the redirect URI and the PKCE
// verifier against the challenge, and userinfo. Tests change its
// discovery document, its ID token claims and its signing through hooks.

const (
	fakeClientID = "gatehouse"
	fakeSecret   = "fake-client-secret-0123456789abcdef" // 35 bytes: also an HS256 key
	fakeSubject  = "user-1"
	fakeRedirect = "https://gatehouse.example/login/connector/up/callback"
)

var (
	keyOnce       sync.Once
	rsaKey, rsa2  *rsa.PrivateKey
	ecKey         *ecdsa.PrivateKey
	testStartTime = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
)

func testKeys(t testing.TB) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

// authRequest is what the fake remembers about a code.
type authRequest struct {
	clientID, redirectURI, challenge, method, nonce, scope string
}

type fakeProvider struct {
	t     *testing.T
	srv   *httptest.Server
	clock *clocktest.Fake

	mu sync.Mutex
	// doc is the discovery document; tests change it before the first
	// use (or between uses, with a new connector).
	doc map[string]any
	// signer signs ID tokens (RS256 with rsaKey, kid k1, by default).
	signer *jwt.Signer
	// rawToken, when set, replaces the signed ID token entirely.
	rawToken func(claims map[string]any) string
	// claims changes the ID token claims before signing.
	claims func(map[string]any)
	// userinfo changes the userinfo claims.
	userinfo func(map[string]any)
	// token changes the token response.
	token func(map[string]any)
	// tokenError, when set, is the token endpoint's error answer.
	tokenError string
	// down makes every endpoint answer 503; jwksDown only the JWKS.
	down, jwksDown bool
	// stall makes every endpoint wait until the request is cancelled.
	stall    bool
	released chan struct{}
	// sendIss adds iss to the authorization response (default: when the
	// document advertises it).
	sendIss *bool

	codes     map[string]authRequest
	access    map[string]bool
	hits      map[string]int // requests per path
	lastAuth  string         // how the client authenticated: basic, post, none
	lastQuery url.Values     // the last authorization request
}

func newFake(t *testing.T) *fakeProvider {
	t.Helper()
	testKeys(t)
	f := &fakeProvider{t: t, clock: clocktest.New(testStartTime), codes: map[string]authRequest{}, access: map[string]bool{}, hits: map[string]int{}}
	var err error
	if f.signer, err = jwt.NewSigner(rsaKey, jwt.RS256, "k1"); err != nil {
		t.Fatal(err)
	}
	f.released = make(chan struct{})
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.released) }) // runs before Close
	iss := f.srv.URL
	f.doc = map[string]any{
		"issuer":                                         iss,
		"authorization_endpoint":                         iss + "/authorize",
		"token_endpoint":                                 iss + "/token",
		"jwks_uri":                                       iss + "/jwks",
		"userinfo_endpoint":                              iss + "/userinfo",
		"response_types_supported":                       []string{"code"},
		"id_token_signing_alg_values_supported":          []string{"RS256"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post"},
		"authorization_response_iss_parameter_supported": true,
	}
	return f
}

func (f *fakeProvider) issuer() string { return f.srv.URL }

// set changes a field of the fake under its lock.
func (f *fakeProvider) set(fn func(f *fakeProvider)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeProvider) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

func (f *fakeProvider) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.hits[r.URL.Path]++
	down, stall := f.down || (f.jwksDown && r.URL.Path == "/jwks"), f.stall
	f.mu.Unlock()
	if stall {
		// The server notices a client that gave up only once the body is
		// read; released is closed when the test ends, whatever happens.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-f.released:
		}
		return
	}
	if down {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	switch r.URL.Path {
	case wellKnown:
		f.mu.Lock()
		b, _ := json.Marshal(f.doc)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	case "/jwks":
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{rsaJWK(&rsaKey.PublicKey, "k1"), ecJWK(&ecKey.PublicKey, "ec1")}})
	case "/authorize":
		f.authorize(w, r)
	case "/token":
		f.tokenEndpoint(w, r)
	case "/userinfo":
		f.userinfoEndpoint(w, r)
	default:
		http.NotFound(w, r)
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(k *rsa.PublicKey, kid string) map[string]any {
	return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(k *ecdsa.PublicKey, kid string) map[string]any {
	x, y := make([]byte, 32), make([]byte, 32)
	k.X.FillBytes(x)
	k.Y.FillBytes(y)
	return map[string]any{"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256", "x": b64(x), "y": b64(y)}
}

// authorize signs the person in at once and redirects back with a code.
func (f *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != fakeClientID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := jwtRandom(f.t)
	f.mu.Lock()
	f.lastQuery = q
	f.codes[code] = authRequest{clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"),
		method: q.Get("code_challenge_method"), nonce: q.Get("nonce"), scope: q.Get("scope")}
	sendIss := f.doc["authorization_response_iss_parameter_supported"] == true
	if f.sendIss != nil {
		sendIss = *f.sendIss
	}
	f.mu.Unlock()
	back := url.Values{"code": {code}, "state": {q.Get("state")}}
	if sendIss {
		back.Set("iss", f.issuer())
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
}

func jwtRandom(t testing.TB) string {
	s, err := jwt.RandomID()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tokenError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// tokenEndpoint redeems a code: the client must authenticate as the
// document allows, the redirect URI must match, and the code_verifier
// must hash to the challenge (RFC 7636 §4.6).
func (f *fakeProvider) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		tokenError(w, 400, "invalid_request", "bad form")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokenError != "" {
		tokenError(w, 400, f.tokenError, "the fake was told to fail")
		return
	}
	id, sec, basic := r.BasicAuth()
	switch {
	case basic:
		id, _ = url.QueryUnescape(id)
		sec, _ = url.QueryUnescape(sec)
		f.lastAuth = "basic"
	case r.PostForm.Get("client_secret") != "":
		id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		f.lastAuth = "post"
	default:
		id = r.PostForm.Get("client_id")
		f.lastAuth = "none"
	}
	if id != fakeClientID || (f.lastAuth != "none" && sec != fakeSecret) {
		tokenError(w, 401, "invalid_client", "client authentication failed")
		return
	}
	code := r.PostForm.Get("code")
	req, ok := f.codes[code]
	delete(f.codes, code) // single use
	if r.PostForm.Get("grant_type") != "authorization_code" || !ok {
		tokenError(w, 400, "invalid_grant", "unknown code")
		return
	}
	if req.redirectURI != r.PostForm.Get("redirect_uri") {
		tokenError(w, 400, "invalid_grant", "redirect_uri differs")
		return
	}
	if subtle.ConstantTimeCompare([]byte(challenge(r.PostForm.Get("code_verifier"))), []byte(req.challenge)) != 1 {
		tokenError(w, 400, "invalid_grant", "PKCE verification failed")
		return
	}
	now := f.clock.Now()
	access := jwtRandom(f.t)
	f.access[access] = true
	claims := map[string]any{
		"iss": f.issuer(), "sub": fakeSubject, "aud": fakeClientID,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": req.nonce, "preferred_username": "ada",
		"email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace",
		"groups": []string{"ops-admins", "analysts"}, "amr": []string{"pwd", "mfa"},
		"department": "research",
	}
	if f.claims != nil {
		f.claims(claims)
	}
	var idToken string
	if f.rawToken != nil {
		idToken = f.rawToken(claims)
	} else {
		var err error
		if idToken, err = f.signer.Sign("JWT", claims); err != nil {
			f.t.Error(err)
		}
	}
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idToken}
	if f.token != nil {
		f.token(resp)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

func (f *fakeProvider) userinfoEndpoint(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !ok || !f.access[tok] {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	info := map[string]any{"sub": fakeSubject, "email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace", "groups": []string{"ops-admins"}}
	if f.userinfo != nil {
		f.userinfo(info)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(info)
}

// config is a connector config for the fake with its secret in a file.
func (f *fakeProvider) config(t *testing.T) Config {
	t.Helper()
	return Config{Issuer: f.issuer(), ClientID: fakeClientID, ClientSecretEnv: secretEnv(t), Timeout: 2 * time.Second}
}

// secretEnv puts the fake's client secret in an environment variable for
// the test and returns its name.
func secretEnv(t *testing.T) string {
	t.Helper()
	t.Setenv("OIDC_TEST_CLIENT_SECRET", fakeSecret)
	return "OIDC_TEST_CLIENT_SECRET"
}

// connector makes a connector for the fake, on its clock.
func (f *fakeProvider) connector(t *testing.T, cfg Config) *Connector {
	t.Helper()
	c, err := New("up", "Upstream", cfg, WithHTTPClient(f.srv.Client()), WithClock(f.clock))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newPending makes a fresh sign-in, as the server does.
func newPending(t testing.TB) connector.Pending {
	t.Helper()
	v := jwtRandom(t) + jwtRandom(t)
	return connector.Pending{State: jwtRandom(t), Nonce: jwtRandom(t), CodeVerifier: v, RedirectURI: fakeRedirect}
}

// authorize runs the browser's part: AuthCodeURL, then the provider's
// authorization endpoint, and returns the query it redirects back with.
func authorize(t *testing.T, c *Connector, hc *http.Client, p connector.Pending) url.Values {
	t.Helper()
	u, err := c.AuthCodeURL(context.Background(), p)
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorization endpoint answered %s without a redirect", resp.Status)
	}
	if !strings.HasPrefix(loc.String(), fakeRedirect+"?") {
		t.Fatalf("redirected to %s, want the redirect URI", loc)
	}
	return loc.Query()
}

// login signs in at the fake through c and returns what Exchange says.
func (f *fakeProvider) login(t *testing.T, c *Connector) (*connector.Identity, error) {
	t.Helper()
	p := newPending(t)
	q := authorize(t, c, f.srv.Client(), p)
	return c.Exchange(context.Background(), q, p)
}

// signWith returns a rawToken hook that signs the claims with key/alg/kid.
func signWith(t *testing.T, key crypto.Signer, alg, kid string) func(map[string]any) string {
	s, err := jwt.NewSigner(key, alg, kid)
	if err != nil {
		t.Fatal(err)
	}
	return func(c map[string]any) string {
		tok, err := s.Sign("JWT", c)
		if err != nil {
			t.Error(err)
		}
		return tok
	}
}
