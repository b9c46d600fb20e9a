package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
)

// Default body limits, used when the policy file sets none.
const (
	DefaultMaxBody        = 10 << 20 // non-GraphQL requests
	DefaultGraphQLMaxBody = 1 << 20  // requests to GraphQL endpoints
)

// Input is what the policy judges: one request, already normalised and
// identified by the gateway. There is deliberately no header, user agent,
// query string or client address in it (SECURITY-CASES 44, 46, 48).
type Input struct {
	Host          string   // request host, without port (case and a trailing dot do not matter)
	Path          string   // normalised, decoded path (no query)
	Method        string   // HTTP method (compared upper case)
	Authenticated bool     // the caller was identified
	Roles         []string // the caller's roles; ignored unless Authenticated
	Groups        []string // the caller's groups; ignored unless Authenticated
	// Email is the caller's address; EmailVerified says the issuer
	// vouched for it (email_verified was not false). emails: and
	// email_domains: match only a verified address.
	Email         string
	EmailVerified bool
	GraphQL       []graphql.Operation // the operations of a GraphQL request; nil otherwise
}

// Decision is the policy's answer for one Input.
type Decision struct {
	Allow bool
	// Rule is the name of the deciding rule, "" when no rule matched
	// (default deny). When the operations of a GraphQL request were
	// allowed by several rules, it is their names joined with ", ".
	Rule string
	// Reason is a short explanation for audit events and debug logs. It
	// never contains request values (operation names, fields, roles).
	Reason string
}

// Policy is a loaded, validated policy. It is immutable and safe for
// concurrent use.
type Policy struct {
	source  string
	maxBody int64
	graphql *endpoints // nil: no GraphQL endpoints
	rules   []*rule
}

// endpoints are the GraphQL endpoints of the application.
type endpoints struct {
	hosts   []hostPattern // nil: any host
	paths   []pathPattern
	maxBody int64
	// ide: a browser's page load of the endpoint (GET, HTML, no query) is
	// judged as a query, so that GraphiQL and similar IDEs open.
	ide bool
	// refusalStatus is the HTTP status of a refused GraphQL request: 403,
	// or 200 for clients that show errors only on 200.
	refusalStatus int
}

// rule is one compiled entry of rules:.
type rule struct {
	name     string
	line     int
	deny     bool
	public   bool
	hosts    []hostPattern   // nil: any host
	paths    []pathPattern   // nil: any path
	methods  map[string]bool // nil: any method
	safeOnly bool            // methods lists only GET, HEAD, OPTIONS
	roles    map[string]bool // nil: any role; all four nil: any authenticated caller (allow) / anyone (deny)
	groups   map[string]bool // nil: any groups
	emails   map[string]bool // lower case; nil: any address
	domains  []emailPattern  // nil: any address
	graphql  *opMatch        // nil: not a GraphQL rule
}

// opMatch is a rule's graphql: condition.
type opMatch struct {
	types  map[graphql.OperationType]bool // nil: any type
	fields map[string]bool                // nil: any root fields
	names  map[string]bool                // nil: any operation name
}

// request is an Input prepared for matching.
type request struct {
	host          string
	segs          []string
	method        string
	authenticated bool
	roles         []string
	groups        []string
	email         string // lower case; "" unless verified
}

// newRequest prepares in for matching: identity only when authenticated,
// the address only when verified.
func newRequest(in Input) request {
	req := request{
		host:          normHost(in.Host),
		segs:          splitPath(in.Path),
		method:        strings.ToUpper(in.Method),
		authenticated: in.Authenticated,
	}
	if in.Authenticated {
		req.roles, req.groups = in.Roles, in.Groups
		if in.EmailVerified {
			req.email = strings.ToLower(in.Email)
		}
	}
	return req
}

