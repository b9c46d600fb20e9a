package admincmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
)

// addServerAPIKey stores an API key with roles on the server's database
// and returns it.
func addServerAPIKey(t *testing.T, srv *servertest.Server, roles ...string) string {
	t.Helper()
	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	err := srv.Store.CreateAPIKey(context.Background(), &storage.APIKey{ID: id, Name: "cli test", SecretHash: secret.Hash(sec),
		Roles: roles, CreatedAt: srv.Clock.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func TestAdminListsOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	srv.AddUser(t, "carol", "correct horse battery", "editor")
	srv.AddClient(t, storage.Client{ID: "svc", Name: "Service", GrantTypes: []string{"client_credentials"}, Roles: []string{"viewer"}})
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")

	r := h.runCtx(t.Context(), "", "users", "list", "--json", "--server", srv.URL)
	if r.Err != nil {
		t.Fatalf("users list: %v\n%s", r.Err, r.ErrOut)
	}
	users := decode[[]userJSON](t, r.Out)
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if !strings.Contains(strings.Join(names, " "), "carol") {
		t.Errorf("users over the API: %v", names)
	}

	r = h.runCtx(t.Context(), "", "clients", "list", "--server", srv.URL)
	if r.Err != nil {
		t.Fatalf("clients list: %v\n%s", r.Err, r.ErrOut)
	}
	if !strings.Contains(r.Out, "svc") || !strings.Contains(r.Out, "Service") {
		t.Errorf("clients over the API:\n%s", r.Out)
	}

	// The database flags still win: the empty data dir has no carol.
	r = h.ok("", "users", "list", "--json")
	if strings.Contains(r.Out, "carol") {
		t.Errorf("--data-dir listed the server's users:\n%s", r.Out)
	}

	// A key without the admin role is refused by the server.
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "viewer")
	r = h.runCtx(t.Context(), "", "users", "list", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "insufficient_scope") {
		t.Errorf("viewer key: err %v, want insufficient_scope", r.Err)
	}
}

// bothModes runs one admin command on the harness database and over the
// admin API of srv, and fails unless both succeed with the same output
// (after norm, which may blank out ids and times).
func bothModes(t *testing.T, h *harness, srv *servertest.Server, norm func(string) string, stdin string, args ...string) string {
	t.Helper()
	db := h.run(stdin, args...)
	api := h.runCtx(t.Context(), stdin, append(args, "--server", srv.URL)...)
	if db.Err != nil || api.Err != nil {
		t.Fatalf("gatehouse %s: database: %v, API: %v\n%s%s", strings.Join(args, " "), db.Err, api.Err, db.ErrOut, api.ErrOut)
	}
	if norm != nil {
		db.Out, api.Out = norm(db.Out), norm(api.Out)
	}
	if db.Out != api.Out {
		t.Errorf("gatehouse %s: output differs\ndatabase:\n%s\nAPI:\n%s", strings.Join(args, " "), db.Out, api.Out)
	}
	return api.Out
}

// blankUserJSON clears the fields of a userJSON that differ between two
// stores.
func blankUserJSON(t *testing.T) func(string) string {
	return func(s string) string {
		u := decode[userJSON](t, s)
		if u.ID == "" || u.CreatedAt == "" {
			t.Errorf("user JSON without id or created_at: %s", s)
		}
		u.ID, u.CreatedAt, u.UpdatedAt = "", "", ""
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

func TestAdminUsersOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")

	out := bothModes(t, h, srv, blankUserJSON(t), "first password\n", "users", "add", "root", "--role", "admin", "--password-stdin", "--json")
	if !strings.Contains(out, `"admin"`) {
		t.Errorf("users add --json: %s", out)
	}
	bothModes(t, h, srv, nil, "second password\n", "users", "add", "alice", "--role", "editor", "--password-stdin")
	bothModes(t, h, srv, nil, "", "users", "set-role", "alice", "viewer", "editor")
	bothModes(t, h, srv, nil, "a new password\n", "users", "passwd", "alice", "--password-stdin")
	u, err := srv.Store.GetUserByName(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Roles, []string{"editor", "viewer"}) && !slices.Equal(u.Roles, []string{"viewer", "editor"}) {
		t.Errorf("alice's roles on the server: %v", u.Roles)
	}
	bothModes(t, h, srv, nil, "", "users", "delete", "alice")
	if _, err := srv.Store.GetUserByName(t.Context(), "alice"); err == nil {
		t.Error("alice still on the server after users delete")
	}

	// The server's bootstrap admin goes, so root is the last admin there
	// too; then the same errors in both modes.
	if r := h.runCtx(t.Context(), "", "users", "delete", server.AdminUsername, "--server", srv.URL); r.Err != nil {
		t.Fatalf("delete the bootstrap admin: %v", r.Err)
	}
	for _, args := range [][]string{
		{"users", "add", "root", "--password-stdin"},
		{"users", "delete", "root"},
		{"users", "set-role", "root", "viewer"},
		{"users", "delete", "nobody"},
		{"users", "passwd", "nobody", "--password-stdin"},
	} {
		db := h.run("some password\n", args...)
		api := h.runCtx(t.Context(), "some password\n", append(args, "--server", srv.URL)...)
		if db.Err == nil || api.Err == nil {
			t.Errorf("gatehouse %s: database error %v, API error %v", strings.Join(args, " "), db.Err, api.Err)
			continue
		}
		if db.Err.Error() != api.Err.Error() || db.Code != api.Code {
			t.Errorf("gatehouse %s: errors differ\ndatabase: %v (exit %d)\nAPI:      %v (exit %d)", strings.Join(args, " "), db.Err, db.Code, api.Err, api.Code)
		}
	}
	r := h.runCtx(t.Context(), "", "users", "delete", "root", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "last admin") {
		t.Errorf("deleting the last admin over the API: %v", r.Err)
	}
}

func TestAdminAPIErrors(t *testing.T) {
	srv := servertest.Start(t)
	srv.AddUser(t, "carol", "correct horse battery", "editor")
	h := newHarness(t)

	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "viewer")
	r := h.runCtx(t.Context(), "", "users", "set-role", "carol", "admin", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "your login is not an admin") || r.Code != command.ExitError {
		t.Errorf("viewer key: err %v (exit %d), want 'your login is not an admin'", r.Err, r.Code)
	}

	h.env["GATEHOUSE_API_KEY"] = "gh_" + strings.Repeat("x", 40)
	r = h.runCtx(t.Context(), "", "users", "delete", "carol", "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "gatehouse login") || r.Code != command.ExitNotLoggedIn {
		t.Errorf("bad key: err %v (exit %d), want 'gatehouse login', exit %d", r.Err, r.Code, command.ExitNotLoggedIn)
	}
	if _, err := srv.Store.GetUserByName(t.Context(), "carol"); err != nil {
		t.Errorf("carol after refused calls: %v", err)
	}
}

// blankVarying replaces times and secrets, which differ between two
// stores, with fixed text.
func blankVarying(s string) string {
	s = regexp.MustCompile(`\d{4}-\d\d-\d\dT[0-9:.]+(Z|[+-]\d\d:\d\d)`).ReplaceAllString(s, "TIME")
	s = regexp.MustCompile(`("client_secret": *"|New secret for client "[^"]*": |Client secret: )[^"\s]+`).ReplaceAllString(s, "${1}SECRET")
	return s
}

func TestAdminClientsOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")
	st := h.store()
	for _, c := range []storage.Client{
		{ID: "svc", Name: "Service", AuthMethod: "client_secret_basic", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}, Roles: []string{"viewer"}},
		{ID: "spa", Name: "SPA", Public: true, AuthMethod: "none", GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{"http://127.0.0.1/cb"}},
	} {
		srv.AddClient(t, c)
		if c.Public {
			c.SecretHash = ""
		} else {
			c.SecretHash = secret.Hash(secret.NewToken())
		}
		c.CreatedAt, c.UpdatedAt = srv.Clock.Now(), srv.Clock.Now()
		if err := st.CreateClient(t.Context(), &c); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Store.UpdateClient(t.Context(), "spa", func(c *storage.Client) error { c.SecretHash = ""; return nil }); err != nil {
		t.Fatal(err)
	}

	out := bothModes(t, h, srv, blankVarying, "", "clients", "show", "svc")
	if !strings.Contains(out, "Service") {
		t.Errorf("clients show:\n%s", out)
	}
	bothModes(t, h, srv, blankVarying, "", "clients", "show", "spa", "--json")
	out = bothModes(t, h, srv, blankVarying, "", "clients", "update", "spa", "--require-par", "--json")
	if !strings.Contains(out, `"require_pushed_authorization_requests": true`) {
		t.Errorf("clients update --require-par --json: %s", out)
	}
	if c, err := srv.Store.GetClient(t.Context(), "spa"); err != nil || !c.RequirePAR {
		t.Errorf("spa on the server after update --require-par: %+v, %v", c, err)
	}
	out = bothModes(t, h, srv, blankVarying, "", "clients", "update", "spa", "--require-par=false")
	if !strings.Contains(out, "sent in full or pushed") {
		t.Errorf("clients update --require-par=false: %s", out)
	}
	bothModes(t, h, srv, blankVarying, "", "clients", "create", "portal", "--grant", "authorization_code",
		"--redirect-uri", "https://portal.example/cb", "--require-par")
	if c, err := srv.Store.GetClient(t.Context(), "portal"); err != nil || !c.RequirePAR {
		t.Errorf("portal on the server after create --require-par: %+v, %v", c, err)
	}
	out = bothModes(t, h, srv, blankVarying, "", "clients", "rotate-secret", "svc", "--json")
	if !strings.Contains(out, "SECRET") {
		t.Errorf("rotate-secret --json: %s", out)
	}
	bothModes(t, h, srv, blankVarying, "", "clients", "rotate-secret", "svc")
	bothModes(t, h, srv, nil, "", "clients", "delete", "svc")
	if _, err := srv.Store.GetClient(t.Context(), "svc"); err == nil {
		t.Error("svc still on the server after clients delete")
	}
	out = bothModes(t, h, srv, blankVarying, "", "clients", "create", "CI Job", "--grant", "client_credentials", "--scope", "read", "--role", "viewer", "--json")
	if !strings.Contains(out, `"client_id": "ci-job"`) {
		t.Errorf("clients create --json: %s", out)
	}
	bothModes(t, h, srv, blankVarying, "", "clients", "create", "web", "--grant", "authorization_code,refresh_token",
		"--redirect-uri", "https://web.example/cb", "--auth-method", "client_secret_post", "--first-party")
	bothModes(t, h, srv, blankVarying, "", "clients", "create", "tool", "--public", "--grant", "device_code")
	bothModes(t, h, srv, blankVarying, "", "clients", "show", "web", "--json")
	if c, err := srv.Store.GetClient(t.Context(), "ci-job"); err != nil || !slices.Equal(c.Roles, []string{"viewer"}) {
		t.Errorf("ci-job on the server: %+v, %v", c, err)
	}
	// A good key set, so that the refusal is the admin API's.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	keysFile := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(keysFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.runCtx(t.Context(), "", "clients", "create", "signer", "--grant", "client_credentials", "--auth-method", "private_key_jwt",
		"--jwks-file", keysFile, "--server", srv.URL)
	if r.Err == nil || !strings.Contains(r.Err.Error(), "--db") {
		t.Errorf("private_key_jwt over the API: %v, want a message pointing at --db", r.Err)
	}
	for _, args := range [][]string{
		{"clients", "create", "ci-job", "--grant", "client_credentials"},
		{"clients", "show", "svc"},
		{"clients", "delete", "svc"},
		{"clients", "rotate-secret", "spa"},
	} {
		db := h.run("", args...)
		api := h.runCtx(t.Context(), "", append(args, "--server", srv.URL)...)
		if db.Err == nil || api.Err == nil || db.Err.Error() != api.Err.Error() || db.Code != api.Code {
			t.Errorf("gatehouse %s: errors differ\ndatabase: %v (exit %d)\nAPI:      %v (exit %d)", strings.Join(args, " "), db.Err, db.Code, api.Err, api.Code)
		}
	}
}

