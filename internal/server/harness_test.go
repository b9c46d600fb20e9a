package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/testbed"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

// testHarness is a real Server on a real SQLite database behind an
// httptest listener, driven by a fake clock.
type testHarness struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	store  storage.Store
	clock  *clocktest.Fake
	cfg    *config.Server
	issuer string
	// base is the issuer's path, "" unless a test serves under a path.
	base  string
	audit *auditBuffer
}

// auditBuffer collects audit lines for assertions.
type auditBuffer struct {
	lines chan string
}

var testHashParams = testbed.HashParams

type harnessOption func(*config.Server)

func newHarness(t *testing.T, opts ...harnessOption) *testHarness {
	t.Helper()
	return newHarnessOn(t, openSQLite, opts...)
}

// storeOpener opens an empty store for a test, closed when it ends.
type storeOpener = storagetest.Opener

var (
	openSQLite    = storagetest.OpenSQLite
	openPostgres  = storagetest.OpenPostgres
	onEachBackend = storagetest.OnEachBackend
)

// newHarnessOn is newHarness on the store open gives.
func newHarnessOn(t *testing.T, open storeOpener, opts ...harnessOption) *testHarness {
	t.Helper()
	return newHarnessWith(t, open, nil, opts...)
}

// newHarnessWith is newHarnessOn with deps adjusting the server's
// dependencies (e.g. connectors) before it is built. The server runs on a
// testbed (like servertest's) whose audit events the harness collects.
func newHarnessWith(t *testing.T, open storeOpener, deps func(*Deps), opts ...harnessOption) *testHarness {
	t.Helper()
	pr, pw := io.Pipe()
	ab := &auditBuffer{lines: make(chan string, 1000)}
	go func() {
		dec := json.NewDecoder(pr)
		for {
			var m json.RawMessage
			if err := dec.Decode(&m); err != nil {
				return
			}
			ab.lines <- string(m)
		}
	}()
	t.Cleanup(func() { pw.Close() })
	bo := testbed.Options{Store: open(t), AuditOutput: pw}
	for _, o := range opts {
		bo.Config = append(bo.Config, o)
	}
	b := testbed.New(t, bo)
	d := Deps{
		Config:  b.Config,
		Store:   b.Store,
		Keys:    b.Keys,
		Hasher:  b.Hasher,
		Limiter: b.Limiter,
		Audit:   b.Audit,
		Clock:   b.Clock,
		// SecretKey enables TOTP (internal/server/secondfactor).
		SecretKey: b.SecretKey,
	}
	if deps != nil {
		deps(&d)
	}
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Bootstrap(context.Background(), b.Store, b.Hasher, testbed.AdminPassword, b.Clock); err != nil {
		t.Fatal(err)
	}
	b.Serve(srv.Handler())
	return &testHarness{t: t, srv: srv, ts: b.TS, store: b.Store, clock: b.Clock, cfg: b.Config, issuer: b.Config.Issuer, base: b.Config.IssuerPath(), audit: ab}
}

// url is the listener's URL of the server path p (under the base path).
func (h *testHarness) url(p string) string { return h.ts.URL + h.base + p }

// waitAudit waits until an audit event of the given type was logged and
// returns it decoded.
func (h *testHarness) waitAudit(typ string) map[string]any {
	h.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case line := <-h.audit.lines:
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				h.t.Fatal(err)
			}
			if m["type"] == typ {
				return m
			}
		case <-timeout:
			h.t.Fatalf("no audit event %q", typ)
			return nil
		}
	}
}

// addUser creates a local user with a password and roles.
func (h *testHarness) addUser(name, pass string, roles ...string) *storage.User {
	h.t.Helper()
	hash, err := h.srv.hasher.Hash(context.Background(), pass)
	if err != nil {
		h.t.Fatal(err)
	}
	u := &storage.User{ID: "u-" + name, Username: name, PasswordHash: hash, Roles: roles, CreatedAt: h.clock.Now(), UpdatedAt: h.clock.Now()}
	if err := h.store.CreateUser(context.Background(), u); err != nil {
		h.t.Fatal(err)
	}
	return u
}

// addClient registers a client. A confidential client gets a secret, which
// is returned.
func (h *testHarness) addClient(c storage.Client) string {
	h.t.Helper()
	sec := ""
	if !c.Public && c.AuthMethod != "private_key_jwt" {
		sec = secret.NewToken()
		c.SecretHash = secret.Hash(sec)
		if c.AuthMethod == "" {
			c.AuthMethod = "client_secret_basic"
		}
	}
	if c.Public {
		c.AuthMethod = "none"
	}
	c.CreatedAt, c.UpdatedAt = h.clock.Now(), h.clock.Now()
	if err := h.store.CreateClient(context.Background(), &c); err != nil {
		h.t.Fatal(err)
	}
	return sec
}

// postForm posts form values to path with optional basic auth and returns
// the status and decoded JSON body.
func (h *testHarness) postForm(path string, form url.Values, basicUser, basicPass string) (int, map[string]any, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	return h.doJSON(req)
}

// doJSON sends req and returns the status, the decoded JSON body (nil
// when empty) and the headers; a body that is not JSON fails the test.
func (h *testHarness) doJSON(req *http.Request) (int, map[string]any, http.Header) {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			h.t.Fatalf("%s: not JSON (%d): %s", req.URL, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// rewire rebuilds the parts New wires from the server's fields — the
// connector linking, the pages (internal/server/pages) and the back
// channel (internal/server/oauth) — on the server's current fields, in
// place, for a test that replaced one of them (the store, the audit log,
// the hasher) after New.
func (s *Server) rewire() {
	*s.links = *s.linker()
	*s.site = *s.browserPages()
	*s.oauth = *s.backChannel()
}
