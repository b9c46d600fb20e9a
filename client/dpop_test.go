package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/dpop"
)

// dpopLogin runs a browser login bound to a new key at the fake DPoP
// server and stores it as `gatehouse login` would.
func dpopLogin(t *testing.T, as *fakeAS, store credstore.Store, clk *waitClock) (*credstore.Credential, *DPoP, string) {
	t.Helper()
	d, err := NewDPoPKey(clk)
	if err != nil {
		t.Fatal(err)
	}
	cfg := as.config(clk)
	cfg.DPoP = d
	open, pages, urls := fakeBrowser(t)
	tok, err := cfg.BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open})
	if err != nil {
		t.Fatal(err)
	}
	page(t, pages)
	if !IsDPoP(tok) || tok.Type() != TokenTypeDPoP {
		t.Fatalf("token type %q, want DPoP", tok.TokenType)
	}
	cred := cfg.UserCredential(tok)
	if err := store.Put(context.Background(), profile, cred); err != nil {
		t.Fatal(err)
	}
	return cred, d, <-urls
}

// TestDPoPLoginBindsTokens: a login with a DPoP key asks for a code bound
// to the key (dpop_jkt), sends a proof with the code exchange, and stores
// the key with the tokens the server bound to it.
func TestDPoPLoginBindsTokens(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	as.enableDPoP(t, clk)
	store := newMemStore()
	cred, d, authURL := dpopLogin(t, as, store, clk)

	u, _ := url.Parse(authURL)
	if got := u.Query().Get("dpop_jkt"); got != d.Thumbprint() || got == "" {
		t.Errorf("dpop_jkt = %q, want the key's thumbprint %q", got, d.Thumbprint())
	}
	if cred.DPoPKey == "" || cred.DPoPKey != d.PrivateKeyPEM() || cred.TokenType != "DPoP" {
		t.Errorf("stored credential: token_type %q, key stored %v", cred.TokenType, cred.DPoPKey != "")
	}
	proofs := as.proofs()
	if len(proofs) != 1 {
		t.Fatalf("%d proofs at the token endpoint, want 1 (the code exchange)", len(proofs))
	}
	p := proofs[0]
	if p.header["typ"] != "dpop+jwt" || p.header["alg"] != "ES256" || p.header["jwk"] == nil {
		t.Errorf("proof header = %v", p.header)
	}
	if p.claim("htm") != http.MethodPost || p.claim("htu") != as.issuer+"/token" || p.claims["ath"] != nil || p.claim("jti") == "" {
		t.Errorf("token request proof claims = %v", p.claims)
	}
	if p.jkt != d.Thumbprint() {
		t.Errorf("proof key %s, want %s", p.jkt, d.Thumbprint())
	}
	if iat, _ := p.claims["iat"].(float64); int64(iat) != clk.Now().Unix() {
		t.Errorf("iat = %v, want the injected clock's %d", p.claims["iat"], clk.Now().Unix())
	}
}

// TestDPoPLoginServerWithoutDPoP: a server that ignores the proof answers
// Bearer, and the login is stored as a bearer login, without the key.
func TestDPoPLoginServerWithoutDPoP(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	d, err := NewDPoPKey(clk)
	if err != nil {
		t.Fatal(err)
	}
	cfg := as.config(clk)
	cfg.DPoP = d
	open, pages, _ := fakeBrowser(t)
	tok, err := cfg.BrowserLogin(context.Background(), BrowserOptions{OpenBrowser: open})
	if err != nil {
		t.Fatal(err)
	}
	page(t, pages)
	if cred := cfg.UserCredential(tok); cred.Bound() || cred.TokenType != "Bearer" {
		t.Errorf("credential of a Bearer answer: bound %v, token_type %q", cred.Bound(), cred.TokenType)
	}
}

