package oauth

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Audiences and the server's own resources.
//
// Every access token names its audience (RFC 9068 §2.2 "aud") and carries
// only the scopes granted for it. A client asks for resources with the
// resource parameter (RFC 8707) at the authorization, device authorization
// and token endpoints; without one it gets its registered audiences, or
// its own client id when it has none, so that a token handed to one client
// is not accepted by a resource server configured for another.
//
// The server's own APIs are resources with fixed identifiers under the
// issuer: the admin API (AdminResource) and the account API
// (AccountResource). Tokens for them are never issued by default: a
// first-party client must ask for the resource and for its scope (admin,
// account), and the API still checks the user's current roles.

// Scopes that open the server's own APIs. Only first-party clients may
// obtain them, and only when asked for by name.
const (
	ScopeAdmin   = "admin"
	ScopeAccount = "account"
)

// Paths, under the issuer, of the server's own resource identifiers.
const (
	adminResourcePath   = "/admin"
	accountResourcePath = "/account"
)

// AdminResource is the resource identifier of the admin API of the server
// with issuer: the aud a token needs for /admin/v1.
func AdminResource(issuer string) string { return strings.TrimRight(issuer, "/") + adminResourcePath }

// AccountResource is the resource identifier of the account API of the
// server with issuer.
func AccountResource(issuer string) string {
	return strings.TrimRight(issuer, "/") + accountResourcePath
}

// reservedScope reports whether sc opens one of the server's own APIs.
func reservedScope(sc string) bool { return sc == ScopeAdmin || sc == ScopeAccount }

// reservedResource reports whether res is one of this server's own APIs.
func (e *Endpoints) reservedResource(res string) bool {
	return res == AdminResource(e.issuer) || res == AccountResource(e.issuer)
}

// ValidResourceIndicator checks RFC 8707 §2: "The value of the resource
// parameter MUST be an absolute URI ... The URI MUST NOT include a fragment
// component."
func ValidResourceIndicator(res string) bool {
	u, err := url.Parse(res)
	return err == nil && u.IsAbs() && u.Fragment == "" && !strings.Contains(res, "#") &&
		!strings.ContainsFunc(res, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// ResourceParams returns the resource parameters of a request, in order,
// without duplicates.
func ResourceParams(v url.Values) []string {
	var out []string
	for _, r := range v["resource"] {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// ResolveResources decides the audience of what client c asks for with
// requested (the resource parameters). Each must be a valid resource
// indicator the client may ask for: one of its registered audiences, or,
// for a first-party client, one of this server's own APIs. Otherwise the
// request fails with invalid_target (RFC 8707 §2). Without a request the
// audience is the client's default (defaultAudience).
func (e *Endpoints) ResolveResources(c *storage.Client, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return e.defaultAudience(c), nil
	}
	for _, res := range requested {
		if !ValidResourceIndicator(res) {
			return nil, protocol.Errorf(protocol.ErrInvalidTarget, "resource %q is not an absolute URI without a fragment (RFC 8707)", res)
		}
		switch {
		case e.reservedResource(res):
			if !c.FirstParty {
				return nil, protocol.Errorf(protocol.ErrInvalidTarget, "resource %q is open to first-party clients only", res)
			}
		case !slices.Contains(c.Audiences, res):
			return nil, protocol.Errorf(protocol.ErrInvalidTarget, "resource %q is not an audience of this client", res)
		}
	}
	return slices.Clone(requested), nil
}

// defaultAudience is the aud of a token whose request named no resource:
// the client's registered audiences other than the server's own APIs, or,
// when that leaves none, the client's id, so that the token is good for
// no resource server but one configured for this very client.
func (e *Endpoints) defaultAudience(c *storage.Client) []string {
	var out []string
	for _, a := range c.Audiences {
		if !e.reservedResource(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return []string{c.ID}
	}
	return out
}

// narrowResources applies RFC 8707 §2.2 at the token endpoint for a grant
// already authorised for granted: a resource parameter there asks for an
// access token for some of them; one that was not authorised is
// invalid_target. Without a parameter the token is for all of granted.
func narrowResources(granted, requested []string) ([]string, error) {
	if len(requested) == 0 {
		return slices.Clone(granted), nil
	}
	for _, res := range requested {
		if !slices.Contains(granted, res) {
			return nil, protocol.Errorf(protocol.ErrInvalidTarget, "resource %q was not part of the authorization", res)
		}
	}
	return slices.Clone(requested), nil
}

// CheckClientRegistration checks the audiences of c (each an absolute URI
// without a fragment) and refuses what only a first-party client may be
// registered with: the admin and account scopes and the own resources of
// the server with issuer. (A third-party client could never obtain them
// anyway; the registration says so at once instead of failing at login.)
func CheckClientRegistration(issuer string, c *storage.Client) error {
	for _, a := range c.Audiences {
		if !ValidResourceIndicator(a) {
			return fmt.Errorf("audience %q is not an absolute URI without a fragment (RFC 8707)", a)
		}
	}
	if c.FirstParty {
		return nil
	}
	for _, sc := range c.Scopes {
		if reservedScope(sc) {
			return fmt.Errorf("scope %q is open to first-party clients only", sc)
		}
	}
	for _, a := range c.Audiences {
		if a == AdminResource(issuer) || a == AccountResource(issuer) {
			return fmt.Errorf("audience %q is open to first-party clients only", a)
		}
	}
	return nil
}

// HasAudience reports whether a token's aud names res.
func HasAudience(aud []string, res string) bool { return slices.Contains(aud, res) }
