package protocol

import (
	"net/url"
	"strings"
)

// SameBareOrigin reports whether a and b are one issuer that is a bare
// origin (no path but "/"), written with and without its trailing slash.
// Such issuers share their metadata URLs (RFC 8414 §3.1 removes the
// terminating "/"), which is why Hydra's default issuer "https://host/"
// and the "https://host" a person types are the same server. Issuers with
// a path are never treated so: there the slash is part of the identifier.
//
// Callers that accept such a pair must then compare a token's iss with
// the discovery document's spelling byte for byte.
func SameBareOrigin(a, b string) bool {
	if strings.TrimSuffix(a, "/") != strings.TrimSuffix(b, "/") {
		return false
	}
	for _, s := range []string{a, b} {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return false
		}
	}
	return true
}
