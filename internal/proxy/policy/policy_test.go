package policy

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
)

// semantics is the policy the Decide tests judge against; each rule
// exercises one part of the matching rules.
const semantics = `
version: 1
max_body_bytes: 2048
graphql:
  paths: ["/graphql", "/api/*/graphql"]
  max_body_bytes: 1024
rules:
  - name: public assets
    paths: ["/static/**", "/favicon.ico"]
    methods: [get, HEAD]
    public: true
  - name: block admin
    action: deny
    paths: ["/admin/**"]
  - name: ops host
    hosts: ["ops.example.com", "*.ops.example.org"]
    roles: [ops]
  - name: one segment
    paths: ["/runs/*/logs"]
    roles: [auditor]
  - name: exact
    paths: ["/reports"]
    roles: [reporter]
  - name: graphql reads
    roles: [viewer, editor]
    paths: ["/graphql"]
    graphql: {types: [query, subscription]}
  - name: launch
    roles: [editor]
    paths: ["/graphql"]
    graphql: {types: [mutation], fields: [launchRun, launchPipelineExecution]}
  - name: named report
    roles: [reporter]
    graphql: {types: [query], names: [Report]}
  - name: no deletes
    action: deny
    graphql: {fields: [deleteRun]}
  - name: read
    roles: [viewer, editor]
    methods: [GET, HEAD]
  - name: writers
    roles: [writer]
    methods: [POST]
  - name: anyone logged in
    paths: ["/home/**"]
  - name: admins
    roles: [admin]
`

