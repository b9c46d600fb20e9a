package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseErrors: SECURITY-CASES 54. Every policy here would be wrong in
// a way that could open something or surprise the operator; each must
// fail to load, naming the file and line.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // in the error, after "test.yaml:"
	}{
		// Unknown and misspelt keys, anywhere.
		{"misspelt rules", "version: 1\nrule:\n  - {name: a, roles: [admin]}\n", `2: policy: unknown key "rule" (did you mean "rules"?)`},
		{"misspelt roles", "version: 1\nrules:\n  - name: a\n    role: [admin]\n", `4: rule: unknown key "role" (did you mean "roles"?)`},
		{"misspelt methods", "version: 1\nrules:\n  - name: a\n    method: [GET]\n", `4: rule: unknown key "method" (did you mean "methods"?)`},
		{"misspelt paths", "version: 1\nrules:\n  - name: a\n    path: [/x]\n", `4: rule: unknown key "path" (did you mean "paths"?)`},
		{"key case", "version: 1\nrules:\n  - name: a\n    Roles: [admin]\n", `4: rule: unknown key "Roles" (did you mean "roles"?)`},
		{"misspelt action", "version: 1\nrules:\n  - name: a\n    actoin: deny\n", `unknown key "actoin" (did you mean "action"?)`},
		{"misspelt graphql key", "version: 1\ngraphql: {paths: [/g]}\nrules:\n  - name: a\n    graphql: {type: [query]}\n", `5: rule "a": graphql: unknown key "type" (did you mean "types"?)`},
		{"misspelt endpoint key", "version: 1\ngraphql: {path: [/g]}\nrules: [{name: a}]\n", `2: graphql: unknown key "path"`},
		{"misspelt top-level size", "version: 1\nmax_body_byte: 5\nrules: [{name: a}]\n", `unknown key "max_body_byte" (did you mean "max_body_bytes"?)`},
		{"user agent", "version: 1\nrules:\n  - name: a\n    user_agent: [kube-probe]\n", `4: rule: unknown key "user_agent" (known keys:`},
		{"headers", "version: 1\nrules:\n  - name: a\n    headers: {X-Health: ok}\n", `4: rule: unknown key "headers"`},
		{"health check", "version: 1\nhealth_check: /healthz\nrules: [{name: a}]\n", `2: policy: unknown key "health_check"`},
		{"query", "version: 1\nrules:\n  - name: a\n    query: {x: y}\n", `unknown key "query"`},
		{"merge key", "version: 1\nbase: &b {roles: [admin]}\nrules: [{name: a}]\n", `unknown key "base"`},
		{"yaml merge", "version: 1\nrules:\n  - &r {name: a, roles: [x]}\n  - {<<: *r, name: b}\n", `4: rule: keys must be plain names`},
		{"duplicate key", "version: 1\nrules:\n  - name: a\n    roles: [admin]\n    roles: [viewer]\n", `5: rule: "roles" is given twice`},

		// Structure and types.
		{"empty file", "", `test.yaml: empty policy`},
		{"only a comment", "# nothing\n", `test.yaml: empty policy`},
		{"not a mapping", "- a\n", `1: policy: expected a mapping`},
		{"missing version", "rules: [{name: a}]\n", `1: version: missing`},
		{"version 2", "version: 2\nrules: [{name: a}]\n", `1: version: 2 is not supported`},
		{"version string", "version: \"1\"\nrules: [{name: a}]\n", `1: version: expected a whole number`},
		{"missing rules", "version: 1\n", `1: rules: missing`},
		{"empty rules", "version: 1\nrules: []\n", `2: rules: empty`},
		{"null rules", "version: 1\nrules:\n", `2: rules: expected a list`},
		{"rules mapping", "version: 1\nrules: {name: a}\n", `2: rules: expected a list`},
		{"rule not a mapping", "version: 1\nrules: [a]\n", `2: rule: expected a mapping`},
		{"roles not a list", "version: 1\nrules:\n  - name: a\n    roles: admin\n", `4: rule "a": roles: expected a list`},
		{"empty roles", "version: 1\nrules:\n  - name: a\n    roles: []\n", `4: rule "a": roles: empty list`},
		{"null roles", "version: 1\nrules:\n  - name: a\n    roles:\n", `rule "a": roles: expected a list`},
		{"empty role name", "version: 1\nrules:\n  - name: a\n    roles: [\"\"]\n", `4: rule "a": roles: empty string`},
		{"number role", "version: 1\nrules:\n  - name: a\n    roles: [1]\n", `4: rule "a": roles: expected a string`},
		{"public string", "version: 1\nrules:\n  - name: a\n    public: \"true\"\n", `4: rule "a": public: expected true or false`},
		{"public yes", "version: 1\nrules:\n  - name: a\n    public: yes\n", `4: rule "a": public: expected true or false`},
		{"missing name", "version: 1\nrules:\n  - roles: [admin]\n", `3: rule: name: missing`},
		{"duplicate name", "version: 1\nrules:\n  - {name: a, roles: [x]}\n  - {name: a, roles: [y]}\n", `4: rule "a": the name is already used on line 3`},
		{"bad action", "version: 1\nrules:\n  - name: a\n    action: block\n", `4: rule "a": action: "block" is not allow or deny`},
		{"two documents", "version: 1\nrules: [{name: a}]\n---\nversion: 1\n", `one YAML document`},
		{"syntax error", "version: 1\nrules: [\n", `test.yaml: yaml:`},

		// Sizes.
		{"negative size", "version: 1\nmax_body_bytes: -1\nrules: [{name: a}]\n", `2: max_body_bytes: -1; a size must be positive`},
		{"zero size", "version: 1\nmax_body_bytes: 0\nrules: [{name: a}]\n", `2: max_body_bytes: 0; a size must be positive`},
		{"negative graphql size", "version: 1\ngraphql:\n  paths: [/g]\n  max_body_bytes: -5\nrules: [{name: a}]\n", `4: graphql.max_body_bytes: -5`},
		{"size string", "version: 1\nmax_body_bytes: 10MB\nrules: [{name: a}]\n", `2: max_body_bytes: expected a whole number`},

		// Patterns.
		{"relative path", "version: 1\nrules:\n  - name: a\n    paths: [admin]\n", `4: rule "a": paths: "admin" must start with /`},
		{"query in pattern", "version: 1\nrules:\n  - name: a\n    paths: [\"/x?admin=1\"]\n", `never the query`},
		{"fragment in pattern", "version: 1\nrules:\n  - name: a\n    paths: [\"/x#y\"]\n", `never the query or fragment`},
		{"encoded pattern", "version: 1\nrules:\n  - name: a\n    paths: [\"/a%2Fb\"]\n", `write characters unencoded`},
		{"semicolon pattern", "version: 1\nrules:\n  - name: a\n    paths: [\"/a;b\"]\n", `contains ';'`},
		{"backslash pattern", "version: 1\nrules:\n  - name: a\n    paths: [\"/a\\\\b\"]\n", `contains '\\'`},
		{"double slash", "version: 1\nrules:\n  - name: a\n    paths: [\"//a\"]\n", `empty segment`},
		{"dot dot", "version: 1\nrules:\n  - name: a\n    paths: [\"/a/../b\"]\n", `. or .. segment`},
		{"** in the middle", "version: 1\nrules:\n  - name: a\n    paths: [\"/a/**/b\"]\n", `** is only allowed as the last segment`},
		{"partial *", "version: 1\nrules:\n  - name: a\n    paths: [\"/a*\"]\n", `must be whole segments`},
		{"reserved", "version: 1\nrules:\n  - name: a\n    public: true\n    paths: [\"/_Gatehouse/**\"]\n", `reserved for the gateway`},
		{"second bad path line", "version: 1\nrules:\n  - name: a\n    paths:\n      - /ok\n      - bad\n", `6: rule "a": paths: "bad"`},
		{"graphql path", "version: 1\ngraphql: {paths: [graphql]}\nrules: [{name: a}]\n", `2: graphql.paths: "graphql" must start with /`},
		{"host with port", "version: 1\nrules:\n  - name: a\n    hosts: [\"a.com:443\"]\n", `must not include a port`},
		{"host with scheme", "version: 1\nrules:\n  - name: a\n    hosts: [\"https://a.com\"]\n", `must be a host name`},
		{"bare wildcard", "version: 1\nrules:\n  - name: a\n    hosts: [\"*.com\"]\n", `at least two labels`},
		{"inner wildcard", "version: 1\nrules:\n  - name: a\n    hosts: [\"a.*.com\"]\n", `must be a host name`},
		{"bad method", "version: 1\nrules:\n  - name: a\n    methods: [\"*\"]\n", `"*" is not an HTTP method`},

		// GraphQL conditions.
		{"unknown graphql type", "version: 1\ngraphql: {paths: [/g]}\nrules:\n  - name: a\n    graphql: {types: [query, muttation]}\n", `5: rule "a": graphql.types: "muttation" is not query, mutation or subscription`},
		{"type case", "version: 1\ngraphql: {paths: [/g]}\nrules:\n  - name: a\n    graphql: {types: [Mutation]}\n", `"Mutation" is not query`},
		{"empty graphql", "version: 1\ngraphql: {paths: [/g]}\nrules:\n  - name: a\n    graphql: {}\n", `5: rule "a": graphql: give types, fields or names`},
		{"empty fields", "version: 1\ngraphql: {paths: [/g]}\nrules:\n  - name: a\n    graphql: {fields: []}\n", `graphql.fields: empty list`},
		{"names alone", "version: 1\ngraphql: {paths: [/g]}\nrules:\n  - name: a\n    graphql: {names: [LaunchRun]}\n", `5: rule "a": graphql.names alone would allow any mutation`},
		{"names with mutation type", "version: 1\ngraphql: {paths: [/g]}\nrules:\n  - name: a\n    graphql: {types: [mutation], names: [LaunchRun]}\n", `graphql.names alone`},
		{"graphql without endpoints", "version: 1\nrules:\n  - name: a\n    graphql: {types: [query]}\n", `4: rule "a": graphql conditions, but the policy has no graphql.paths`},
		{"graphql section without paths", "version: 1\ngraphql: {max_body_bytes: 5}\nrules: [{name: a}]\n", `2: graphql.paths: missing`},

		// Contradictions.
		{"roles and public", "version: 1\nrules:\n  - name: a\n    public: true\n    roles: [admin]\n", `5: rule "a": roles and public: true together`},
		{"public deny", "version: 1\nrules:\n  - name: a\n    action: deny\n    public: true\n", `5: rule "a": public: true on a deny rule`},

		// Identity matchers (emails, email_domains, groups).
		{"misspelt email_domains", "version: 1\nrules:\n  - name: a\n    email_domain: [example.com]\n", `4: rule: unknown key "email_domain" (did you mean "email_domains"?)`},
		{"misspelt emails", "version: 1\nrules:\n  - name: a\n    email: [a@example.com]\n", `4: rule: unknown key "email" (did you mean "emails"?)`},
		{"misspelt groups", "version: 1\nrules:\n  - name: a\n    group: [ops]\n", `4: rule: unknown key "group" (did you mean "groups"?)`},
		{"email without @", "version: 1\nrules:\n  - name: a\n    emails: [alice.example.com]\n", `4: rule "a": emails: "alice.example.com" is not an email address (no @); for a whole domain use email_domains`},
		{"email nothing before @", "version: 1\nrules:\n  - name: a\n    emails: [\"@example.com\"]\n", `rule "a": emails: "@example.com" has nothing before the @`},
		{"email two @", "version: 1\nrules:\n  - name: a\n    emails: [a@b@example.com]\n", `has more than one @`},
		{"email no domain", "version: 1\nrules:\n  - name: a\n    emails: [alice@]\n", `"alice@" has no domain`},
		{"email display name", "version: 1\nrules:\n  - name: a\n    emails: [\"Alice <alice@example.com>\"]\n", `contains a space`},
		{"email bad domain", "version: 1\nrules:\n  - name: a\n    emails: [alice@exa!mple.com]\n", `is not a domain name`},
		{"email list not a list", "version: 1\nrules:\n  - name: a\n    emails: alice@example.com\n", `4: rule "a": emails: expected a list`},
		{"domain with @", "version: 1\nrules:\n  - name: a\n    email_domains: [\"@example.com\"]\n", `4: rule "a": email_domains: "@example.com" contains @: write the domain alone`},
		{"domain is an address", "version: 1\nrules:\n  - name: a\n    email_domains: [alice@example.com]\n", `contains @`},
		{"domain with scheme", "version: 1\nrules:\n  - name: a\n    email_domains: [\"https://example.com\"]\n", `"https://example.com" is a URL: write the domain alone`},
		{"domain with path", "version: 1\nrules:\n  - name: a\n    email_domains: [example.com/x]\n", `contains / : ? or #`},
		{"domain with port", "version: 1\nrules:\n  - name: a\n    email_domains: [\"example.com:443\"]\n", `contains / : ? or #`},
		{"domain leading dot", "version: 1\nrules:\n  - name: a\n    email_domains: [.example.com]\n", `starts or ends with a dot`},
		{"domain inner wildcard", "version: 1\nrules:\n  - name: a\n    email_domains: [\"a.*.example.com\"]\n", `has a * that is not a leading "*."`},
		{"domain bare wildcard", "version: 1\nrules:\n  - name: a\n    email_domains: [\"*example.com\"]\n", `has a * that is not a leading "*."`},
		{"domain empty label", "version: 1\nrules:\n  - name: a\n    email_domains: [example..com]\n", `has an empty label`},
		{"domain space", "version: 1\nrules:\n  - name: a\n    email_domains: [\"example .com\"]\n", `is not a domain name`},
		{"empty groups", "version: 1\nrules:\n  - name: a\n    groups: []\n", `4: rule "a": groups: empty list`},
		{"groups and public", "version: 1\nrules:\n  - name: a\n    public: true\n    groups: [ops]\n", `5: rule "a": groups and public: true together`},
		{"emails and public", "version: 1\nrules:\n  - name: a\n    public: true\n    emails: [a@example.com]\n", `5: rule "a": emails and public: true together`},
		{"email_domains and public", "version: 1\nrules:\n  - name: a\n    public: true\n    email_domains: [example.com]\n", `5: rule "a": email_domains and public: true together`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.src), "test.yaml")
			if err == nil {
				t.Fatalf("loaded: %+v", p)
			}
			if !strings.Contains(err.Error(), "test.yaml:"+tt.want) && !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\nwant it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "policy: test.yaml") {
				t.Errorf("error %q does not name the source", err)
			}
		})
	}
}

