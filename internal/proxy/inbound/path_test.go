package inbound

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// SECURITY-CASES 44 and 45: every spelling of a path either normalises to
// the one form the policy and the upstream both see, or is refused.
func TestPath(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string // "" means ErrBadPath
	}{
		// plain paths are unchanged
		{"/", "/"},
		{"/admin", "/admin"},
		{"/admin/", "/admin/"},
		{"/a/b/c.html", "/a/b/c.html"},
		{"/~user/x-y_z.txt", "/~user/x-y_z.txt"},
		{"/a:b/@c/!$&'()*+,=", "/a:b/@c/!$&'()*+,="},
		// repeated slashes collapse
		{"//admin", "/admin"},
		{"///admin//x", "/admin/x"},
		{"/admin//", "/admin/"},
		// dot segments resolve
		{"/./admin", "/admin"},
		{"/public/../admin", "/admin"},
		{"/public/./../admin/.", "/admin/"},
		{"/../admin", "/admin"},
		{"/../../../../admin", "/admin"},
		{"/a/b/..", "/a/"},
		{"/a/b/../", "/a/"},
		{"/a/..", "/"},
		{"/..", "/"},
		{"/.", "/"},
		{"/...", ""},
		{"/..a/.b/a..", ""},
		{"/..a/.b/a", "/..a/.b/a"},
		// trailing dots and spaces (Windows servers drop them)
		{"/admin.", ""},
		{"/admin./x", ""},
		{"/admin%20", ""},
		{"/admin%20/x", ""},
		{"/%20admin", ""},
		{"/admin%C2%A0", ""},
		{"/admin.html", "/admin.html"},
		{"/a%20b", "/a b"},
		// case-folding look-alikes: dotless i, dotted I, long s, Kelvin
		// sign, full-width letters
		{"/adm%C4%B1n", ""},
		{"/adm%C4%B0n", ""},
		{"/%C5%BFtatic", ""},
		{"/%E2%84%AAey", ""},
		{"/%EF%BD%81dmin", ""},
		{"/caf%C3%A9", "/café"},
		{"/%E6%97%A5%E6%9C%AC", "/日本"},
		// encoded dots are dots
		{"/public/%2e%2e/admin", "/admin"},
		{"/public/%2E%2E/admin", "/admin"},
		{"/public/.%2e/admin", "/admin"},
		{"/%2e/admin", "/admin"},
		{"/public/%2e%2e%2fadmin", ""},
		// other encodings decode once
		{"/%61dmin", "/admin"},
		{"/%41DMIN", "/ADMIN"},
		{"/a%20b", "/a b"},
		{"/caf%C3%A9", "/café"},
		{"/%3F", "/?"},
		{"/%23frag", "/#frag"},
		{"/100%25", "/100%"},
		{"/50%25off", "/50%off"},
		{"/%252e%252e/admin", ""}, // double encoding
		{"/%2561dmin", ""},
		// case is preserved (policy matches case-insensitively)
		{"/Admin", "/Admin"},
		{"/ADMIN/Users", "/ADMIN/Users"},
		// encoded slash
		{"/admin%2fusers", ""},
		{"/public%2F..%2Fadmin", ""},
		{"/%2F%2Fadmin", ""},
		// backslash
		{"/public\\..\\admin", ""},
		{"/public%5c..%5cadmin", ""},
		{"/public%5C..%5Cadmin", ""},
		// path parameters
		{"/admin;x", ""},
		{"/admin;jsessionid=1/", ""},
		{"/public/..;/admin", ""},
		{"/admin%3bx", ""},
		{"/admin%3Bx", ""},
		// NUL and control characters
		{"/admin%00", ""},
		{"/admin%00.html", ""},
		{"/admin\x00", ""},
		{"/admin%0a", ""},
		{"/admin%0D%0AX-Injected:%201", ""},
		{"/admin\r\n", ""},
		{"/ad\tmin", ""},
		{"/ad%09min", ""},
		{"/ad%7fmin", ""},
		{"/ad\x7fmin", ""},
		{"/ad%C2%85min", ""}, // U+0085, a C1 control
		// invalid percent-encoding
		{"/admin%", ""},
		{"/admin%2", ""},
		{"/admin%zz", ""},
		{"/admin%%32%66", ""},
		// invalid and overlong UTF-8
		{"/%c0%af", ""},             // overlong '/'
		{"/%c0%ae%c0%ae/admin", ""}, // overlong '.'
		{"/%e0%80%af", ""},          // 3-byte overlong '/'
		{"/%c1%9c", ""},             // overlong '\'
		{"/%ff", ""},
		{"/%ed%a0%80", ""}, // surrogate
		{"/caf\xe9", ""},
		// query and fragment are not part of the path
		{"/admin?x", ""},
		{"/public?/admin", ""},
		{"/public#/admin", ""},
		// must be absolute and bounded
		{"", ""},
		{"admin", ""},
		{"*", ""},
		{"http://evil/admin", ""},
		{"/" + strings.Repeat("a", MaxPathLength), ""},
	} {
		got, err := Path(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("Path(%q) = %q, want ErrBadPath", c.in, got)
			} else if !errors.Is(err, ErrBadPath) {
				t.Errorf("Path(%q) error %v does not wrap ErrBadPath", c.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Path(%q): %v, want %q", c.in, err, c.want)
			continue
		}
		if got != c.want {
			t.Errorf("Path(%q) = %q, want %q", c.in, got, c.want)
		}
		// What the upstream receives reads back as what the policy judged.
		again, err := Path(Escape(got))
		if err != nil || again != got {
			t.Errorf("Path(Escape(%q)) = %q, %v", got, again, err)
		}
	}
	if _, err := Path("/" + strings.Repeat("a", MaxPathLength-1)); err != nil {
		t.Errorf("path of MaxPathLength bytes: %v", err)
	}
}

// The path the gateway takes from a real request: the query, the fragment
// and encoded forms never reach the policy as path.
func TestPathFromRequest(t *testing.T) {
	for _, c := range []struct {
		target string
		want   string // "" means ErrBadPath
	}{
		{"/admin?x", "/admin"},
		{"/public?/admin", "/public"},
		{"/public?x=/admin;y", "/public"},
		{"/%61dmin?x", "/admin"},
		{"//admin", "/admin"},
		{"/public/%2e%2e/admin", "/admin"},
		{"/public/..%2fadmin", ""},
		{"/admin;x=1", ""},
		{"/admin%00", ""},
		{"http://app.example.com/../admin", "/admin"},
	} {
		r := httptest.NewRequest(http.MethodGet, c.target, nil)
		got, err := Path(r.URL.EscapedPath())
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%s: Path = %q, want ErrBadPath", c.target, got)
		case c.want != "" && (err != nil || got != c.want):
			t.Errorf("%s: Path = %q, %v, want %q", c.target, got, err, c.want)
		}
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"/admin":    "/admin",
		"/a b":      "/a%20b",
		"/?#":       "/%3F%23",
		"/100%":     "/100%25",
		"/café":     "/caf%C3%A9",
		"/a:b/@c/~": "/a:b/@c/~",
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