func mustParse(t *testing.T, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func q(fields ...string) graphql.Operation {
	return graphql.Operation{Type: graphql.Query, Fields: fields}
}

func mut(fields ...string) graphql.Operation {
	return graphql.Operation{Type: graphql.Mutation, Fields: fields}
}

func sub(fields ...string) graphql.Operation {
	return graphql.Operation{Type: graphql.Subscription, Fields: fields}
}

// user is an authenticated caller with roles.
func user(method, path string, roles ...string) Input {
	return Input{Host: "app.example.com", Path: path, Method: method, Authenticated: true, Roles: roles}
}

// anon is an anonymous caller.
func anon(method, path string) Input {
	return Input{Host: "app.example.com", Path: path, Method: method}
}

func gql(in Input, ops ...graphql.Operation) Input {
	in.GraphQL = ops
	return in
}

func onHost(in Input, host string) Input {
	in.Host = host
	return in
}

func TestDecide(t *testing.T) {
	p := mustParse(t, semantics)
	tests := []struct {
		name  string
		in    Input
		allow bool
		rule  string
	}{
		// Default deny.
		{"no rule matches", user("DELETE", "/x", "viewer"), false, ""},
		{"no roles at all", user("GET", "/x"), false, ""},
		{"anonymous page", anon("GET", "/x"), false, ""},

		// Path patterns: exact, *, **, case, trailing slash.
		{"** matches its root", anon("GET", "/static"), true, "public assets"},
		{"** matches below", anon("GET", "/static/js/app.js"), true, "public assets"},
		{"** is not a prefix match", anon("GET", "/staticx"), false, ""},
		{"exact file", anon("GET", "/favicon.ico"), true, "public assets"},
		{"exact is not a prefix", anon("GET", "/favicon.ico/x"), false, ""},
		{"path case is ignored (allow)", anon("GET", "/STATIC/App.js"), true, "public assets"},
		{"trailing slash is ignored", anon("GET", "/favicon.ico/"), true, "public assets"},
		{"* matches one segment", user("GET", "/runs/42/logs", "auditor"), true, "one segment"},
		{"* does not match two", user("GET", "/runs/4/2/logs", "auditor"), false, ""},
		{"* does not match none", user("GET", "/runs/logs", "auditor"), false, ""},
		{"exact path", user("PUT", "/reports", "reporter"), true, "exact"},
		{"exact path, other case", user("PUT", "/REPORTS/", "reporter"), true, "exact"},
		{"exact path is not a prefix", user("PUT", "/reports/1", "reporter"), false, ""},

		// SECURITY-CASES 45: case variants cannot dodge a deny rule.
		{"/admin denied", user("GET", "/admin", "viewer"), false, "block admin"},
		{"/Admin denied", user("GET", "/Admin", "viewer"), false, "block admin"},
		{"/ADMIN/x denied", user("GET", "/ADMIN/x", "viewer"), false, "block admin"},
		{"/aDmIn/ denied", user("GET", "/aDmIn/", "admin"), false, "block admin"},
		{"/admin denied to anonymous", anon("GET", "/admin/x"), false, "block admin"},
		{"/administrator is another path", user("GET", "/administrator", "viewer"), true, "read"},

		// Hosts.
		{"host exact", onHost(user("POST", "/x", "ops"), "ops.example.com"), true, "ops host"},
		{"host case and trailing dot", onHost(user("POST", "/x", "ops"), "OPS.Example.COM."), true, "ops host"},
		{"host rule elsewhere", user("POST", "/x", "ops"), false, ""},
		{"host wildcard one label", onHost(user("POST", "/x", "ops"), "a.ops.example.org"), true, "ops host"},
		{"host wildcard not the apex", onHost(user("POST", "/x", "ops"), "ops.example.org"), false, ""},
		{"host wildcard not two labels", onHost(user("POST", "/x", "ops"), "a.b.ops.example.org"), false, ""},
		{"host suffix trick", onHost(user("POST", "/x", "ops"), "evilops.example.com"), false, ""},

		// Methods, upper-cased on both sides.
		{"lower-case method in rule", anon("GET", "/static/a"), true, "public assets"},
		{"lower-case method in request", user("get", "/x", "viewer"), true, "read"},
		{"method not listed", anon("POST", "/static/a"), false, ""},

		// Roles, authentication and public.
		{"role listed", user("GET", "/x", "viewer"), true, "read"},
		{"any listed role is enough", user("GET", "/x", "nobody", "editor"), true, "read"},
		{"roles compare exactly", user("GET", "/x", "Viewer"), false, ""},
		{"roles absent: any authenticated", user("PATCH", "/home/a"), true, "anyone logged in"},
		{"roles absent: not anonymous", anon("GET", "/home/a"), false, ""},
		{"roles of an anonymous caller are ignored", Input{Path: "/x", Method: "GET", Roles: []string{"admin"}}, false, ""},
		{"public admits authenticated callers too", user("GET", "/static/a", "nobody"), true, "public assets"},
		{"admin everything", user("DELETE", "/x", "admin"), true, "admins"},

		// GraphQL: every operation must be allowed.
		{"viewer query", gql(user("POST", "/graphql", "viewer"), q("runs")), true, "graphql reads"},
		{"viewer subscription", gql(user("GET", "/graphql", "viewer"), sub("pipelineRunLogs")), true, "graphql reads"},
		{"viewer mutation", gql(user("POST", "/graphql", "viewer"), mut("launchRun")), false, ""},
		{"viewer query + mutation", gql(user("POST", "/graphql", "viewer"), q("runs"), mut("launchRun")), false, ""},
		{"viewer mutation + query", gql(user("POST", "/graphql", "viewer"), mut("launchRun"), q("runs")), false, ""},
		{"editor listed mutation", gql(user("POST", "/graphql", "editor"), mut("launchRun")), true, "launch"},
		{"editor two listed fields", gql(user("POST", "/graphql", "editor"), mut("launchPipelineExecution", "launchRun")), true, "launch"},
		{"editor: every root field must be listed", gql(user("POST", "/graphql", "editor"), mut("launchRun", "terminateRun")), false, ""},
		{"editor unlisted mutation", gql(user("POST", "/graphql", "editor"), mut("wipeAssets")), false, ""},
		{"editor query + mutation by two rules", gql(user("POST", "/graphql", "editor"), q("runs"), mut("launchRun")), true, "graphql reads, launch"},
		{"mutation with no fields is not covered", gql(user("POST", "/graphql", "editor"), mut()), false, ""},
		{"graphql rule paths", gql(user("POST", "/api/v1/graphql", "editor"), mut("launchRun")), false, ""},
		{"admin mutation (rule without graphql)", gql(user("POST", "/graphql", "admin"), mut("anything")), true, "admins"},

		// An allow rule limited to GET/HEAD never covers a mutation
		// (GET ?query=mutation, a WebSocket opened with GET).
		{"GET mutation as viewer", gql(user("GET", "/graphql", "viewer"), mut("launchRun")), false, ""},
		{"GET query as viewer", gql(user("GET", "/api/x/graphql", "viewer"), q("runs")), true, "read"},
		{"POST-only rule covers a mutation", gql(user("POST", "/api/x/graphql", "writer"), mut("anything")), true, "writers"},

		// Deny rules with fields: one listed field is enough.
		{"deny on any listed field", gql(user("POST", "/graphql", "admin"), mut("launchRun", "deleteRun")), false, "no deletes"},
		{"deny rule ignores other ops", gql(user("POST", "/graphql", "admin"), mut("launchRun")), true, "admins"},

		// Names narrow a rule.
		{"name listed", gql(user("POST", "/x", "reporter"), graphql.Operation{Type: graphql.Query, Name: "Report", Fields: []string{"a"}}), true, "named report"},
		{"name not listed", gql(user("POST", "/x", "reporter"), graphql.Operation{Type: graphql.Query, Name: "Other", Fields: []string{"a"}}), false, ""},
		{"unnamed operation", gql(user("POST", "/x", "reporter"), q("a")), false, ""},
		{"name listed, wrong type", gql(user("POST", "/x", "reporter"), graphql.Operation{Type: graphql.Mutation, Name: "Report", Fields: []string{"a"}}), false, ""},

		// A GraphQL rule never matches a request without operations; a
		// GraphQL path without operations is judged as a plain request.
		{"graphql path, no operations, GET", user("GET", "/graphql", "viewer"), true, "read"},
		{"graphql path, no operations, POST", user("POST", "/graphql", "viewer"), false, ""},
		{"unknown operation type", gql(user("POST", "/graphql", "admin"), graphql.Operation{Type: "MUTATION", Fields: []string{"x"}}), false, ""},

		// Paths that are not normalised, and the gateway's own routes.
		{"relative path", user("GET", "x", "admin"), false, ""},
		{"empty path", user("GET", "", "admin"), false, ""},
		{"double slash", user("GET", "//x", "admin"), false, ""},
		{"dot segment", user("GET", "/static/../admin", "admin"), false, ""},
		{"dot", anon("GET", "/static/./a"), false, ""},
		{"backslash", user("GET", "/x\\y", "admin"), false, ""},
		{"NUL", user("GET", "/x\x00", "admin"), false, ""},
		{"semicolon", user("GET", "/admin;x", "admin"), false, ""},
		{"invalid UTF-8 (overlong /)", user("GET", "/\xc0\xafadmin", "admin"), false, ""},
		{"reserved prefix", user("GET", "/_gatehouse/health", "admin"), false, ""},
		{"reserved prefix, case", user("GET", "/_GateHouse/login", "admin"), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(tt.in)
			if d.Allow != tt.allow || d.Rule != tt.rule {
				t.Errorf("Decide = %+v, want allow=%v rule=%q", d, tt.allow, tt.rule)
			}
			if d.Reason == "" {
				t.Error("empty reason")
			}
		})
	}
}

