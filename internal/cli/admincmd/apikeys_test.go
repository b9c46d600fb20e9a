package admincmd

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// createKey runs `apikeys create ARGS... --json` and returns the id and key.
func (h *harness) createKey(args ...string) (id, key string, r result) {
	h.t.Helper()
	r = h.ok("", append(append([]string{"apikeys", "create"}, args...), "--json")...)
	got := decode[map[string]string](h.t, r.Out)
	if len(got) != 2 {
		h.t.Errorf("apikeys create --json printed %v, want exactly id and key", got)
	}
	id, key = got["id"], got["key"]
	if pid, _, ok := apikey.Parse(key); !ok || pid != id {
		h.t.Fatalf("apikeys create --json printed id %q and key %q, which does not parse to that id", id, key)
	}
	return id, key, r
}

func (h *harness) apiKey(id string) *storage.APIKey {
	h.t.Helper()
	k, err := h.store().GetAPIKey(h.t.Context(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return k
}

// TestAPIKeysShownOnceStoredAsHash is SECURITY-CASES 33: the key is printed
// by create only, and nothing on disk — no database column, no byte of the
// database files — holds the key or its secret.
func TestAPIKeysShownOnceStoredAsHash(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id, key, r := h.createKey("deploy", "--scope", "read", "--scope", "write", "--role", "viewer")
	_, sec, _ := apikey.Parse(key)

	k := h.apiKey(id)
	if k.SecretHash != secret.Hash(sec) {
		t.Errorf("stored hash %q is not secret.Hash of the key's secret", k.SecretHash)
	}
	want := &storage.APIKey{ID: id, Name: "deploy", SecretHash: secret.Hash(sec), Scopes: []string{"read", "write"},
		Roles: []string{"viewer"}, CreatedAt: k.CreatedAt}
	if d := cmp.Diff(want, k); d != "" || k.CreatedAt.IsZero() {
		t.Errorf("stored key (-want +got):\n%s", d)
	}

	// Every file of the data directory (database, WAL, secret key file).
	err := filepath.WalkDir(h.dataDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(sec)) || bytes.Contains(b, []byte(key)) {
			t.Errorf("%s contains the API key's secret", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(r.ErrOut, `"type":"apikey.created"`) || !strings.Contains(r.ErrOut, id) {
		t.Errorf("no apikey.created audit event naming the id on stderr:\n%s", r.ErrOut)
	}
	if strings.Contains(r.ErrOut, sec) || strings.Contains(r.ErrOut, k.SecretHash) {
		t.Error("the audit event carries the secret or its hash")
	}
	for _, args := range [][]string{{"apikeys", "list"}, {"apikeys", "list", "--json"}} {
		r := h.ok("", args...)
		if !strings.Contains(r.Out, id) {
			t.Errorf("%v does not show the key:\n%s", args, r.Out)
		}
		if strings.Contains(r.Out+r.ErrOut, sec) || strings.Contains(r.Out+r.ErrOut, k.SecretHash) {
			t.Errorf("%v prints the secret or its hash:\n%s", args, r.Out)
		}
	}
}

func TestAPIKeysCreateHumanOutput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("", "apikeys", "create", "ci bot", "--role", "editor,viewer", "--expires", "30d")
	var key string
	for line := range strings.Lines(r.Out) {
		if f := strings.TrimSpace(line); strings.HasPrefix(f, apikey.Prefix) {
			key = f
		}
	}
	id, sec, ok := apikey.Parse(key)
	if !ok || !strings.Contains(r.Out, "shown only this once") || !strings.Contains(r.Out, "apikeys revoke "+id) {
		t.Fatalf("human output has no key on its own line or no advice:\n%s", r.Out)
	}
	k := h.apiKey(id)
	if k.SecretHash != secret.Hash(sec) || k.Name != "ci bot" || !slices.Equal(k.Roles, []string{"editor", "viewer"}) {
		t.Errorf("stored %+v", k)
	}
	if d := k.ExpiresAt.Sub(k.CreatedAt); d != 30*24*time.Hour {
		t.Errorf("expires %v after creation, want 30 days", d)
	}
}

func TestAPIKeysCreateValidation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("long enough\n", "users", "add", "alice", "--password-stdin")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"x", "--role", "owner"}, command.ExitUsage, "unknown role"},
		{[]string{"x", "--expires", "soon"}, command.ExitUsage, "invalid --expires"},
		{[]string{"x", "--expires", "1.5d"}, command.ExitUsage, "invalid --expires"},
		{[]string{"x", "--expires", "0d"}, command.ExitUsage, "invalid --expires"},
		{[]string{"x", "--expires", "0s"}, command.ExitUsage, "positive"},
		{[]string{"x", "--expires", "-1h"}, command.ExitUsage, "positive"},
		{[]string{"x", "--expires", "90"}, command.ExitUsage, "invalid --expires"},
		{[]string{"x", "--scope", "read,write"}, command.ExitUsage, "comma"},
		{[]string{" ", "--role", "viewer"}, command.ExitUsage, "name must not be empty"},
		{[]string{"x", "--user", "nobody"}, command.ExitError, "not found"},
		{[]string{"x", "--user", ""}, command.ExitUsage, ""},
		{[]string{}, command.ExitUsage, ""},
	} {
		args := append([]string{"apikeys", "create"}, tc.args...)
		r := h.run("", args...)
		if r.Code != tc.code || r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("gatehouse %s: exit %d, error %v; want exit %d mentioning %q", strings.Join(args, " "), r.Code, r.Err, tc.code, tc.want)
		}
		if strings.Contains(r.Out, apikey.Prefix) {
			t.Errorf("gatehouse %s printed a key although it failed", strings.Join(args, " "))
		}
	}
	keys, err := h.store().ListAPIKeys(t.Context())
	if err != nil || len(keys) != 0 {
		t.Errorf("failed creates stored %d keys (%v)", len(keys), err)
	}
}

func TestAPIKeysForUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	h.prepare = func(s *command.IOStreams) { s.Clock = clk }
	h.ok("long enough\n", "users", "add", "Alice", "--role", "viewer", "--password-stdin")
	id, _, r := h.createKey("laptop", "--user", "ALICE", "--role", "editor", "--expires", "1h")
	if !strings.Contains(r.ErrOut, "does not have the role editor") {
		t.Errorf("no note that alice lacks the editor role:\n%s", r.ErrOut)
	}
	alice, err := h.store().GetUserByName(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	k := h.apiKey(id)
	if k.UserID != alice.ID || !k.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("stored key %+v; want user %s, expiry in 1 h", k, alice.ID)
	}

	list := func() apiKeyJSON {
		t.Helper()
		views := decode[[]apiKeyJSON](t, h.ok("", "apikeys", "list", "--json").Out)
		if len(views) != 1 {
			t.Fatalf("list --json = %+v, want one key", views)
		}
		return views[0]
	}
	want := apiKeyJSON{ID: id, Name: "laptop", UserID: alice.ID, User: "alice", Roles: []string{"editor"}, Scopes: []string{},
		State: "active", CreatedAt: "2030-01-02T03:04:05Z", ExpiresAt: "2030-01-02T04:04:05Z"}
	if d := cmp.Diff(want, list()); d != "" {
		t.Errorf("list --json (-want +got):\n%s", d)
	}
	table := h.ok("", "apikeys", "list").Out
	for _, s := range []string{"LAST USED", id, "laptop", "alice", "editor", "active", "2030-01-02T04:04:05Z"} {
		if !strings.Contains(table, s) {
			t.Errorf("list does not show %q:\n%s", s, table)
		}
	}

	clk.Advance(time.Hour)
	if got := list().State; got != "expired" {
		t.Errorf("state an hour later = %q, want expired", got)
	}
	h.fail(command.ExitError, "expired", "", "apikeys", "rotate", id)

	// Deleting the user deletes the keys acting as it.
	h.ok("", "users", "delete", "alice")
	if views := decode[[]apiKeyJSON](t, h.ok("", "apikeys", "list", "--json").Out); len(views) != 0 {
		t.Errorf("keys of a deleted user still listed: %+v", views)
	}
}

