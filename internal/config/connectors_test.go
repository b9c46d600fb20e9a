package config

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/connector/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/connector/rolemap"
)

func oidcConnector(id string) Connector {
	return Connector{ID: id, Type: ConnectorOIDC, Name: "Google",
		OIDC:      &oidc.Config{Issuer: "https://accounts.google.com", ClientID: "cid", ClientSecretEnv: "GOOGLE_SECRET"},
		RoleRules: []rolemap.Rule{{EmailDomains: []string{"example.com"}, Roles: []string{"viewer"}}}}
}

func TestValidateConnectors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(cs []Connector) []Connector
		wantKey string
		wantErr string
	}{
		{"valid", func(cs []Connector) []Connector { return cs }, "", ""},
		{"bad id", func(cs []Connector) []Connector { cs[0].ID = "Google!"; return cs }, "connectors[0].id", "not a connector id"},
		{"empty id", func(cs []Connector) []Connector { cs[0].ID = ""; return cs }, "connectors[0].id", "not a connector id"},
		{"duplicate id", func(cs []Connector) []Connector { return append(cs, oidcConnector("google")) }, "connectors[1].id", "used by another connector"},
		{"no name", func(cs []Connector) []Connector { cs[0].Name = " "; return cs }, "connectors[0].name", "1 to 64 characters"},
		{"unknown type", func(cs []Connector) []Connector { cs[0].Type = "saml"; return cs }, "connectors[0].type", `"saml" is not a connector type`},
		{"oidc without block", func(cs []Connector) []Connector { cs[0].OIDC = nil; return cs }, "connectors[0].oidc", "needs an oidc: block"},
		{"oidc block invalid", func(cs []Connector) []Connector { cs[0].OIDC.ClientID = ""; return cs }, "connectors[0].oidc", "client_id is required"},
		{"rule without condition", func(cs []Connector) []Connector { cs[0].RoleRules[0].EmailDomains = nil; return cs }, "connectors[0].role_rules[0]", "at least one of groups"},
		{"rule without roles", func(cs []Connector) []Connector { cs[0].RoleRules[0].Roles = nil; return cs }, "connectors[0].role_rules[0]", "at least one role"},
		{"bad role name", func(cs []Connector) []Connector { cs[0].RoleRules[0].Roles = []string{"Admin"}; return cs }, "connectors[0].role_rules[0].roles", "not a role name"},
		{"ldap with oidc block", func(cs []Connector) []Connector { cs[0].Type = ConnectorLDAP; return cs }, "connectors[0].oidc", "takes an ldap: block"},
		{"trust mfa on ldap", func(cs []Connector) []Connector {
			cs[0].Type, cs[0].OIDC, cs[0].TrustUpstreamMFA = ConnectorLDAP, nil, true
			return cs
		}, "connectors[0].trust_upstream_mfa", "only oidc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Connectors = tc.change([]Connector{oidcConnector("google")})
			err := c.Validate()
			switch {
			case tc.wantKey == "" && err != nil:
				t.Errorf("valid: %v", err)
			case tc.wantKey != "" && (err == nil || !strings.Contains(err.Error(), "config: "+tc.wantKey+": ") || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one at %s about %q", err, tc.wantKey, tc.wantErr)
			}
		})
	}
}

func TestLoadConnectors(t *testing.T) {
	yml := `connectors:
  - id: google
    type: oidc
    name: Google
    oidc:
      issuer: https://accounts.google.com
      client_id: cid.apps.googleusercontent.com
      client_secret_env: GOOGLE_CLIENT_SECRET
      hosted_domain: example.com
    role_rules:
      - email_domains: [example.com]
        roles: [viewer]
      - claims: {department: [finance]}
        roles: [editor]
    trust_upstream_mfa: true
`
	c, err := Load(serverFlags(t, "--config", writeFile(t, yml)), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Connectors) != 1 {
		t.Fatalf("connectors = %+v", c.Connectors)
	}
	g := c.Connectors[0]
	if g.ID != "google" || g.OIDC == nil || g.OIDC.HostedDomain != "example.com" || !g.TrustUpstreamMFA ||
		len(g.RoleRules) != 2 || g.RoleRules[1].Claims["department"][0] != "finance" {
		t.Errorf("connector %+v", g)
	}

	// Unknown keys inside a connector are errors naming the key.
	bad := strings.Replace(yml, "hosted_domain", "hosted_domian", 1)
	_, err = Load(serverFlags(t, "--config", writeFile(t, bad)), envMap(nil))
	if err == nil || !strings.Contains(err.Error(), "connectors[0].oidc.hosted_domian: unknown key") {
		t.Errorf("typo: %v", err)
	}
	bad = strings.Replace(yml, "roles: [viewer]", "role: [viewer]", 1)
	_, err = Load(serverFlags(t, "--config", writeFile(t, bad)), envMap(nil))
	if err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("typo in a rule: %v", err)
	}
}

func TestConnectorsExample(t *testing.T) {
	c, err := Load(serverFlags(t, "--config", filepath.Join("..", "..", "docs", "examples", "connectors.yaml")), envMap(nil))
	if err != nil {
		t.Fatalf("docs/examples/connectors.yaml rejected: %v", err)
	}
	if len(c.Connectors) == 0 {
		t.Fatal("no connectors in the example")
	}
}
