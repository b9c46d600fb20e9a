package adminhttp

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The tests here drive the handlers with fake collaborators on a SQLite
// store (the admin layer itself is real, so its rules show through); the tests of the API wired into the real server (who may call
// it: access tokens, API keys, first-party clients) are in
// internal/server's admin_*_test.go.

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

const cliClient = "gatehouse-cli"

// fakes records what the API asked of its collaborators.
type fakes struct {
	t         *testing.T
	store     storage.Store
	principal *Principal // nil: Authenticate refuses with 401
	authCalls int
	events    []audit.Event
	written   []error
	forgotten []string
	revokedBy []string
	reloadErr error
}

func (f *fakes) Log(ev audit.Event) { f.events = append(f.events, ev) }

func (f *fakes) Rotate(ctx context.Context, activateIn time.Duration) (*storage.SigningKey, error) {
	return &storage.SigningKey{ID: "k2", Algorithm: "EdDSA", CreatedAt: now, ActiveAt: now.Add(activateIn)}, nil
}

func (f *fakes) Keys() []signing.KeyInfo {
	return []signing.KeyInfo{{ID: "k1", Algorithm: "EdDSA", CreatedAt: now, ActiveAt: now, State: signing.StateActive, Signing: true}}
}

func (f *fakes) ReloadIfStale(ctx context.Context, maxAge time.Duration) (bool, error) {
	return false, f.reloadErr
}

func newFakes(t *testing.T) *fakes {
	return &fakes{t: t, store: storagetest.OpenSQLite(t)}
}

// handler serves the API's routes, checking that each one is named
// "admin" for the metrics.
func (f *fakes) handler() http.Handler {
	svc := admin.New(f.store, admin.Options{
		Hasher: password.NewHasher(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1),
		Clock:  clocktest.New(now),
	})
	a := New(Deps{
		Authenticate: func(w http.ResponseWriter, r *http.Request) *Principal {
			f.authCalls++
			if f.principal == nil {
				w.WriteHeader(http.StatusUnauthorized)
			}
			return f.principal
		},
		Admin:      svc,
		Keys:       f,
		KeysMaxAge: time.Second,
		RevokeAPIKey: func(ctx context.Context, id, actor string) (*storage.APIKey, error) {
			f.revokedBy = append(f.revokedBy, actor)
			k, _, _, err := svc.RevokeAPIKey(ctx, id)
			return k, err
		},
		ForgetAPIKey: func(id string) { f.forgotten = append(f.forgotten, "apikey:"+id) },
		ForgetClient: func(id string) { f.forgotten = append(f.forgotten, "client:"+id) },
		CLIClientID:  cliClient,
		Audit:        f,
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) {
			f.written = append(f.written, err)
			w.WriteHeader(599)
		},
		Clock: clocktest.New(now),
	})
	mux := http.NewServeMux()
	a.Routes(func(pattern, route string, h http.HandlerFunc) {
		if route != "admin" {
			f.t.Errorf("%s: route name %q, want admin", pattern, route)
		}
		mux.Handle(pattern, h)
	})
	return mux
}

// call sends body to path (under PathAdmin) and decodes the JSON answer.
func (f *fakes) call(method, path, body string) (*httptest.ResponseRecorder, map[string]any) {
	f.t.Helper()
	w := httptest.NewRecorder()
	f.handler().ServeHTTP(w, httptest.NewRequest(method, PathAdmin+path, strings.NewReader(body)))
	var m map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
			f.t.Fatalf("%s %s: %d %q is not JSON: %v", method, path, w.Code, w.Body, err)
		}
	}
	return w, m
}

// mustCall is call when the answer has status want; otherwise the test
// fails at once.
func (f *fakes) mustCall(want int, method, path, body string) map[string]any {
	f.t.Helper()
	w, m := f.call(method, path, body)
	if w.Code != want {
		f.t.Fatalf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, want)
	}
	return m
}

// asJSON is v encoded as JSON.
func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// lastEvent is the last event of type typ recorded, or the zero event.
func (f *fakes) lastEvent(typ string) audit.Event {
	for i := len(f.events) - 1; i >= 0; i-- {
		if f.events[i].Type == typ {
			return f.events[i]
		}
	}
	f.t.Errorf("no %s event among %+v", typ, f.events)
	return audit.Event{}
}

// everyRoute is one request to each route, with a body that would change
// something were it let through.
func everyRoute() [][3]string {
	var out [][3]string
	for _, rt := range (&API{}).routes() {
		path := strings.TrimPrefix(rt.path, PathAdmin)
		path = strings.NewReplacer("{id}", "u1", "{name}", "ops").Replace(path)
		out = append(out, [3]string{rt.method, path, `{"username": "eve", "password": "a long enough password", "name": "ops"}`})
	}
	return out
}

