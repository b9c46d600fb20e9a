package policy

import "testing"

// identityPolicy exercises emails:, email_domains: and groups: next to
// roles:.
const identityPolicy = `
version: 1
rules:
  - name: no contractors
    action: deny
    paths: ["/finance/**"]
    email_domains: ["contractor.example.com"]
  - name: ops by group
    paths: ["/ops/**"]
    groups: [ops-admins, sre]
  - name: named people
    paths: ["/board/**"]
    emails: [Alice@Example.com, carol@example.net]
  - name: company
    paths: ["/intranet/**"]
    email_domains: [example.com]
  - name: company subsidiaries
    paths: ["/group/**"]
    email_domains: ["*.example.com"]
  - name: editors of the company
    paths: ["/edit/**"]
    roles: [editor]
    email_domains: [example.com]
  - name: finance
    paths: ["/finance/**"]
    email_domains: [example.com, contractor.example.com]
`

// who is an authenticated caller with a verified address.
func who(path, email string, groups ...string) Input {
	return Input{Host: "app.example.com", Path: path, Method: "GET", Authenticated: true,
		Email: email, EmailVerified: true, Groups: groups}
}

func unverified(in Input) Input {
	in.EmailVerified = false
	return in
}

func withRoles(in Input, roles ...string) Input {
	in.Roles = roles
	return in
}

func TestDecideIdentity(t *testing.T) {
	p := mustParse(t, identityPolicy)
	tests := []struct {
		name  string
		in    Input
		allow bool
		rule  string
	}{
		// groups: exact, any of the list.
		{"group member", who("/ops/x", "", "ops-admins"), true, "ops by group"},
		{"other listed group", who("/ops/x", "", "dev", "sre"), true, "ops by group"},
		{"no listed group", who("/ops/x", "", "dev"), false, ""},
		{"no groups", who("/ops/x", ""), false, ""},
		{"groups compare exactly", who("/ops/x", "", "OPS-ADMINS"), false, ""},
		{"a role is not a group", withRoles(who("/ops/x", ""), "ops-admins"), false, ""},
		{"groups need a login", Input{Host: "h", Path: "/ops/x", Method: "GET", Groups: []string{"ops-admins"}}, false, ""},

		// emails: whole address, case-insensitive, verified only.
		{"listed address", who("/board/x", "alice@example.com"), true, "named people"},
		{"listed address, other case", who("/board/x", "ALICE@example.COM"), true, "named people"},
		{"second listed address", who("/board/x", "carol@example.net"), true, "named people"},
		{"unlisted address", who("/board/x", "bob@example.com"), false, ""},
		{"address prefix", who("/board/x", "alice@example.com.evil.org"), false, ""},
		{"unverified listed address", unverified(who("/board/x", "alice@example.com")), false, ""},
		{"no address", who("/board/x", ""), false, ""},

		// email_domains: exact domain, case-insensitive, verified only.
		{"domain", who("/intranet/x", "alice@example.com"), true, "company"},
		{"domain, other case", who("/intranet/x", "Alice@EXAMPLE.com"), true, "company"},
		{"other domain", who("/intranet/x", "bob@other.org"), false, ""},
		{"suffix is not the domain", who("/intranet/x", "eve@evilexample.com"), false, ""},
		{"subdomain needs *.", who("/intranet/x", "eve@eu.example.com"), false, ""},
		{"domain as local part", who("/intranet/x", "example.com@other.org"), false, ""},
		{"quoted @ in local part", who("/intranet/x", `"x@example.com"@other.org`), false, ""},
		{"unverified domain", unverified(who("/intranet/x", "alice@example.com")), false, ""},
		{"no address for a domain", who("/intranet/x", ""), false, ""},
		{"*. subdomain", who("/group/x", "a@eu.example.com"), true, "company subsidiaries"},
		{"*. deeper subdomain", who("/group/x", "a@x.eu.example.com"), true, "company subsidiaries"},
		{"*. is not the domain itself", who("/group/x", "a@example.com"), false, ""},
		{"*. suffix confusion", who("/group/x", "a@evil-example.com"), false, ""},

		// Several matchers: all must hold.
		{"role and domain", withRoles(who("/edit/x", "a@example.com"), "editor"), true, "editors of the company"},
		{"role without domain", withRoles(who("/edit/x", "a@other.org"), "editor"), false, ""},
		{"domain without role", withRoles(who("/edit/x", "a@example.com"), "viewer"), false, ""},

		// A deny rule with an identity matcher applies to those callers only.
		{"denied domain", who("/finance/x", "c@contractor.example.com"), false, "no contractors"},
		{"denied domain, other case", who("/finance/x", "c@Contractor.Example.COM"), false, "no contractors"},
		{"deny does not apply to others", who("/finance/x", "a@example.com"), true, "finance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(tt.in)
			if d.Allow != tt.allow || d.Rule != tt.rule {
				t.Fatalf("Decide = %+v, want allow=%v rule=%q", d, tt.allow, tt.rule)
			}
		})
	}
}

// TestIdentityAnonymous: a rule naming who it admits never admits an
// anonymous caller, whatever it claims.
func TestIdentityAnonymous(t *testing.T) {
	p := mustParse(t, identityPolicy)
	in := Input{Host: "app.example.com", Path: "/intranet/x", Method: "GET", Email: "a@example.com", EmailVerified: true}
	if d := p.Decide(in); d.Allow {
		t.Fatalf("anonymous caller with an address allowed: %+v", d)
	}
	if p.AnonymousMayPass("app.example.com", "/intranet/x", "GET") {
		t.Fatal("AnonymousMayPass for an email_domains rule")
	}
}

func TestEmailDomainMatch(t *testing.T) {
	for _, tt := range []struct {
		pattern, domain string
		want            bool
	}{
		{"example.com", "example.com", true},
		{"example.com", "evilexample.com", false},
		{"example.com", "example.com.evil.org", false},
		{"example.com", "a.example.com", false},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "aexample.com", false},
		{"Example.COM", "example.com", true},
	} {
		p, err := parseEmailDomain(tt.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.match(emailDomain("x@" + tt.domain)); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.domain, got, tt.want)
		}
	}
}