var (
	apiKeyPattern   = regexp.MustCompile(`gatehouse_[a-z0-9]{16}_[A-Za-z0-9_-]+`)
	apiKeyIDPattern = regexp.MustCompile(`\b[a-z0-9]{16}\b`)
	lastUsedPattern = regexp.MustCompile(`(?m)^\s*"last_used_at": .*\n`)
)

func TestAdminAPIKeysOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")
	// The database gets a twin of the key the API calls use, so that both
	// lists hold the same keys.
	id, _ := apikey.Generate()
	if err := h.store().CreateAPIKey(t.Context(), &storage.APIKey{ID: id, Name: "cli test", SecretHash: secret.Hash("x"),
		Roles: []string{"admin"}, CreatedAt: srv.Clock.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	norm := func(s string) string {
		s = apiKeyPattern.ReplaceAllString(s, "KEY")
		s = apiKeyIDPattern.ReplaceAllString(s, "ID")
		s = lastUsedPattern.ReplaceAllString(s, "")
		return blankVarying(s)
	}
	var dbID, apiID string
	// run runs args in both modes, with "ID" replaced by the id of the key
	// created first in each, and compares output, error and exit code.
	run := func(args ...string) string {
		t.Helper()
		sub := func(id string) []string {
			out := slices.Clone(args)
			for i, a := range out {
				if a == "ID" {
					out[i] = id
				}
			}
			return out
		}
		db := h.run("", sub(dbID)...)
		api := h.runCtx(t.Context(), "", append(sub(apiID), "--server", srv.URL)...)
		if (db.Err == nil) != (api.Err == nil) || db.Code != api.Code {
			t.Fatalf("gatehouse %s: database: %v (exit %d), API: %v (exit %d)", strings.Join(args, " "), db.Err, db.Code, api.Err, api.Code)
		}
		if db.Err != nil && norm(db.Err.Error()) != norm(api.Err.Error()) {
			t.Errorf("gatehouse %s: errors differ\ndatabase: %v\nAPI:      %v", strings.Join(args, " "), db.Err, api.Err)
		}
		if norm(db.Out) != norm(api.Out) {
			t.Errorf("gatehouse %s: output differs\ndatabase:\n%s\nAPI:\n%s", strings.Join(args, " "), db.Out, api.Out)
		}
		if dbID == "" && db.Err == nil {
			dbID = decode[apiKeySecretJSON](t, db.Out).ID
			apiID = decode[apiKeySecretJSON](t, api.Out).ID
		}
		return norm(api.Out)
	}
	// Each key is newer than the last on the server's fake clock too, so
	// both lists have the same order.
	srv.Clock.Advance(time.Second)
	run("apikeys", "create", "ci", "--role", "viewer", "--scope", "read", "--json")
	srv.Clock.Advance(time.Second)
	if _, err := srv.Store.GetAPIKey(t.Context(), apiID); err != nil {
		t.Fatalf("the key created over the API is not on the server: %v", err)
	}
	run("apikeys", "create", "deploy", "--role", "editor")
	out := run("apikeys", "list", "--json")
	if !strings.Contains(out, `"deploy"`) || !strings.Contains(out, `"cli test"`) {
		t.Errorf("apikeys list --json:\n%s", out)
	}
	run("apikeys", "rotate", "ID")
	run("apikeys", "rotate", "ID", "--json")
	run("apikeys", "revoke", "ID")
	run("apikeys", "revoke", "ID")
	run("apikeys", "rotate", "ID")
	run("apikeys", "revoke", "zzzzzzzzzzzzzzzz")
	if k, err := srv.Store.GetAPIKey(t.Context(), apiID); err != nil || k.RevokedAt.IsZero() {
		t.Errorf("key on the server after revoke: %+v, %v", k, err)
	}
}

// kidPattern matches signing key ids in the output of keys commands.
var kidPattern = regexp.MustCompile(`("kid": "|signing key )[^"\s]+`)

func TestAdminKeysOverAPI(t *testing.T) {
	srv := servertest.Start(t)
	h := newHarness(t)
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")
	// Both modes run on the server's fake clock, so key states agree.
	h.prepare = func(s *command.IOStreams) { s.Clock = srv.Clock }
	norm := func(s string) string { return blankVarying(kidPattern.ReplaceAllString(s, "${1}KID")) }
	out := bothModes(t, h, srv, norm, "", "keys", "list", "--json")
	if !strings.Contains(out, `"state": "active"`) {
		t.Errorf("keys list --json:\n%s", out)
	}
	// Each new key is younger than the last, so both lists sort alike.
	srv.Clock.Advance(time.Second)
	out = bothModes(t, h, srv, norm, "", "keys", "rotate", "--activate-in", "1h")
	if !strings.Contains(out, "(in 1h0m0s)") {
		t.Errorf("keys rotate:\n%s", out)
	}
	srv.Clock.Advance(time.Second)
	bothModes(t, h, srv, norm, "", "keys", "rotate", "--activate-in", "2h", "--json")
	bothModes(t, h, srv, norm, "", "keys", "list", "--json")
	if n := len(srv.Keys.Keys()); n != 3 {
		t.Errorf("the server has %d signing keys after two rotations, want 3", n)
	}
}

func TestAdminAuditOverAPI(t *testing.T) {
	// The server and the database mode share one SQLite file, so both see
	// the same trail.
	h := newHarness(t)
	st, err := sqlite.Open(t.Context(), filepath.Join(h.dataDir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv := servertest.Start(t, servertest.WithStore(st))
	h.env["GATEHOUSE_API_KEY"] = addServerAPIKey(t, srv, "admin")
	// The database mode writes audit events to the shared trail.
	h.ok("long enough password\n", "users", "add", "dave", "--password-stdin")
	h.ok("", "users", "set-role", "dave", "editor")
	out := bothModes(t, h, srv, nil, "", "audit", "verify")
	if !strings.Contains(out, "audit trail intact") || !strings.Contains(out, "last event: seq") {
		t.Errorf("audit verify:\n%s", out)
	}
	bothModes(t, h, srv, nil, "", "audit", "verify", "--json")
	out = bothModes(t, h, srv, nil, "", "audit", "list")
	if !strings.Contains(out, "user.created") || !strings.Contains(out, "dave") {
		t.Errorf("audit list:\n%s", out)
	}
	bothModes(t, h, srv, nil, "", "audit", "list", "--json", "--limit", "0")
	bothModes(t, h, srv, nil, "", "audit", "list", "--json", "--limit", "1")
	bothModes(t, h, srv, nil, "", "audit", "list", "--type", "user.updated", "--user", "dave", "--since", "2000-01-01")
	bothModes(t, h, srv, nil, "", "audit", "list", "--user", "gone-user-id")
}
