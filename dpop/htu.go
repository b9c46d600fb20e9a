package dpop

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// NormalizeURL returns the form of an htu value, or of a request's URI,
// that Verify compares: RFC 9449 §4.3 says the htu claim matches "the HTTP
// URI value for the HTTP request in which the JWT was received, ignoring
// any query and fragment parts", and recommends syntax-based and
// scheme-based normalization (RFC 3986 §6.2.2, §6.2.3). So the scheme and
// host are lower-cased, the default port (80 for http, 443 for https) is
// dropped, an empty path becomes "/", percent-escapes are written in
// upper case and unreserved characters unescaped, and the userinfo, query
// and fragment are dropped. ok is false when rawURL is not an absolute
// http or https URL.
func NormalizeURL(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := strings.ToLower(u.Host)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") || port == "" {
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]"
			}
		}
	}
	if host == "" || host == "[]" {
		return "", false
	}
	path := normalizeEscapes(u.EscapedPath())
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, true
}

// RequestURL returns the URI of r as the server sees it, for Verify:
// scheme is "https" or "http" (the caller knows which: r.TLS, or a
// trusted X-Forwarded-Proto), host is the Host the request was sent to
// (r.Host unless a trusted proxy forwarded another), and the path is
// r.URL's.
func RequestURL(r *http.Request, scheme, host string) string {
	if host == "" {
		host = r.Host
	}
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + host + r.URL.EscapedPath()
}

// normalizeEscapes writes percent-escapes in upper case and unescapes
// the unreserved characters (RFC 3986 §6.2.2.1, §6.2.2.2); p is a valid
// escaped path.
func normalizeEscapes(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 > len(p)-1 {
			b.WriteByte(p[i])
			continue
		}
		hi, lo := unhex(p[i+1]), unhex(p[i+2])
		if hi < 0 || lo < 0 {
			b.WriteByte(p[i])
			continue
		}
		c := byte(hi<<4 | lo)
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			const digits = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&15])
		}
		i += 2
	}
	return b.String()
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}
