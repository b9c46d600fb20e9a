package secret

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "sub")
	path := filepath.Join(dir, "secret.key")

	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreateKeyFile = %v, %v; want created", created, err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode = %04o, want 0600", fi.Mode().Perm())
		}
		di, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if di.Mode().Perm() != 0o700 {
			t.Errorf("key dir mode = %04o, want 0700", di.Mode().Perm())
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(b)) != k1.Encode() {
		t.Errorf("file holds %q, want the key", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory has %d entries, want only the key file (temp file left?)", len(entries))
	}

	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreateKeyFile = %v, %v; want loaded", created, err)
	}
	if k2.Encode() != k1.Encode() {
		t.Error("second load returned another key")
	}
}

func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret.key")
	const n = 8
	keys := make([]string, n)
	errs := make([]error, n)
	var created sync.Map
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, c, err := LoadOrCreateKeyFile(path)
			errs[i] = err
			if err == nil {
				keys[i] = k.Encode()
				if c {
					created.Store(i, true)
				}
			}
		})
	}
	wg.Wait()
	ncreated := 0
	created.Range(func(any, any) bool { ncreated++; return true })
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatalf("callers got different keys")
		}
	}
	if ncreated != 1 {
		t.Errorf("%d callers report created, want 1", ncreated)
	}
}

func TestLoadKeyFileExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	want := NewKey()
	if err := os.WriteFile(path, []byte("\n"+want.Encode()+"\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || k.Encode() != want.Encode() {
		t.Fatalf("LoadOrCreateKeyFile = %v, %v; want the written key", created, err)
	}

	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(bad); err == nil {
		t.Error("a malformed key file was accepted")
	}
	if b, _ := os.ReadFile(bad); string(b) != "short" {
		t.Error("a malformed key file was overwritten")
	}
}

func TestLoadKeyFileRefusesOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	path := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(path, []byte(NewKey().Encode()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o620} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadOrCreateKeyFile(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: err = %v, want a refusal that says chmod 600", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateKeyFile(path); err != nil {
		t.Errorf("mode 0400: %v", err)
	}
}
