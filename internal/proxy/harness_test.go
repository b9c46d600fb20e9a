package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/proxytest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// testPolicy is the policy of most gateway tests.
const testPolicy = `
version: 1
max_body_bytes: 65536
graphql:
  paths: ["/graphql"]
  max_body_bytes: 65536
rules:
  - name: public assets
    paths: ["/public/**"]
    methods: [GET, HEAD]
    public: true
  - name: internal host
    hosts: ["admin.internal"]
    roles: [admin]
  - name: block admin area
    paths: ["/admin/**"]
    action: deny
  - name: graphql reads
    roles: [viewer, editor, admin]
    paths: ["/graphql"]
    graphql: {types: [query, subscription]}
  - name: launch runs
    roles: [editor, admin]
    paths: ["/graphql"]
    graphql: {types: [mutation], fields: [launchRun]}
  - name: read
    roles: [viewer, editor, admin]
    methods: [GET, HEAD]
  - name: admins
    roles: [admin]
`

// fakeProvider stands in for the issuer's login pages: a code is the
// subject of the user who "logged in".
type fakeProvider struct {
	mu     sync.Mutex
	logins map[string]*Login // code -> login
}

func (p *fakeProvider) Issuer() string { return "https://issuer.test" }

func (p *fakeProvider) AuthCodeURL(state, nonce, verifier string) string {
	return "https://issuer.test/authorize?" + url.Values{"state": {state}, "nonce": {nonce}}.Encode()
}

func (p *fakeProvider) Exchange(_ context.Context, code, _, _ string) (*Login, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.logins[code]
	if !ok {
		return nil, io.ErrUnexpectedEOF
	}
	return l, nil
}

// harness is a gateway in front of the test app, with the real
// authorization server (in-process, fake clock) as the issuer of bearer
// credentials and the source of user records.
type harness struct {
	t        *testing.T
	srv      *servertest.Server
	app      *proxytest.App
	seen     *requestLog
	appURL   string
	gw       *Gateway
	ts       *httptest.Server
	provider *fakeProvider
	users    *UserDirectory
	sessions session.Store
	auditBuf *syncBuffer
	audit    *audit.Logger
	limiter  *ratelimit.Memory
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harnessOption func(*Config, *Deps)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	srv := servertest.Start(t)
	app := proxytest.NewApp()
	rec := &requestLog{}
	appTS := httptest.NewServer(rec.wrap(app.Handler()))
	t.Cleanup(appTS.Close)

	h := &harness{t: t, srv: srv, app: app, appURL: appTS.URL, seen: rec, provider: &fakeProvider{logins: map[string]*Login{}}}
	introSecret := srv.AddClient(t, storage.Client{ID: "gateway", GrantTypes: []string{protocol.GrantClientCredentials}})
	verifier, err := resource.NewVerifier(context.Background(), resource.Config{
		Issuer: srv.URL, HTTPClient: srv.HTTP, Clock: srv.Clock, Audience: []string{gatewayAudience},
		Introspection: &resource.IntrospectionConfig{ClientID: "gateway", ClientSecret: introSecret, CacheTTL: DefaultIntrospectionTTL},
	})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse([]byte(testPolicy), "test-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h.auditBuf = &syncBuffer{}
	h.audit = audit.New(h.auditBuf, srv.Clock)
	t.Cleanup(func() { h.audit.Close() })
	h.users = NewUserDirectory(srv.Store, srv.Clock, time.Minute, nil)
	h.sessions = session.NewMemory(srv.Clock, 1000)
	h.limiter = ratelimit.NewMemory(srv.Clock, 10000)

	h.ts = httptest.NewUnstartedServer(nil)
	cfg := Config{
		Upstream: appTS.URL, PublicURL: "http://" + h.ts.Listener.Addr().String(),
		LoginRate: config.Rate{Requests: 1000, Per: config.Duration(time.Minute), Burst: 1000},
	}
	d := Deps{
		Policy: pol, Sessions: h.sessions, Limiter: h.limiter, Audit: h.audit,
		SecretKey: secret.NewKey(), Provider: h.provider, Verifier: verifier, Users: h.users,
		Revoked: storeRevocationCheck(srv.Store), Clock: srv.Clock,
	}
	for _, o := range opts {
		o(&cfg, &d)
	}
	d.Config = cfg
	h.gw, err = New(d)
	if err != nil {
		t.Fatal(err)
	}
	h.ts.Config.Handler = h.gw.Handler()
	h.ts.Start()
	t.Cleanup(h.ts.Close)
	return h
}

// client is an HTTP client with a cookie jar that does not follow
// redirects.
func (h *harness) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login logs a browser (the client's cookie jar) in as the servertest
// user u, through /_gatehouse/login and /_gatehouse/callback, and returns
// the callback's response.
func (h *harness) login(c *http.Client, u *storage.User, rd string) *http.Response {
	h.t.Helper()
	res := h.get(c, PathLogin+"?"+url.Values{"rd": {rd}}.Encode(), nil)
	if res.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("login start: %d", res.StatusCode)
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	state := loc.Query().Get("state")
	code := secret.NewToken()
	h.provider.mu.Lock()
	h.provider.logins[code] = &Login{Subject: u.ID, Username: u.Username, Roles: u.Roles, AuthTime: h.srv.Clock.Now()}
	h.provider.mu.Unlock()
	return h.get(c, PathCallback+"?"+url.Values{"state": {state}, "code": {code}}.Encode(), nil)
}

// get sends GET path with extra headers.
func (h *harness) get(c *http.Client, path string, hdr http.Header) *http.Response {
	h.t.Helper()
	return h.do(c, http.MethodGet, path, hdr, nil)
}

func (h *harness) do(c *http.Client, method, path string, hdr http.Header, body []byte) *http.Response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if strings.Contains(path, "%") || strings.Contains(path, "..") || strings.Contains(path, "//") {
		// Send the path exactly as written.
		rawPath, _, _ := strings.Cut(path, "?")
		req.URL.Opaque = "//" + req.URL.Host + rawPath
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	res, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	body2, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body2))
	return res
}