// TestDPoPProofsOnRefreshAndResources: the TokenSource of a bound login
// refreshes with a proof of the stored key and keeps the key; the
// authorized client sends "Authorization: DPoP" and a fresh proof for each
// request (its method, its URL without the query, the token's ath), never
// the same jti twice.
func TestDPoPProofsOnRefreshAndResources(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	as.enableDPoP(t, clk)
	store := newMemStore()
	_, d, _ := dpopLogin(t, as, store, clk)

	ts := newSource(t, as, store, clk)
	clk.Advance(2 * time.Hour) // expired: the next Token refreshes
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "DPoP" || as.count(&as.refreshes) != 1 {
		t.Fatalf("after refresh: token type %q, %d refreshes", tok.TokenType, as.count(&as.refreshes))
	}
	stored := store.cred(profile)
	if stored.DPoPKey != d.PrivateKeyPEM() || stored.AccessToken != tok.AccessToken {
		t.Error("the refreshed credential lost the key or the new token")
	}

	hc := NewHTTPClient(ts, as.srv.Client())
	get, _ := http.NewRequest(http.MethodGet, as.issuer+"/api?q=1#frag", nil)
	if status, body := do(t, hc, get); status != http.StatusOK || body != "hello "+tok.AccessToken+" " {
		t.Errorf("GET: %d %q", status, body)
	}
	post, _ := http.NewRequest(http.MethodPost, as.issuer+"/api", strings.NewReader("payload"))
	if status, body := do(t, hc, post); status != http.StatusOK || !strings.HasSuffix(body, " payload") {
		t.Errorf("POST: %d %q", status, body)
	}
	if get.Header.Get("Authorization") != "" || get.Header.Get("DPoP") != "" {
		t.Error("the caller's request was modified")
	}

	proofs := as.proofs()
	if len(proofs) != 4 { // exchange, refresh, GET, POST
		t.Fatalf("%d proofs, want 4", len(proofs))
	}
	refresh, getP, postP := proofs[1], proofs[2], proofs[3]
	if refresh.where != "token" || refresh.jkt != d.Thumbprint() || refresh.claims["ath"] != nil {
		t.Errorf("refresh proof: %+v", refresh)
	}
	ath := dpop.AccessTokenHash(tok.AccessToken)
	for _, c := range []struct {
		p      seenProof
		method string
	}{{getP, http.MethodGet}, {postP, http.MethodPost}} {
		if c.p.where != "api" || c.p.claim("htm") != c.method || c.p.claim("htu") != as.issuer+"/api" || c.p.claim("ath") != ath || c.p.jkt != d.Thumbprint() {
			t.Errorf("%s proof claims = %v", c.method, c.p.claims)
		}
	}
	seen := map[string]bool{}
	for _, p := range proofs {
		if seen[p.claim("jti")] {
			t.Errorf("jti %q used twice", p.claim("jti"))
		}
		seen[p.claim("jti")] = true
	}
}

// TestDPoPStolenTokensRefused: the refresh token of a bound login, copied
// to a profile without the key or with another key, does not refresh;
// the access token without a proof of its key is refused at the resource.
func TestDPoPStolenTokensRefused(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	as.enableDPoP(t, clk)
	store := newMemStore()
	cred, _, _ := dpopLogin(t, as, store, clk)

	other, err := NewDPoPKey(clk)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{"without the key": "", "with another key": other.PrivateKeyPEM()} {
		t.Run(name, func(t *testing.T) {
			thief := newMemStore()
			stolen := *cred
			stolen.DPoPKey = key
			if key == "" {
				stolen.TokenType = "Bearer"
			}
			stolen.Expiry = start // expired: Token must refresh
			thief.set(profile, &stolen)
			_, err := newSource(t, as, thief, clk).Token()
			if !errors.Is(err, ErrLoginExpired) {
				t.Errorf("refresh with the stolen refresh token: %v, want ErrLoginExpired (invalid_grant)", err)
			}
		})
	}
	// The access token as a bearer token, and with a proof of another key.
	for name, ts := range map[string]*Transport{
		"bearer":      {Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cred.AccessToken, TokenType: "Bearer"}), Base: as.srv.Client().Transport},
		"another key": {Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: cred.AccessToken, TokenType: "DPoP"}), Base: as.srv.Client().Transport, DPoP: other},
	} {
		req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
		if status, _ := do(t, &http.Client{Transport: ts}, req); status != http.StatusUnauthorized {
			t.Errorf("access token (%s): status %d, want 401", name, status)
		}
	}
	if as.count(&as.refreshes) != 2 {
		t.Errorf("refresh requests = %d, want 2", as.count(&as.refreshes))
	}
}

