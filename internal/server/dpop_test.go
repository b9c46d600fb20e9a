package server

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/accountapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// dpopKey is a client's DPoP key, signing with the harness clock.
func (h *testHarness) dpopKey() *dpop.Signer {
	h.t.Helper()
	k, err := dpop.NewKey()
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := dpop.NewSigner(k, dpop.WithClock(h.clock))
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// tokenProof makes a proof for POST /oauth2/token.
func (h *testHarness) tokenProof(s *dpop.Signer, nonce string) string {
	h.t.Helper()
	p, err := s.Proof("POST", h.issuer+PathToken, "", nonce)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// postDPoP is postForm with a DPoP header (none when proof is empty).
func (h *testHarness) postDPoP(path string, form url.Values, user, pass, proof string) (int, map[string]any, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	return h.doJSON(req)
}

// callResource sends a GET to path with "Authorization: <scheme> tok"
// and, when signer is not nil, a proof of it for url (the request's URL
// when empty).
func (h *testHarness) callResource(path, scheme, tok string, signer *dpop.Signer, proofURL string) (int, map[string]any, http.Header) {
	h.t.Helper()
	return h.callResourceMethod("GET", path, scheme, tok, signer, proofURL)
}

func (h *testHarness) callResourceMethod(method, path, scheme, tok string, signer *dpop.Signer, proofURL string) (int, map[string]any, http.Header) {
	h.t.Helper()
	var body io.Reader
	if method == "POST" {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, h.url(path), body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", scheme+" "+tok)
	if signer != nil {
		if proofURL == "" {
			proofURL = h.issuer + h.base + path
		}
		p, err := signer.Proof(method, proofURL, tok, "")
		if err != nil {
			h.t.Fatal(err)
		}
		req.Header.Set("DPoP", p)
	}
	return h.doJSON(req)
}

func ccClient(h *testHarness, c storage.Client) string {
	h.t.Helper()
	if c.ID == "" {
		c.ID = "svc"
	}
	c.GrantTypes = []string{"client_credentials"}
	c.Scopes = []string{"read"}
	return h.addClient(c)
}

var ccForm = url.Values{"grant_type": {"client_credentials"}}

func TestDPoPClientCredentialsBindsAccessToken(t *testing.T) {
	f := newUserFixture(t)
	h := f.testHarness
	sec := ccClient(h, storage.Client{})
	key := h.dpopKey()

	st, body, _ := h.postDPoP(PathToken, ccForm, "svc", sec, h.tokenProof(key, ""))
	if st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with a proof: %d %v", st, body)
	}
	at := body["access_token"].(string)
	cnf, _ := claimsOf(t, at)["cnf"].(map[string]any)
	if cnf["jkt"] != key.Thumbprint() {
		t.Fatalf("cnf %v, want jkt %s", cnf, key.Thumbprint())
	}
	in := f.introspect(at)
	if in["active"] != true || in["token_type"] != "DPoP" {
		t.Fatalf("introspection %v", in)
	}
	if c, _ := in["cnf"].(map[string]any); c["jkt"] != key.Thumbprint() {
		t.Fatalf("introspection cnf %v", in["cnf"])
	}

	// Without a proof: a bearer token as before.
	st, body, _ = h.postDPoP(PathToken, ccForm, "svc", sec, "")
	if st != 200 || body["token_type"] != "Bearer" || claimsOf(t, body["access_token"].(string))["cnf"] != nil {
		t.Fatalf("without a proof: %d %v", st, body)
	}
	if in := f.introspect(body["access_token"].(string)); in["cnf"] != nil || in["token_type"] != "Bearer" {
		t.Fatalf("introspection of a bearer token %v", in)
	}
}

func TestDPoPTokenEndpointRefusesBadProofs(t *testing.T) {
	h := newHarness(t)
	sec := ccClient(h, storage.Client{})
	key := h.dpopKey()
	proofFor := func(method, u string) string {
		p, err := key.Proof(method, u, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	replayed := h.tokenProof(key, "")
	if st, body, _ := h.postDPoP(PathToken, ccForm, "svc", sec, replayed); st != 200 {
		t.Fatalf("first use: %d %v", st, body)
	}
	old := h.tokenProof(key, "")
	h.clock.Advance(61 * time.Second)
	for name, proof := range map[string]string{
		"replayed proof": replayed,
		"wrong htu":      proofFor("POST", h.issuer+"/oauth2/introspect"),
		"other host":     proofFor("POST", "https://evil.example/oauth2/token"),
		"wrong htm":      proofFor("GET", h.issuer+PathToken),
		"expired iat":    old,
		"not a JWT":      "garbage",
	} {
		st, body, _ := h.postDPoP(PathToken, ccForm, "svc", sec, proof)
		if st != 400 || errCode(body) != "invalid_dpop_proof" {
			t.Errorf("%s: %d %v, want 400 invalid_dpop_proof", name, st, body)
		}
	}
	// Two DPoP headers.
	req, _ := http.NewRequest("POST", h.url(PathToken), strings.NewReader(ccForm.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("svc", sec)
	req.Header.Add("DPoP", h.tokenProof(key, ""))
	req.Header.Add("DPoP", h.tokenProof(key, ""))
	if st, body, _ := h.doJSON(req); st != 400 || errCode(body) != "invalid_dpop_proof" {
		t.Errorf("two DPoP headers: %d %v", st, body)
	}
}

func TestDPoPRequiredClient(t *testing.T) {
	h := newHarness(t)
	sec := ccClient(h, storage.Client{DPoPRequired: true})
	st, body, _ := h.postDPoP(PathToken, ccForm, "svc", sec, "")
	if st != 400 || errCode(body) != "invalid_dpop_proof" || !strings.Contains(body["error_description"].(string), "must send a DPoP proof") {
		t.Fatalf("without a proof: %d %v", st, body)
	}
	if st, body, _ := h.postDPoP(PathToken, ccForm, "svc", sec, h.tokenProof(h.dpopKey(), "")); st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with a proof: %d %v", st, body)
	}
}

func TestDPoPNonceChallenge(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.DPoP.RequireNonce = true })
	sec := ccClient(h, storage.Client{})
	key := h.dpopKey()
	st, body, hdr := h.postDPoP(PathToken, ccForm, "svc", sec, h.tokenProof(key, ""))
	nonce := hdr.Get("DPoP-Nonce")
	if st != 400 || errCode(body) != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("without a nonce: %d %v nonce %q", st, body, nonce)
	}
	st, body, hdr = h.postDPoP(PathToken, ccForm, "svc", sec, h.tokenProof(key, nonce))
	if st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with the nonce: %d %v", st, body)
	}
	if hdr.Get("DPoP-Nonce") == "" {
		t.Error("no DPoP-Nonce on the success response")
	}
	// A nonce two windows old is refused with a fresh one.
	h.clock.Advance(2 * time.Duration(h.cfg.DPoP.NonceWindow))
	st, body, hdr = h.postDPoP(PathToken, ccForm, "svc", sec, h.tokenProof(key, nonce))
	if st != 400 || errCode(body) != "use_dpop_nonce" || hdr.Get("DPoP-Nonce") == "" || hdr.Get("DPoP-Nonce") == nonce {
		t.Fatalf("stale nonce: %d %v %q", st, body, hdr.Get("DPoP-Nonce"))
	}
}

// deviceLogin runs a device login of the public CLI client with proof
// (none when key is nil) and returns the token response.
func (f *userFixture) deviceLogin(key *dpop.Signer) map[string]any {
	f.t.Helper()
	dev := f.startDevice(f.t)
	f.setDeviceStatus(f.t, dev["user_code"].(string), storage.DeviceStatusApproved)
	proof := ""
	if key != nil {
		proof = f.tokenProof(key, "")
	}
	st, body, _ := f.postDPoP(PathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {dev["device_code"].(string)}, "client_id": {CLIClientID}}, "", "", proof)
	if st != 200 {
		f.t.Fatalf("device login: %d %v", st, body)
	}
	return body
}

