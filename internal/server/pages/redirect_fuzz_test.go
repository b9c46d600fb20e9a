package pages

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// FuzzSafeReturnTo checks the return_to target on arbitrary input: an
// accepted target is a path that a browser resolves on the server's own
// origin, under its base path when it has one.
func FuzzSafeReturnTo(f *testing.F) {
	for _, c := range [][2]string{
		{"", "/"}, {"", "/authorize?x=1"}, {"", "//evil.example"}, {"", "/\\evil.example"},
		{"", "https://evil.example/"}, {"", "/\t/evil"}, {"", "javascript:alert(1)"},
		{"/auth", "/auth/login"}, {"/auth", "/authx"}, {"/auth", "/auth/../admin"},
		{"/auth", "/auth/..\\..\\x"}, {"/auth", "/auth/%2e%2e/x"}, {"/auth", "/other"},
		{"", "/a@evil.example"}, {"", "/%2F%2Fevil"}, {"", "/;x"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, base, p string) {
		if base != "" && (!strings.HasPrefix(base, "/") || path.Clean(base) != base || base == "/" ||
			strings.ContainsAny(base, "\\%?#") || strings.ContainsFunc(base, func(r rune) bool { return r < 0x21 || r == 0x7f })) {
			return // the server's base path is a clean path, checked at start-up
		}
		if !safeReturnTo(base, p) {
			return
		}
		if strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Fatalf("safeReturnTo(%q, %q) accepted a control character", base, p)
		}
		origin, _ := url.Parse("https://auth.example.com" + base + "/some/page")
		ref, err := url.Parse(p)
		if err != nil {
			t.Fatalf("safeReturnTo(%q, %q) accepted an unparsable target: %v", base, p, err)
		}
		res := origin.ResolveReference(ref)
		if res.Scheme != "https" || res.Host != "auth.example.com" || res.User != nil {
			t.Fatalf("safeReturnTo(%q, %q) accepted a target off the origin: %s", base, p, res)
		}
		// A browser treats "\" as "/" in a special URL.
		browser := strings.ReplaceAll(p, "\\", "/")
		if strings.HasPrefix(browser, "//") {
			t.Fatalf("safeReturnTo(%q, %q): a browser reads another host", base, p)
		}
		if base != "" {
			clean := path.Clean(strings.ReplaceAll(ref.Path, "\\", "/"))
			if clean != base && !strings.HasPrefix(clean, base+"/") {
				t.Fatalf("safeReturnTo(%q, %q) leaves the base path: %s", base, p, clean)
			}
		}
	})
}
