// Package graphql finds every operation an HTTP request or a WebSocket
// message could make a GraphQL server execute, so the gateway can
// authorise it by operation type and root field.
//
// The package is deliberately conservative: it parses documents with a
// real GraphQL parser (never by looking for words), counts every operation
// of every document whether or not an operationName picks one, and refuses
// anything it cannot see through (persisted queries, unknown content types,
// ambiguous JSON) rather than guessing what the upstream would run.
package graphql

import (
	"errors"
	"fmt"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Parse returns every operation of document, in document order. Root
// fields are field names (never aliases); fragment spreads and inline
// fragments at the root are expanded through the document's fragment
// definitions, whatever their type condition or directives, since
// @skip/@include may depend on variables. The shorthand "{ a }" is a query.
//
// A syntax error, a document without operations, a spread of an unknown
// fragment, two fragments with the same name or a fragment cycle is an
// error wrapping ErrUnparseable.
func Parse(document string) ([]Operation, error) {
	doc, err := parser.ParseQuery(&ast.Source{Input: document})
	if err != nil {
		return nil, fmt.Errorf("graphql: parse: %w: %v", ErrUnparseable, err)
	}
	if len(doc.Operations) == 0 {
		return nil, fmt.Errorf("graphql: parse: %w: document has no operation", ErrUnparseable)
	}
	x := expander{
		defs:   make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		fields: make(map[string][]string, len(doc.Fragments)),
		state:  make(map[string]int, len(doc.Fragments)),
	}
	for _, f := range doc.Fragments {
		// GraphQL §5.5.1.1 "Fragment Name Uniqueness": servers that do not
		// validate would pick one of the two; refuse rather than guess.
		if _, dup := x.defs[f.Name]; dup {
			return nil, fmt.Errorf("graphql: parse: %w: fragment %q defined twice", ErrUnparseable, f.Name)
		}
		x.defs[f.Name] = f
	}
	ops := make([]Operation, 0, len(doc.Operations))
	for _, od := range doc.Operations {
		typ, err := operationType(od.Operation)
		if err != nil {
			return nil, err
		}
		set := make(map[string]struct{})
		if err := x.collect(od.SelectionSet, set); err != nil {
			return nil, err
		}
		ops = append(ops, Operation{Type: typ, Name: od.Name, Fields: sortedKeys(set)})
	}
	return ops, nil
}

func operationType(op ast.Operation) (OperationType, error) {
	switch op {
	case ast.Query, "":
		return Query, nil
	case ast.Mutation:
		return Mutation, nil
	case ast.Subscription:
		return Subscription, nil
	}
	return "", fmt.Errorf("graphql: parse: %w: unknown operation type %q", ErrUnparseable, op)
}

// Fragment expansion states.
const (
	unvisited = iota
	visiting
	done
)

// expander expands root selection sets. Each fragment's root fields are
// computed once, so a document whose fragments spread each other many
// times over costs time linear in its size, not exponential.
type expander struct {
	defs   map[string]*ast.FragmentDefinition
	fields map[string][]string
	state  map[string]int
}

var errCycle = errors.New("fragment cycle")

// collect adds the root field names of set to out.
func (x *expander) collect(set ast.SelectionSet, out map[string]struct{}) error {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			out[s.Name] = struct{}{}
		case *ast.InlineFragment:
			if err := x.collect(s.SelectionSet, out); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			names, err := x.fragment(s.Name)
			if err != nil {
				return err
			}
			for _, n := range names {
				out[n] = struct{}{}
			}
		default:
			return fmt.Errorf("graphql: parse: %w: unknown selection %T", ErrUnparseable, sel)
		}
	}
	return nil
}

// fragment returns the root field names a spread of the named fragment
// selects.
func (x *expander) fragment(name string) ([]string, error) {
	switch x.state[name] {
	case done:
		return x.fields[name], nil
	case visiting:
		// GraphQL §5.5.2.2 "Fragment spreads must not form cycles".
		return nil, fmt.Errorf("graphql: parse: %w: %w through %q", ErrUnparseable, errCycle, name)
	}
	def, ok := x.defs[name]
	if !ok {
		return nil, fmt.Errorf("graphql: parse: %w: unknown fragment %q", ErrUnparseable, name)
	}
	x.state[name] = visiting
	set := make(map[string]struct{})
	if err := x.collect(def.SelectionSet, set); err != nil {
		return nil, err
	}
	x.state[name] = done
	x.fields[name] = sortedKeys(set)
	return x.fields[name], nil
}

func sortedKeys(set map[string]struct{}) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
