package proxytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
)

// result is a GraphQL response: data absent when the request never
// started executing, null or an object when it did.
type result struct {
	Data   json.RawMessage `json:"data,omitempty"`
	Errors []resultError   `json:"errors,omitempty"`
}

type resultError struct {
	Message string `json:"message"`
	Path    []any  `json:"path,omitempty"`
}

func errorResult(format string, args ...any) *result {
	return &result{Errors: []resultError{{Message: fmt.Sprintf(format, args...)}}}
}

// operation is a validated operation ready to execute.
type operation struct {
	*ast.OperationDefinition
	doc  *ast.QueryDocument
	vars map[string]any
}

// prepare parses and validates q against the schema and picks its
// operation; a non-nil result is the error to answer with.
func prepare(q GraphQLRequest) (*operation, *result) {
	if strings.TrimSpace(q.Query) == "" {
		return nil, errorResult("no query (persisted queries are not supported)")
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: q.Query})
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return nil, errorResult("%s", ge.Message)
		}
		return nil, errorResult("%s", err.Error())
	}
	if errs := validator.ValidateWithRules(schema, doc, nil); len(errs) > 0 {
		return nil, listResult(errs)
	}
	od := doc.Operations.ForName(q.OperationName)
	if od == nil {
		if q.OperationName == "" {
			return nil, errorResult("operationName is required for a document with several operations")
		}
		return nil, errorResult("unknown operation %q", q.OperationName)
	}
	vars, err := validator.VariableValues(schema, od, q.Variables)
	if err != nil {
		return nil, errorResult("%s", err.Error())
	}
	return &operation{OperationDefinition: od, doc: doc, vars: vars}, nil
}

func listResult(errs gqlerror.List) *result {
	r := &result{}
	for _, e := range errs {
		r.Errors = append(r.Errors, resultError{Message: e.Message})
	}
	return r
}

// group is the fields of one response key, merged.
type group struct {
	key    string
	fields []*ast.Field
}

// collect returns the fields of set by response key, in order, through
// fragment spreads and inline fragments, honouring @skip and @include.
func (op *operation) collect(set ast.SelectionSet, into []*group) []*group {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !op.included(s.Directives) {
				continue
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			i := slices.IndexFunc(into, func(g *group) bool { return g.key == key })
			if i < 0 {
				into = append(into, &group{key: key})
				i = len(into) - 1
			}
			into[i].fields = append(into[i].fields, s)
		case *ast.InlineFragment:
			if op.included(s.Directives) {
				into = op.collect(s.SelectionSet, into)
			}
		case *ast.FragmentSpread:
			if f := op.doc.Fragments.ForName(s.Name); f != nil && op.included(s.Directives) {
				into = op.collect(f.SelectionSet, into)
			}
		}
	}
	return into
}

func (op *operation) included(ds ast.DirectiveList) bool {
	for _, d := range ds {
		v, _ := d.ArgumentMap(op.vars)["if"].(bool)
		switch d.Name {
		case "skip":
			if v {
				return false
			}
		case "include":
			if !v {
				return false
			}
		}
	}
	return true
}

// subselection is the merged selection set of the fields of g.
func (g *group) subselection() ast.SelectionSet {
	var s ast.SelectionSet
	for _, f := range g.fields {
		s = append(s, f.SelectionSet...)
	}
	return s
}

// execute runs a query or a mutation. Mutation root fields run one after
// the other and each is recorded in Mutations.
func (a *App) execute(op *operation) *result {
	res := &result{}
	var data object
	for _, g := range op.collect(op.SelectionSet, nil) {
		f := g.fields[0]
		args := f.ArgumentMap(op.vars)
		var v any
		var err error
		switch {
		case f.Name == "__typename":
			v = rootTypeName(op.Operation)
		case op.Operation == ast.Mutation:
			v, err = a.mutate(f.Name, args)
		default:
			v, err = a.query(f.Name, args)
		}
		if err != nil {
			res.Errors = append(res.Errors, resultError{Message: err.Error(), Path: []any{g.key}})
			v = nil
		}
		data = append(data, member{g.key, op.complete(v, g.subselection())})
	}
	res.Data, _ = json.Marshal(data)
	return res
}

func rootTypeName(o ast.Operation) string {
	switch o {
	case ast.Mutation:
		return "Mutation"
	case ast.Subscription:
		return "Subscription"
	}
	return "Query"
}

// query resolves a Query root field.
func (a *App) query(name string, args map[string]any) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch name {
	case "runs":
		filter, _ := args["filter"].(string)
		status, _ := args["status"].(string)
		var out []Run
		for _, r := range a.runs {
			if strings.Contains(r.Job, filter) && (status == "" || r.Status == status) {
				out = append(out, r)
			}
		}
		return out, nil
	case "run":
		id, _ := args["id"].(string)
		for _, r := range a.runs {
			if r.ID == id {
				return r, nil
			}
		}
		return nil, nil
	case "assets":
		return append([]string{}, a.assets...), nil
	}
	return nil, fmt.Errorf("field %s is not supported by the test app", name)
}

// mutate resolves and records a Mutation root field.
func (a *App) mutate(name string, args map[string]any) (any, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.mutations = append(a.mutations, name)
	switch name {
	case "launchRun":
		job, _ := args["job"].(string)
		r := Run{ID: strconv.Itoa(a.nextID), Status: "QUEUED", Job: job}
		a.nextID++
		a.runs = append(a.runs, r)
		return r, nil
	case "deleteRun":
		id, _ := args["id"].(string)
		n := len(a.runs)
		a.runs = slices.DeleteFunc(a.runs, func(r Run) bool { return r.ID == id })
		return len(a.runs) < n, nil
	case "materializeAsset":
		key, _ := args["key"].(string)
		if !slices.Contains(a.assets, key) {
			a.assets = append(a.assets, key)
		}
		return true, nil
	}
	return nil, fmt.Errorf("mutation %s is not supported by the test app", name)
}

// complete shapes a resolved value by the selection set: a Run becomes an
// object of the selected fields, a list is completed element by element.
func (op *operation) complete(v any, set ast.SelectionSet) any {
	switch v := v.(type) {
	case []Run:
		out := make([]any, len(v))
		for i, r := range v {
			out[i] = op.complete(r, set)
		}
		return out
	case Run:
		var o object
		for _, g := range op.collect(set, nil) {
			var fv any
			switch g.fields[0].Name {
			case "id":
				fv = v.ID
			case "status":
				fv = v.Status
			case "job":
				fv = v.Job
			case "__typename":
				fv = "Run"
			}
			o = append(o, member{g.key, fv})
		}
		return o
	}
	return v
}

// object is a JSON object that keeps its members in selection order, as
// GraphQL responses do.
type object []member

type member struct {
	key   string
	value any
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	if o == nil {
		return []byte("{}"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		v, err := json.Marshal(m.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