// nothingDone fails when the store holds a user or a role the requests
// could have created, or an event was recorded or an error rendered.
func (f *fakes) nothingDone(what string) {
	f.t.Helper()
	if _, err := f.store.GetUserByName(context.Background(), "eve"); !errors.Is(err, storage.ErrNotFound) {
		f.t.Errorf("%s: the user was created (err %v)", what, err)
	}
	if len(f.events) != 0 || len(f.written) != 0 || len(f.forgotten) != 0 || len(f.revokedBy) != 0 {
		f.t.Errorf("%s: events %v, errors %v, forgotten %v, revoked %v; want none", what, f.events, f.written, f.forgotten, f.revokedBy)
	}
}

// TestAdminUnauthenticated: when Authenticate answers the request (no or a
// bad credential), no handler runs and the answer is Authenticate's.
func TestAdminUnauthenticated(t *testing.T) {
	f := newFakes(t)
	for _, rq := range everyRoute() {
		w, _ := f.call(rq[0], rq[1], rq[2])
		if w.Code != http.StatusUnauthorized || w.Body.Len() != 0 {
			t.Errorf("%s %s: %d %q, want Authenticate's bare 401", rq[0], rq[1], w.Code, w.Body)
		}
	}
	if want := len(everyRoute()); f.authCalls != want {
		t.Errorf("Authenticate called %d times, want %d (once per request)", f.authCalls, want)
	}
	f.nothingDone("unauthenticated")
}

