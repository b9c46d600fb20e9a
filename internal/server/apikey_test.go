package server

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// addAPIKey stores a new API key as `gatehouse apikeys create` does and
// returns the key.
func (h *testHarness) addAPIKey(k storage.APIKey) (id, key string) {
	h.t.Helper()
	id, key = apikey.Generate()
	_, sec, ok := apikey.Parse(key)
	if !ok {
		h.t.Fatalf("Generate made a key Parse refuses: %q", key)
	}
	k.ID, k.SecretHash = id, secret.Hash(sec)
	if k.Name == "" {
		k.Name = "test key"
	}
	k.CreatedAt = h.clock.Now().UTC()
	if err := h.store.CreateAPIKey(context.Background(), &k); err != nil {
		h.t.Fatal(err)
	}
	return id, key
}

// updateAPIKey changes a key on the database, as the CLI (another
// process) would.
func (h *testHarness) updateAPIKey(id string, fn func(*storage.APIKey)) {
	h.t.Helper()
	err := h.store.UpdateAPIKey(context.Background(), id, func(k *storage.APIKey) error { fn(k); return nil })
	if err != nil {
		h.t.Fatal(err)
	}
}

// wantAPIKeyActive fails unless both userinfo and introspection accept key.
func (f *userFixture) wantAPIKeyActive(what, key string) map[string]any {
	f.t.Helper()
	if st, body, _ := userinfo(f.t, f.testHarness, key); st != 200 {
		f.t.Errorf("%s: userinfo = %d %v, want 200", what, st, body)
	}
	in := f.introspect(key)
	if in["active"] != true {
		f.t.Errorf("%s: introspection = %v, want active", what, in)
	}
	return in
}

// wantAPIKeyRejected fails unless userinfo answers 401 invalid_token and
// introspection exactly {"active":false}.
func (f *userFixture) wantAPIKeyRejected(what, key string) {
	f.t.Helper()
	st, body, hdr := userinfo(f.t, f.testHarness, key)
	if st != 401 || errCode(body) != "invalid_token" || !strings.Contains(hdr.Get("WWW-Authenticate"), `error="invalid_token"`) {
		f.t.Errorf("%s: userinfo = %d %v (WWW-Authenticate %q), want 401 invalid_token", what, st, body, hdr.Get("WWW-Authenticate"))
	}
	if in := f.introspect(key); len(in) != 1 || in["active"] != false {
		f.t.Errorf("%s: introspection = %v, want exactly {\"active\":false}", what, in)
	}
}

func TestAPIKeyIntrospectionAndUserinfo(t *testing.T) {
	f := newUserFixture(t) // alice is an editor
	exp := f.clock.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	svcID, svc := f.addAPIKey(storage.APIKey{Name: "deploy", Scopes: []string{"read", "write"}, Roles: []string{"viewer"}, ExpiresAt: exp})
	userID, user := f.addAPIKey(storage.APIKey{Name: "alice's", UserID: f.user.ID, Scopes: []string{"read"}})

	in := f.introspect(svc)
	want := map[string]any{
		"active": true, "sub": "apikey:" + svcID, "scope": "read write", "roles": []any{"viewer"},
		"token_type": "api_key", "exp": float64(exp.Unix()), "iat": float64(f.clock.Now().Unix()), "iss": f.issuer,
	}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("introspection of a service key (-want +got):\n%s", d)
	}
	st, body, _ := userinfo(t, f.testHarness, svc)
	if d := cmp.Diff(map[string]any{"sub": "apikey:" + svcID, "roles": []any{"viewer"}}, body); st != 200 || d != "" {
		t.Errorf("userinfo of a service key: %d (-want +got):\n%s", st, d)
	}

	in = f.introspect(user)
	want = map[string]any{
		"active": true, "sub": f.user.ID, "username": "alice", "scope": "read", "roles": []any{"editor"},
		"token_type": "api_key", "iat": float64(f.clock.Now().Unix()), "iss": f.issuer,
	}
	if d := cmp.Diff(want, in); d != "" {
		t.Errorf("introspection of a key acting as alice (-want +got):\n%s", d)
	}
	if _, ok := in["client_id"]; ok {
		t.Error("introspection of an API key names a client")
	}
	st, body, _ = userinfo(t, f.testHarness, user)
	if d := cmp.Diff(map[string]any{"sub": f.user.ID, "preferred_username": "alice", "roles": []any{"editor"}}, body); st != 200 || d != "" {
		t.Errorf("userinfo of alice's key: %d (-want +got):\n%s", st, d)
	}
	if userID == svcID {
		t.Fatal("two keys got the same id")
	}
}