func (f *userFixture) refreshDPoP(clientID, sec, rt, proof string) (int, map[string]any) {
	f.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if sec == "" {
		form.Set("client_id", clientID)
		clientID = ""
	}
	st, body, _ := f.postDPoP(PathToken, form, clientID, sec, proof)
	return st, body
}

func TestDPoPPublicClientRefreshTokenBound(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newUserFixtureOn(newHarnessOn(t, open))
		key := f.dpopKey()
		login := f.deviceLogin(key)
		if login["token_type"] != "DPoP" {
			t.Fatalf("device login %v", login)
		}
		rt := login["refresh_token"].(string)
		stored, err := f.store.GetRefreshToken(context.Background(), secret.Hash(rt))
		if err != nil || stored.DPoPJKT != key.Thumbprint() {
			t.Fatalf("stored refresh token %+v, %v", stored, err)
		}
		// The stolen refresh token without the key: no proof, or a proof
		// of the thief's key.
		st, body := f.refreshDPoP(CLIClientID, "", rt, "")
		if st != 400 || errCode(body) != "invalid_dpop_proof" {
			t.Fatalf("no proof: %d %v", st, body)
		}
		st, body = f.refreshDPoP(CLIClientID, "", rt, f.tokenProof(f.dpopKey(), ""))
		if st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("another key: %d %v", st, body)
		}
		// The owner still refreshes: the refusals neither spent the token
		// nor revoked the family.
		st, body = f.refreshDPoP(CLIClientID, "", rt, f.tokenProof(key, ""))
		if st != 200 || body["token_type"] != "DPoP" {
			t.Fatalf("owner: %d %v", st, body)
		}
		next := body["refresh_token"].(string)
		if cnf, _ := claimsOf(t, body["access_token"].(string))["cnf"].(map[string]any); cnf["jkt"] != key.Thumbprint() {
			t.Fatalf("refreshed access token cnf %v", cnf)
		}
		// The successor keeps the binding.
		if st, body := f.refreshDPoP(CLIClientID, "", next, ""); st != 400 || errCode(body) != "invalid_dpop_proof" {
			t.Fatalf("successor without proof: %d %v", st, body)
		}
		if st, body := f.refreshDPoP(CLIClientID, "", next, f.tokenProof(key, "")); st != 200 {
			t.Fatalf("successor with proof: %d %v", st, body)
		}
	})
}

