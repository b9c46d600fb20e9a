package ldap

import (
	"bytes"
	"testing"

	goldap "github.com/go-ldap/ldap/v3"
)

// FuzzUsernameFilter: whatever the username, the user search's filter
// compiles to exactly (&<filter>(uid=<the username, byte for byte>)(!<disabled>)):
// nothing typed can add, widen or end a filter item.
func FuzzUsernameFilter(f *testing.F) {
	for _, s := range []string{"ada", "*", "*)(uid=*", "ada)(|(uid=*", "a\\64a", "ada\x00", "ada\\", "(", ")", "Ådä", "\xff\xfe", "a*b*c", "x)(!(y=z"} {
		f.Add(s)
	}
	c := &Connector{cfg: &resolved{Config: Config{UserSearch: UserSearch{
		Filter: "(objectClass=inetOrgPerson)", UsernameAttr: "uid", DisabledFilter: "(employeeType=disabled)",
	}}}}
	f.Fuzz(func(t *testing.T, username string) {
		if checkUsername(username) != nil {
			return // refused before any filter is made
		}
		filter := c.userFilter(c.usernameMatch(username))
		p, err := goldap.CompileFilter(filter)
		if err != nil {
			t.Fatalf("%q: filter %s does not compile: %v", username, filter, err)
		}
		if p.Tag != goldap.FilterAnd || len(p.Children) != 3 {
			t.Fatalf("%q: filter %s is not an AND of three items", username, filter)
		}
		eq := p.Children[1]
		if eq.Tag != goldap.FilterEqualityMatch || len(eq.Children) != 2 {
			t.Fatalf("%q: the username item of %s is not an equality match", username, filter)
		}
		if attr := eq.Children[0].Data.String(); attr != "uid" {
			t.Fatalf("%q: matches attribute %q", username, attr)
		}
		if v := eq.Children[1].Data.Bytes(); !bytes.Equal(v, []byte(username)) {
			t.Fatalf("%q: asserts value %q", username, v)
		}
		if p.Children[2].Tag != goldap.FilterNot {
			t.Fatalf("%q: the disabled filter is no longer negated in %s", username, filter)
		}
	})
}
