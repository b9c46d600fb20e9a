package oidc

import (
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// lookup finds the claim at path: first a top-level claim of that exact
// name (so "https://example.com/groups" works), then the dotted path
// through nested objects ("realm_access.roles").
func lookup(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	if !strings.Contains(path, ".") {
		return nil, false
	}
	var cur any = claims
	for name := range strings.SplitSeq(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[name]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// stringClaim reads the string claim at path; "" when missing or not a
// string.
func stringClaim(claims map[string]any, path string) string {
	v, _ := lookup(claims, path)
	s, _ := v.(string)
	return s
}

// stringList reads a claim that is one string or an array; elements that
// are not strings are left out, and so are empty strings.
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// verified reads email_verified: a boolean, or (some providers) the
// string "true".
func verified(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// protocolClaims are claims about the token rather than the person,
// left out of Identity.Claims.
var protocolClaims = []string{"iss", "aud", "azp", "nonce", "at_hash", "c_hash", "jti", "sid", "typ"}

// identity maps the ID token's claims, and for what it lacks the userinfo
// claims (nil when userinfo was not read), to an Identity. The subject,
// the amr and Google's hd come from the ID token only.
func (c *Connector) identity(idClaims, info map[string]any) (*connector.Identity, error) {
	sub := stringClaim(idClaims, orDefault(c.cfg.SubjectClaim, "sub"))
	if sub == "" {
		return nil, c.invalid("ID token: the subject claim %q is missing or not a string", orDefault(c.cfg.SubjectClaim, "sub"))
	}
	// from is the claims that hold path: the ID token's, else userinfo's.
	from := func(path string) map[string]any {
		if _, ok := lookup(idClaims, path); ok || info == nil {
			return idClaims
		}
		return info
	}
	id := &connector.Identity{ConnectorID: c.id, Subject: sub}

	// The email and whether it is verified come from the same place.
	emailPath := orDefault(c.cfg.EmailClaim, "email")
	src := from(emailPath)
	id.Email = stringClaim(src, emailPath)
	if id.Email != "" {
		id.EmailVerified = verified(src["email_verified"])
	}
	namePath := orDefault(c.cfg.NameClaim, "name")
	id.Name = stringClaim(from(namePath), namePath)
	groupsPath := orDefault(c.cfg.GroupsClaim, DefaultGroupsClaim)
	g, _ := lookup(from(groupsPath), groupsPath)
	id.Groups = stringList(g)

	// The username: the configured claim (preferred_username by
	// default), then the email, then the subject.
	userPath := orDefault(c.cfg.UsernameClaim, "preferred_username")
	id.Username = stringClaim(from(userPath), userPath)
	if id.Username == "" {
		id.Username = id.Email
	}
	if id.Username == "" {
		id.Username = sub
	}
	id.AMR, _ = jwt.StringList(idClaims["amr"])

	id.Claims = map[string][]string{}
	for _, m := range []map[string]any{info, idClaims} { // the ID token wins
		for k, v := range m {
			if slices.Contains(protocolClaims, k) {
				continue
			}
			switch v.(type) {
			case string, []any:
				if l := stringList(v); l != nil {
					id.Claims[k] = l
				}
			}
		}
	}
	return id, nil
}

// allow applies the connector's restrictions to an identity; idClaims
// are the ID token's claims (hd is trusted only from there).
func (c *Connector) allow(id *connector.Identity, idClaims map[string]any) error {
	// Google: "hd" in the ID token is the Workspace domain of the
	// account; the hd parameter of the request is only a hint that a
	// person can edit, so the claim is what decides.
	if hd := c.cfg.HostedDomain; hd != "" {
		got, _ := idClaims["hd"].(string)
		if got != hd {
			if got == "" {
				return c.notAllowed("the account is not in the hosted domain %s (the ID token has no hd: a personal account?)", hd)
			}
			return c.notAllowed("the account's hosted domain %.128q is not %s", got, hd)
		}
	}
	if c.cfg.requireVerified() && !id.EmailVerified {
		if id.Email == "" {
			return c.notAllowed("the provider sent no email address, and this connector admits only verified addresses")
		}
		return c.notAllowed("the email address %.128q is not verified at the provider", id.Email)
	}
	if len(c.cfg.AllowedEmailDomains) > 0 {
		at := strings.LastIndexByte(id.Email, '@')
		if at < 0 {
			return c.notAllowed("the provider sent no usable email address, and this connector admits only some email domains")
		}
		domain := id.Email[at+1:]
		if !slices.ContainsFunc(c.cfg.AllowedEmailDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			return c.notAllowed("the email domain %.128q is not allowed here", domain)
		}
	}
	return nil
}