// TestAPIKeyRevocation is SECURITY-CASES 33: a key revoked on the database
// (by `gatehouse apikeys revoke`, another process) is refused by a running
// server within oauth.APIKeyCacheTTL; one revoked through the server at once.
func TestAPIKeyRevocation(t *testing.T) {
	f := newUserFixture(t)
	id, key := f.addAPIKey(storage.APIKey{Roles: []string{"viewer"}})
	f.wantAPIKeyActive("new key", key)

	f.updateAPIKey(id, func(k *storage.APIKey) { k.RevokedAt = f.clock.Now() })
	// Within the documented delay the cached key may still work; after it,
	// it must not.
	f.clock.Advance(oauth.APIKeyCacheTTL - time.Second)
	f.wantAPIKeyActive("revoked on the database, within the cache TTL", key)
	f.clock.Advance(time.Second)
	f.wantAPIKeyRejected("revoked on the database, after the cache TTL", key)
	f.clock.Advance(time.Hour)
	f.wantAPIKeyRejected("revoked, an hour later", key)

	id2, key2 := f.addAPIKey(storage.APIKey{Roles: []string{"viewer"}})
	f.wantAPIKeyActive("second key", key2)
	if _, err := f.srv.RevokeAPIKey(t.Context(), id2, "user:admin"); err != nil {
		t.Fatal(err)
	}
	f.wantAPIKeyRejected("revoked through the server, same instant", key2)
	ev := f.waitAudit("apikey.revoked")
	if ev["details"].(map[string]any)["apikey_id"] != id2 || ev["actor"] != "user:admin" {
		t.Errorf("audit event = %v", ev)
	}
	k, err := f.store.GetAPIKey(t.Context(), id2)
	if err != nil || k.RevokedAt.IsZero() {
		t.Errorf("stored key after RevokeAPIKey: %+v, %v", k, err)
	}
	if _, err := f.srv.RevokeAPIKey(t.Context(), id2, "cli"); err != nil {
		t.Errorf("revoking a revoked key: %v", err)
	}
	if _, err := f.srv.RevokeAPIKey(t.Context(), "nosuchkey0000000", "cli"); err == nil {
		t.Error("revoking an unknown key succeeded")
	}
}

func TestAPIKeyExpiry(t *testing.T) {
	f := newUserFixture(t)
	_, key := f.addAPIKey(storage.APIKey{ExpiresAt: f.clock.Now().Add(2 * time.Second)})
	f.wantAPIKeyActive("before expiry", key)
	// The expiry is checked on every request, also while the key is cached.
	f.clock.Advance(2 * time.Second)
	f.wantAPIKeyRejected("at expiry, still cached", key)
	f.clock.Advance(oauth.APIKeyCacheTTL)
	f.wantAPIKeyRejected("after expiry", key)
}

