package server

import (
	"net/url"
	"path"
	"strconv"
	"strings"
	"testing"
)

// FuzzMatchRedirectURI checks redirect URI matching on arbitrary pairs: a
// match is the registration itself, or — for a port-free loopback
// registration only — the registration with a port inserted after the
// host; scheme, host, path and query never change, and what matches is
// plausible (no fragment, userinfo or control character).
func FuzzMatchRedirectURI(f *testing.F) {
	for _, c := range [][2]string{
		{"https://app.example/cb", "https://app.example/cb"},
		{"https://app.example/cb", "https://app.example/cb/"},
		{"https://app.example/cb", "https://APP.example/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8000/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:0/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:65536/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:08000/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8000@evil.example/cb"},
		{"http://127.0.0.1", "http://127.0.0.1:8000.evil.example"},
		{"http://127.0.0.1", "http://127.0.0.1:8000"},
		{"http://[::1]/cb", "http://[::1]:8000/cb"},
		{"http://localhost/cb?x=1", "http://localhost:1/cb?x=1"},
		{"http://localhost:8000/cb", "http://localhost:8001/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8000/cb#frag"},
		{"com.example.app:/cb", "com.example.app:/cb"},
		{"https://app.example/cb#x", "https://app.example/cb#x"},
		{"https://app.example/cb#", "https://app.example/cb#"},
		{"https://u@app.example/cb", "https://u@app.example/cb"},
		{"http://127.0.0.1.evil/cb", "http://127.0.0.1.evil:80/cb"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8000/other"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8000/cb/../admin"},
		{"http://127.0.0.1/cb", "http://127.0.0.1:/cb"},
		{"http://localhost", "http://localhost:8000?x"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, registered, requested string) {
		if !matchRedirectURI(registered, requested) {
			return
		}
		// Checked here without plausibleRedirectURI.
		u, err := url.Parse(requested)
		if err != nil || u.Scheme == "" || u.User != nil || strings.ContainsAny(requested, "#\\") ||
			strings.ContainsFunc(requested, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
			t.Fatalf("match(%q, %q): implausible URI matched (%v)", registered, requested, err)
		}
		if requested == registered {
			return
		}
		prefix, rest, ok := loopbackPattern(registered)
		if !ok {
			t.Fatalf("match(%q, %q): differs from a non-loopback registration", registered, requested)
		}
		reg, err1 := url.Parse(registered)
		req, err2 := url.Parse(requested)
		if err1 != nil || err2 != nil {
			t.Fatalf("match(%q, %q): does not parse: %v, %v", registered, requested, err1, err2)
		}
		if req.Scheme != "http" || req.Scheme != reg.Scheme || req.Hostname() != reg.Hostname() ||
			req.EscapedPath() != reg.EscapedPath() || req.RawQuery != reg.RawQuery || req.Port() == "" {
			t.Fatalf("match(%q, %q): more than the loopback port changed (%s)", registered, requested, req)
		}
		if n, err := strconv.Atoi(req.Port()); err != nil || n < 1 || n > 65535 || req.Port()[0] == '0' {
			t.Fatalf("match(%q, %q): port %q", registered, requested, req.Port())
		}
		want := prefix + ":" + req.Port() + rest
		if requested != want {
			t.Fatalf("match(%q, %q): want exactly %q", registered, requested, want)
		}
	})
}

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
