package inbound

import (
	"net/url"
	"strings"
	"testing"
)

// SECURITY-CASES 43: a return target never leaves the origin.
func TestRedirectTarget(t *testing.T) {
	const origin = "https://app.example.com"
	for _, c := range []struct {
		rd   string
		want string
	}{
		// safe same-origin references are kept
		{"/", "/"},
		{"/dashboard", "/dashboard"},
		{"/dashboard/", "/dashboard/"},
		{"/a/b?x=1&y=2", "/a/b?x=1&y=2"},
		{"/?tab=1", "/?tab=1"},
		{"/search?q=//evil.example", "/search?q=//evil.example"},
		{"/a%20b", "/a%20b"},
		{"/caf%C3%A9", "/caf%C3%A9"},
		{"/@evil.example", "/@evil.example"},
		{"/.evil.example", "/.evil.example"},
		{"/a#frag", "/a"},
		{"/a/../../b", "/a/../../b"},
		// same origin, absolute
		{"https://app.example.com/x?y=1", "/x?y=1"},
		{"https://app.example.com", "/"},
		{"https://app.example.com?y=1", "/?y=1"},
		{"https://app.example.com#x", "/"},
		{"HTTPS://APP.example.com/x", "/x"},
		// empty
		{"", "/"},
		// the cases listed in SECURITY-CASES 43
		{"//x", "/"},
		{"//evil.example", "/"},
		{"/\\x", "/"},
		{"/\\evil.example", "/"},
		{"/%09/x", "/"},
		{"/%2F%2Fx", "/"},
		{"/%2f%2fevil.example", "/"},
		{"https:x", "/"},
		{"https:evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JavaScript:alert(1)", "/"},
		{"data:text/html,<script>alert(1)</script>", "/"},
		{"evil.example.com.attacker", "/"},
		{"/a\r\nSet-Cookie: x=y", "/"},
		{"/a%0d%0aSet-Cookie:%20x=y", "/"},
		{"/a\n", "/"},
		{"/a%0A", "/"},
		{"/a\x00", "/"},
		{"/a%00", "/"},
		// more of the same family
		{"///evil.example", "/"},
		{"/\t/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/%0d/evil.example", "/"},
		{"/%5cevil.example", "/"},
		{"/%5C%5Cevil.example", "/"},
		{"\\\\evil.example", "/"},
		{"\\/evil.example", "/"},
		{"\\x", "/"},
		{" //evil.example", "/"},
		{"/ /evil.example", "/"},
		{"\t//evil.example", "/"},
		{"%2F%2Fevil.example", "/"},
		{"/%252F%252Fevil.example", "/%252F%252Fevil.example"}, // decoded once: "/%2F%2F…", a path
		{"/path\\..\\evil", "/"},
		{"/a\x7f", "/"},
		{"/a%7f", "/"},
		{"/a%C2%85", "/"},    // U+0085 NEL
		{"/a%E3%80%80", "/"}, // U+3000 ideographic space
		{"/a%", "/"},
		{"/a%zz", "/"},
		{"x", "/"},
		{"evil.example/path", "/"},
		{"@evil.example", "/"},
		{".", "/"},
		{"./x", "/"},
		{"../x", "/"},
		{"?x=1", "/"},
		{"#x", "/"},
		{"vbscript:msgbox(1)", "/"},
		{"https://evil.example/x", "/"},
		{"http://app.example.com/x", "/"},       // other scheme
		{"https://app.example.com:8443/x", "/"}, // other port
		{"https://app.example.com.evil.example/x", "/"},
		{"https://evil.example/https://app.example.com", "/"},
		{"https://app.example.com@evil.example/x", "/"},
		{"https://user:pw@app.example.com/x", "/"},
		{"https://app.example.com\\@evil.example/x", "/"},
		{"https://app.example.com//evil.example", "/"},
		{"https://app.example.com/%2F/evil.example", "/"},
		{"https://app.example.com/\t/evil.example", "/"},
		{"https:/app.example.com/x", "/"},
		{"https:///app.example.com/x", "/"},
		{"//app.example.com/x", "/"}, // scheme-relative: refused, not guessed
		{"/" + strings.Repeat("a", maxRedirectLength), "/"},
	} {
		got := RedirectTarget(c.rd, origin)
		if got != c.want {
			t.Errorf("RedirectTarget(%q) = %q, want %q", c.rd, got, c.want)
		}
		// Whatever comes back resolves on the origin.
		base, _ := url.Parse(origin + "/some/page")
		u, err := base.Parse(got)
		if err != nil || u.Scheme != "https" || u.Host != "app.example.com" {
			t.Errorf("RedirectTarget(%q) = %q resolves to %v", c.rd, got, u)
		}
	}
}

func TestRedirectTargetWithoutOrigin(t *testing.T) {
	for _, o := range []string{"", "not a url", "app.example.com"} {
		if got := RedirectTarget("https://app.example.com/x", o); got != "/" {
			t.Errorf("origin %q: %q", o, got)
		}
		if got := RedirectTarget("/x", o); got != "/x" {
			t.Errorf("origin %q: relative %q", o, got)
		}
	}
	if got := RedirectTarget("https://app.example.com/x", "https://app.example.com/"); got != "/x" {
		t.Errorf("origin with trailing slash: %q", got)
	}
}
