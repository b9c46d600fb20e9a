package credstore_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/credstoretest"
)

func TestFileConformance(t *testing.T) {
	credstoretest.Run(t, func(t *testing.T) credstore.Store {
		return credstore.NewFile(filepath.Join(t.TempDir(), "gatehouse"))
	})
}

// warnings collects a store's warnings.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := w.msgs
	w.msgs = nil
	return m
}

func sampleCredential(seed string) *credstore.Credential {
	return &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://id.example.com",
		ClientID:     "gatehouse-cli",
		AccessToken:  "access-token-" + seed,
		RefreshToken: "refresh-token-" + seed,
		TokenType:    "Bearer",
		Expiry:       time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		Scopes:       []string{"openid", "offline_access"},
		Subject:      "alice",
	}
}

// privateDir returns a new empty directory with mode 0700, as the stores
// leave theirs (t.TempDir's mode follows the umask).
func privateDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "gatehouse")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFilePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions on Windows")
	}
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "config", "gatehouse")
	s := credstore.NewFile(dir)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("NewFile created %s before any write (stat: %v)", dir, err)
	}
	if err := s.Put(ctx, "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, dir); got != 0o700 {
		t.Errorf("directory mode = %04o, want 0700", got)
	}
	if got := perm(t, s.Path()); got != 0o600 {
		t.Errorf("credentials.json mode = %04o, want 0600", got)
	}
	unlock, err := s.Lock(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	for _, lock := range []string{"default.lock", "credentials.lock"} {
		if got := perm(t, filepath.Join(dir, lock)); got != 0o600 {
			t.Errorf("%s mode = %04o, want 0600", lock, got)
		}
	}
	// A rewrite keeps 0600 even over a file someone loosened.
	if err := os.Chmod(s.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "default", sampleCredential("2")); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, s.Path()); got != 0o600 {
		t.Errorf("credentials.json mode after rewrite = %04o, want 0600", got)
	}
}

func TestFileTightensDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions on Windows")
	}
	dir := filepath.Join(t.TempDir(), "gatehouse")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	var w warnings
	s := credstore.NewFile(dir, credstore.WithWarn(w.add))
	if err := s.Put(t.Context(), "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	if got := perm(t, dir); got != 0o700 {
		t.Errorf("directory mode = %04o, want 0700", got)
	}
	if msgs := w.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "0755") {
		t.Errorf("warnings = %q, want one naming the old mode 0755", msgs)
	}
}

