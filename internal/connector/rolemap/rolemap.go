// Package rolemap derives a connector user's roles from what the
// connector vouches for: the upstream groups, the verified email's domain
// and (for OpenID Connect) claims of the ID token.
//
// A connector's role_rules are evaluated at every sign-in and at every
// refresh of an LDAP user; the user's roles are the union of the roles of
// every rule that matches, and nothing else. A rule matches when each
// condition it sets matches (groups AND email_domains AND claims), and a
// condition matches when any of its values does:
//
//	role_rules:
//	  - groups: [ops-admins]          # member of ops-admins
//	    roles: [admin]
//	  - email_domains: [example.com]  # verified address @example.com
//	    roles: [viewer]
//	  - claims: {department: [finance, audit]}
//	    roles: [finance-reader]
//
// Groups and email domains are compared without regard to case (LDAP and
// DNS names are case-insensitive); an email domain matches exactly, so
// example.com does not match sub.example.com, and only when the email is
// verified. Claim values are compared exactly.
package rolemap

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

// Rule maps an identity to roles: the roles apply when every condition
// set on the rule matches.
type Rule struct {
	// Groups matches when the identity is in one of these groups.
	Groups []string `yaml:"groups"`
	// EmailDomains matches when the identity's email is verified and
	// its domain is one of these.
	EmailDomains []string `yaml:"email_domains"`
	// Claims matches when, for each claim named, the identity's claim
	// holds one of the listed values (OpenID Connect only).
	Claims map[string][]string `yaml:"claims"`
	// Roles are granted when the rule matches.
	Roles []string `yaml:"roles"`
}

// Validate checks the rule's shape (not whether its roles exist): at least
// one condition, no empty values, at least one role. claims says whether
// the connector has claims (OpenID Connect).
func (r Rule) Validate(claims bool) error {
	if len(r.Groups) == 0 && len(r.EmailDomains) == 0 && len(r.Claims) == 0 {
		return errors.New("a rule needs at least one of groups, email_domains or claims")
	}
	if len(r.Roles) == 0 {
		return errors.New("roles: a rule needs at least one role")
	}
	for _, g := range r.Groups {
		if strings.TrimSpace(g) == "" {
			return errors.New("groups: a group name is empty")
		}
	}
	for _, d := range r.EmailDomains {
		if d == "" || strings.ContainsAny(d, "@ ") || strings.HasPrefix(d, ".") {
			return fmt.Errorf("email_domains: %q is not a domain; write it as example.com", d)
		}
	}
	if len(r.Claims) > 0 && !claims {
		return errors.New("claims: only oidc connectors have claims; use groups or email_domains")
	}
	for name, vals := range r.Claims {
		if name == "" || len(vals) == 0 {
			return fmt.Errorf("claims: %q needs at least one value", name)
		}
	}
	return nil
}

// Matches reports whether id satisfies every condition of r.
func (r Rule) Matches(id *connector.Identity) bool {
	if len(r.Groups) > 0 && !slices.ContainsFunc(r.Groups, func(g string) bool {
		return slices.ContainsFunc(id.Groups, func(h string) bool { return strings.EqualFold(g, h) })
	}) {
		return false
	}
	if len(r.EmailDomains) > 0 {
		_, domain, ok := strings.Cut(id.Email, "@")
		if !ok || !id.EmailVerified || strings.Contains(domain, "@") ||
			!slices.ContainsFunc(r.EmailDomains, func(d string) bool { return strings.EqualFold(d, domain) }) {
			return false
		}
	}
	for name, want := range r.Claims {
		have := id.Claims[name]
		if !slices.ContainsFunc(want, func(v string) bool { return slices.Contains(have, v) }) {
			return false
		}
	}
	return true
}

// Roles returns the sorted union of the roles of the rules id matches,
// nil when none does.
func Roles(rules []Rule, id *connector.Identity) []string {
	var out []string
	for _, r := range rules {
		if r.Matches(id) {
			out = append(out, r.Roles...)
		}
	}
	if len(out) == 0 {
		return nil
	}
	slices.Sort(out)
	return slices.Compact(out)
}