// TestDPoPNonceAtTokenEndpoint: a 400 use_dpop_nonce with a DPoP-Nonce
// makes the client send the token request once more with the nonce
// (RFC 9449 §8), and remember it for the next one.
func TestDPoPNonceAtTokenEndpoint(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	fd := as.enableDPoP(t, clk)
	as.set(func() { fd.tokenNonce = true })
	store := newMemStore()
	dpopLogin(t, as, store, clk) // the code exchange: challenged, then sent with the nonce
	if n := as.count(&fd.challenges); n != 1 {
		t.Fatalf("challenges at login = %d, want 1", n)
	}
	ts := newSource(t, as, store, clk)
	clk.Advance(2 * time.Hour)
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	// The refresh is a new process (source): it learns the nonce again,
	// with one more challenge, and refreshes.
	if n := as.count(&fd.challenges); n != 2 || as.count(&as.refreshes) != 1 {
		t.Fatalf("challenges %d, refreshes %d; want 2 and 1", n, as.count(&as.refreshes))
	}
	clk.Advance(2 * time.Hour)
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	if n := as.count(&fd.challenges); n != 2 {
		t.Errorf("challenges = %d after a second refresh, want still 2: the nonce is remembered", n)
	}
	for _, p := range as.proofs()[1:] {
		if p.claim("nonce") != "" && p.claim("nonce") != fd.nonce {
			t.Errorf("proof nonce %q", p.claim("nonce"))
		}
	}
	// A server that still refuses after the nonce: the second answer goes
	// back to the caller; no loop.
	as.set(func() { fd.nonce = "nonce-2" })
	d, err := LoadDPoPKey(store.cred(profile).DPoPKey, clk)
	if err != nil {
		t.Fatal(err)
	}
	d.observe(mustURL(t, as.issuer), http.Header{"Dpop-Nonce": {"stale"}})
	before := as.count(&fd.challenges)
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, as.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(secretClient, clientSecret)
	resp, err := d.HTTPClient(as.srv.Client()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || as.count(&fd.challenges) != before+1 {
		t.Errorf("after a stale nonce: %d, %d challenges; want 200 after one", resp.StatusCode, as.count(&fd.challenges)-before)
	}
}

// TestDPoPNonceAtResource: a 401 with WWW-Authenticate DPoP
// error="use_dpop_nonce" and a DPoP-Nonce makes Transport resend the
// request — body included — with the nonce (RFC 9449 §9), once, and use
// the nonce for the next requests to that origin.
func TestDPoPNonceAtResource(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	fd := as.enableDPoP(t, clk)
	store := newMemStore()
	dpopLogin(t, as, store, clk)
	as.set(func() { fd.apiNonce = true })
	hc := NewHTTPClient(newSource(t, as, store, clk), as.srv.Client())
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPut, as.issuer+"/api", strings.NewReader("body"))
		if status, body := do(t, hc, req); status != http.StatusOK || !strings.HasSuffix(body, " body") {
			t.Errorf("request %d: %d %q", i, status, body)
		}
	}
	if n, calls := as.count(&fd.challenges), as.count(&as.apiCalls); n != 1 || calls != 2 {
		t.Errorf("challenges %d, successful calls %d; want 1 and 2", n, calls)
	}
	// A body that cannot be replayed: the challenge goes back to the caller.
	as.set(func() { fd.nonce = "nonce-2" })
	req, _ := http.NewRequest(http.MethodPost, as.issuer+"/api", nil)
	req.Body = readerOnly{strings.NewReader("once")}
	if status, _ := do(t, hc, req); status != http.StatusUnauthorized {
		t.Errorf("unreplayable body: status %d, want the 401 challenge", status)
	}
	// The nonce of that challenge is remembered all the same.
	get, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, _ := do(t, hc, get); status != http.StatusOK || as.count(&fd.challenges) != 2 {
		t.Errorf("after the challenge: %d, %d challenges; want 200 and 2", status, as.count(&fd.challenges))
	}
}

// readerOnly is a request body without GetBody.
type readerOnly struct{ *strings.Reader }

func (readerOnly) Close() error { return nil }

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestDPoPTokenWithoutKeyNotSent: a DPoP token with no key to make the
// proof is never sent as a bearer token.
func TestDPoPTokenWithoutKeyNotSent(t *testing.T) {
	as := newFakeAS(t)
	hc := NewHTTPClient(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "bound", TokenType: "dpop"}), as.srv.Client())
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	_, err := hc.Do(req)
	if !errors.Is(err, ErrNoDPoPKey) {
		t.Errorf("error = %v, want ErrNoDPoPKey", err)
	}
	if n := as.count(&as.apiCalls); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// TestDPoPKeyPersistsAcrossProcesses: the key is stored with the login in
