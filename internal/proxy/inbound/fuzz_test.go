package inbound

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzPath checks the path normalisation on arbitrary input: it never
// panics, a refusal wraps ErrBadPath, and an accepted path is canonical —
// it starts with "/", holds no empty, "." or ".." segment (except a
// trailing slash), no backslash or ';', and normalising its escaped form
// again gives the same path.
func FuzzPath(f *testing.F) {
	for _, s := range []string{
		"/", "/admin", "/a/b/", "//a//b", "/a/./b", "/a/../b", "/../..", "/a/..",
		"/%2e%2e/admin", "/%2E/x", "/a%2Fb", "/a%2fb", "/%252e", "/a%5cb", "/a;b",
		"/%C0%AF", "/admın", "/%EF%BC%8F", "/a%20b", "/a%20", "/a.", "/%00",
		"/a?b", "/a#b", "/%", "/%4", "/%zz", "admin", "", "/%61dmin", "/a/%2e%2e%2fb",
		"/ſtatic", "/a/b/c/../../../../d", "/100%25", "/%25zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Path(in)
		lowerIn := strings.ToLower(in)
		if err == nil && (strings.Contains(lowerIn, "%2f") || strings.Contains(lowerIn, "%5c") || strings.Contains(lowerIn, "%3b")) {
			t.Fatalf("Path(%q) = %q: an encoded slash, backslash or ';' was accepted", in, out)
		}
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("Path(%q): error %v does not wrap ErrBadPath", in, err)
			}
			return
		}
		if !strings.HasPrefix(out, "/") {
			t.Fatalf("Path(%q) = %q: not absolute", in, out)
		}
		if strings.ContainsAny(out, "\\;") {
			t.Fatalf("Path(%q) = %q: holds a refused character", in, out)
		}
		segs := strings.Split(out[1:], "/")
		for i, seg := range segs {
			if seg == "." || seg == ".." || (seg == "" && i != len(segs)-1 && out != "/") {
				t.Fatalf("Path(%q) = %q: dot or empty segment %d survives", in, out, i)
			}
		}
		lower := strings.ToLower(out)
		if strings.Contains(lower, "%2f") || strings.Contains(lower, "%2e") || strings.Contains(lower, "%5c") {
			t.Fatalf("Path(%q) = %q: an encoded slash, dot or backslash survives", in, out)
		}
		again, err := Path(Escape(out))
		if err != nil || again != out {
			t.Fatalf("Path(%q) = %q, but Path(Escape(%q)) = %q, %v: not stable", in, out, out, again, err)
		}
	})
}

// FuzzRedirectTarget checks the rd parameter on arbitrary input: the
// result is always a same-origin relative reference that a browser cannot
// read as another host, before or after one round of percent-decoding.
func FuzzRedirectTarget(f *testing.F) {
	const origin = "https://app.example.com"
	for _, s := range []string{
		"/", "/dashboard", "/a/b?x=1", "//evil.example", "/\\evil.example", "/\t/evil.example",
		"/%2F%2Fevil.example", "/%5Cevil", "https://app.example.com/x?y", "https://APP.example.com",
		"https://app.example.com@evil.example/", "https://evil.example/", "javascript:alert(1)",
		"evil.example", "http://app.example.com/", "https://app.example.com.evil/", "/a#frag",
		"https://app.example.com#x", "https://app.example.com?q", "/%09/x", "/\u2028/x", "/%E2%80%A8",
		"https:/app.example.com/x", "https:app.example.com", "///x", "/.//x",
		"https://evil.example/x", "https://evil.example?x", "/%2Fevil.example", "/%5Cevil.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rd string) {
		got := RedirectTarget(rd, origin)
		// Checked here without safeRelative.
		if !browserRelative(got, false) || strings.ContainsRune(got, '#') {
			t.Fatalf("RedirectTarget(%q) = %q: not a safe relative reference", rd, got)
		}
		decoded, err := url.PathUnescape(got)
		if err != nil || !browserRelative(decoded, true) {
			t.Fatalf("RedirectTarget(%q) = %q: decodes to %q, %v", rd, got, decoded, err)
		}
		// An absolute rd gives more than "/" only when it is on the origin.
		if got != "/" && !strings.HasPrefix(rd, "/") {
			rest, ok := strings.CutPrefix(strings.ToLower(rd), origin)
			if !ok || rest != "" && rest[0] != '/' && rest[0] != '?' && rest[0] != '#' {
				t.Fatalf("RedirectTarget(%q) = %q: kept a target from another origin", rd, got)
			}
		}
		// Resolved against the origin, the target stays on the origin.
		base, _ := url.Parse(origin + "/some/page")
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("RedirectTarget(%q) = %q: does not parse: %v", rd, got, err)
		}
		res := base.ResolveReference(ref)
		if res.Scheme != "https" || res.Host != "app.example.com" || res.User != nil {
			t.Fatalf("RedirectTarget(%q) = %q: resolves to %s", rd, got, res)
		}
	})
}

// browserRelative reports whether a browser reads s as a path on the
// current origin: "/" not followed by "/" or "\\", and no backslash,
// control character or white space (but plain spaces when spaceOK), which
// browsers drop or turn into "/".
func browserRelative(s string, spaceOK bool) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r == '\\' || unicode.IsControl(r) || (unicode.IsSpace(r) && !(spaceOK && r == ' '))
	})
}