// TestAdminNeedsAdminRole: an authenticated caller without the admin role
// is 403 insufficient_scope with a Bearer challenge on every route, and
// nothing happens.
func TestAdminNeedsAdminRole(t *testing.T) {
	for name, roles := range map[string][]string{
		"no roles":           nil,
		"viewer":             {"viewer"},
		"admin-like":         {"Admin", "admins"},
		"admin with a space": {"admin "},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakes(t)
			f.principal = &Principal{Actor: "user:u2", Roles: roles}
			for _, rq := range everyRoute() {
				w, m := f.call(rq[0], rq[1], rq[2])
				ch := w.Header().Get("WWW-Authenticate")
				if w.Code != http.StatusForbidden || m["error"] != protocol.ErrInsufficientScope ||
					!strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="insufficient_scope"`) {
					t.Errorf("%s %s: %d %v (challenge %q), want 403 insufficient_scope with a Bearer challenge", rq[0], rq[1], w.Code, m, ch)
				}
				if w.Header().Get("Cache-Control") != "no-store" {
					t.Errorf("%s %s: Cache-Control %q", rq[0], rq[1], w.Header().Get("Cache-Control"))
				}
			}
			f.nothingDone(name)
		})
	}
}

// TestAdminActsAsCaller: an admin's request runs, and its event names the
// caller Authenticate returned.
func TestAdminActsAsCaller(t *testing.T) {
	f := newFakes(t)
	f.principal = &Principal{Actor: "apikey:k9", Roles: []string{"viewer", "admin"}}
	w, m := f.call("POST", "/users", `{"username": "eve", "password": "a long enough password"}`)
	if w.Code != http.StatusCreated || m["username"] != "eve" || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("create user: %d %v %v", w.Code, m, w.Header())
	}
	if len(f.events) != 1 || f.events[0].Type != audit.UserCreated || f.events[0].Actor != "apikey:k9" {
		t.Errorf("events %+v, want one %s by apikey:k9", f.events, audit.UserCreated)
	}
	// An operation that changes nothing records nothing.
	f.events = nil
	if w, m := f.call("POST", "/users/eve/mfa-reset", ``); w.Code != http.StatusOK || m["removed"] != false || len(f.events) != 0 {
		t.Errorf("MFA reset of a user without MFA: %d %v, events %+v; want 200 and none", w.Code, m, f.events)
	}
}

// TestAdminRefusals: the admin layer's refusals are 400, 404 and 409 with
// its message; the CLI's own client is never deleted; any other error is
// the server's to render.
func TestAdminRefusals(t *testing.T) {
	f := newFakes(t)
	f.principal = &Principal{Actor: "user:u1", Roles: []string{"admin"}}
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, desc         string
	}{
		{"POST", "/users", `{"username": "eve", "password": "short"}`, 400, "invalid_request", "password"},
		{"GET", "/users/nobody", ``, 404, "not_found", "nobody"},
		{"DELETE", "/roles/admin", ``, 409, "conflict", "admin"},
		{"DELETE", "/clients/" + cliClient, ``, 409, "conflict", "the CLI's own client cannot be deleted"},
		{"POST", "/apikeys", `{"name": "k", "user_id": "eve", "expires_in": 9223372037}`, 400, "invalid_request", "expires_in is too large"},
		{"POST", "/keys/rotate", `{"activate_in": 9223372037}`, 400, "invalid_request", "activate_in is too large"},
		{"GET", "/audit?limit=0", ``, 400, "invalid_request", "limit must be between 1 and 1000"},
		{"GET", "/audit?since=yesterday", ``, 400, "invalid_request", "RFC 3339"},
		{"GET", "/audit?after=-1", ``, 400, "invalid_request", "non-negative"},
	} {
		w, m := f.call(tc.method, tc.path, tc.body)
		desc, _ := m["error_description"].(string)
		if w.Code != tc.status || m["error"] != tc.code || !strings.Contains(desc, tc.desc) {
			t.Errorf("%s %s: %d %v, want %d %s mentioning %q", tc.method, tc.path, w.Code, m, tc.status, tc.code, tc.desc)
		}
	}
	if len(f.forgotten) != 0 || len(f.events) != 0 {
		t.Errorf("refused requests forgot %v and recorded %+v", f.forgotten, f.events)
	}
	boom := errors.New("keys unavailable")
	f.reloadErr = boom
	if w, _ := f.call("GET", "/keys", ""); w.Code != 599 || len(f.written) != 1 || !errors.Is(f.written[0], boom) {
		t.Errorf("failing keys: %d, written %v; want the error handed to WriteError", w.Code, f.written)
	}
}

// TestAdminCachesAndRevoke: a change of a client or an API key makes the
// server forget what it cached, and a revocation acts as the caller.
func TestAdminCachesAndRevoke(t *testing.T) {
	f := newFakes(t)
	f.principal = &Principal{Actor: "user:u1", Roles: []string{"admin"}}
	f.call("POST", "/users", `{"username": "eve", "password": "a long enough password"}`)
	if w, m := f.call("POST", "/clients", `{"id": "ci", "name": "CI", "grant_types": ["client_credentials"]}`); w.Code != 201 || m["client_secret"] == "" {
		t.Fatalf("create client: %d %v", w.Code, m)
	}
	w, m := f.call("POST", "/apikeys", `{"name": "deploy", "user_id": "eve", "expires_in": 3600}`)
	id, _ := m["id"].(string)
	if w.Code != 201 || id == "" || m["key"] == "" || m["state"] != "active" {
		t.Fatalf("create api key: %d %v", w.Code, m)
	}
	f.forgotten = nil
	f.call("POST", "/clients/ci/rotate-secret", "")
	f.call("POST", "/apikeys/"+id+"/rotate", "")
	if w, m := f.call("POST", "/apikeys/"+id+"/revoke", ""); w.Code != 200 || m["state"] != "revoked" {
		t.Errorf("revoke: %d %v", w.Code, m)
	}
	if want := []string{"client:ci", "apikey:" + id}; strings.Join(f.forgotten, " ") != strings.Join(want, " ") {
		t.Errorf("forgotten %v, want %v", f.forgotten, want)
	}
	if len(f.revokedBy) != 1 || f.revokedBy[0] != "user:u1" {
		t.Errorf("revoked by %v, want [user:u1]", f.revokedBy)
	}
}

// TestAdminRequestBodies: a body that is not one JSON object of the known
// members, or is too large, is refused and nothing is created.
func TestAdminRequestBodies(t *testing.T) {
	f := newFakes(t)
	f.principal = &Principal{Actor: "user:u1", Roles: []string{"admin"}}
	for name, body := range map[string]string{
		"unknown field": `{"username":"eve","password":"a long enough password","admin":true}`,
		"not JSON":      `username=eve`,
		"trailing data": `{"username":"eve","password":"a long enough password"} {}`,
		"duplicate":     `{"username":"bob","Username":"eve","password":"a long enough password"}`,
	} {
		w, m := f.call("POST", "/users", body)
		if w.Code != 400 || m["error"] != "invalid_request" {
			t.Errorf("%s: %d %v, want 400 invalid_request", name, w.Code, m)
		}
	}
	big := `{"username":"eve","password":"` + strings.Repeat("a", maxBodyBytes) + `"}`
	if w, m := f.call("POST", "/users", big); w.Code != http.StatusRequestEntityTooLarge || m["error"] != "invalid_request" {
		t.Errorf("oversized body: %d %v, want 413 invalid_request", w.Code, m)
	}
	f.nothingDone("refused bodies")
}