// Decide judges in. Deny is the default: a request is allowed only when
// the first rule that matches it allows it, and a GraphQL request only
// when every one of its operations is allowed that way.
func (p *Policy) Decide(in Input) Decision {
	if why := pathProblem(in.Path); why != "" {
		return Decision{Reason: why}
	}
	req := newRequest(in)
	if len(in.GraphQL) == 0 {
		r := p.first(&req, nil)
		switch {
		case r == nil:
			return Decision{Reason: "no rule matched (default deny)"}
		case r.deny:
			return Decision{Rule: r.name, Reason: "denied by rule"}
		}
		return Decision{Allow: true, Rule: r.name, Reason: "allowed by rule"}
	}
	var by []string
	n := len(in.GraphQL)
	for i := range in.GraphQL {
		op := &in.GraphQL[i]
		switch op.Type {
		case graphql.Query, graphql.Mutation, graphql.Subscription:
		default:
			return Decision{Reason: fmt.Sprintf("graphql operation %d of %d: unknown operation type", i+1, n)}
		}
		r := p.first(&req, op)
		switch {
		case r == nil:
			return Decision{Reason: fmt.Sprintf("graphql %s (operation %d of %d): no rule matched (default deny)", op.Type, i+1, n)}
		case r.deny:
			return Decision{Rule: r.name, Reason: fmt.Sprintf("graphql %s (operation %d of %d): denied by rule", op.Type, i+1, n)}
		}
		if !slices.Contains(by, r.name) {
			by = append(by, r.name)
		}
	}
	return Decision{Allow: true, Rule: strings.Join(by, ", "), Reason: fmt.Sprintf("%d graphql operation(s) allowed by rule", n)}
}

// first returns the first rule matching req (and op, for one operation of
// a GraphQL request), or nil.
func (p *Policy) first(req *request, op *graphql.Operation) *rule {
	for _, r := range p.rules {
		if r.match(req, op) {
			return r
		}
	}
	return nil
}

// Public reports whether an anonymous caller may make a plain (non-GraphQL)
// request with method to host and path: whether Decide would allow it.
func (p *Policy) Public(host, path, method string) bool {
	return p.Decide(Input{Host: host, Path: path, Method: method}).Allow
}

// UsesHosts reports whether any rule (or the GraphQL endpoints) names
// hosts: the gateway then forwards the Host it judged and refuses hosts
// that nothing names (SECURITY-CASES 68).
func (p *Policy) UsesHosts() bool {
	if p.graphql != nil && p.graphql.hosts != nil {
		return true
	}
	return slices.ContainsFunc(p.rules, func(r *rule) bool { return r.hosts != nil })
}

// NamesHost reports whether a hosts: list of the policy matches host.
func (p *Policy) NamesHost(host string) bool {
	h := normHost(host)
	if p.graphql != nil && p.graphql.hosts != nil && anyHost(p.graphql.hosts, h) {
		return true
	}
	return slices.ContainsFunc(p.rules, func(r *rule) bool { return r.hosts != nil && anyHost(r.hosts, h) })
}

// AnonymousMayPass reports whether any rule could allow an anonymous
// caller's request with method to host and path, whatever its GraphQL
// operations: whether a public allow rule matches them. When it does not,
// Decide refuses every anonymous request there, so the gateway answers
// without reading or parsing the body (SECURITY-CASES 67).
func (p *Policy) AnonymousMayPass(host, path, method string) bool {
	if pathProblem(path) != "" {
		return false
	}
	req := request{host: normHost(host), segs: splitPath(path), method: strings.ToUpper(method)}
	for _, r := range p.rules {
		if r.hosts != nil && !anyHost(r.hosts, req.host) {
			continue
		}
		if r.paths != nil && !anyPath(r.paths, req.segs) {
			continue
		}
		if r.methods != nil && !r.methods[req.method] {
			continue
		}
		if !r.caller(&req) {
			continue
		}
		if r.deny && r.graphql == nil {
			// Denies every anonymous request that reaches it.
			return false
		}
		if !r.deny {
			return true
		}
	}
	return false
}

// IsGraphQL reports whether host and path are a GraphQL endpoint, whose
// request bodies, GET ?query= and WebSocket messages the gateway must parse
// and pass to Decide. Paths compare case-insensitively, like rules.
func (p *Policy) IsGraphQL(host, path string) bool {
	if p.graphql == nil {
		return false
	}
	if p.graphql.hosts != nil && !anyHost(p.graphql.hosts, normHost(host)) {
		return false
	}
	return anyPath(p.graphql.paths, splitPath(path))
}

