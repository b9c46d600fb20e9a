package graphql

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newRequest builds a request; ct "" sets no Content-Type.
func newRequest(method, target, ct, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return r
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func q(doc string) string { return "/graphql?query=" + url.QueryEscape(doc) }

var (
	queryA       = Operation{Type: Query, Fields: []string{"a"}}
	mutLaunchRun = Operation{Type: Mutation, Fields: []string{"launchRun"}}
)

func TestFromRequest(t *testing.T) {
	const ctJSON = "application/json"
	tests := []struct {
		name string
		r    *http.Request
		want []Operation
	}{
		{"GET query", newRequest("GET", q(`{ a }`), "", ""), []Operation{queryA}},
		{"GET mutation", newRequest("GET", q(`mutation{launchRun}`), "", ""), []Operation{mutLaunchRun}},
		{"HEAD query", newRequest("HEAD", q(`{ a }`), "", ""), []Operation{queryA}},
		{"GET mutation by escaped parameter name", newRequest("GET", "/graphql?%71uery=mutation%7BlaunchRun%7D", "", ""), []Operation{mutLaunchRun}},
		{"JSON object", newRequest("POST", "/graphql", ctJSON, `{"query":"{ a }","variables":{"x":1},"operationName":null}`), []Operation{queryA}},
		{"JSON with charset", newRequest("POST", "/graphql", "application/json; charset=UTF-8", `{"query":"{ a }"}`), []Operation{queryA}},
		{"operationName does not hide the mutation", newRequest("POST", "/graphql", ctJSON,
			`{"query":"query Q { a } mutation M { launchRun }","operationName":"Q"}`),
			[]Operation{{Type: Query, Name: "Q", Fields: []string{"a"}}, {Type: Mutation, Name: "M", Fields: []string{"launchRun"}}}},
		{"several operations without operationName", newRequest("POST", "/graphql", ctJSON,
			`{"query":"query Q { a } mutation M { launchRun }"}`),
			[]Operation{{Type: Query, Name: "Q", Fields: []string{"a"}}, {Type: Mutation, Name: "M", Fields: []string{"launchRun"}}}},
		{"aliased mutation", newRequest("POST", "/graphql", ctJSON, `{"query":"{ q: __typename } mutation { x: launchRun }"}`),
			[]Operation{{Type: Query, Fields: []string{"__typename"}}, mutLaunchRun}},
		{"batch with a mutation", newRequest("POST", "/graphql", ctJSON, `[{"query":"{ a }"},{"query":"mutation { launchRun }"}]`),
			[]Operation{queryA, mutLaunchRun}},
		{"key in other case counts", newRequest("POST", "/graphql", ctJSON, `{"QUERY":"mutation { launchRun }"}`), []Operation{mutLaunchRun}},
		{"application/graphql", newRequest("POST", "/graphql", "application/graphql", `mutation { launchRun }`), []Operation{mutLaunchRun}},
		{"form", newRequest("POST", "/graphql", "application/x-www-form-urlencoded", "query="+url.QueryEscape(`mutation{launchRun}`)), []Operation{mutLaunchRun}},
		{"POST with a query in the URL too", newRequest("POST", q(`mutation{launchRun}`), ctJSON, `{"query":"{ a }"}`), []Operation{mutLaunchRun, queryA}},
		{"strings and comments with mutation", newRequest("POST", "/graphql", ctJSON, `{"query":"query { a(s: \"mutation\") } # mutation"}`), []Operation{queryA}},
		{"APQ with its query", newRequest("POST", "/graphql", ctJSON,
			`{"query":"{ a }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+sha("{ a }")+`"}}}`), []Operation{queryA}},
		{"GET APQ with its query", newRequest("GET", q(`{ a }`)+"&extensions="+url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"`+sha("{ a }")+`"}}`), "", ""), []Operation{queryA}},
		{"empty body with URL query", newRequest("POST", q(`{ a }`), ctJSON, ""), []Operation{queryA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent []byte
			if tt.r.Body != nil {
				sent, _ = io.ReadAll(tt.r.Body)
				tt.r.Body = io.NopCloser(bytes.NewReader(sent))
			}
			ops, body, err := FromRequest(tt.r, 1<<16)
			if err != nil {
				t.Fatalf("FromRequest: %v", err)
			}
			if diff := cmp.Diff(tt.want, ops); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
			if !bytes.Equal(body, sent) {
				t.Errorf("body = %q, want the bytes sent %q", body, sent)
			}
		})
	}
}

func TestFromRequestRefused(t *testing.T) {
	const ctJSON = "application/json"
	big := `{"query":"{ a }","variables":{"x":"` + strings.Repeat("x", 1<<16) + `"}}`
	tests := []struct {
		name string
		r    *http.Request
		want error
	}{
		{"GET without query", newRequest("GET", "/graphql", "", ""), ErrUnparseable},
		{"GET empty query", newRequest("GET", "/graphql?query=", "", ""), ErrUnparseable},
		{"GET two queries", newRequest("GET", q(`{ a }`)+"&query="+url.QueryEscape(`mutation{launchRun}`), "", ""), ErrUnparseable},
		{"GET semicolon in query string", newRequest("GET", "/graphql?x=1;query=mutation%7Bb%7D", "", ""), ErrUnparseable},
		{"GET syntax error", newRequest("GET", q(`{ a `), "", ""), ErrUnparseable},
		{"GET persisted hash", newRequest("GET", "/graphql?extensions="+url.QueryEscape(`{"persistedQuery":{"version":1,"sha256Hash":"`+sha("{ a }")+`"}}`), "", ""), ErrPersistedQuery},
		{"GET doc_id", newRequest("GET", "/graphql?doc_id=123", "", ""), ErrPersistedQuery},
		{"GET id beside a query", newRequest("GET", q(`{ a }`)+"&id=123", "", ""), ErrPersistedQuery},
		{"JSON persisted hash without query", newRequest("POST", "/graphql", ctJSON, `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`), ErrPersistedQuery},
		{"JSON persisted hash of another document", newRequest("POST", "/graphql", ctJSON,
			`{"query":"{ a }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"`+sha("mutation { launchRun }")+`"}}}`), ErrPersistedQuery},
		{"JSON id", newRequest("POST", "/graphql", ctJSON, `{"id":"abc","variables":{}}`), ErrPersistedQuery},
		{"JSON documentId", newRequest("POST", "/graphql", ctJSON, `{"documentId":"sha256:abc"}`), ErrPersistedQuery},
		{"JSON doc_id beside a query", newRequest("POST", "/graphql", ctJSON, `{"doc_id":"1","query":"{ a }"}`), ErrPersistedQuery},
		{"JSON persisted id in a batch", newRequest("POST", "/graphql", ctJSON, `[{"query":"{ a }"},{"id":"launch"}]`), ErrPersistedQuery},
		{"JSON duplicate query key", newRequest("POST", "/graphql", ctJSON, `{"query":"query{a}","query":"mutation{b}"}`), ErrUnparseable},
		{"JSON query keys differing in case", newRequest("POST", "/graphql", ctJSON, `{"query":"{ a }","Query":"mutation{b}"}`), ErrUnparseable},
		{"JSON duplicate nested key", newRequest("POST", "/graphql", ctJSON, `{"query":"{ a }","extensions":{"persistedQuery":null,"persiſtedQuery":{"sha256Hash":"x"}}}`), ErrUnparseable},
		{"JSON query not a string", newRequest("POST", "/graphql", ctJSON, `{"query":["mutation{b}"]}`), ErrUnparseable},
		{"JSON null query", newRequest("POST", "/graphql", ctJSON, `{"query":null}`), ErrUnparseable},
		{"JSON without query", newRequest("POST", "/graphql", ctJSON, `{"variables":{}}`), ErrUnparseable},
		{"JSON empty batch", newRequest("POST", "/graphql", ctJSON, `[]`), ErrUnparseable},
		{"JSON batch too long", newRequest("POST", "/graphql", ctJSON, "["+strings.Repeat(`{"query":"{a}"},`, maxBatch)+`{"query":"{a}"}]`), ErrUnparseable},
		{"JSON nested batch", newRequest("POST", "/graphql", ctJSON, `[[{"query":"{ a }"}]]`), ErrUnparseable},
		{"JSON string", newRequest("POST", "/graphql", ctJSON, `"mutation { launchRun }"`), ErrUnparseable},
		{"JSON invalid", newRequest("POST", "/graphql", ctJSON, `{"query":"{ a }"`), ErrUnparseable},
		{"JSON trailing value", newRequest("POST", "/graphql", ctJSON, `{"query":"{ a }"} {"query":"mutation { launchRun }"}`), ErrUnparseable},
		{"JSON invalid UTF-8", newRequest("POST", "/graphql", ctJSON, "{\"query\":\"{ a }\",\"x\":\"\xff\"}"), ErrUnparseable},
		{"JSON with a mutation that does not parse", newRequest("POST", "/graphql", ctJSON, `{"query":"mutation { launchRun "}`), ErrUnparseable},
		{"JSON in UTF-16", newRequest("POST", "/graphql", "application/json; charset=utf-16", `{"query":"{ a }"}`), ErrUnparseable},
		{"graphql body with a syntax error", newRequest("POST", "/graphql", "application/graphql", `mutation { launchRun`), ErrUnparseable},
		{"unknown content type", newRequest("POST", "/graphql", "text/plain", `{"query":"{ a }"}`), ErrUnparseable},
		{"no content type", newRequest("POST", "/graphql", "", `{"query":"{ a }"}`), ErrUnparseable},
		{"bad content type", newRequest("POST", "/graphql", "application/json; ===", `{"query":"{ a }"}`), ErrUnparseable},
		{"multipart", newRequest("POST", "/graphql", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{\"query\":\"{ a }\"}\r\n--x--\r\n"), ErrUnparseable},
		{"form without query", newRequest("POST", "/graphql", "application/x-www-form-urlencoded", "x=1"), ErrUnparseable},
		{"form with two queries", newRequest("POST", "/graphql", "application/x-www-form-urlencoded", "query=%7Ba%7D&query=mutation%7Bb%7D"), ErrUnparseable},
		{"POST body fine but URL query broken", newRequest("POST", q(`mutation {`), ctJSON, `{"query":"{ a }"}`), ErrUnparseable},
		{"GET with an unparseable body", newRequest("GET", q(`{ a }`), "", `mutation { launchRun }`), ErrUnparseable},
		{"oversize body", newRequest("POST", "/graphql", ctJSON, big), ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, _, err := FromRequest(tt.r, 1<<16)
			if !errors.Is(err, tt.want) {
				t.Fatalf("FromRequest = %+v, %v; want an error wrapping %v", ops, err, tt.want)
			}
			if ops != nil {
				t.Errorf("operations %+v returned with an error", ops)
			}
		})
	}
}

func TestFromRequestEncodedBody(t *testing.T) {
	r := newRequest("POST", "/graphql", "application/json", `{"query":"{ a }"}`)
	r.Header.Set("Content-Encoding", "gzip")
	if _, _, err := FromRequest(r, 0); !errors.Is(err, ErrUnparseable) {
		t.Errorf("Content-Encoding gzip: err = %v, want ErrUnparseable", err)
	}
	r = newRequest("POST", "/graphql", "application/json", `{"query":"{ a }"}`)
	r.Header.Add("Content-Type", "application/graphql")
	if _, _, err := FromRequest(r, 0); !errors.Is(err, ErrUnparseable) {
		t.Errorf("two Content-Type headers: err = %v, want ErrUnparseable", err)
	}
}

func TestFromRequestSizeLimit(t *testing.T) {
	body := `{"query":"{ a }"}`
	n := int64(len(body))

	// Exactly the limit passes, without Content-Length (chunked).
	r := newRequest("POST", "/graphql", "application/json", body)
	r.ContentLength = -1
	if _, got, err := FromRequest(r, n); err != nil || string(got) != body {
		t.Fatalf("body of exactly the limit: %q, %v", got, err)
	}
	// One byte over, without Content-Length: the read stops after limit+1.
	r = newRequest("POST", "/graphql", "application/json", body)
	r.ContentLength = -1
	counting := &countingReader{r: r.Body}
	r.Body = io.NopCloser(counting)
	if _, _, err := FromRequest(r, n-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("body over the limit: err = %v, want ErrTooLarge", err)
	}
	if counting.n > n {
		t.Errorf("read %d bytes with a limit of %d", counting.n, n-1)
	}
	// A declared Content-Length over the limit is refused before reading.
	r = newRequest("POST", "/graphql", "application/json", body)
	counting = &countingReader{r: r.Body}
	r.Body = io.NopCloser(counting)
	if _, _, err := FromRequest(r, n-1); !errors.Is(err, ErrTooLarge) || counting.n != 0 {
		t.Errorf("Content-Length over the limit: err = %v after reading %d bytes", err, counting.n)
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestFoldKey(t *testing.T) {
	for _, pair := range [][2]string{{"query", "QUERY"}, {"extensions", "extenſionſ"}, {"k", "\u212a"}} {
		if foldKey(pair[0]) != foldKey(pair[1]) || !strings.EqualFold(pair[0], pair[1]) {
			t.Errorf("foldKey(%q) != foldKey(%q)", pair[0], pair[1])
		}
	}
	if foldKey("query") == foldKey("queries") {
		t.Error("different keys fold alike")
	}
}
