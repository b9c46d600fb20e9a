package credstore_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/credstoretest"
	"github.com/gatehouse-auth/gatehouse/credstore/oskeyring"
)

const testService = "gatehouse-test"

// newMockKeyring installs a fresh go-keyring in-memory fake (global to the
// process, so keyring tests do not run in parallel) and returns a Keyring
// store on it.
func newMockKeyring(t *testing.T, opts ...credstore.Option) *credstore.Keyring {
	t.Helper()
	keyring.MockInit()
	return credstore.NewKeyring(oskeyring.Backend{}, testService, privateDir(t), opts...)
}

func TestKeyringConformance(t *testing.T) {
	credstoretest.Run(t, func(t *testing.T) credstore.Store { return newMockKeyring(t) })
}

// TestKeyringSecretService runs the conformance suite against the real OS
// keyring (on Linux the Secret Service, e.g. gnome-keyring in a D-Bus
// session; see .ci/keyring-test.sh) when GATEHOUSE_TEST_REAL_KEYRING=1.
// Once a test installs go-keyring's mock it replaces the real keyring for
// the rest of the process, so this test runs itself in a fresh process.
func TestKeyringSecretService(t *testing.T) {
	if os.Getenv("GATEHOUSE_TEST_REAL_KEYRING") != "1" {
		t.Skip("set GATEHOUSE_TEST_REAL_KEYRING=1 to test against the OS keyring")
	}
	if os.Getenv(helperEnv) != "real-keyring" {
		cmd := helperCommand(t, "^TestKeyringSecretService$", "real-keyring")
		cmd.Args = append(cmd.Args, "-test.v")
		out, err := cmd.CombinedOutput()
		t.Logf("child process:\n%s", out)
		if err != nil {
			t.Fatalf("real keyring tests: %v", err)
		}
		if !strings.Contains(string(out), "--- PASS: TestKeyringSecretService/RoundTrip") {
			t.Fatal("the child process did not run the conformance suite")
		}
		return
	}

	var id [6]byte
	_, _ = rand.Read(id[:])
	service := "gatehouse-test-" + hex.EncodeToString(id[:])
	t.Cleanup(func() { _ = keyring.DeleteAll(service) })
	probe := credstore.NewKeyring(oskeyring.Backend{}, service, t.TempDir())
	if err := probe.Probe(t.Context()); err != nil {
		t.Fatalf("the OS keyring does not work: %v", err)
	}
	credstoretest.Run(t, func(t *testing.T) credstore.Store {
		t.Cleanup(func() { _ = keyring.DeleteAll(service) })
		return credstore.NewKeyring(oskeyring.Backend{}, service, privateDir(t))
	})
}

// TestKeyringItemsSmall checks that the keyring holds only a small data key
// and the data file holds no secret in the clear.
func TestKeyringItemsSmall(t *testing.T) {
	s := newMockKeyring(t)
	c := bigCredential(7, 32<<10)
	c.DPoPKey = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg-dpop-secret\n-----END PRIVATE KEY-----\n"
	if err := s.Put(t.Context(), "default", c); err != nil {
		t.Fatal(err)
	}
	item, err := keyring.Get(testService, "default")
	if err != nil {
		t.Fatalf("no keyring item for the profile: %v", err)
	}
	if len(item) > 64 {
		t.Errorf("keyring item is %d bytes, want a small data key", len(item))
	}
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{c.AccessToken[:40], c.RefreshToken[:40], c.IDToken[:40], item, "dpop-secret", "PRIVATE KEY"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("%s contains a secret in the clear: %.20s…", s.Path(), secret)
		}
	}
	got, err := s.Get(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(c, got); d != "" {
		t.Errorf("Get (-want +got):\n%s", d)
	}
}

func TestKeyringMissingKey(t *testing.T) {
	ctx := t.Context()
	var w warnings
	s := newMockKeyring(t, credstore.WithWarn(w.add))
	if err := s.Put(ctx, "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	if err := keyring.Delete(testService, "default"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Get(ctx, "default"); !errors.Is(err, credstore.ErrNotFound) {
			t.Errorf("Get without its keyring key: error = %v, want ErrNotFound", err)
		}
	}
	if msgs := w.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "no key") {
		t.Errorf("warnings after two Gets = %q, want one about the missing key", msgs)
	}
	// A new login makes a new key and works again.
	if err := s.Put(ctx, "default", sampleCredential("2")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sampleCredential("2"), got); d != "" {
		t.Errorf("Get after a new Put (-want +got):\n%s", d)
	}
}