// TestDecideCaseVariants: SECURITY-CASES 44/45, the policy half. Whatever
// case the path arrives in, the decision is the one for /admin.
func TestDecideCaseVariants(t *testing.T) {
	p := mustParse(t, `
version: 1
rules:
  - name: admin area
    paths: ["/admin/**"]
    roles: [admin]
  - name: everything else is denied below /admin
    action: deny
    paths: ["/admin/**"]
  - name: public
    paths: ["/**"]
    public: true
`)
	for _, roles := range [][]string{nil, {"viewer"}, {"admin"}} {
		in := func(path string) Input {
			return Input{Host: "h", Path: path, Method: "GET", Authenticated: roles != nil, Roles: roles}
		}
		want := p.Decide(in("/admin"))
		for _, path := range []string{"/Admin", "/ADMIN", "/ADMIN/x", "/aDMIN/X/y", "/admin/", "/Admin/x/"} {
			if got := p.Decide(in(path)); got.Allow != want.Allow || got.Rule != want.Rule {
				t.Errorf("roles %v: %s: %+v, /admin: %+v", roles, path, got, want)
			}
		}
		if want.Allow != slices.Contains(roles, "admin") {
			t.Errorf("roles %v: /admin: %+v", roles, want)
		}
	}
	if !p.Public("h", "/other", "GET") {
		t.Error("/other should be public")
	}
	if p.Public("h", "/ADMIN/x", "GET") {
		t.Error("/ADMIN/x must not be public")
	}
}

