package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// grantAliases are the short names accepted by --grant.
var grantAliases = map[string]string{
	"device_code": protocol.GrantDeviceCode,
}

// knownGrants are the grant types a client may be registered for.
var knownGrants = []string{
	protocol.GrantAuthorizationCode,
	protocol.GrantClientCredentials,
	protocol.GrantRefreshToken,
	protocol.GrantDeviceCode,
}

// normalizeGrants resolves aliases, removes duplicates and rejects unknown
// grant types.
func normalizeGrants(in []string) ([]string, error) {
	var out []string
	for _, g := range in {
		g = strings.TrimSpace(g)
		if a, ok := grantAliases[g]; ok {
			g = a
		}
		if !slices.Contains(knownGrants, g) {
			return nil, usageErrorf("unknown grant type %q; use authorization_code, client_credentials, refresh_token or device_code", g)
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// checkRoles removes duplicates and rejects names that cannot be roles.
// Whether a custom role exists is checked on the database
// (checkRolesExist) or by the admin API.
func checkRoles(in []string) ([]string, error) {
	var out []string
	for _, r := range in {
		r = strings.ToLower(strings.TrimSpace(r))
		if !server.ValidRoleName(r) {
			return nil, usageErrorf("unknown role %q: role names are [a-z][a-z0-9_.-]; the built-in ones are %s", r, strings.Join(server.BuiltinRoles, ", "))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// checkScopes splits space-separated values and checks each scope token
// against RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
// A comma is legal there but almost always a mistake on a command line.
func checkScopes(in []string) ([]string, error) {
	var out []string
	for _, v := range in {
		for _, s := range strings.Fields(v) {
			for i := 0; i < len(s); i++ {
				c := s[i]
				if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
					return nil, usageErrorf("scope %q contains a character RFC 6749 §3.3 does not allow", s)
				}
			}
			if strings.Contains(s, ",") {
				return nil, usageErrorf("scope %q contains a comma; repeat --scope for each scope", s)
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// checkRedirectURI enforces the registration rules for a redirect URI:
// absolute, without fragment (RFC 6749 §3.1.2 "The endpoint URI MUST NOT
// include a fragment component") or user info; https, http only for a
// loopback host (RFC 8252 §7.3; a loopback URI without port matches any
// port), or a private-use scheme in reverse domain form (RFC 8252 §7.1).
func checkRedirectURI(s string) error {
	bad := func(why string) error { return usageErrorf("redirect URI %q %s", s, why) }
	if s == "" {
		return bad("is empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] == 0x7f || s[i] == '\\' {
			return bad("contains a space, control character or backslash")
		}
	}
	if strings.Contains(s, "#") {
		return bad("must not contain a fragment (RFC 6749 §3.1.2)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("is not a URL")
	}
	if u.Scheme == "" {
		return bad("must be absolute, e.g. https://app.example/callback")
	}
	if u.User != nil {
		return bad("must not contain user info")
	}
	if !strings.HasPrefix(s, u.Scheme+":") {
		return bad("must have a lowercase scheme")
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return bad("has no host")
		}
	case "http":
		if !loopbackHost(u.Hostname()) {
			return bad("uses http with a non-loopback host; use https (http is only for 127.0.0.1, [::1] and localhost)")
		}
	default:
		// RFC 8252 §7.1: private-use URI schemes "based on a domain name
		// under their control, expressed in reverse order".
		if !strings.Contains(u.Scheme, ".") {
			return bad("must use https, http on a loopback host, or a private-use scheme in reverse domain form (com.example.app:/callback)")
		}
	}
	return nil
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// The regexps are compiled on first use, not at package initialisation,
// which every gatehouse process (client commands included) would pay.
var (
	clientIDRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$`)
	})
	nonSlugRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[^a-z0-9]+`) })
)

// checkClientID accepts 1-128 URL-unreserved characters starting with a
// letter or digit.
func checkClientID(id string) error {
	if !clientIDRE().MatchString(id) {
		return usageErrorf("client ID %q must be 1-128 letters, digits, '.', '_', '~' or '-', starting with a letter or digit", id)
	}
	return nil
}

// slugClientID derives a client ID from a client name: lower case, runs of
// other characters replaced by "-".
func slugClientID(name string) (string, error) {
	id := strings.Trim(nonSlugRE().ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(id) > 64 {
		id = strings.TrimRight(id[:64], "-")
	}
	if id == "" {
		return "", usageErrorf("cannot derive a client ID from the name %q; pass one with --id", name)
	}
	return id, nil
}

// readJWKS reads a JSON Web Key Set of public keys for private_key_jwt and
// returns it compacted.
func readJWKS(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", usageErrorf("--jwks-file: %w", err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return "", usageErrorf("--jwks-file %s: not a JSON Web Key Set: %w", path, err)
	}
	if len(set.Keys) == 0 {
		return "", usageErrorf("--jwks-file %s: the key set has no keys", path)
	}
	for i, k := range set.Keys {
		if !k.Valid() {
			return "", usageErrorf("--jwks-file %s: key %d is not valid", path, i)
		}
		if !k.IsPublic() {
			return "", usageErrorf("--jwks-file %s: key %d is a private key; register only public keys", path, i)
		}
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return "", fmt.Errorf("--jwks-file %s: %w", path, err)
	}
	return buf.String(), nil
}
