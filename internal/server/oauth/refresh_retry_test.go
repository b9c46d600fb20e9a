package oauth

import (
	"net/http"
	"testing"
)

func TestParseSFString(t *testing.T) {
	for in, want := range map[string]string{
		`"abc"`:        "abc",
		`"a\"b\\c"`:    `a"b\c`,
		`""`:           "",
		`"with space"`: "with space",
	} {
		if got, err := parseSFString(in); err != nil || got != want {
			t.Errorf("parseSFString(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{``, `"`, `abc`, `"a"b"`, `"a\b"`, `"a\"`, "\"a\tb\"", "\"a\x7fb\""} {
		if got, err := parseSFString(in); err == nil {
			t.Errorf("parseSFString(%q) = %q, want an error", in, got)
		}
	}
}

func FuzzIdempotencyKey(f *testing.F) {
	for _, s := range []string{`"Ut9mhnP0sLRlV3e8x0p6Bw"`, `"a\"b\\c"`, `"`, `""`, `"\`, "\"\xff\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{}
		h.Set(IdempotencyKeyHeader, v)
		key, err := idempotencyKey(h)
		if err != nil {
			return
		}
		if len(key) < minIdempotencyKey || len(key) > maxIdempotencyKey {
			t.Fatalf("accepted a key of %d characters", len(key))
		}
		for i := 0; i < len(key); i++ {
			if key[i] < 0x20 || key[i] > 0x7e {
				t.Fatalf("accepted a key with byte %#x", key[i])
			}
		}
	})
}