// TestParseAccepts: what is allowed, so that the errors above are about
// the one thing each case changes.
func TestParseAccepts(t *testing.T) {
	for name, src := range map[string]string{
		"minimal":            "version: 1\nrules: [{name: a}]\n",
		"anchors":            "version: 1\nrules:\n  - {name: a, roles: &r [x, y]}\n  - {name: b, roles: *r, methods: [GET]}\n",
		"names with fields":  "version: 1\ngraphql: {paths: [/g]}\nrules: [{name: a, graphql: {names: [X], fields: [f]}}]\n",
		"names on queries":   "version: 1\ngraphql: {paths: [/g]}\nrules: [{name: a, graphql: {names: [X], types: [query]}}]\n",
		"names on deny rule": "version: 1\ngraphql: {paths: [/g]}\nrules: [{name: a, action: deny, graphql: {names: [X]}}]\n",
		"explicit allow":     "version: 1\nrules: [{name: a, action: allow, public: true, paths: [/]}]\n",
		"ip hosts":           "version: 1\nrules: [{name: a, hosts: [10.0.0.1, \"[::1]\", \"*.Example.COM\"]}]\n",
		"public false":       "version: 1\nrules: [{name: a, public: false, roles: [x]}]\n",
		"trailing slash":     "version: 1\nrules: [{name: a, paths: [/a/, /b/*/]}]\n",
	} {
		if _, err := Parse([]byte(src), name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "policy:") {
		t.Errorf("missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nrules:\n  - name: a\n    role: [admin]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path+":4:") {
		t.Errorf("misspelt key in a file: %v", err)
	}
}