// TestKeyringBoundToProfile checks that a ciphertext copied to another
// profile's entry does not decrypt, even if the two shared a key.
func TestKeyringBoundToProfile(t *testing.T) {
	ctx := t.Context()
	var w warnings
	s := newMockKeyring(t, credstore.WithWarn(w.add))
	for _, p := range []string{"alice", "mallory"} {
		if err := s.Put(ctx, p, sampleCredential(p)); err != nil {
			t.Fatal(err)
		}
	}
	key, err := keyring.Get(testService, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Set(testService, "mallory", key); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	data, _ := os.ReadFile(s.Path())
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	profiles := doc["profiles"].(map[string]any)
	profiles["mallory"] = profiles["alice"]
	data, _ = json.Marshal(doc)
	if err := os.WriteFile(s.Path(), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Get(ctx, "mallory"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get of a swapped entry = %v, %v; want ErrNotFound", c, err)
	}
	if msgs := w.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "does not decrypt") {
		t.Errorf("warnings = %q, want one about decryption", msgs)
	}
	if _, err := s.Get(ctx, "alice"); err != nil {
		t.Errorf("Get alice: %v", err)
	}
}

func TestKeyringUnreadableFile(t *testing.T) {
	ctx := t.Context()
	var w warnings
	s := newMockKeyring(t, credstore.WithWarn(w.add))
	if err := os.WriteFile(s.Path(), []byte(`{"version":99}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "default"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get: error = %v, want ErrNotFound", err)
	}
	if msgs := w.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "unknown format version 99") {
		t.Errorf("warnings = %q, want one about the version", msgs)
	}
	if err := s.Put(ctx, "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "default"); err != nil {
		t.Errorf("Get after Put: %v", err)
	}
}

func TestKeyringDeleteRemovesItem(t *testing.T) {
	ctx := t.Context()
	s := newMockKeyring(t)
	if err := s.Put(ctx, "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(testService, "default"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("keyring item after Delete: error = %v, want keyring.ErrNotFound", err)
	}
	// An orphan item (no entry in the file) is removed too.
	if err := keyring.Set(testService, "orphan", "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "orphan"); err != nil {
		t.Fatal(err)
	}
	if _, err := keyring.Get(testService, "orphan"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("orphan keyring item after Delete: error = %v, want keyring.ErrNotFound", err)
	}
}

func TestKeyringFailures(t *testing.T) {
	ctx := t.Context()
	s := newMockKeyring(t)
	if err := s.Put(ctx, "default", sampleCredential("1")); err != nil {
		t.Fatal(err)
	}
	broken := errors.New("dbus: no session bus")
	keyring.MockInitWithError(broken)

	if _, err := s.Get(ctx, "default"); !errors.Is(err, broken) || errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get with a broken keyring: error = %v, want the keyring's error (not a miss)", err)
	}
	if err := s.Put(ctx, "other", sampleCredential("2")); !errors.Is(err, broken) {
		t.Errorf("Put with a broken keyring: error = %v, want the keyring's error", err)
	}
	if err := s.Probe(ctx); !errors.Is(err, broken) {
		t.Errorf("Probe with a broken keyring: error = %v, want the keyring's error", err)
	}
	if names, err := s.List(ctx); err != nil || len(names) != 1 {
		t.Errorf("List with a broken keyring = %q, %v; want [default] from the data file", names, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Path()), credstore.FileName)); err == nil {
		t.Error("a keyring failure wrote a plain credentials file")
	}
}

func TestKeyringProbe(t *testing.T) {
	s := newMockKeyring(t)
	if err := s.Probe(t.Context()); err != nil {
		t.Errorf("Probe on a working keyring: %v", err)
	}
	if _, err := os.Stat(s.Path()); err == nil {
		t.Error("Probe wrote the data file")
	}
}
