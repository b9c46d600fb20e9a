package config

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap"
	"github.com/gatehouse-auth/gatehouse/internal/connector/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/connector/rolemap"
)

// Connector types.
const (
	ConnectorLDAP = "ldap"
	ConnectorOIDC = "oidc"
)

// Connector is one entry of connectors: a directory or upstream provider
// people sign in with (docs/connectors.md).
type Connector struct {
	// ID names the connector in URLs (/login/connector/ID), in audit
	// events (actor connector:ID) and in the link of its users: lower
	// case letters, digits and "-". Changing it unlinks its users.
	ID string `yaml:"id"`
	// Type is ldap or oidc.
	Type string `yaml:"type"`
	// Name is shown on the login page ("Sign in with Name").
	Name string `yaml:"name"`
	// LDAP configures an ldap connector (only for type ldap).
	LDAP *ldap.Config `yaml:"ldap"`
	// OIDC configures an oidc connector (only for type oidc).
	OIDC *oidc.Config `yaml:"oidc"`
	// RoleRules derive the user's roles at every sign-in (and refresh
	// of an LDAP user): the union of the roles of the matching rules.
	RoleRules []rolemap.Rule `yaml:"role_rules"`
	// TrustUpstreamMFA (oidc only) lets an ID token whose amr says the
	// person used a second factor satisfy mfa.required_roles and an
	// enrolled TOTP.
	TrustUpstreamMFA bool `yaml:"trust_upstream_mfa"`
}

var connectorID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// roleNameRE is the syntax of a role name (server.ValidRoleName); that
// custom roles exist is checked when the server starts.
var roleNameRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// validateConnectors checks connectors: unique ids, a known type with its
// sub-block and no other, a display name, role rules of the right shape
// with role names.
func validateConnectors(bad func(key, format string, args ...any), cs []Connector) {
	seen := map[string]bool{}
	for i, c := range cs {
		key := fmt.Sprintf("connectors[%d]", i)
		switch {
		case !connectorID.MatchString(c.ID):
			bad(key+".id", "%q is not a connector id: 1 to 63 lower case letters, digits and -, e.g. corp or google", c.ID)
		case seen[c.ID]:
			bad(key+".id", "%q is used by another connector; ids must be unique", c.ID)
		}
		seen[c.ID] = true
		if n := c.Name; strings.TrimSpace(n) == "" || len(n) > 64 || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			bad(key+".name", "must be 1 to 64 characters without control characters (it is shown on the login page)")
		}
		switch c.Type {
		case ConnectorLDAP:
			if c.OIDC != nil {
				bad(key+".oidc", "an ldap connector takes an ldap: block, not oidc:")
			}
			if c.TrustUpstreamMFA {
				bad(key+".trust_upstream_mfa", "only oidc connectors can assert MFA; remove it")
			}
			validateLDAP(bad, key, c)
		case ConnectorOIDC:
			if c.OIDC == nil {
				bad(key+".oidc", "an oidc connector needs an oidc: block (issuer, client_id, client_secret_file...)")
			} else if err := c.OIDC.Validate(); err != nil {
				bad(key+".oidc", "%v", err)
			}
			if c.hasLDAP() {
				bad(key+".ldap", "an oidc connector takes an oidc: block, not ldap:")
			}
		default:
			bad(key+".type", "%q is not a connector type; use ldap or oidc", c.Type)
		}
		for j, r := range c.RoleRules {
			rk := fmt.Sprintf("%s.role_rules[%d]", key, j)
			if err := r.Validate(c.Type == ConnectorOIDC); err != nil {
				bad(rk, "%v", err)
			}
			for _, role := range r.Roles {
				if !roleNameRE.MatchString(role) {
					bad(rk+".roles", "%q is not a role name (lower case letters, digits, _ . and -)", role)
				}
			}
		}
	}
}
