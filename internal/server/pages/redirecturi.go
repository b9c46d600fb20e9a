package pages

import (
	"net/url"
	"strings"
)

// How the front channel sends a browser to a client's redirect URI; which
// redirect URIs a client may use is decided in internal/server/oauth
// (redirecturi.go).

// redirectOrigin is the CSP source expression for the target of a
// redirect URI ("https://app.example:8443", or "com.example.app:" for a
// private-use scheme), or "" if it cannot be expressed safely.
func redirectOrigin(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	src := strings.ToLower(u.Scheme) + ":"
	if u.Host != "" {
		src += "//" + strings.ToLower(u.Host)
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(":/.-+[]_", c) >= 0
		if !ok {
			return ""
		}
	}
	return src
}

// withQuery appends params to the query of redirectURI, keeping whatever
// query the registered URI already had byte for byte (RFC 6749 §3.1.2:
// the query component "MUST be retained when adding additional query
// parameters").
func withQuery(redirectURI string, params url.Values) string {
	base, _, _ := strings.Cut(redirectURI, "#")
	enc := params.Encode()
	switch {
	case enc == "":
		return base
	case strings.Contains(base, "?"):
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			return base + enc
		}
		return base + "&" + enc
	default:
		return base + "?" + enc
	}
}
