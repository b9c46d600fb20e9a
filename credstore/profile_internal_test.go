package credstore

import (
	"strings"
	"testing"
)

// TestLockFileNamesDistinct checks that no two valid profiles share a lock
// file and no profile gets a store-wide one, even where the file system
// ignores case.
func TestLockFileNamesDistinct(t *testing.T) {
	names := []string{
		"default", "Default", "DEFAULT", "a b", "a%20b", "a%2520b", "con", "CON", "con.x",
		"nul", "%6Eul", "ünï", "ÜNÏ", "x.lock", "x", "-", "_", "a.b", "a%2Eb",
		"credentials.json", "Credentials", "CREDENTIALS-KEYRING", "credentials%", "~", "@",
	}
	seen := map[string]string{
		strings.ToLower(fileStoreLock):    "(file store lock)",
		strings.ToLower(keyringStoreLock): "(keyring store lock)",
	}
	for _, n := range names {
		if err := ValidateProfile(n); err != nil {
			t.Fatalf("fixture %q is invalid: %v", n, err)
		}
		f := lockFileName(n)
		if strings.ContainsAny(f, `/\:*?"<>| `) {
			t.Errorf("lockFileName(%q) = %q: not a portable file name", n, f)
		}
		key := strings.ToLower(f)
		if other, dup := seen[key]; dup {
			t.Errorf("lockFileName(%q) = %q collides with %q", n, f, other)
		}
		seen[key] = n
	}
	if got := lockFileName("default"); got != "default.lock" {
		t.Errorf(`lockFileName("default") = %q, want "default.lock"`, got)
	}
}