// TestAliasedMutations: SECURITY-CASES 52, the policy half. The parser
// gives real field names, whatever the aliases and operation names say.
func TestAliasedMutations(t *testing.T) {
	p, err := Preset("dagster")
	if err != nil {
		t.Fatal(err)
	}
	// mutation LaunchRun { launchRun: deleteRun(runId: "x") { __typename } }
	aliased := graphql.Operation{Type: graphql.Mutation, Name: "LaunchRun", Fields: []string{"deleteRun"}}
	// mutation { a: launchRun(...) b: launchRun(...) }
	twice := graphql.Operation{Type: graphql.Mutation, Fields: []string{"launchRun"}}
	// query Runs { runs: launchRun } would not parse as a query field,
	// but a mutation disguised by its name is still a mutation.
	named := graphql.Operation{Type: graphql.Mutation, Name: "RunsQuery", Fields: []string{"launchPartitionBackfill"}}
	// query { runsOrError } followed by mutation { wipeAssets }
	batch := []graphql.Operation{q("runsOrError"), {Type: graphql.Mutation, Name: "Runs", Fields: []string{"wipeAssets"}}}

	tests := []struct {
		role string
		ops  []graphql.Operation
		want bool
	}{
		{"viewer", []graphql.Operation{aliased}, false},
		{"viewer", []graphql.Operation{twice}, false},
		{"viewer", []graphql.Operation{named}, false},
		{"viewer", batch, false},
		{"viewer", []graphql.Operation{q("runsOrError")}, true},
		{"editor", []graphql.Operation{aliased}, false},
		{"editor", []graphql.Operation{twice}, true},
		{"editor", []graphql.Operation{named}, true},
		{"editor", batch, false},
		{"admin", []graphql.Operation{aliased}, true},
		{"admin", []graphql.Operation{twice}, true},
		{"admin", batch, true},
	}
	for _, tt := range tests {
		for _, method := range []string{"POST", "GET"} {
			in := gql(user(method, "/graphql", tt.role), tt.ops...)
			if d := p.Decide(in); d.Allow != tt.want {
				t.Errorf("%s %s %+v: %+v, want allow=%v", tt.role, method, tt.ops, d, tt.want)
			}
		}
	}
}

// TestReasonHasNoRequestValues: reasons go to audit events and logs; the
// client's operation names and fields must not.
func TestReasonHasNoRequestValues(t *testing.T) {
	p := mustParse(t, semantics)
	op := graphql.Operation{Type: graphql.Mutation, Name: "EvilName<script>", Fields: []string{"evilField"}}
	for _, in := range []Input{
		gql(user("POST", "/graphql", "viewer", "evilRole"), op),
		gql(user("POST", "/graphql", "admin"), op, graphql.Operation{Type: "evilType"}),
		gql(user("POST", "/graphql", "admin"), mut("deleteRun")),
		gql(user("POST", "/graphql", "admin"), op),
		user("GET", "/x", "evilRole"),
	} {
		d := p.Decide(in)
		for _, bad := range []string{"evil", "deleteRun", "<"} {
			if strings.Contains(strings.ToLower(d.Reason), strings.ToLower(bad)) {
				t.Errorf("reason %q contains %q", d.Reason, bad)
			}
		}
	}
}

func TestIsGraphQLAndMaxBody(t *testing.T) {
	p := mustParse(t, semantics)
	for _, tt := range []struct {
		host, path string
		graphql    bool
		max        int64
	}{
		{"a", "/graphql", true, 1024},
		{"a", "/GraphQL", true, 1024},
		{"a", "/graphql/", true, 1024},
		{"a", "/api/v2/graphql", true, 1024},
		{"a", "/api/graphql", false, 2048},
		{"a", "/graphql/x", false, 2048},
		{"a", "/", false, 2048},
	} {
		if got := p.IsGraphQL(tt.host, tt.path); got != tt.graphql {
			t.Errorf("IsGraphQL(%q) = %v", tt.path, got)
		}
		if got := p.MaxBody(tt.host, tt.path); got != tt.max {
			t.Errorf("MaxBody(%q) = %d, want %d", tt.path, got, tt.max)
		}
	}

	hosts := mustParse(t, `
version: 1
graphql: {paths: ["/graphql"], hosts: ["api.example.com"]}
rules: [{name: all, roles: [admin]}]
`)
	if !hosts.IsGraphQL("API.example.com", "/graphql") || hosts.IsGraphQL("www.example.com", "/graphql") {
		t.Error("graphql.hosts not applied")
	}
	if got := hosts.MaxBody("api.example.com", "/graphql"); got != DefaultGraphQLMaxBody {
		t.Errorf("default graphql max body = %d", got)
	}
	if got := hosts.MaxBody("api.example.com", "/x"); got != DefaultMaxBody {
		t.Errorf("default max body = %d", got)
	}
	none := mustParse(t, "version: 1\nrules: [{name: all, roles: [admin]}]\n")
	if none.IsGraphQL("a", "/graphql") {
		t.Error("no graphql section, yet a GraphQL path")
	}
}

