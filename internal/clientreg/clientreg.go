// Package clientreg holds the rules for registering an OAuth client, and
// for the names an administrator gives things, in one place: the admin API
// and the CLI (on the database or over that API) apply the same checks, so
// a client the CLI refuses is refused by the API too.
//
// Errors are plain, user-facing sentences without flag or field names;
// callers add their own context.
package clientreg

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// MaxNameLen is the longest name (of a client, user, role or API key) in
// bytes.
const MaxNameLen = 200

// ErrScopeComma marks a scope with a comma: legal in RFC 6749 §3.3, but
// almost always a list written the wrong way.
var ErrScopeComma = errors.New("scope contains a comma")

// grantAliases are short names accepted for grant types.
var grantAliases = map[string]string{
	"device_code": protocol.GrantDeviceCode,
}

// ShortGrant is the alias of a grant type for tables ("device_code" for
// the device grant's URN), or the grant type itself.
func ShortGrant(g string) string {
	for alias, full := range grantAliases {
		if g == full {
			return alias
		}
	}
	return g
}

// LoopbackHost reports whether host is localhost or a loopback address.
func LoopbackHost(host string) bool { return loopbackHost(host) }

// KnownGrants are the grant types a client may be registered for.
var KnownGrants = []string{
	protocol.GrantAuthorizationCode,
	protocol.GrantClientCredentials,
	protocol.GrantRefreshToken,
	protocol.GrantDeviceCode,
}

// NormalizeGrants resolves aliases ("device_code"), removes duplicates and
// rejects unknown grant types.
func NormalizeGrants(in []string) ([]string, error) {
	var out []string
	for _, g := range in {
		g = strings.TrimSpace(g)
		if a, ok := grantAliases[g]; ok {
			g = a
		}
		if !slices.Contains(KnownGrants, g) {
			return nil, fmt.Errorf("unknown grant type %q; use authorization_code, client_credentials, refresh_token or device_code", g)
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out, nil
}

// CheckGrants enforces the combinations: authorization_code needs redirect
// URIs and only it uses them; refresh_token needs a grant that issues
// refresh tokens; a public client cannot use client_credentials.
func CheckGrants(grants, redirectURIs []string, public bool) error {
	has := func(g string) bool { return slices.Contains(grants, g) }
	switch {
	case len(grants) == 0:
		return errors.New("give at least one grant type: authorization_code, client_credentials, refresh_token or device_code")
	case has(protocol.GrantAuthorizationCode) && len(redirectURIs) == 0:
		return errors.New("the authorization_code grant needs at least one redirect URI")
	case !has(protocol.GrantAuthorizationCode) && len(redirectURIs) > 0:
		return errors.New("redirect URIs are only used by the authorization_code grant")
	case has(protocol.GrantRefreshToken) && !has(protocol.GrantAuthorizationCode) && !has(protocol.GrantDeviceCode):
		return errors.New("the refresh_token grant needs authorization_code or device_code: client_credentials gets no refresh tokens (RFC 6749 §4.4.3)")
	case public && has(protocol.GrantClientCredentials):
		return errors.New("a public client cannot use client_credentials: it has no secret to authenticate with (RFC 6749 §4.4)")
	}
	return nil
}

// CheckScopes splits space-separated values and checks each scope token
// against RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
// Each value may hold several scopes separated by spaces; the result has
// one scope per element, without duplicates.
func CheckScopes(in []string) ([]string, error) {
	var out []string
	for _, v := range in {
		for _, s := range strings.Fields(v) {
			for i := 0; i < len(s); i++ {
				c := s[i]
				if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
					return nil, fmt.Errorf("scope %q contains a character RFC 6749 §3.3 does not allow", s)
				}
			}
			if strings.Contains(s, ",") {
				return nil, fmt.Errorf("scope %q: %w", s, ErrScopeComma)
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out, nil
}

// CheckScopeList is CheckScopes for a list whose every element must be one
// scope: an element with a space ("a b") is refused, not split, since a
// JSON array of scopes that holds one is a mistake.
func CheckScopeList(in []string) ([]string, error) {
	for _, s := range in {
		if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
			return nil, fmt.Errorf("scope %q must be one scope token, without spaces (RFC 6749 §3.3)", s)
		}
	}
	return CheckScopes(in)
}

// CheckRedirectURI enforces the registration rules for a redirect URI:
// absolute, without fragment (RFC 6749 §3.1.2 "The endpoint URI MUST NOT
// include a fragment component") or user info; https, http only for a
// loopback host (RFC 8252 §7.3; a loopback URI without port matches any
// port), or a private-use scheme in reverse domain form (RFC 8252 §7.1).
func CheckRedirectURI(s string) error {
	bad := func(why string) error { return fmt.Errorf("redirect URI %q %s", s, why) }
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

// The regexp is compiled on first use, not at package initialisation,
// which every gatehouse process (client commands included) would pay.
var clientIDRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$`)
})

// CheckClientID accepts 1-128 URL-unreserved characters starting with a
// letter or digit, so an id never needs escaping in a URL or a path
// ("bad id/../x" is refused).
func CheckClientID(id string) error {
	if !clientIDRE().MatchString(id) {
		return fmt.Errorf("client ID %q must be 1-128 letters, digits, '.', '_', '~' or '-', starting with a letter or digit", id)
	}
	return nil
}

// CheckName refuses a name (what says of what: "client name", "username",
// ...) that is longer than MaxNameLen bytes or that CheckText refuses.
func CheckName(what, name string) error {
	if len(name) > MaxNameLen && strings.TrimSpace(name) != "" {
		return fmt.Errorf("%s is longer than %d bytes", what, MaxNameLen)
	}
	return CheckText(what, name)
}

// CheckText refuses text (what says of what) that is empty, not UTF-8, or
// holds a control character: CR and LF would split log lines and headers,
// and the others have no place in a name either. Callers set their own
// length limit.
func CheckText(what, s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("%s must not be empty", what)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", what)
	case strings.ContainsFunc(s, isControl):
		return fmt.Errorf("%s %q contains a control character (such as CR or LF)", what, s)
	}
	return nil
}

// isControl is a C0 or C1 control character, or a Unicode line or
// paragraph separator.
func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// ErrTerminalLoginThirdParty refuses terminal sign-in (the password grant)
// for a client that is not first-party.
var ErrTerminalLoginThirdParty = errors.New("terminal sign-in (the password grant) is only for first-party clients: " +
	"a third-party application must never see users' passwords (RFC 9700 §2.4)")

// CheckTerminalLogin enforces that only a first-party client may have
// terminal sign-in.
func CheckTerminalLogin(firstParty, terminalLogin bool) error {
	if terminalLogin && !firstParty {
		return ErrTerminalLoginThirdParty
	}
	return nil
}