// TestAPIKeyFollowsUser checks that a key acting as a user gets the user's
// current roles (limited by the key's own), and stops when the user is
// disabled or deleted.
func TestAPIKeyFollowsUser(t *testing.T) {
	f := newUserFixture(t)
	bob := f.addUser("bob", "bob's password 1", "admin", "viewer")
	_, all := f.addAPIKey(storage.APIKey{UserID: bob.ID})
	_, limited := f.addAPIKey(storage.APIKey{UserID: bob.ID, Roles: []string{"admin"}})
	roles := func(key string) []any {
		t.Helper()
		in := f.introspect(key)
		if in["active"] != true {
			t.Fatalf("introspection = %v, want active", in)
		}
		r, _ := in["roles"].([]any)
		return r
	}
	if r := roles(all); !slices.Equal(r, []any{"admin", "viewer"}) {
		t.Errorf("key without roles of an admin+viewer: roles %v, want the user's", r)
	}
	if r := roles(limited); !slices.Equal(r, []any{"admin"}) {
		t.Errorf("key limited to admin: roles %v, want [admin]", r)
	}

	// Demote bob on the database, as `gatehouse users set-role` does.
	err := f.store.UpdateUser(t.Context(), bob.ID, func(u *storage.User) error { u.Roles = []string{"viewer"}; return nil })
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(oauth.APIKeyCacheTTL)
	if r := roles(all); !slices.Equal(r, []any{"viewer"}) {
		t.Errorf("after demotion: roles %v, want [viewer]", r)
	}
	if r := roles(limited); len(r) != 0 {
		t.Errorf("key limited to admin after bob lost admin: roles %v, want none", r)
	}
	st, body, _ := userinfo(t, f.testHarness, limited)
	if _, ok := body["roles"]; st != 200 || ok {
		t.Errorf("userinfo after demotion: %d %v, want no roles", st, body)
	}

	err = f.store.UpdateUser(t.Context(), bob.ID, func(u *storage.User) error { u.Disabled = true; return nil })
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(oauth.APIKeyCacheTTL)
	f.wantAPIKeyRejected("key of a disabled user", all)
	err = f.store.UpdateUser(t.Context(), bob.ID, func(u *storage.User) error { u.Disabled = false; return nil })
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(oauth.APIKeyCacheTTL)
	f.wantAPIKeyActive("key of a re-enabled user", all)

	if err := f.store.DeleteUser(t.Context(), bob.ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(oauth.APIKeyCacheTTL)
	f.wantAPIKeyRejected("key of a deleted user", all)
	f.wantAPIKeyRejected("limited key of a deleted user", limited)
}

// TestAPIKeyOfMissingUser covers a key whose user row is gone while the key
// row stays (deleted by an older server, or restored from a backup).
func TestAPIKeyOfMissingUser(t *testing.T) {
	f := newUserFixture(t)
	_, key := f.addAPIKey(storage.APIKey{UserID: "u-nobody"})
	f.wantAPIKeyRejected("key acting as a user that does not exist", key)
}

func TestAPIKeyMalformedAndWrongSecret(t *testing.T) {
	f := newUserFixture(t)
	id, key := f.addAPIKey(storage.APIKey{Roles: []string{"viewer"}})
	_, sec, _ := apikey.Parse(key)
	otherID, _ := apikey.Generate()
	wrongSecret := apikey.ForID(id)
	f.wantAPIKeyActive("the real key", key) // now cached
	for name, bad := range map[string]string{
		"wrong secret for a real id": wrongSecret,
		"the secret of another id":   apikey.Prefix + otherID + "_" + sec,
		"prefix only":                apikey.Prefix,
		"truncated":                  key[:len(key)-1],
		"extended":                   key + "A",
		"upper-case id":              apikey.Prefix + strings.ToUpper(id) + "_" + sec,
		"no separator":               apikey.Prefix + id + sec,
		"secret alone":               sec,
		"id and secret, no prefix":   id + "_" + sec,
		"other prefix":               "gatehouze_" + id + "_" + sec,
		"secret with a dot":          apikey.Prefix + id + "_" + sec[:42] + ".",
		"hash instead of secret":     apikey.Prefix + id + "_" + secret.Hash(sec)[:43],
	} {
		f.wantAPIKeyRejected(name, bad)
	}
	f.wantAPIKeyActive("the real key after the bad ones", key)
}

func TestAPIKeyRotatedSecret(t *testing.T) {
	f := newUserFixture(t)
	id, old := f.addAPIKey(storage.APIKey{})
	f.wantAPIKeyActive("before rotation", old)
	fresh := apikey.ForID(id)
	_, sec, _ := apikey.Parse(fresh)
	f.updateAPIKey(id, func(k *storage.APIKey) { k.SecretHash = secret.Hash(sec) })
	f.clock.Advance(oauth.APIKeyCacheTTL)
	f.wantAPIKeyRejected("old secret after rotation", old)
	f.wantAPIKeyActive("new secret after rotation", fresh)
}

// TestAPIKeyLastUsed checks that uses are written off the request path, at
// most once a minute per key.
func TestAPIKeyLastUsed(t *testing.T) {
	f := newUserFixture(t)
	id, key := f.addAPIKey(storage.APIKey{})
	lastUsed := func() time.Time {
		t.Helper()
		k, err := f.store.GetAPIKey(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return k.LastUsedAt
	}
	f.introspect(key)
	if !lastUsed().IsZero() {
		t.Fatal("last use written on the request path")
	}
	first := f.clock.Now()
	f.srv.oauth.FlushAPIKeyUse(t.Context())
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("LastUsedAt = %v, want %v", got, first)
	}

	f.clock.Advance(30 * time.Second)
	f.introspect(key)
	f.srv.oauth.FlushAPIKeyUse(t.Context())
	if got := lastUsed(); !got.Equal(first) {
		t.Errorf("LastUsedAt = %v 30 s later, want it unchanged at %v (at most once a minute)", got, first)
	}

	f.clock.Advance(31 * time.Second)
	f.introspect(key)
	f.srv.oauth.FlushAPIKeyUse(t.Context())
	if got := lastUsed(); !got.Equal(f.clock.Now()) {
		t.Errorf("LastUsedAt = %v a minute later, want %v", got, f.clock.Now())
	}

	// A rejected key is not a use.
	f.clock.Advance(2 * time.Minute)
	f.introspect(apikey.ForID(id))
	f.srv.oauth.FlushAPIKeyUse(t.Context())
	if got := lastUsed(); got.Equal(f.clock.Now()) {
		t.Error("a wrong secret counted as a use")
	}
}

// TestAPIKeyUseRecordedInBackground runs the background writer with the
// fake clock.
func TestAPIKeyUseRecordedInBackground(t *testing.T) {
	f := newUserFixture(t)
	id, key := f.addAPIKey(storage.APIKey{})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { f.srv.oauth.RecordAPIKeyUse(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	f.introspect(key)
	used := f.clock.Now()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Advance until the ticker has been created and has fired.
		f.clock.Advance(oauth.APIKeyUseFlushInterval)
		k, err := f.store.GetAPIKey(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if k.LastUsedAt.Equal(used) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("LastUsedAt = %v, want %v written by the background writer", k.LastUsedAt, used)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAPIKeyIntrospectionNeedsClientAuth is SECURITY-CASES 24 for keys.
func TestAPIKeyIntrospectionNeedsClientAuth(t *testing.T) {
	f := newUserFixture(t)
	_, key := f.addAPIKey(storage.APIKey{})
	st, body, _ := f.postForm(PathIntrospect, url.Values{"token": {key}}, "", "")
	if st != 401 || errCode(body) != "invalid_client" {
		t.Errorf("introspection without client authentication: %d %v, want 401 invalid_client", st, body)
	}
}