func TestPublic(t *testing.T) {
	p := mustParse(t, semantics)
	for _, tt := range []struct {
		path, method string
		want         bool
	}{
		{"/static/app.js", "GET", true},
		{"/Static/app.js", "head", true},
		{"/static/app.js", "POST", false},
		{"/favicon.ico", "GET", true},
		{"/x", "GET", false},
		{"/home", "GET", false},
		{"/admin/static", "GET", false},
		{"/_gatehouse/health", "GET", false},
	} {
		if got := p.Public("app.example.com", tt.path, tt.method); got != tt.want {
			t.Errorf("Public(%s %s) = %v", tt.method, tt.path, got)
		}
	}
	// A deny rule without roles closes a path to anonymous callers even
	// when a public rule below would open it.
	p = mustParse(t, `
version: 1
rules:
  - {name: closed, action: deny, paths: ["/static/secret/**"]}
  - {name: open, paths: ["/static/**"], public: true}
`)
	if p.Public("h", "/static/SECRET/x", "GET") || !p.Public("h", "/static/x", "GET") {
		t.Error("deny rule does not apply to anonymous callers")
	}
}

// TestHealthAndUserAgentCannotOpen: SECURITY-CASES 48. The input has no
// header or user agent for a rule to match, and a health-check path is
// judged like any other path.
func TestHealthAndUserAgentCannotOpen(t *testing.T) {
	var names []string
	for f := range reflect.TypeFor[Input]().Fields() {
		names = append(names, f.Name)
	}
	// Roles, Groups, Email and EmailVerified come from the issuer's
	// verified identity, never from the request.
	if want := []string{"Host", "Path", "Method", "Authenticated", "Roles", "Groups", "Email", "EmailVerified", "GraphQL"}; !slices.Equal(names, want) {
		t.Errorf("Input fields = %v; a new field must not let a request choose its own judgement", names)
	}
	p := mustParse(t, semantics)
	for _, path := range []string{"/healthz", "/health", "/ping", "/_gatehouse/health", "/_gatehouse/healthz", "/ready"} {
		if d := p.Decide(anon("GET", path)); d.Allow {
			t.Errorf("anonymous %s allowed: %+v", path, d)
		}
	}
}

func TestExampleFile(t *testing.T) {
	p, err := Load("testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in   Input
		want string // deciding rule, "" for default deny
		ok   bool
	}{
		{anon("GET", "/static/app.js"), "anonymous assets", true},
		{anon("GET", "/runs"), "", false},
		{user("GET", "/Internal/metrics", "admin"), "block internal", false},
		{onHost(user("POST", "/x", "admin"), "ops.example.com"), "ops host", true},
		{gql(user("POST", "/graphql", "viewer"), q("runs")), "graphql reads", true},
		{gql(user("POST", "/graphql", "editor"), mut("launchRun")), "launch runs", true},
		{gql(user("POST", "/graphql", "editor"), mut("deleteRun")), "no run deletion", false},
		{gql(user("GET", "/graphql", "viewer"), mut("launchRun")), "", false},
		{user("GET", "/runs", "nobody"), "read", true},
		{withRoles(who("/reports/finance/q3", "ada@example.com", "finance"), "nobody"), "finance reports", true},
		{Input{Host: "h", Path: "/reports/finance/q3", Method: "POST", Authenticated: true, Email: "ada@example.com", EmailVerified: true}, "", false},
		{gql(user("POST", "/graphql", "admin"), mut("deleteRun")), "admins", true},
	} {
		if d := p.Decide(tt.in); d.Allow != tt.ok || d.Rule != tt.want {
			t.Errorf("%s %s %v %v: %+v, want %q allow=%v", tt.in.Method, tt.in.Path, tt.in.Roles, tt.in.GraphQL, d, tt.want, tt.ok)
		}
	}
	if p.Source() != "testdata/example.yaml" {
		t.Errorf("Source = %q", p.Source())
	}
}
