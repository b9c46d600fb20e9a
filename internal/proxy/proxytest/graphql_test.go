package proxytest

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// post sends body to /graphql with the content type and returns status
// and body.
func post(t *testing.T, ts string, contentType, body string) (int, string) {
	t.Helper()
	res, err := http.Post(ts+"/graphql", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, strings.TrimSpace(string(b))
}

func TestGraphQLQueries(t *testing.T) {
	app, ts := start(t)
	cases := []struct{ name, req, want string }{
		{"fields in selection order",
			`{"query":"{ runs { job id } }"}`,
			`{"data":{"runs":[{"job":"etl","id":"1"},{"job":"reports","id":"2"},{"job":"etl","id":"3"}]}}`},
		{"aliases",
			`{"query":"{ first: run(id: \"1\") { s: status } other: run(id: \"2\") { id } none: run(id: \"9\") { id } }"}`,
			`{"data":{"first":{"s":"SUCCESS"},"other":{"id":"2"},"none":null}}`},
		{"arguments and variables",
			`{"query":"query Q($f: String) { runs(filter: $f, status: \"STARTED\") { id } }","variables":{"f":"et"}}`,
			`{"data":{"runs":[{"id":"3"}]}}`},
		{"fragments, directives and __typename",
			`{"query":"query { __typename run(id: \"2\") { ...F ... on Run { status @skip(if: true) } } } fragment F on Run { __typename job }"}`,
			`{"data":{"__typename":"Query","run":{"__typename":"Run","job":"reports"}}}`},
		{"operationName picks one",
			`{"query":"query A { assets } mutation B { launchRun(job: \"x\") { id } }","operationName":"A"}`,
			`{"data":{"assets":["raw_events","daily_summary"]}}`},
		{"validation error",
			`{"query":"{ runs { secret } }"}`,
			`{"errors":[{"message":"Cannot query field \"secret\" on type \"Run\"."}]}`},
		{"syntax error",
			`{"query":"mutation {"}`,
			`{"errors":[{"message":"Expected Name, found \u003cEOF\u003e"}]}`},
		{"several operations, no name",
			`{"query":"query A { assets } mutation B { launchRun(job: \"x\") { id } }"}`,
			`{"errors":[{"message":"operationName is required for a document with several operations"}]}`},
		{"persisted query",
			`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`,
			`{"errors":[{"message":"no query (persisted queries are not supported)"}]}`},
		{"subscription over HTTP",
			`{"query":"subscription { runEvents }"}`,
			`{"errors":[{"message":"subscriptions need a WebSocket"}]}`},
	}
	for _, tc := range cases {
		code, body := post(t, ts.URL, "application/json", tc.req)
		if code != http.StatusOK || body != tc.want {
			t.Errorf("%s:\n got %d %s\nwant %s", tc.name, code, body, tc.want)
		}
	}
	if m := app.Mutations(); len(m) != 0 {
		t.Fatalf("queries recorded mutations: %v", m)
	}
}

func TestGraphQLMutationsAreRecorded(t *testing.T) {
	app, ts := start(t)
	code, body := post(t, ts.URL, "application/json",
		`{"query":"mutation { safe: launchRun(job: \"a\") { id job status } deleteRun(id: \"1\") again: deleteRun(id: \"1\") materializeAsset(key: \"k\") }"}`)
	want := `{"data":{"safe":{"id":"4","job":"a","status":"QUEUED"},"deleteRun":true,"again":false,"materializeAsset":true}}`
	if code != http.StatusOK || body != want {
		t.Fatalf("mutation: %d %s", code, body)
	}
	// Field names, never aliases, in execution order.
	if m := app.Mutations(); !slices.Equal(m, []string{"launchRun", "deleteRun", "deleteRun", "materializeAsset"}) {
		t.Fatalf("mutations %v", m)
	}
	runs := app.Runs()
	if len(runs) != 3 || runs[0].ID != "2" || runs[2] != (Run{ID: "4", Status: "QUEUED", Job: "a"}) {
		t.Fatalf("runs %v", runs)
	}
	// A rejected mutation document is not recorded; a skipped field is
	// not executed.
	post(t, ts.URL, "application/json", `{"query":"mutation { launchRun { id } }"}`)
	post(t, ts.URL, "application/json", `{"query":"mutation { __typename launchRun(job: \"b\") @skip(if: true) { id } }"}`)
	if m := app.Mutations(); len(m) != 4 {
		t.Fatalf("mutations after invalid/skipped ones: %v", m)
	}
	app.Reset()
	if m := app.Mutations(); len(m) != 0 || len(app.Runs()) != 3 {
		t.Fatalf("after Reset: %v %v", m, app.Runs())
	}
}

func TestGraphQLTransports(t *testing.T) {
	app, ts := start(t)
	// GET ?query= executes, mutations included: the app protects nothing.
	q := url.Values{"query": {`query R($id: ID!) { run(id: $id) { job } }`}, "variables": {`{"id":"3"}`}}
	res, body := get(t, http.MethodGet, ts.URL+"/graphql?"+q.Encode(), nil)
	if res.StatusCode != http.StatusOK || strings.TrimSpace(body) != `{"data":{"run":{"job":"etl"}}}` {
		t.Errorf("GET query: %d %s", res.StatusCode, body)
	}
	res, body = get(t, http.MethodGet, ts.URL+"/graphql?query="+url.QueryEscape(`mutation { launchRun(job: "g") { id } }`), nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"launchRun":{"id":"4"}`) {
		t.Errorf("GET mutation: %d %s", res.StatusCode, body)
	}
	// application/graphql: the body is the document.
	code, body := post(t, ts.URL, "application/graphql", `mutation { materializeAsset(key: "z") }`)
	if code != http.StatusOK || body != `{"data":{"materializeAsset":true}}` {
		t.Errorf("application/graphql: %d %s", code, body)
	}
	// A batch is answered in order, each element on its own.
	code, body = post(t, ts.URL, "application/json; charset=utf-8",
		` [{"query":"{ assets }"},{"query":"mutation { x: deleteRun(id: \"2\") }"},{"query":"{ nope }"}]`)
	want := `[{"data":{"assets":["raw_events","daily_summary","z"]}},{"data":{"x":true}},{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\"."}]}]`
	if code != http.StatusOK || body != want {
		t.Errorf("batch:\n got %d %s\nwant %s", code, body, want)
	}
	if m := app.Mutations(); !slices.Equal(m, []string{"launchRun", "materializeAsset", "deleteRun"}) {
		t.Errorf("mutations %v", m)
	}
	// Not GraphQL requests at all.
	for _, tc := range []struct{ ct, body string }{
		{"text/plain", `{ assets }`},
		{"application/json", `not json`},
		{"application/json", `[]`},
	} {
		if code, body := post(t, ts.URL, tc.ct, tc.body); code != http.StatusBadRequest {
			t.Errorf("%s %q: %d %s", tc.ct, tc.body, code, body)
		}
	}
	if res, _ := get(t, http.MethodGet, ts.URL+"/graphql", nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("GET without query: %d", res.StatusCode)
	}
	if res, _ := get(t, http.MethodPut, ts.URL+"/graphql", nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("PUT: %d", res.StatusCode)
	}
}
