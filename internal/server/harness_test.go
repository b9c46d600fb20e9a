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
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/pgtest"
	"github.com/gatehouse-auth/gatehouse/internal/storage/postgres"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
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

var testHashParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type harnessOption func(*config.Server)

func newHarness(t *testing.T, opts ...harnessOption) *testHarness {
	t.Helper()
	return newHarnessOn(t, openSQLite, opts...)
}

// storeOpener opens an empty store for a test, closed when it ends.
type storeOpener func(t *testing.T) storage.Store

func openSQLite(t *testing.T) storage.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/gatehouse.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openPostgres opens a store in a schema of the test's own on the
// PostgreSQL of GATEHOUSE_TEST_POSTGRES_DSN, or skips.
func openPostgres(t *testing.T) storage.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.FreshSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// onEachBackend runs test on SQLite, and on PostgreSQL when
// GATEHOUSE_TEST_POSTGRES_DSN is set.
func onEachBackend(t *testing.T, test func(t *testing.T, open storeOpener)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openSQLite) })
	t.Run("postgres", func(t *testing.T) {
		if !pgtest.Enabled() {
			t.Skip(pgtest.EnvDSN + " not set")
		}
		test(t, openPostgres)
	})
}

// newHarnessOn is newHarness on the store open gives.
func newHarnessOn(t *testing.T, open storeOpener, opts ...harnessOption) *testHarness {
	t.Helper()
	return newHarnessWith(t, open, nil, opts...)
}

// newHarnessWith is newHarnessOn with deps adjusting the server's
// dependencies (e.g. connectors) before it is built.
func newHarnessWith(t *testing.T, open storeOpener, deps func(*Deps), opts ...harnessOption) *testHarness {
	t.Helper()
	ctx := context.Background()
	st := open(t)
	var err error

	ts := httptest.NewUnstartedServer(nil)
	cfg := config.Default()
	cfg.Issuer = "http://" + ts.Listener.Addr().String()
	for _, o := range opts {
		o(&cfg)
	}
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	key, err := secret.ParseKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	keys := signing.NewManager(st, key, clk, signing.Options{Algorithm: cfg.Signing.Algorithm})
	if err := keys.Init(ctx); err != nil {
		t.Fatal(err)
	}
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
	al := audit.New(pw, clk)
	t.Cleanup(func() { al.Close(); pw.Close() })
	d := Deps{
		Config:  &cfg,
		Store:   st,
		Keys:    keys,
		Hasher:  password.NewHasher(testHashParams, 4),
		Limiter: ratelimit.NewMemory(clk, 10000),
		Audit:   al,
		Clock:   clk,
		// SecretKey enables TOTP (mfa.go).
		SecretKey: key,
	}
	if deps != nil {
		deps(&d)
	}
	srv, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Bootstrap(ctx, st, srv.hasher, "admin-password-1", clk); err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return &testHarness{t: t, srv: srv, ts: ts, store: st, clock: clk, cfg: &cfg, issuer: cfg.Issuer, base: cfg.IssuerPath(), audit: ab}
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