// requestLog records the paths the app received.
type requestLog struct {
	mu    sync.Mutex
	paths []string
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.paths = append(l.paths, r.URL.Path)
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) Requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.paths)
}

// echoed is the test app's /echo answer.
type echoed struct {
	Host    string              `json:"host"`
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
	Cookies map[string]string   `json:"cookies"`
}

// Header is the first value of the header name (any spelling).
func (e echoed) Header(name string) string {
	for k, v := range e.Headers {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// echo decodes the test app's /echo answer.
func echo(t *testing.T, res *http.Response) echoed {
	t.Helper()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("echo: status %d: %s", res.StatusCode, b)
	}
	var e echoed
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

// countingSessions counts the calls that reach a session store.
type countingSessions struct {
	session.Store
	mu sync.Mutex
	n  int
}

func (c *countingSessions) count() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *countingSessions) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *countingSessions) reset() {
	c.mu.Lock()
	c.n = 0
	c.mu.Unlock()
}

func (c *countingSessions) Get(ctx context.Context, id string) (*session.Session, error) {
	c.count()
	return c.Store.Get(ctx, id)
}

func (c *countingSessions) Touch(ctx context.Context, id string, at time.Time) error {
	c.count()
	return c.Store.Touch(ctx, id, at)
}

// countingUsers counts user lookups that reach the database.
type countingUsers struct {
	storage.Store
	mu sync.Mutex
	n  int
}

func (c *countingUsers) GetUser(ctx context.Context, id string) (*storage.User, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Store.GetUser(ctx, id)
}

// gatewayAudience is the aud the harness's gateway accepts in bearer JWTs.
const gatewayAudience = "https://gateway.example"

// clientToken gets a client-credentials access token for a new client
// with roles, whose audience is the gateway.
func (h *harness) clientToken(id string, roles ...string) string {
	h.t.Helper()
	return h.clientTokenFor(id, []string{gatewayAudience}, roles...)
}

// clientTokenFor gets a client-credentials access token for a new client
// with roles registered for audiences (none: its own id).
func (h *harness) clientTokenFor(id string, audiences []string, roles ...string) string {
	h.t.Helper()
	sec := h.srv.AddClient(h.t, storage.Client{ID: id, GrantTypes: []string{protocol.GrantClientCredentials}, Roles: roles, Audiences: audiences})
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, sec)
	res, err := h.srv.HTTP.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		h.t.Fatalf("client credentials: status %d, %v", res.StatusCode, err)
	}
	return tr.AccessToken
}

// apiKey creates an API key acting as user u (or as nobody) with roles.
func (h *harness) apiKey(u *storage.User, roles ...string) (id, key string) {
	h.t.Helper()
	id, key = apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	k := &storage.APIKey{ID: id, Name: "test", SecretHash: secret.Hash(sec), Roles: roles, CreatedAt: h.srv.Clock.Now()}
	if u != nil {
		k.UserID = u.ID
	}
	if err := h.srv.Store.CreateAPIKey(context.Background(), k); err != nil {
		h.t.Fatal(err)
	}
	return id, key
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func htmlAccept() http.Header { return http.Header{"Accept": {"text/html,application/xhtml+xml"}} }

// waitAudit waits for an audit line containing s (the logger writes from
// its own goroutine).
func (h *harness) waitAudit(s string) bool {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.auditBuf.String(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