// TestFileFormat pins the document layout other tools and older or newer
// versions of Gatehouse read.
func TestFileFormat(t *testing.T) {
	s := credstore.NewFile(t.TempDir())
	if err := s.Put(t.Context(), "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  int                        `json:"version"`
		Profiles map[string]json.RawMessage `json:"profiles"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("credentials.json is not JSON: %v\n%s", err, data)
	}
	if doc.Version != 1 {
		t.Errorf("version = %d, want 1", doc.Version)
	}
	var c map[string]any
	if err := json.Unmarshal(doc.Profiles["default"], &c); err != nil {
		t.Fatalf("profile default: %v", err)
	}
	want := map[string]any{
		"kind": "user", "issuer": "https://id.example.com", "client_id": "gatehouse-cli",
		"access_token": "access-token-1", "refresh_token": "refresh-token-1", "token_type": "Bearer",
		"expiry": "2030-01-02T03:04:05Z", "scopes": []any{"openid", "offline_access"}, "subject": "alice",
	}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("stored profile (-want +got):\n%s", d)
	}
}

func TestFileUnreadable(t *testing.T) {
	valid := `{"version":1,"profiles":{"default":{"kind":"user","issuer":"https://x","access_token":"tok"}}}`
	for _, tc := range []struct {
		name, content, wantWarn string
	}{
		{"garbage", "\x00\x01garbage{{{", "not valid JSON"},
		{"truncated", valid[:len(valid)/2], "not valid JSON"},
		{"empty", "", "empty file"},
		{"version 99", `{"version":99,"profiles":{"default":{"kind":"user"}}}`, "unknown format version 99"},
		{"no version", `{"profiles":{}}`, "no format version"},
		{"array", `[1,2,3]`, "not a credentials document"},
		{"profiles wrong shape", `{"version":1,"profiles":["default"]}`, "malformed profiles"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dir := privateDir(t)
			path := filepath.Join(dir, credstore.FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			var w warnings
			s := credstore.NewFile(dir, credstore.WithWarn(w.add))

			if _, err := s.Get(ctx, "default"); !errors.Is(err, credstore.ErrNotFound) {
				t.Errorf("Get: error = %v, want ErrNotFound", err)
			}
			names, err := s.List(ctx)
			if err != nil || len(names) != 0 {
				t.Errorf("List = %q, %v; want none, no error", names, err)
			}
			msgs := w.take()
			if len(msgs) != 1 || !strings.Contains(msgs[0], tc.wantWarn) || !strings.Contains(msgs[0], path) {
				t.Errorf("warnings = %q, want one naming %s and %q", msgs, path, tc.wantWarn)
			}

			// The next Put writes a valid document and keeps the old one.
			if err := s.Put(ctx, "other", sampleCredential("o")); err != nil {
				t.Fatalf("Put over an unreadable file: %v", err)
			}
			if msgs := w.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "replacing") {
				t.Errorf("warnings on Put = %q, want one about replacing the file", msgs)
			}
			kept, err := os.ReadFile(path + ".unreadable")
			if err != nil || string(kept) != tc.content {
				t.Errorf("kept copy = %q, %v; want the old content", kept, err)
			}
			got, err := s.Get(ctx, "other")
			if err != nil {
				t.Fatalf("Get after Put: %v", err)
			}
			if d := cmp.Diff(sampleCredential("o"), got); d != "" {
				t.Errorf("Get after Put (-want +got):\n%s", d)
			}
			if msgs := w.take(); len(msgs) != 0 {
				t.Errorf("warnings after the file was repaired = %q", msgs)
			}
		})
	}
}

// TestFileWarnsOnce checks that a program reading a broken file over and
// over warns once, and again only after the file was good in between.
func TestFileWarnsOnce(t *testing.T) {
	ctx := t.Context()
	dir := privateDir(t)
	path := filepath.Join(dir, credstore.FileName)
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	var w warnings
	s := credstore.NewFile(dir, credstore.WithWarn(w.add))
	for range 3 {
		_, _ = s.Get(ctx, "default")
	}
	if msgs := w.take(); len(msgs) != 1 {
		t.Errorf("three Gets of a broken file gave warnings %q, want one", msgs)
	}
	if err := s.Put(ctx, "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	w.take()
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Get(ctx, "default")
	if msgs := w.take(); len(msgs) != 1 {
		t.Errorf("broken again: warnings %q, want one", msgs)
	}
}

func TestFileUnreadablePermissions(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs Unix permissions enforced (not root)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, credstore.FileName)
	if err := os.WriteFile(path, []byte(`{"version":1}`), 0o000); err != nil {
		t.Fatal(err)
	}
	s := credstore.NewFile(dir)
	if _, err := s.Get(t.Context(), "default"); err == nil || errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get of a file we may not read: error = %v, want a real error (not a miss)", err)
	}
}

func TestFileRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".credentials.json-12345.tmp")
	other := filepath.Join(dir, ".credentials-keyring.json-12345.tmp")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte(`{"version":1,"prof`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := credstore.NewFile(dir)
	if err := s.Put(t.Context(), "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temp file survived a Put (stat: %v)", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the keyring store's temp file was removed: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") && e.Name() != filepath.Base(other) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestFileLockFileNames(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := credstore.NewFile(dir)
	for profile, want := range map[string]string{
		"default":  "default.lock",
		"my prod":  "my%20prod.lock",
		"Prod":     "%50rod.lock",
		"nul":      "%6Eul.lock",
		"ci@corp":  "ci@corp.lock",
		"a%b":      "a%25b.lock",
		"stage-eu": "stage-eu.lock",
	} {
		unlock, err := s.Lock(ctx, profile)
		if err != nil {
			t.Fatalf("Lock %q: %v", profile, err)
		}
		unlock()
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("Lock %q: no lock file %s: %v", profile, want, err)
		}
	}
	if _, err := os.Stat(s.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lock touched the data file (stat: %v)", err)
	}
}

func TestFileDeleteMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never-created")
	s := credstore.NewFile(dir)
	if err := s.Delete(t.Context(), "default"); err != nil {
		t.Errorf("Delete with no directory: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Delete created the directory (stat: %v)", err)
	}
}

// TestFileDPoPKey: a login's DPoP private key is kept in the credentials
// file with the tokens — 0600, in the 0700 directory, nowhere else in it —
// and Delete (logout) removes it with them.
func TestFileDPoPKey(t *testing.T) {
	ctx := t.Context()
	dir := privateDir(t)
	s := credstore.NewFile(dir)
	c := sampleCredential("1")
	c.DPoPKey = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49-dpop-secret\n-----END PRIVATE KEY-----\n"
	if err := s.Put(ctx, "default", c); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "other", sampleCredential("2")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if got.DPoPKey != c.DPoPKey || !got.Bound() {
		t.Errorf("DPoPKey read back = %q, want the stored key", got.DPoPKey)
	}
	if other, _ := s.Get(ctx, "other"); other.Bound() {
		t.Error("a login stored without a key reads as bound")
	}
	if runtime.GOOS != "windows" {
		if got := perm(t, s.Path()); got != 0o600 {
			t.Errorf("credentials.json mode = %04o, want 0600", got)
		}
	}
	holders := func() []string {
		var out []string
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && strings.Contains(string(data), "dpop-secret") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	if got := holders(); len(got) != 1 || got[0] != credstore.FileName {
		t.Errorf("files holding the key = %q, want only %s", got, credstore.FileName)
	}
	if err := s.Delete(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	if got := holders(); len(got) != 0 {
		t.Errorf("after Delete the key is still in %q", got)
	}
}