func TestDPoPPublicClientUnboundLoginKeepsWorking(t *testing.T) {
	f := newUserFixture(t)
	login := f.deviceLogin(nil)
	if login["token_type"] != "Bearer" {
		t.Fatalf("login %v", login)
	}
	rt := login["refresh_token"].(string)
	st, body := f.refreshDPoP(CLIClientID, "", rt, "")
	if st != 200 || body["token_type"] != "Bearer" {
		t.Fatalf("refresh without DPoP: %d %v", st, body)
	}
	// Its first refresh with a proof binds the family from then on.
	key := f.dpopKey()
	st, body = f.refreshDPoP(CLIClientID, "", body["refresh_token"].(string), f.tokenProof(key, ""))
	if st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("refresh with DPoP: %d %v", st, body)
	}
	if st, body := f.refreshDPoP(CLIClientID, "", body["refresh_token"].(string), ""); st != 400 || errCode(body) != "invalid_dpop_proof" {
		t.Fatalf("bound successor without proof: %d %v", st, body)
	}
}

func TestDPoPConfidentialClientRefreshNotBound(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newUserFixtureOn(newHarnessOn(t, open))
		key := f.dpopKey()
		code := f.insertCode(codeOpts{clientID: "web", userID: f.user.ID, redirectURI: f.webRedirect, scopes: []string{"openid"},
			challenge: s256(testVerifier), method: "S256"})
		st, body, _ := f.postDPoP(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "web", f.webSecret, f.tokenProof(key, ""))
		if st != 200 || body["token_type"] != "DPoP" {
			t.Fatalf("code exchange: %d %v", st, body)
		}
		rt := body["refresh_token"].(string)
		stored, err := f.store.GetRefreshToken(context.Background(), secret.Hash(rt))
		if err != nil || stored.DPoPJKT != "" {
			t.Fatalf("a confidential client's refresh token is bound: %+v, %v", stored, err)
		}
		// RFC 9449 §5: the client authentication binds it; it refreshes
		// without a proof (and gets a bearer token).
		st, body = f.refreshDPoP("web", f.webSecret, rt, "")
		if st != 200 || body["token_type"] != "Bearer" {
			t.Fatalf("refresh without proof: %d %v", st, body)
		}
	})
}

