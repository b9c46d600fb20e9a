package inbound

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadPath is wrapped by every error Path returns; the gateway answers
// 400 Bad Request.
var ErrBadPath = errors.New("bad request path")

// MaxPathLength bounds the escaped path Path accepts, in bytes.
const MaxPathLength = 8 << 10

// Path returns the one canonical, decoded form of an escaped request path
// (r.URL.EscapedPath(), or the path part of a raw request-target, without
// query or fragment). Both the policy and the upstream must see this result.
//
// It refuses (with an error wrapping ErrBadPath) a path that does not start
// with "/", is longer than MaxPathLength, or contains — raw or
// percent-encoded — a backslash, a ';' (path parameters, which Tomcat and
// others strip: "/admin;x" is /admin there), a NUL or any other control
// character (C0, DEL, C1); an encoded slash ("%2F": one server splits on it,
// another does not); a raw '?' or '#' (the caller passed more than the
// path); invalid percent-encoding; decoded bytes that are not valid UTF-8
// (which rules out overlong forms such as "%C0%AF" for '/'); and a decoded
// '%' followed by two hex digits (double encoding such as "%252e", which an
// upstream that decodes twice would read differently).
//
// Every other percent-encoding is decoded once ("%61dmin" is "admin",
// "%2e%2e" is ".."), runs of slashes collapse to one, and "." and ".."
// segments are resolved as in RFC 3986 §5.2.4 ("remove_dot_segments"); ".."
// above the root stays at the root. A trailing slash is kept, and a path
// ending in a "." or ".." segment ends in a slash, as in the RFC.
//
// Case is preserved: "/Admin" stays "/Admin". The policy matches paths
// case-insensitively, so an upstream that treats "/ADMIN" as "/admin" is
// covered without Path changing what the upstream receives.
func Path(escaped string) (string, error) {
	if len(escaped) > MaxPathLength {
		return "", fmt.Errorf("inbound: path longer than %d bytes: %w", MaxPathLength, ErrBadPath)
	}
	if !strings.HasPrefix(escaped, "/") {
		return "", fmt.Errorf("inbound: path does not start with /: %w", ErrBadPath)
	}
	decoded := make([]byte, 0, len(escaped))
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' {
			if i+2 >= len(escaped) || !isHex(escaped[i+1]) || !isHex(escaped[i+2]) {
				return "", fmt.Errorf("inbound: invalid percent-encoding at byte %d: %w", i, ErrBadPath)
			}
			c = unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			i += 2
			if c == '/' {
				return "", fmt.Errorf("inbound: encoded slash: %w", ErrBadPath)
			}
		} else if c == '?' || c == '#' {
			return "", fmt.Errorf("inbound: %q in path: %w", c, ErrBadPath)
		}
		switch {
		case c == '\\':
			return "", fmt.Errorf("inbound: backslash in path: %w", ErrBadPath)
		case c == ';':
			return "", fmt.Errorf("inbound: path parameter: %w", ErrBadPath)
		}
		decoded = append(decoded, c)
	}
	if !utf8.Valid(decoded) {
		return "", fmt.Errorf("inbound: path is not valid UTF-8: %w", ErrBadPath)
	}
	s := string(decoded)
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("inbound: control character %U in path: %w", r, ErrBadPath)
		}
	}
	for _, r := range s {
		if r >= utf8.RuneSelf && foldsToASCII(r) {
			// An application that folds case with Unicode rules (.NET's
			// ToUpperInvariant, Java's equalsIgnoreCase) reads "/admın" or
			// "/ſtatic" as "/ADMIN" or "/STATIC", which the policy does not.
			return "", fmt.Errorf("inbound: %U in path changes into ASCII with case folding: %w", r, ErrBadPath)
		}
	}
	for i := strings.IndexByte(s, '%'); i >= 0; {
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			return "", fmt.Errorf("inbound: double percent-encoding: %w", ErrBadPath)
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	out := removeDotSegments(s)
	for _, seg := range strings.Split(out, "/") {
		if strings.HasSuffix(seg, ".") || strings.HasSuffix(seg, " ") || strings.HasPrefix(seg, " ") ||
			strings.TrimRightFunc(seg, unicode.IsSpace) != seg {
			// Windows servers (IIS, Kestrel on Windows) drop trailing dots
			// and spaces: "/admin." would be "/admin" to them.
			return "", fmt.Errorf("inbound: path segment with a trailing dot or space: %w", ErrBadPath)
		}
	}
	return out, nil
}

// foldsToASCII reports whether a non-ASCII rune becomes an ASCII one by
// case mapping or simple case folding (ı→I, İ→i, ſ→S, K→k, Å is not: it
// folds to å), or is a full-width form of an ASCII character, which NFKC
// normalisation turns into that character.
func foldsToASCII(r rune) bool {
	if unicode.ToUpper(r) < utf8.RuneSelf || unicode.ToLower(r) < utf8.RuneSelf || unicode.ToTitle(r) < utf8.RuneSelf {
		return true
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return true
		}
	}
	return r >= 0xFF01 && r <= 0xFF5E
}

// removeDotSegments resolves "." and ".." (RFC 3986 §5.2.4) in an absolute
// path and collapses empty segments, keeping a trailing slash.
func removeDotSegments(p string) string {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case "", ".":
			trailing = last
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			trailing = last
		default:
			out = append(out, seg)
			trailing = false
		}
	}
	if len(out) == 0 {
		return "/"
	}
	s := "/" + strings.Join(out, "/")
	if trailing {
		s += "/"
	}
	return s
}

// Escape returns the escaped form of a path returned by Path, to be sent
// upstream; Path(Escape(p)) == p.
func Escape(path string) string {
	u := url.URL{Path: path}
	return u.EscapedPath()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
