package oauth

import (
	"net/url"
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
		// Checked here without PlausibleRedirectURI.
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