func TestDPoPAuthorizationCodeBoundByDPoPJKT(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newUserFixtureOn(newHarnessOn(t, open))
		key := f.dpopKey()
		newCode := func() string {
			code := secret.NewToken()
			now := f.clock.Now()
			if err := f.store.CreateAuthCode(context.Background(), &storage.AuthCode{Hash: secret.Hash(code), ClientID: "web", UserID: f.user.ID,
				RedirectURI: f.webRedirect, Scopes: []string{"openid"}, CodeChallenge: s256(testVerifier), CodeChallengeMethod: "S256",
				AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Minute), DPoPJKT: key.Thumbprint()}); err != nil {
				t.Fatal(err)
			}
			return code
		}
		exchange := func(code, proof string) (int, map[string]any) {
			st, body, _ := f.postDPoP(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "web", f.webSecret, proof)
			return st, body
		}
		code := newCode()
		if st, body := exchange(code, ""); st != 400 || errCode(body) != "invalid_dpop_proof" {
			t.Fatalf("no proof: %d %v", st, body)
		}
		if st, body := exchange(code, f.tokenProof(f.dpopKey(), "")); st != 400 || errCode(body) != "invalid_dpop_proof" {
			t.Fatalf("other key: %d %v", st, body)
		}
		// The refusals did not spend the code.
		if st, body := exchange(code, f.tokenProof(key, "")); st != 200 || body["token_type"] != "DPoP" {
			t.Fatalf("right key: %d %v", st, body)
		}
	})
}

func TestDPoPAuthorizeStoresDPoPJKT(t *testing.T) {
	h := newHarness(t)
	f := newUserFixtureOn(h)
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	key := h.dpopKey()
	q := url.Values{"client_id": {"console"}, "redirect_uri": {f.webRedirect}, "response_type": {"code"}, "scope": {"openid"},
		"code_challenge": {s256(testVerifier)}, "code_challenge_method": {"S256"}, "state": {"s"}, "dpop_jkt": {key.Thumbprint()}}
	u := h.authorizeCode(c, q)
	ac := h.storedCode(u.Query().Get("code"))
	if ac.DPoPJKT != key.Thumbprint() {
		t.Fatalf("stored code dpop_jkt %q", ac.DPoPJKT)
	}
}

func TestDPoPBoundTokenAtServerResources(t *testing.T) {
	f := newUserFixture(t)
	h := f.testHarness
	key := h.dpopKey()
	code := f.insertCode(codeOpts{clientID: "console", userID: f.user.ID, redirectURI: f.webRedirect, scopes: []string{"openid", oauth.ScopeAccount},
		resources: []string{oauth.AccountResource(f.issuer)}, challenge: s256(testVerifier), method: "S256"})
	st, body, _ := f.postDPoP(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "console", f.consoleSecret, h.tokenProof(key, ""))
	if st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("code exchange: %d %v", st, body)
	}
	at := body["access_token"].(string)

	// The stolen access token presented as a bearer token.
	st, body, hdr := h.callResource(PathUserinfo, "Bearer", at, nil, "")
	if st != 401 || errCode(body) != "invalid_token" || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "DPoP ") ||
		!strings.Contains(hdr.Get("WWW-Authenticate"), `algs="ES256`) {
		t.Fatalf("bound token as Bearer: %d %v %q", st, body, hdr.Get("WWW-Authenticate"))
	}
	// With a proof of the thief's key.
	st, body, _ = h.callResource(PathUserinfo, "DPoP", at, h.dpopKey(), "")
	if st != 401 || errCode(body) != "invalid_dpop_proof" {
		t.Fatalf("another key: %d %v", st, body)
	}
	// With the DPoP scheme but no proof.
	st, body, _ = h.callResource(PathUserinfo, "DPoP", at, nil, "")
	if st != 401 || errCode(body) != "invalid_dpop_proof" {
		t.Fatalf("no proof: %d %v", st, body)
	}
	// A proof for another URL.
	st, body, _ = h.callResource(PathUserinfo, "DPoP", at, key, h.issuer+"/other")
	if st != 401 || errCode(body) != "invalid_dpop_proof" {
		t.Fatalf("wrong htu: %d %v", st, body)
	}
	// The owner.
	st, body, _ = h.callResource(PathUserinfo, "DPoP", at, key, "")
	if st != 200 || body["sub"] != f.user.ID {
		t.Fatalf("owner: %d %v", st, body)
	}
	// A proof replayed.
	req, _ := http.NewRequest("GET", h.url(PathUserinfo), nil)
	req.Header.Set("Authorization", "DPoP "+at)
	p, _ := key.Proof("GET", h.issuer+PathUserinfo, at, "")
	req.Header.Set("DPoP", p)
	if st, _, _ := h.doJSON(req.Clone(context.Background())); st != 200 {
		t.Fatalf("first use %d", st)
	}
	if st, body, _ := h.doJSON(req.Clone(context.Background())); st != 401 || errCode(body) != "invalid_dpop_proof" {
		t.Fatalf("replayed proof: %d %v", st, body)
	}
	// The account API takes it the same way.
	st, body, _ = h.callResourceMethod("POST", accountapi.PathMFAEnroll, "Bearer", at, nil, "")
	if st != 401 || errCode(body) != "invalid_token" {
		t.Fatalf("account API as Bearer: %d %v", st, body)
	}
	if st, body, _ = h.callResourceMethod("POST", accountapi.PathMFAEnroll, "DPoP", at, key, ""); st == 401 {
		t.Fatalf("account API with DPoP: %d %v", st, body)
	}
	// An unbound token does not pass as DPoP.
	plain := f.resourceToken(f.user.ID, []string{"openid"}, nil)
	if st, body, _ := h.callResource(PathUserinfo, "DPoP", plain, key, ""); st != 401 || errCode(body) != "invalid_token" {
		t.Fatalf("unbound token as DPoP: %d %v", st, body)
	}
	if st, _, _ := h.callResource(PathUserinfo, "Bearer", plain, nil, ""); st != 200 {
		t.Fatalf("unbound token as Bearer: %d", st)
	}
}