// the file store; a later process (a new store and TokenSource on the
// same directory) proves possession with the same key; logout (Delete)
// removes it.
func TestDPoPKeyPersistsAcrossProcesses(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	as.enableDPoP(t, clk)
	dir := t.TempDir()
	_, d, _ := dpopLogin(t, as, credstore.NewFile(dir), clk)

	for i := range 2 { // two later processes
		ts := newSource(t, as, credstore.NewFile(dir), clk)
		clk.Advance(2 * time.Hour)
		if _, err := ts.Token(); err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
		got, err := ts.DPoP(context.Background())
		if err != nil || got == nil || got.Thumbprint() != d.Thumbprint() {
			t.Fatalf("process %d: DPoP = %v, %v; want the login's key", i, got, err)
		}
	}
	for _, p := range as.proofs() {
		if p.jkt != d.Thumbprint() {
			t.Errorf("a %s proof with key %s, want the login's %s", p.where, p.jkt, d.Thumbprint())
		}
	}
	st := credstore.NewFile(dir)
	if err := st.Delete(context.Background(), profile); err != nil {
		t.Fatal(err)
	}
	if _, err := newSource(t, as, st, clk).DPoP(context.Background()); !errors.Is(err, ErrNotLoggedIn) {
		t.Errorf("DPoP after logout: %v, want ErrNotLoggedIn", err)
	}
}

// TestDPoPBearerLoginUnchanged: a login stored before DPoP (no key) keeps
// working as a bearer login at a DPoP server: no proofs, Bearer header.
func TestDPoPBearerLoginUnchanged(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	as.enableDPoP(t, clk)
	store := newMemStore()
	login(as, store, time.Hour)
	ts := newSource(t, as, store, clk)
	if d, err := ts.DPoP(context.Background()); d != nil || err != nil {
		t.Errorf("DPoP of a bearer login = %v, %v", d, err)
	}
	clk.Advance(2 * time.Hour)
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, _ := do(t, NewHTTPClient(ts, as.srv.Client()), req); status != http.StatusOK {
		t.Errorf("status %d", status)
	}
	if tok, _ := ts.Token(); tok.TokenType != "Bearer" || len(as.proofs()) != 0 || as.count(&as.refreshes) != 1 {
		t.Errorf("token type %q, %d proofs, %d refreshes; want Bearer, none, 1", tok.TokenType, len(as.proofs()), as.count(&as.refreshes))
	}
}

// TestDPoPClientCredentials: a client configured with DPoP gets bound
// tokens, and its ClientCredentialsSource gives Transport the key.
func TestDPoPClientCredentials(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	as.enableDPoP(t, clk)
	d, err := NewDPoPKey(clk)
	if err != nil {
		t.Fatal(err)
	}
	cfg := as.config(clk)
	cfg.ClientID, cfg.ClientSecret, cfg.Scopes, cfg.DPoP = secretClient, clientSecret, nil, d
	ts := cfg.ClientCredentialsSource()
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, body := do(t, NewHTTPClient(ts, as.srv.Client()), req); status != http.StatusOK {
		t.Errorf("%d %s", status, body)
	}
	if c := cfg.ClientCredential(); c.DPoPKey != d.PrivateKeyPEM() {
		t.Error("ClientCredential does not keep the key")
	}
	ps := as.proofs()
	if len(ps) != 2 || ps[0].where != "token" || ps[1].where != "api" || ps[0].jkt != d.Thumbprint() {
		t.Errorf("proofs = %+v", ps)
	}
}

// TestDPoPInteropXOAuth2: x/oauth2's clientcredentials gets bound tokens
// when its HTTP client is DPoP.HTTPClient (proofs on its token requests);
// x/oauth2's own Transport then cannot use them (no proof: 401), while
// this package's Transport with the same DPoP can.
func TestDPoPInteropXOAuth2(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	fd := as.enableDPoP(t, clk)
	as.set(func() { fd.tokenNonce = true }) // the nonce retry works under x/oauth2 too
	d, err := NewDPoPKey(clk)
	if err != nil {
		t.Fatal(err)
	}
	cc := clientcredentials.Config{ClientID: secretClient, ClientSecret: clientSecret, TokenURL: as.issuer + "/token", AuthStyle: oauth2.AuthStyleInHeader}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, d.HTTPClient(as.srv.Client()))
	ts := cc.TokenSource(ctx)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.Type() != "DPoP" {
		t.Fatalf("x/oauth2 token type %q, want DPoP", tok.Type())
	}

	plain := &http.Client{Transport: &oauth2.Transport{Source: ts, Base: as.srv.Client().Transport}}
	req, _ := http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, _ := do(t, plain, req); status != http.StatusUnauthorized {
		t.Errorf("oauth2.Transport with a DPoP token: %d, want 401 (it sends no proof)", status)
	}
	ours := &http.Client{Transport: &Transport{Source: ts, Base: as.srv.Client().Transport, DPoP: d}}
	req, _ = http.NewRequest(http.MethodGet, as.issuer+"/api", nil)
	if status, body := do(t, ours, req); status != http.StatusOK {
		t.Errorf("client.Transport: %d %s", status, body)
	}
}