func TestAPIKeysRevoke(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id, key, _ := h.createKey("one", "--role", "viewer")
	r := h.ok("", "apikeys", "revoke", id)
	if !strings.Contains(r.Out, "Revoked API key "+id) || !strings.Contains(r.Out, "5 seconds") {
		t.Errorf("revoke printed:\n%s", r.Out)
	}
	if !strings.Contains(r.ErrOut, `"type":"apikey.revoked"`) || !strings.Contains(r.ErrOut, id) {
		t.Errorf("no apikey.revoked audit event:\n%s", r.ErrOut)
	}
	revokedAt := h.apiKey(id).RevokedAt
	if revokedAt.IsZero() {
		t.Fatal("the key is not revoked in the database")
	}
	r = h.ok("", "apikeys", "revoke", id)
	if !strings.Contains(r.Out, "already revoked") || strings.Contains(r.ErrOut, "apikey.revoked") {
		t.Errorf("revoking twice: %q, audit %q; want a note and no second event", r.Out, r.ErrOut)
	}
	if !h.apiKey(id).RevokedAt.Equal(revokedAt) {
		t.Error("revoking twice changed the revocation time")
	}
	views := decode[[]apiKeyJSON](t, h.ok("", "apikeys", "list", "--json").Out)
	if len(views) != 1 || views[0].State != "revoked" || views[0].RevokedAt == "" {
		t.Errorf("list after revoke = %+v", views)
	}
	h.fail(command.ExitError, "revoked", "", "apikeys", "rotate", id)

	// The whole key works as the argument, e.g. for a leaked key.
	id2, key2, _ := h.createKey("two")
	h.ok("", "apikeys", "revoke", key2)
	if h.apiKey(id2).RevokedAt.IsZero() {
		t.Error("revoke with the whole key did not revoke it")
	}

	h.fail(command.ExitError, "not found", "", "apikeys", "revoke", "nosuchkey0000000")
	h.fail(command.ExitUsage, "not an API key id", "", "apikeys", "revoke", "not-an-id")
	h.fail(command.ExitUsage, "not an API key id", "", "apikeys", "revoke", key[:len(key)-1])
	h.fail(command.ExitUsage, "", "", "apikeys", "revoke")
}

// TestAPIKeysRotate checks the chosen rotation: same id, new secret, old
// secret no longer matches.
func TestAPIKeysRotate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id, old, _ := h.createKey("svc", "--role", "admin", "--scope", "deploy")
	before := h.apiKey(id)
	r := h.ok("", "apikeys", "rotate", id, "--json")
	got := decode[map[string]string](t, r.Out)
	fresh := got["key"]
	newID, sec, ok := apikey.Parse(fresh)
	if !ok || newID != id || got["id"] != id || fresh == old {
		t.Fatalf("rotate --json = %v; want the same id %s and a new key", got, id)
	}
	after := h.apiKey(id)
	_, oldSec, _ := apikey.Parse(old)
	if after.SecretHash != secret.Hash(sec) || after.SecretHash == secret.Hash(oldSec) {
		t.Error("the stored hash is not the new secret's")
	}
	before.SecretHash = after.SecretHash
	if d := cmp.Diff(before, after); d != "" {
		t.Errorf("rotate changed more than the secret (-before +after):\n%s", d)
	}
	if !strings.Contains(r.ErrOut, `"type":"apikey.rotated"`) || strings.Contains(r.ErrOut, sec) {
		t.Errorf("audit of rotate:\n%s", r.ErrOut)
	}

	human := h.ok("", "apikeys", "rotate", id).Out
	if !strings.Contains(human, apikey.Prefix+id+"_") || !strings.Contains(human, "shown only this once") {
		t.Errorf("rotate printed:\n%s", human)
	}
	h.fail(command.ExitError, "not found", "", "apikeys", "rotate", "nosuchkey0000000")
}
