package apikey

import (
	"strings"
	"testing"
)

// FuzzParse checks Parse on arbitrary input: it never panics, what it
// accepts has exactly the generated form and reassembles to the input, and
// a freshly generated key always parses back to its id.
func FuzzParse(f *testing.F) {
	_, key := Generate()
	for _, s := range []string{
		key,
		"",
		Prefix,
		Prefix + "abcdefghij012345_",
		Prefix + "abcdefghij012345_" + strings.Repeat("A", SecretLen),
		Prefix + "abcdefghij012345_" + strings.Repeat("_", SecretLen),
		Prefix + "ABCDEFGHIJ012345_" + strings.Repeat("a", SecretLen),
		Prefix + "abcdefghij01234_" + strings.Repeat("a", SecretLen+1),
		"gatehouse-abcdefghij012345_" + strings.Repeat("a", SecretLen),
		Prefix + "abcdefghij012345_" + strings.Repeat("a", SecretLen-1) + "=",
		Prefix + "abcdefghij012345_" + strings.Repeat("é", SecretLen/2),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, sec, ok := Parse(s)
		if ok {
			// Checked here without the package's own validators.
			if len(s) != Len || len(id) != IDLen || len(sec) != SecretLen ||
				strings.Trim(id, "abcdefghijklmnopqrstuvwxyz0123456789") != "" ||
				strings.Trim(sec, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Fatalf("Parse(%q) accepted id %q secret %q", s, id, sec)
			}
			if Prefix+id+"_"+sec != s {
				t.Fatalf("Parse(%q) = %q, %q: does not reassemble", s, id, sec)
			}
		} else if id != "" || sec != "" {
			t.Fatalf("Parse(%q) refused but returned %q, %q", s, id, sec)
		}

		gid, gkey := Generate()
		pid, _, ok := Parse(gkey)
		if !ok || pid != gid {
			t.Fatalf("Parse(Generate()) = %q, %v; want %q", pid, ok, gid)
		}
	})
}
