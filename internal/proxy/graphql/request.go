package graphql

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Sentinel errors of FromRequest and FromWSMessage; errors.Is finds them
// through wrapping.
var (
	// ErrTooLarge: the body is larger than allowed (the gateway answers 413).
	ErrTooLarge = errors.New("request body too large")
	// ErrPersistedQuery: the request names a stored document the gateway
	// cannot see, so it cannot tell what would run.
	ErrPersistedQuery = errors.New("persisted queries are not accepted")
	// ErrUnparseable: the request is not a GraphQL request the gateway
	// understands (syntax error, no query, invalid or ambiguous JSON,
	// unsupported content type or encoding).
	ErrUnparseable = errors.New("request not understood")
)

// DefaultMaxBody is the body limit FromRequest applies when given none.
const DefaultMaxBody = 1 << 20

// FromRequest reads at most maxBody bytes of r's body (DefaultMaxBody if
// maxBody <= 0) and returns the operations of every document the upstream
// might execute, with the exact bytes read so the caller can forward them
// unchanged (it must set r.Body again). A larger body is an error wrapping
// ErrTooLarge.
//
// It is conservative, as a gateway must be when the upstream's HTTP and
// JSON handling is not its own:
//
//   - the URL query string's "query" counts for every method (a GET's
//     document, and also a POST's, since servers differ on which wins);
//   - a body counts for every method, by Content-Type: application/json
//     (one request object or a batch of at most 100, every element
//     counting), application/graphql (the body is the document) and
//     application/x-www-form-urlencoded (a "query" field). A charset other
//     than UTF-8, a Content-Encoding, any other content type and
//     multipart/form-data are refused with ErrUnparseable: multipart
//     parsers disagree too often (boundaries, duplicate parts, part
//     headers) for the gateway to know what the upstream would read, and
//     GraphQL file uploads are a CSRF risk of their own;
//   - every operation of a document counts whether or not operationName
//     names one;
//   - the same parameter twice, or JSON object keys that a server could
//     take for the same key, are refused rather than guessed at;
//   - persisted queries (extensions.persistedQuery without the query or
//     with a hash that is not the query's, or an "id", "documentId" or
//     "doc_id") are refused with ErrPersistedQuery;
//   - a request with no document at all is refused with ErrUnparseable.
func FromRequest(r *http.Request, maxBody int64) (ops []Operation, body []byte, err error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	body, err = readBody(r, maxBody)
	if err != nil {
		return nil, nil, err
	}
	ops, err = FromRequestBody(r, body)
	return ops, body, err
}

// FromRequestBody is FromRequest for a request whose body the caller has
// already read (within its own limit): body is that body, r.Body is not
// read.
func FromRequestBody(r *http.Request, body []byte) (ops []Operation, err error) {
	found := false
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("graphql: query string: %w: %v", ErrUnparseable, err)
	}
	urlOps, ok, err := formOps(q)
	if err != nil {
		return nil, fmt.Errorf("graphql: query string: %w", err)
	}
	found = found || ok
	ops = append(ops, urlOps...)
	if len(body) > 0 {
		bodyOps, err := bodyOps(r.Header, body)
		if err != nil {
			return nil, fmt.Errorf("graphql: body: %w", err)
		}
		found = true
		ops = append(ops, bodyOps...)
	}
	if !found {
		return nil, fmt.Errorf("graphql: %w: request has no query", ErrUnparseable)
	}
	return ops, nil
}

// readBody reads at most max bytes of r's body.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > max {
		return nil, fmt.Errorf("graphql: body of %d bytes: %w", r.ContentLength, ErrTooLarge)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("graphql: read body: %w", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("graphql: body over %d bytes: %w", max, ErrTooLarge)
	}
	return body, nil
}

// bodyOps returns the operations of a non-empty body.
func bodyOps(h http.Header, body []byte) ([]Operation, error) {
	if enc := h.Values("Content-Encoding"); len(enc) > 0 && !(len(enc) == 1 && strings.EqualFold(strings.TrimSpace(enc[0]), "identity")) {
		return nil, fmt.Errorf("%w: Content-Encoding %q", ErrUnparseable, strings.Join(enc, ", "))
	}
	cts := h.Values("Content-Type")
	if len(cts) != 1 {
		return nil, fmt.Errorf("%w: %d Content-Type headers", ErrUnparseable, len(cts))
	}
	mt, params, err := mime.ParseMediaType(cts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: Content-Type: %v", ErrUnparseable, err)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, fmt.Errorf("%w: charset %q", ErrUnparseable, cs)
	}
	switch mt {
	case "application/json":
		v, err := decodeStrict(body)
		if err != nil {
			return nil, fmt.Errorf("%w: JSON: %v", ErrUnparseable, err)
		}
		return jsonOps(v)
	case "application/graphql":
		if !utf8.Valid(body) {
			return nil, fmt.Errorf("%w: invalid UTF-8", ErrUnparseable)
		}
		return Parse(string(body))
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: form: %v", ErrUnparseable, err)
		}
		ops, ok, err := formOps(form)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: form has no query", ErrUnparseable)
		}
		return ops, nil
	case "multipart/form-data":
		return nil, fmt.Errorf("%w: multipart requests (file uploads) are not accepted", ErrUnparseable)
	}
	return nil, fmt.Errorf("%w: content type %q", ErrUnparseable, mt)
}

// formOps returns the operations of the "query" parameter of a URL query
// string or form, and whether there was one.
func formOps(form url.Values) ([]Operation, bool, error) {
	for _, k := range []string{"id", "documentId", "doc_id"} {
		if form.Has(k) {
			return nil, false, fmt.Errorf("%w: parameter %q names a stored document", ErrPersistedQuery, k)
		}
	}
	queries := form["query"]
	if len(queries) > 1 {
		return nil, false, fmt.Errorf("%w: %d query parameters", ErrUnparseable, len(queries))
	}
	hasQuery := len(queries) == 1
	var doc string
	if hasQuery {
		doc = queries[0]
	}
	if exts := form["extensions"]; len(exts) > 0 {
		if len(exts) > 1 {
			return nil, false, fmt.Errorf("%w: %d extensions parameters", ErrUnparseable, len(exts))
		}
		ext, err := decodeStrict([]byte(exts[0]))
		if err != nil {
			return nil, false, fmt.Errorf("%w: extensions: %v", ErrUnparseable, err)
		}
		if err := checkExtensions(ext, doc, hasQuery); err != nil {
			return nil, false, err
		}
	}
	if !hasQuery {
		return nil, false, nil
	}
	ops, err := Parse(doc)
	if err != nil {
		return nil, false, err
	}
	return ops, true, nil
}
