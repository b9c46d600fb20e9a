package graphql

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []Operation
	}{
		{"shorthand", `{ a b }`, []Operation{{Type: Query, Fields: []string{"a", "b"}}}},
		{"named query", `query Q { b a a }`, []Operation{{Type: Query, Name: "Q", Fields: []string{"a", "b"}}}},
		{"aliased mutation after query", `{ q: __typename } mutation { x: launchRun }`, []Operation{
			{Type: Query, Fields: []string{"__typename"}},
			{Type: Mutation, Fields: []string{"launchRun"}},
		}},
		{"harmless alias", `mutation { harmless: launchRun }`, []Operation{{Type: Mutation, Fields: []string{"launchRun"}}}},
		{"alias named like another field", `query { runs: launchRun(x: 1) }`, []Operation{{Type: Query, Fields: []string{"launchRun"}}}},
		{"several operations in order", `query A { a } mutation B { b } subscription C { c }`, []Operation{
			{Type: Query, Name: "A", Fields: []string{"a"}},
			{Type: Mutation, Name: "B", Fields: []string{"b"}},
			{Type: Subscription, Name: "C", Fields: []string{"c"}},
		}},
		{"word mutation in a string and a comment", "query { a(s: \"mutation\") } # mutation { b }", []Operation{{Type: Query, Fields: []string{"a"}}}},
		{"word mutation in a block string", `query { a(s: """mutation { b }""") }`, []Operation{{Type: Query, Fields: []string{"a"}}}},
		{"field named mutation", `{ mutation }`, []Operation{{Type: Query, Fields: []string{"mutation"}}}},
		{"fragment on the Mutation root", `mutation { ...M } fragment M on Mutation { launchRun deleteRun: launchRun stop }`, []Operation{{Type: Mutation, Fields: []string{"launchRun", "stop"}}}},
		{"nested fragments at the root", `mutation { ...A } fragment A on Mutation { ...B a } fragment B on Mutation { ... on Mutation { b } }`, []Operation{{Type: Mutation, Fields: []string{"a", "b"}}}},
		{"inline fragment with directive", `mutation($s: Boolean!) { ... @skip(if: $s) { launchRun } }`, []Operation{{Type: Mutation, Fields: []string{"launchRun"}}}},
		{"fragment on Query inside mutation", `mutation { ...F } fragment F on Query { launchRun }`, []Operation{{Type: Mutation, Fields: []string{"launchRun"}}}},
		{"nested fields are not root fields", `{ a { launchRun } }`, []Operation{{Type: Query, Fields: []string{"a"}}}},
		{"fragment used twice", `{ ...F x: a } fragment F on Query { a b }`, []Operation{{Type: Query, Fields: []string{"a", "b"}}}},
		{"diamond of fragments", `{ ...A ...B } fragment A on Query { ...C } fragment B on Query { ...C } fragment C on Query { c }`, []Operation{{Type: Query, Fields: []string{"c"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.doc)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.doc, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.doc, diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"empty", ``},
		{"blank", "  \n# only a comment\n"},
		{"fragments only", `fragment F on Query { a }`},
		{"syntax error", `query { a `},
		{"unknown keyword", `mutatoin { a }`},
		{"unknown fragment", `mutation { ...Missing }`},
		{"unknown nested fragment", `{ ...A } fragment A on Query { ...B }`},
		{"fragment cycle", `{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`},
		{"self cycle", `{ ...A } fragment A on Query { a ...A }`},
		{"fragment defined twice", `mutation { ...F } fragment F on Mutation { launchRun } fragment F on Query { a }`},
		{"not graphql", `{"query":"{a}"}`},
		{"schema definition", `type Query { a: Int }`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, err := Parse(tt.doc)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tt.doc, ops)
			}
			if !errors.Is(err, ErrUnparseable) {
				t.Errorf("Parse(%q) error %v does not wrap ErrUnparseable", tt.doc, err)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that what it returns is
// well formed; `go test` runs only the seed corpus.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{ a }`,
		`{ q: __typename } mutation { x: launchRun }`,
		`query { a(s: "mutation") } # mutation`,
		`mutation { ...M } fragment M on Mutation { launchRun }`,
		`{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }`,
		`subscription S($v: [Int!]! = [1]) @d { ... on S { a(o: {x: [1, "s", $v]}) } }`,
		`query { a(s: """block "" string""") }`,
		"\ufeff{ a }",
		`{`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		ops, err := Parse(doc)
		if err != nil {
			if ops != nil {
				t.Errorf("Parse returned operations with an error")
			}
			if !errors.Is(err, ErrUnparseable) {
				t.Errorf("error %v does not wrap ErrUnparseable", err)
			}
			return
		}
		if len(ops) == 0 {
			t.Fatalf("Parse(%q) returned no operation and no error", doc)
		}
		for _, op := range ops {
			switch op.Type {
			case Query, Mutation, Subscription:
			default:
				t.Errorf("operation type %q", op.Type)
			}
			for i := 1; i < len(op.Fields); i++ {
				if op.Fields[i-1] >= op.Fields[i] {
					t.Errorf("fields %q not sorted and unique", op.Fields)
				}
			}
		}
	})
}
