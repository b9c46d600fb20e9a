package inbound

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxRedirectLength bounds the return targets RedirectTarget accepts.
const maxRedirectLength = 4 << 10

// RedirectTarget returns where to send the browser after login or logout:
// rd reduced to a same-origin relative reference (path and optional query,
// no fragment), or "/" when rd is empty or unsafe.
//
// A relative rd is accepted only when it is "/" alone or "/" followed by a
// character other than "/" and "\" — "//x" and "/\x" are read by browsers
// as another host. Anything with a scheme ("https:x", "javascript:",
// "data:"), a bare host ("evil.example.com.attacker"), a backslash, white
// space other than an encoded "%20", or a control character anywhere (browsers drop TAB, CR and LF, so
// "/\t/x" becomes "//x"), whether raw or percent-encoded, is refused. rd is
// percent-decoded once and the decoded form must pass the same checks, so
// "/%2F%2Fx" and "/%09/x" are refused too.
//
// An absolute URL is accepted only when its scheme and host equal origin
// ("https://app.example.com", compared case-insensitively, no userinfo) and
// is reduced to its path and query. An empty origin accepts no absolute URL.
func RedirectTarget(rd string, origin string) string {
	if rd == "" || len(rd) > maxRedirectLength {
		return "/"
	}
	if !strings.HasPrefix(rd, "/") {
		rel, ok := sameOrigin(rd, origin)
		if !ok {
			return "/"
		}
		rd = rel
	}
	if !safeRelative(rd, false) {
		return "/"
	}
	decoded, err := url.PathUnescape(rd)
	if err != nil || !safeRelative(decoded, true) {
		return "/"
	}
	u, err := url.Parse(rd)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	target := u.EscapedPath()
	if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") {
		return "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return target
}

// sameOrigin reduces an absolute URL on origin to its path and query.
func sameOrigin(rd, origin string) (string, bool) {
	if origin == "" || strings.ContainsAny(rd, "\\@") {
		return "", false
	}
	o, err := url.Parse(strings.TrimSuffix(origin, "/"))
	if err != nil || o.Scheme == "" || o.Host == "" {
		return "", false
	}
	u, err := url.Parse(rd)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if !strings.EqualFold(u.Scheme, o.Scheme) || !strings.EqualFold(u.Host, o.Host) {
		return "", false
	}
	// Only "scheme://host" followed by a path, query or nothing.
	prefix := len(u.Scheme) + len("://") + len(u.Host)
	if len(rd) < prefix || !strings.EqualFold(rd[:prefix], u.Scheme+"://"+u.Host) {
		return "", false
	}
	rest := rd[prefix:]
	switch {
	case rest == "" || rest[0] == '#':
		return "/", true
	case rest[0] == '?':
		return "/" + rest, true
	case rest[0] == '/':
		return rest, true
	}
	return "", false
}

// safeRelative reports whether s is "/" alone or "/" followed by a
// character other than "/" and "\", with no backslash, white space, control
// character or invalid UTF-8 anywhere. An encoded space ("%20") is a normal
// path character, so the decoded form may hold plain spaces.
func safeRelative(s string, spaceOK bool) bool {
	if s == "" || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for _, r := range s {
		if r == ' ' && spaceOK {
			continue
		}
		if r == '\\' || unicode.IsControl(r) || unicode.IsSpace(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
