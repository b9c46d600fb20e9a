package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
)

// Keys of each mapping of a policy file; anything else is a load error.
var (
	topKeys      = []string{"version", "max_body_bytes", "graphql", "rules"}
	endpointKeys = []string{"paths", "hosts", "max_body_bytes", "ide", "refusal_status"}
	ruleKeys     = []string{"name", "hosts", "paths", "methods", "roles", "groups", "emails", "email_domains", "public", "action", "graphql"}
	opKeys       = []string{"types", "fields", "names"}
)

// safeMethods are the methods that do not change state (RFC 9110 §9.2.1)
// and that a browser sends cross-site without a preflight.
var safeMethods = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true}

// Load reads and validates the policy file at path (see Parse).
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	return Parse(data, path)
}

// Parse validates a policy document. It is strict, because a policy that
// silently ignored a misspelt key would fail open (SECURITY-CASES 54):
// unknown keys, duplicate keys, wrong types, empty lists, bad patterns,
// unknown GraphQL operation types, contradictory rules, an unsupported
// version and non-positive sizes are errors naming source:line.
func Parse(data []byte, source string) (*Policy, error) {
	l := &loader{source: source}
	return l.policy(data)
}

// loader turns a YAML document into a Policy.
type loader struct {
	source string
}

// errorf is an error located at n.
func (l *loader) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("policy: %s:%d: %s", l.source, n.Line, fmt.Sprintf(format, args...))
}

