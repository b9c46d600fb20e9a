package graphql

// OperationType is the kind of a GraphQL operation.
type OperationType string

// Operation types (GraphQL spec §2.3).
const (
	Query        OperationType = "query"
	Mutation     OperationType = "mutation"
	Subscription OperationType = "subscription"
)

// Operation is one operation a request asks the upstream to execute.
//
// Name is the operation's name as the client wrote it (may be empty); it
// is chosen by the client, so policy should prefer Fields. Fields are the
// names (never aliases) of the root fields the operation selects, with
// fragment spreads and inline fragments at the root expanded, sorted and
// without duplicates; "__typename" is included when selected.
type Operation struct {
	Type   OperationType
	Name   string
	Fields []string
}