// MaxBody is the largest request body the gateway accepts for host and
// path: graphql.max_body_bytes on GraphQL endpoints, max_body_bytes
// elsewhere. It is always positive.
func (p *Policy) MaxBody(host, path string) int64 {
	if p.IsGraphQL(host, path) {
		return p.graphql.maxBody
	}
	return p.maxBody
}

// GraphQLRefusalStatus is the HTTP status of a refused request to a
// GraphQL endpoint (graphql.refusal_status: 403 unless set to 200).
func (p *Policy) GraphQLRefusalStatus() int {
	if p.graphql == nil {
		return 403
	}
	return p.graphql.refusalStatus
}

// DecideIDE judges a browser's page load of a GraphQL endpoint (GET with
// Accept: text/html and no document), which GraphQL servers answer with
// their IDE (GraphiQL, Apollo Sandbox): the first rule for the caller that
// would allow or deny some query there decides, whatever its fields or
// names. With graphql.ide: false it is judged like any request without a
// document: refused.
func (p *Policy) DecideIDE(in Input) Decision {
	if p.graphql == nil || !p.graphql.ide {
		return Decision{Reason: "graphql: page load of the endpoint (graphql.ide is off)"}
	}
	if why := pathProblem(in.Path); why != "" {
		return Decision{Reason: why}
	}
	req := newRequest(in)
	for _, r := range p.rules {
		if r.hosts != nil && !anyHost(r.hosts, req.host) || r.paths != nil && !anyPath(r.paths, req.segs) ||
			r.methods != nil && !r.methods[req.method] || !r.caller(&req) {
			continue
		}
		if r.graphql != nil && r.graphql.types != nil && !r.graphql.types[graphql.Query] {
			continue
		}
		if r.deny {
			if r.graphql != nil {
				continue // denies some queries, not the IDE
			}
			return Decision{Rule: r.name, Reason: "graphql ide: denied by rule"}
		}
		return Decision{Allow: true, Rule: r.name, Reason: "graphql ide: the caller may query"}
	}
	return Decision{Reason: "graphql ide: no rule lets the caller query (default deny)"}
}

// Source is the file name (or "preset:NAME") the policy was loaded from.
func (p *Policy) Source() string { return p.source }

// match reports whether r applies to req; op is one operation of a
// GraphQL request, or nil for a plain request.
func (r *rule) match(req *request, op *graphql.Operation) bool {
	if r.hosts != nil && !anyHost(r.hosts, req.host) {
		return false
	}
	if r.paths != nil && !anyPath(r.paths, req.segs) {
		return false
	}
	if r.methods != nil && !r.methods[req.method] {
		return false
	}
	if !r.caller(req) {
		return false
	}
	if r.graphql == nil {
		// A mutation is a write whatever the HTTP method carrying it
		// (GET ?query=, a message on a WebSocket opened with GET): an
		// allow rule limited to read methods does not cover it.
		return op == nil || r.deny || !r.safeOnly || op.Type != graphql.Mutation
	}
	return op != nil && r.graphql.match(op, r.deny)
}

// caller reports whether r applies to the caller of req.
func (r *rule) caller(req *request) bool {
	switch {
	case r.public:
		return true
	case !r.hasIdentity():
		return r.deny || req.authenticated
	case !req.authenticated:
		return false
	}
	return r.identity(req)
}

// match reports whether op satisfies m. For an allow rule every root field
// must be listed; for a deny rule one listed field is enough.
func (m *opMatch) match(op *graphql.Operation, deny bool) bool {
	if m.types != nil && !m.types[op.Type] {
		return false
	}
	if m.names != nil && (op.Name == "" || !m.names[op.Name]) {
		return false
	}
	if m.fields == nil {
		return true
	}
	if deny {
		return slices.ContainsFunc(op.Fields, func(f string) bool { return m.fields[f] })
	}
	return len(op.Fields) > 0 && !slices.ContainsFunc(op.Fields, func(f string) bool { return !m.fields[f] })
}

func anyHost(ps []hostPattern, host string) bool {
	return slices.ContainsFunc(ps, func(h hostPattern) bool { return h.match(host) })
}

func anyPath(ps []pathPattern, segs []string) bool {
	return slices.ContainsFunc(ps, func(p pathPattern) bool { return p.match(segs) })
}
