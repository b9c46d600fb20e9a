package oidc

import (
	"encoding/json"
	"testing"
)

// FuzzIdentity feeds arbitrary claims (as an ID token and as userinfo)
// to the claim mapping and the restrictions: they must never panic, and
// an identity they return always has a subject.
func FuzzIdentity(f *testing.F) {
	f.Add(`{"sub":"u","email":"a@example.com","email_verified":true,"groups":["a"]}`, `{}`, "groups")
	f.Add(`{"sub":"u","realm_access":{"roles":"x"}}`, `{"sub":"u","name":7}`, "realm_access.roles")
	f.Add(`{"sub":"u","a":{"b":[1,"c",null]}}`, `null`, "a.b")
	f.Add(`{"sub":"","hd":3,"amr":"mfa"}`, `{"groups":{"x":1}}`, "groups.x")
	f.Fuzz(func(t *testing.T, idJSON, infoJSON, groupsPath string) {
		var idClaims, info map[string]any
		if json.Unmarshal([]byte(idJSON), &idClaims) != nil || idClaims == nil {
			return
		}
		_ = json.Unmarshal([]byte(infoJSON), &info)
		cfg := Config{Issuer: "https://idp.example", ClientID: "c", PublicClient: true, GroupsClaim: groupsPath,
			AllowedEmailDomains: []string{"example.com"}, HostedDomain: "example.com"}
		c := &Connector{id: "f", cfg: cfg}
		id, err := c.identity(idClaims, info)
		if err != nil {
			return
		}
		if id.Subject == "" {
			t.Fatal("an identity without a subject")
		}
		_ = c.allow(id, idClaims)
	})
}
