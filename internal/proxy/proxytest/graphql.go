package proxytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// Schema is the SDL of the app's GraphQL API, modelled on a small part of
// Dagster's.
const Schema = `
type Query {
  runs(filter: String, status: String): [Run!]!
  run(id: ID!): Run
  assets: [String!]!
}

type Mutation {
  launchRun(job: String!): Run!
  deleteRun(id: ID!): Boolean!
  materializeAsset(key: String!): Boolean!
}

type Subscription {
  runEvents(runId: ID): String!
}

type Run {
  id: ID!
  status: String!
  job: String!
}
`

// GraphiQLPage is the test app's stand-in for a GraphQL IDE.
const GraphiQLPage = "<!doctype html><title>GraphiQL</title><div id=graphiql>GraphiQL</div>\n"

// MaxGraphQLBody bounds a GraphQL request body.
const MaxGraphQLBody = 1 << 20

var schema = gqlparser.MustLoadSchema(&ast.Source{Name: "proxytest.graphql", Input: Schema})

// GraphQLRequest is one GraphQL request, as sent in a POST body, a batch
// element or a WebSocket subscribe payload.
type GraphQLRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName,omitempty"`
	Variables     map[string]any `json:"variables,omitempty"`
	Extensions    map[string]any `json:"extensions,omitempty"`
}

// errBadRequest marks an HTTP request that is not a GraphQL request at
// all, answered with 400 rather than a GraphQL error.
var errBadRequest = errors.New("bad graphql request")

func (a *App) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	if isUpgrade(r) {
		a.serveGraphQLWS(w, r)
		return
	}
	if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") && !r.URL.Query().Has("query") {
		// Like GraphQL Yoga and Apollo Server: a browser gets the IDE.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, GraphiQLPage)
		return
	}
	reqs, batch, err := decodeGraphQL(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	out := make([]*result, len(reqs))
	for i, q := range reqs {
		out[i] = a.executeHTTP(q)
	}
	w.Header().Set("Content-Type", "application/json")
	if batch {
		_ = json.NewEncoder(w).Encode(out)
		return
	}
	_ = json.NewEncoder(w).Encode(out[0])
}

// executeHTTP runs one request received over HTTP, where subscriptions
// are refused.
func (a *App) executeHTTP(q GraphQLRequest) *result {
	op, res := prepare(q)
	if res != nil {
		return res
	}
	if op.Operation == ast.Subscription {
		return errorResult("subscriptions need a WebSocket")
	}
	return a.execute(op)
}

// decodeGraphQL reads the requests of r: GET ?query=, POST
// application/json (one object or a batch array) or application/graphql.
func decodeGraphQL(r *http.Request) (reqs []GraphQLRequest, batch bool, err error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		q := r.URL.Query()
		req := GraphQLRequest{Query: q.Get("query"), OperationName: q.Get("operationName")}
		if v := q.Get("variables"); v != "" {
			if err := json.Unmarshal([]byte(v), &req.Variables); err != nil {
				return nil, false, fmt.Errorf("%w: variables: %v", errBadRequest, err)
			}
		}
		if req.Query == "" {
			return nil, false, fmt.Errorf("%w: no query", errBadRequest)
		}
		return []GraphQLRequest{req}, false, nil
	case http.MethodPost:
	default:
		return nil, false, fmt.Errorf("%w: method %s", errBadRequest, r.Method)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxGraphQLBody+1))
	if err != nil {
		return nil, false, fmt.Errorf("%w: read body: %v", errBadRequest, err)
	}
	if len(body) > MaxGraphQLBody {
		return nil, false, fmt.Errorf("%w: body over %d bytes", errBadRequest, MaxGraphQLBody)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/graphql":
		q := r.URL.Query()
		return []GraphQLRequest{{Query: string(body), OperationName: q.Get("operationName")}}, false, nil
	case "application/json", "":
		body = bytes.TrimSpace(body)
		if len(body) > 0 && body[0] == '[' {
			if err := json.Unmarshal(body, &reqs); err != nil {
				return nil, false, fmt.Errorf("%w: batch: %v", errBadRequest, err)
			}
			if len(reqs) == 0 {
				return nil, false, fmt.Errorf("%w: empty batch", errBadRequest)
			}
			return reqs, true, nil
		}
		var req GraphQLRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, false, fmt.Errorf("%w: %v", errBadRequest, err)
		}
		return []GraphQLRequest{req}, false, nil
	default:
		return nil, false, fmt.Errorf("%w: content type %q", errBadRequest, mt)
	}
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
			}
		}
	}
	return false
}