// TestResourceNonceChallenge parses WWW-Authenticate values.
func TestResourceNonceChallenge(t *testing.T) {
	for _, tc := range []struct {
		www   string
		nonce string
		want  bool
	}{
		{`DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`, "n", true},
		{`dpop error=use_dpop_nonce`, "n", true},
		{`Bearer realm="x", DPoP algs="ES256 PS256", error="use_dpop_nonce"`, "n", true},
		{`DPoP algs="ES256", error="use_dpop_nonce"`, "n", true},
		{`Bearer error="use_dpop_nonce"`, "n", false},
		{`DPoP error="invalid_token"`, "n", false},
		{`DPoP error_description="use_dpop_nonce"`, "n", false},
		{`DPoP error="use_dpop_nonce"`, "", false},
		{`DPoP error="use_dpop_nonce, x"`, "n", false},
		{``, "n", false},
	} {
		resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{}}
		if tc.www != "" {
			resp.Header.Set("WWW-Authenticate", tc.www)
		}
		if tc.nonce != "" {
			resp.Header.Set("DPoP-Nonce", tc.nonce)
		}
		if got := resourceNonceChallenge(resp); got != tc.want {
			t.Errorf("%q (nonce %q) = %v, want %v", tc.www, tc.nonce, got, tc.want)
		}
	}
}

// FuzzResourceNonceChallenge: the WWW-Authenticate parser never panics or
// hangs on any header value.
func FuzzResourceNonceChallenge(f *testing.F) {
	for _, s := range []string{`DPoP error="use_dpop_nonce"`, `Bearer realm="a\"b", DPoP algs="ES256"`, `DPoP error="`, `,,, =`, `DPoP a=b, c="d\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{"Www-Authenticate": {v}, "Dpop-Nonce": {"n"}}}
		resourceNonceChallenge(resp)
		authParam(v, "error")
	})
}

// TestDPoPDeviceLogin: each device-code poll carries a proof, and the
// tokens come back bound.
func TestDPoPDeviceLogin(t *testing.T) {
	as := newFakeAS(t)
	clk := newWaitClock()
	as.enableDPoP(t, clk)
	as.set(func() { as.deviceSteps = []string{"authorization_pending"} })
	d, err := NewDPoPKey(clk)
	if err != nil {
		t.Fatal(err)
	}
	cfg := as.config(clk)
	cfg.DPoP = d
	_, done := runDevice(t, context.Background(), cfg)
	for range 2 {
		clk.Advance(clk.nextWait(t))
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !IsDPoP(r.tok) || !cfg.UserCredential(r.tok).Bound() {
		t.Errorf("device login token type %q", r.tok.TokenType)
	}
	ps := as.proofs()
	if len(ps) != 2 || ps[0].claim("jti") == ps[1].claim("jti") || ps[1].jkt != d.Thumbprint() {
		t.Errorf("poll proofs = %+v, want 2 with distinct jti", ps)
	}
}

// BenchmarkDPoPProof is the client's cost of DPoP per request: one ES256
// signature (RFC 9449 proofs are fresh per request).
func BenchmarkDPoPProof(b *testing.B) {
	d, err := NewDPoPKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := d.Proof(http.MethodGet, "https://api.example.com/things", "access-token"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransport compares a request through Transport with a bearer
// token and with a DPoP-bound one (a proof per request), against a local
// server that answers at once.
func BenchmarkTransport(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	d, err := NewDPoPKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	for name, tr := range map[string]*Transport{
		"bearer": {Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok", TokenType: "Bearer"}), Base: srv.Client().Transport},
		"dpop":   {Source: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok", TokenType: "DPoP"}), Base: srv.Client().Transport, DPoP: d},
	} {
		b.Run(name, func(b *testing.B) {
			hc := &http.Client{Transport: tr}
			for b.Loop() {
				resp, err := hc.Get(srv.URL + "/x")
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
		})
	}
}