func TestDPoPAdminAPIBoundToken(t *testing.T) {
	f := newUserFixture(t)
	h := f.testHarness
	admin, err := h.store.GetUserByName(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	key := h.dpopKey()
	code := f.insertCode(codeOpts{clientID: "console", userID: admin.ID, redirectURI: f.webRedirect, scopes: []string{"openid", oauth.ScopeAdmin},
		resources: []string{oauth.AdminResource(f.issuer)}, challenge: s256(testVerifier), method: "S256"})
	st, body, _ := f.postDPoP(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "console", f.consoleSecret, h.tokenProof(key, ""))
	if st != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("code exchange: %d %v", st, body)
	}
	at := body["access_token"].(string)
	if st, body, _ := h.callResource(PathAdmin+"/clients", "Bearer", at, nil, ""); st != 401 || errCode(body) != "invalid_token" {
		t.Fatalf("admin API as Bearer: %d %v", st, body)
	}
	if st, body, _ := h.callResource(PathAdmin+"/clients", "DPoP", at, key, ""); st != 200 {
		t.Fatalf("admin API with DPoP: %d %v", st, body)
	}
}

// dpopTransport adds a DPoP proof to every request it sends, with the
// ath of the access token when the request carries "Authorization: DPoP".
type dpopTransport struct {
	signer *dpop.Signer
	base   http.RoundTripper
}

func (d *dpopTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	at := ""
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "DPoP") {
		at = tok
	}
	u := *r.URL
	u.RawQuery = ""
	p, err := d.signer.Proof(r.Method, u.String(), at, "")
	if err != nil {
		return nil, err
	}
	r.Header.Set("DPoP", p)
	return d.base.RoundTrip(r)
}

// TestDPoPXOAuth2Interop: x/oauth2's client credentials flow, through a
// transport that adds proofs, gets a DPoP-bound token; oauth2.Transport
// then sends it with the DPoP scheme (Token.Type), and /userinfo takes it.
func TestDPoPXOAuth2Interop(t *testing.T) {
	h := newHarness(t)
	sec := ccClient(h, storage.Client{DPoPRequired: true})
	// x/oauth2 signs with the wall clock; so does this server's clock here.
	h.clock.Set(time.Now())
	k, _ := dpop.NewKey()
	signer, _ := dpop.NewSigner(k, dpop.WithClock(wallClock{h.clock}))
	hc := &http.Client{Transport: &dpopTransport{signer: signer, base: http.DefaultTransport}}
	cfg := clientcredentials.Config{ClientID: "svc", ClientSecret: sec, TokenURL: h.url(PathToken), AuthStyle: oauth2.AuthStyleInHeader}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Type() != "DPoP" {
		t.Fatalf("token type %q", tok.Type())
	}
	client := &http.Client{Transport: &oauth2.Transport{Source: cfg.TokenSource(ctx), Base: hc.Transport}}
	resp, err := client.Get(h.url(PathUserinfo))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"sub":"svc"`) {
		t.Fatalf("userinfo through x/oauth2: %d %s", resp.StatusCode, b)
	}
}

// wallClock keeps the fake clock in step with the wall clock, for
// clients (x/oauth2) that read time.Now themselves.
type wallClock struct{ *clocktest.Fake }

func (w wallClock) Now() time.Time {
	w.Fake.Set(time.Now())
	return w.Fake.Now()
}
