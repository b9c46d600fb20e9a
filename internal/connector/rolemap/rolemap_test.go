package rolemap

import (
	"slices"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

var rules = []Rule{
	{Groups: []string{"ops-admins"}, Roles: []string{"admin"}},
	{EmailDomains: []string{"example.com"}, Roles: []string{"viewer"}},
	{Claims: map[string][]string{"department": {"finance", "audit"}}, Roles: []string{"finance-reader", "viewer"}},
	{Groups: []string{"analysts"}, EmailDomains: []string{"example.org"}, Roles: []string{"editor"}},
}

func TestRoles(t *testing.T) {
	for _, c := range []struct {
		name string
		id   connector.Identity
		want []string
	}{
		{"no match", connector.Identity{Groups: []string{"staff"}}, nil},
		{"group", connector.Identity{Groups: []string{"staff", "ops-admins"}}, []string{"admin"}},
		{"group in another case", connector.Identity{Groups: []string{"Ops-Admins"}}, []string{"admin"}},
		{"verified email domain", connector.Identity{Email: "ada@example.com", EmailVerified: true}, []string{"viewer"}},
		{"domain in another case", connector.Identity{Email: "ada@Example.COM", EmailVerified: true}, []string{"viewer"}},
		{"unverified email domain", connector.Identity{Email: "ada@example.com"}, nil},
		{"subdomain", connector.Identity{Email: "ada@sub.example.com", EmailVerified: true}, nil},
		{"suffix only", connector.Identity{Email: "ada@badexample.com", EmailVerified: true}, nil},
		{"two @", connector.Identity{Email: "ada@evil.org@example.com", EmailVerified: true}, nil},
		{"claim", connector.Identity{Claims: map[string][]string{"department": {"audit"}}}, []string{"finance-reader", "viewer"}},
		{"claim in another case", connector.Identity{Claims: map[string][]string{"department": {"Audit"}}}, nil},
		{"other claim", connector.Identity{Claims: map[string][]string{"team": {"finance"}}}, nil},
		{"both conditions", connector.Identity{Groups: []string{"analysts"}, Email: "bob@example.org", EmailVerified: true}, []string{"editor"}},
		{"one of two conditions", connector.Identity{Groups: []string{"analysts"}, Email: "bob@example.net", EmailVerified: true}, nil},
		{"union, deduplicated", connector.Identity{Groups: []string{"ops-admins"}, Email: "ada@example.com", EmailVerified: true,
			Claims: map[string][]string{"department": {"finance"}}}, []string{"admin", "finance-reader", "viewer"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Roles(rules, &c.id); !slices.Equal(got, c.want) {
				t.Errorf("Roles = %q, want %q", got, c.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		r      Rule
		claims bool
		ok     bool
	}{
		{"group", Rule{Groups: []string{"a"}, Roles: []string{"viewer"}}, false, true},
		{"no condition", Rule{Roles: []string{"viewer"}}, true, false},
		{"no role", Rule{Groups: []string{"a"}}, true, false},
		{"empty group", Rule{Groups: []string{" "}, Roles: []string{"viewer"}}, true, false},
		{"address as domain", Rule{EmailDomains: []string{"ada@example.com"}, Roles: []string{"viewer"}}, true, false},
		{"leading dot", Rule{EmailDomains: []string{".example.com"}, Roles: []string{"viewer"}}, true, false},
		{"claims on ldap", Rule{Claims: map[string][]string{"a": {"b"}}, Roles: []string{"viewer"}}, false, false},
		{"claims on oidc", Rule{Claims: map[string][]string{"a": {"b"}}, Roles: []string{"viewer"}}, true, true},
		{"claim without values", Rule{Claims: map[string][]string{"a": nil}, Roles: []string{"viewer"}}, true, false},
	} {
		err := c.r.Validate(c.claims)
		if (err == nil) != c.ok {
			t.Errorf("%s: Validate = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
