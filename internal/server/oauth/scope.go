package oauth

import (
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// ParseScope splits a space-delimited scope parameter (RFC 6749 §3.3),
// dropping duplicates and keeping order.
func ParseScope(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// JoinScope is the scope parameter of scopes (RFC 6749 §3.3).
func JoinScope(scopes []string) string { return strings.Join(scopes, " ") }

// resolveScopes checks a requested scope against what the client is
// registered for. An empty request means every registered scope
// (RFC 6749 §3.3 lets the server pick a default) except the admin and
// account scopes, which are only ever granted when asked for by name, and
// only to a first-party client (registered for them or not).
func resolveScopes(c *storage.Client, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.DeleteFunc(slices.Clone(c.Scopes), reservedScope), nil
	}
	for _, sc := range requested {
		if reservedScope(sc) {
			if !c.FirstParty {
				return nil, protocol.Errorf(protocol.ErrInvalidScope, "scope %q is open to first-party clients only", sc)
			}
			continue
		}
		if identityScope(sc) && slices.Contains(c.Scopes, ScopeOpenID) {
			continue // OIDC Core §5.4: any OpenID client may ask for claims
		}
		if !slices.Contains(c.Scopes, sc) {
			return nil, protocol.Errorf(protocol.ErrInvalidScope, "scope %q is not allowed for this client", sc)
		}
	}
	return requested, nil
}

// SubsetOf reports whether every element of a is in b.
func SubsetOf(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