func (l *loader) policy(data []byte) (*Policy, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("policy: %s: empty policy (everything would be denied)", l.source)
		}
		return nil, fmt.Errorf("policy: %s: %w", l.source, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("policy: %s: %w", l.source, err)
		}
		return nil, l.errorf(&extra, "a policy file holds one YAML document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	m, err := l.mapping(root, "policy", topKeys)
	if err != nil {
		return nil, err
	}
	p := &Policy{source: l.source, maxBody: DefaultMaxBody}

	v, ok := m["version"]
	if !ok {
		return nil, l.errorf(root, "version: missing (write version: 1)")
	}
	if n, err := l.int(v, "version"); err != nil {
		return nil, err
	} else if n != 1 {
		return nil, l.errorf(v, "version: %d is not supported (this gatehouse reads version 1)", n)
	}
	if v, ok := m["max_body_bytes"]; ok {
		if p.maxBody, err = l.size(v, "max_body_bytes"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["graphql"]; ok {
		if p.graphql, err = l.endpoints(v); err != nil {
			return nil, err
		}
	}
	v, ok = m["rules"]
	if !ok {
		return nil, l.errorf(root, "rules: missing (with no rules everything is denied)")
	}
	if p.rules, err = l.rules(v, p.graphql != nil); err != nil {
		return nil, err
	}
	return p, nil
}

func (l *loader) endpoints(n *yaml.Node) (*endpoints, error) {
	m, err := l.mapping(n, "graphql", endpointKeys)
	if err != nil {
		return nil, err
	}
	e := &endpoints{maxBody: DefaultGraphQLMaxBody, ide: true, refusalStatus: 403}
	v, ok := m["paths"]
	if !ok {
		return nil, l.errorf(resolve(n), "graphql.paths: missing (the paths of the GraphQL endpoints)")
	}
	if e.paths, err = l.paths(v, "graphql.paths"); err != nil {
		return nil, err
	}
	if v, ok := m["hosts"]; ok {
		if e.hosts, err = l.hosts(v, "graphql.hosts"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["max_body_bytes"]; ok {
		if e.maxBody, err = l.size(v, "graphql.max_body_bytes"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["ide"]; ok {
		if e.ide, err = l.bool(v, "graphql.ide"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["refusal_status"]; ok {
		st, err := l.int(v, "graphql.refusal_status")
		if err != nil {
			return nil, err
		}
		if st != 200 && st != 403 {
			return nil, l.errorf(v, "graphql.refusal_status: %d is not 403 or 200", st)
		}
		e.refusalStatus = int(st)
	}
	return e, nil
}

func (l *loader) rules(n *yaml.Node, haveGraphQL bool) ([]*rule, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, l.errorf(n, "rules: expected a list of rules")
	}
	if len(n.Content) == 0 {
		return nil, l.errorf(n, "rules: empty (with no rules everything is denied)")
	}
	names := map[string]int{}
	var rules []*rule
	for _, item := range n.Content {
		r, err := l.rule(item, haveGraphQL)
		if err != nil {
			return nil, err
		}
		if line, dup := names[r.name]; dup {
			return nil, l.errorf(item, "rule %q: the name is already used on line %d", r.name, line)
		}
		names[r.name] = r.line
		rules = append(rules, r)
	}
	return rules, nil
}

func (l *loader) rule(n *yaml.Node, haveGraphQL bool) (*rule, error) {
	n = resolve(n)
	m, err := l.mapping(n, "rule", ruleKeys)
	if err != nil {
		return nil, err
	}
	r := &rule{line: n.Line}
	v, ok := m["name"]
	if !ok {
		return nil, l.errorf(n, "rule: name: missing (every rule needs a name for audit events)")
	}
	if r.name, err = l.str(v, "name"); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("rule %q", r.name)
	if v, ok := m["action"]; ok {
		a, err := l.str(v, what+": action")
		if err != nil {
			return nil, err
		}
		switch a {
		case "allow":
		case "deny":
			r.deny = true
		default:
			return nil, l.errorf(v, "%s: action: %q is not allow or deny", what, a)
		}
	}
	if v, ok := m["public"]; ok {
		if r.public, err = l.bool(v, what+": public"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["hosts"]; ok {
		if r.hosts, err = l.hosts(v, what+": hosts"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["paths"]; ok {
		if r.paths, err = l.paths(v, what+": paths"); err != nil {
			return nil, err
		}
	}
	if v, ok := m["methods"]; ok {
		if r.methods, r.safeOnly, err = l.methods(v, what+": methods"); err != nil {
			return nil, err
		}
	}
	for _, key := range []string{"roles", "groups", "emails", "email_domains"} {
		v, ok := m[key]
		if !ok {
			continue
		}
		if r.public {
			return nil, l.errorf(v, "%s: %s and public: true together; a public rule admits everyone", what, key)
		}
		if err := l.identity(r, key, v, what); err != nil {
			return nil, err
		}
	}
	if r.public && r.deny {
		return nil, l.errorf(m["public"], "%s: public: true on a deny rule; public only admits", what)
	}
	if v, ok := m["graphql"]; ok {
		if !haveGraphQL {
			return nil, l.errorf(v, "%s: graphql conditions, but the policy has no graphql.paths, so no request would be parsed as GraphQL", what)
		}
		if r.graphql, err = l.opMatch(v, what, r.deny); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// identity reads one identity matcher of a rule (roles, groups, emails or
// email_domains) into r.
func (l *loader) identity(r *rule, key string, v *yaml.Node, what string) error {
	list, err := l.strings(v, what+": "+key)
	if err != nil {
		return err
	}
	switch key {
	case "roles":
		r.roles = set(list)
	case "groups":
		r.groups = set(list)
	case "emails":
		r.emails = map[string]bool{}
		for i, s := range list {
			e, err := parseEmail(s)
			if err != nil {
				return l.errorf(resolve(v).Content[i], "%s: emails: %q %v", what, s, err)
			}
			r.emails[e] = true
		}
	case "email_domains":
		for i, s := range list {
			d, err := parseEmailDomain(s)
			if err != nil {
				return l.errorf(resolve(v).Content[i], "%s: email_domains: %q %v", what, s, err)
			}
			r.domains = append(r.domains, d)
		}
	}
	return nil
}

func (l *loader) opMatch(n *yaml.Node, what string, deny bool) (*opMatch, error) {
	m, err := l.mapping(n, what+": graphql", opKeys)
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, l.errorf(resolve(n), "%s: graphql: give types, fields or names", what)
	}
	om := &opMatch{}
	if v, ok := m["types"]; ok {
		list, err := l.strings(v, what+": graphql.types")
		if err != nil {
			return nil, err
		}
		om.types = map[graphql.OperationType]bool{}
		for i, t := range list {
			switch ot := graphql.OperationType(t); ot {
			case graphql.Query, graphql.Mutation, graphql.Subscription:
				om.types[ot] = true
			default:
				return nil, l.errorf(resolve(v).Content[i], "%s: graphql.types: %q is not query, mutation or subscription", what, t)
			}
		}
	}
	if v, ok := m["fields"]; ok {
		list, err := l.strings(v, what+": graphql.fields")
		if err != nil {
			return nil, err
		}
		om.fields = set(list)
	}
	if v, ok := m["names"]; ok {
		list, err := l.strings(v, what+": graphql.names")
		if err != nil {
			return nil, err
		}
		om.names = set(list)
		// The operation name is chosen by the client: "mutation
		// LaunchRun { deleteRun }" is as easy to send as the real
		// thing. It may narrow a grant, never be one.
		readOnly := om.types != nil && !om.types[graphql.Mutation]
		if !deny && om.fields == nil && !readOnly {
			return nil, l.errorf(v, "%s: graphql.names alone would allow any mutation a client names so; add fields (or types without mutation)", what)
		}
	}
	return om, nil
}

func (l *loader) paths(n *yaml.Node, what string) ([]pathPattern, error) {
	list, err := l.strings(n, what)
	if err != nil {
		return nil, err
	}
	out := make([]pathPattern, len(list))
	for i, s := range list {
		if out[i], err = parsePathPattern(s); err != nil {
			return nil, l.errorf(resolve(n).Content[i], "%s: %q %v", what, s, err)
		}
	}
	return out, nil
}

func (l *loader) hosts(n *yaml.Node, what string) ([]hostPattern, error) {
	list, err := l.strings(n, what)
	if err != nil {
		return nil, err
	}
	out := make([]hostPattern, len(list))
	for i, s := range list {
		if out[i], err = parseHostPattern(s); err != nil {
			return nil, l.errorf(resolve(n).Content[i], "%s: %q %v", what, s, err)
		}
	}
	return out, nil
}

func (l *loader) methods(n *yaml.Node, what string) (map[string]bool, bool, error) {
	list, err := l.strings(n, what)
	if err != nil {
		return nil, false, err
	}
	ms := map[string]bool{}
	safe := true
	for i, s := range list {
		u := strings.ToUpper(s)
		if strings.ContainsFunc(u, func(r rune) bool { return r < 'A' || r > 'Z' }) {
			return nil, false, l.errorf(resolve(n).Content[i], "%s: %q is not an HTTP method (omit methods for any method)", what, s)
		}
		ms[u] = true
		safe = safe && safeMethods[u]
	}
	return ms, safe, nil
}

// mapping checks that n is a mapping whose keys are all in allowed, and
// returns its values by key.
func (l *loader) mapping(n *yaml.Node, what string, allowed []string) (map[string]*yaml.Node, error) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, l.errorf(n, "%s: expected a mapping of keys (%s)", what, strings.Join(allowed, ", "))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
			return nil, l.errorf(k, "%s: keys must be plain names", what)
		}
		if _, dup := out[k.Value]; dup {
			return nil, l.errorf(k, "%s: %q is given twice", what, k.Value)
		}
		if !slices.Contains(allowed, k.Value) {
			msg := fmt.Sprintf("%s: unknown key %q", what, k.Value)
			if s := suggest(k.Value, allowed); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += " (known keys: " + strings.Join(allowed, ", ") + ")"
			}
			return nil, l.errorf(k, "%s", msg)
		}
		out[k.Value] = v
	}
	return out, nil
}

// strings reads a non-empty list of non-empty strings.
func (l *loader) strings(n *yaml.Node, what string) ([]string, error) {
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		return nil, l.errorf(n, "%s: expected a list, such as [a, b]", what)
	}
	if len(n.Content) == 0 {
		return nil, l.errorf(n, "%s: empty list; leave the key out to mean any", what)
	}
	out := make([]string, len(n.Content))
	for i, item := range n.Content {
		s, err := l.str(item, what)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// str reads a non-empty string.
func (l *loader) str(n *yaml.Node, what string) (string, error) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", l.errorf(n, "%s: expected a string", what)
	}
	if strings.TrimSpace(n.Value) == "" {
		return "", l.errorf(n, "%s: empty string", what)
	}
	return n.Value, nil
}

func (l *loader) bool(n *yaml.Node, what string) (bool, error) {
	n = resolve(n)
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		return false, l.errorf(n, "%s: expected true or false", what)
	}
	return b, nil
}

func (l *loader) int(n *yaml.Node, what string) (int64, error) {
	n = resolve(n)
	var v int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil {
		return 0, l.errorf(n, "%s: expected a whole number", what)
	}
	return v, nil
}

// size reads a positive byte count.
func (l *loader) size(n *yaml.Node, what string) (int64, error) {
	v, err := l.int(n, what)
	if err != nil {
		return 0, err
	}
	if v <= 0 {
		return 0, l.errorf(resolve(n), "%s: %d; a size must be positive", what, v)
	}
	return v, nil
}

// resolve follows YAML aliases (*name) to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}

// suggest returns the key in known closest to an unknown key, if it is
// close enough to be a misspelling.
func suggest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
