package graphql

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxBatch bounds the number of requests in one batched JSON array.
const maxBatch = 100

// decodeStrict decodes data as exactly one JSON value. Unlike
// encoding/json alone it refuses invalid UTF-8 and objects with two keys
// that a server could take for the same one: JSON parsers disagree on
// which of two duplicate keys wins, and Go servers match keys to struct
// fields case-insensitively (with Unicode folding, "ſ" is "s"), so
// {"query":"{a}","QUERY":"mutation{b}"} could run either document.
func decodeStrict(data []byte) (any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("invalid UTF-8")
	}
	if err := checkKeys(data); err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// checkKeys walks the tokens of one JSON value and fails on a duplicate
// key (compared by foldKey) in any object, or on data after the value.
func checkKeys(data []byte) error {
	type frame struct {
		object  bool
		wantKey bool
		seen    map[string]struct{}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		valueDone := false
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch {
		case top != nil && top.object && top.wantKey:
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				valueDone = true
				break
			}
			key, ok := tok.(string)
			if !ok {
				return fmt.Errorf("unexpected %v", tok)
			}
			k := foldKey(key)
			if _, dup := top.seen[k]; dup {
				return fmt.Errorf("duplicate key %q", key)
			}
			top.seen[k] = struct{}{}
			top.wantKey = false
		case tok == json.Delim('{'):
			stack = append(stack, &frame{object: true, wantKey: true, seen: make(map[string]struct{})})
		case tok == json.Delim('['):
			stack = append(stack, &frame{})
		case tok == json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone = true
		default:
			valueDone = true
		}
		if !valueDone {
			continue
		}
		if len(stack) == 0 {
			break
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// foldKey maps every rune of s to the smallest rune of its Unicode simple
// case folding orbit, so foldKey(a) == foldKey(b) exactly when
// strings.EqualFold(a, b), which is how encoding/json matches field names.
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}

// Request object keys, folded.
var (
	keyQuery          = foldKey("query")
	keyExtensions     = foldKey("extensions")
	keyPersistedQuery = foldKey("persistedQuery")
	keySHA256Hash     = foldKey("sha256Hash")
	keyType           = foldKey("type")
	keyPayload        = foldKey("payload")
	// Keys that name a stored document instead of sending one: Relay
	// ("doc_id", "id") and the GraphQL-over-HTTP persisted documents
	// proposal ("documentId").
	persistedIDKeys = []string{foldKey("id"), foldKey("documentId"), foldKey("doc_id")}
)

// folded returns obj with its keys folded; decodeStrict has made sure no
// two keys fold alike.
func folded(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[foldKey(k)] = v
	}
	return out
}

// jsonOps returns the operations of a decoded JSON request body: one
// request object or a batch of them.
func jsonOps(v any) ([]Operation, error) {
	batch, ok := v.([]any)
	if !ok {
		return requestOps(v)
	}
	if len(batch) == 0 {
		return nil, fmt.Errorf("graphql: %w: empty batch", ErrUnparseable)
	}
	if len(batch) > maxBatch {
		return nil, fmt.Errorf("graphql: %w: batch of %d requests, at most %d allowed", ErrUnparseable, len(batch), maxBatch)
	}
	var ops []Operation
	for i, el := range batch {
		o, err := requestOps(el)
		if err != nil {
			return nil, fmt.Errorf("graphql: batch element %d: %w", i, err)
		}
		ops = append(ops, o...)
	}
	return ops, nil
}

// requestOps returns the operations of one request object
// {query, operationName, variables, extensions}. Every operation of the
// document counts, whatever operationName says: servers differ on what
// they do with a name that matches nothing or with no name for a
// document of several operations, so the gateway judges them all.
func requestOps(v any) ([]Operation, error) {
	raw, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("graphql: %w: request is not a JSON object", ErrUnparseable)
	}
	obj := folded(raw)
	for _, k := range persistedIDKeys {
		// Refused even next to a query: a server that knows the id may run
		// the stored document and ignore the query the gateway saw.
		if id, ok := obj[k]; ok && id != nil {
			return nil, fmt.Errorf("graphql: %w: request names a stored document", ErrPersistedQuery)
		}
	}
	query, hasQuery := obj[keyQuery]
	if query == nil {
		hasQuery = false
	}
	var doc string
	if hasQuery {
		s, ok := query.(string)
		if !ok {
			return nil, fmt.Errorf("graphql: %w: query is not a string", ErrUnparseable)
		}
		doc = s
	}
	if err := checkExtensions(obj[keyExtensions], doc, hasQuery); err != nil {
		return nil, err
	}
	if !hasQuery {
		return nil, fmt.Errorf("graphql: %w: request has no query", ErrUnparseable)
	}
	return Parse(doc)
}

// checkExtensions refuses an automatic persisted query (Apollo APQ) that
// the gateway cannot see: a hash without a query, or a hash that is not
// the SHA-256 of the query sent beside it (a server could run the
// document it stored under that hash).
func checkExtensions(ext any, query string, hasQuery bool) error {
	if ext == nil {
		return nil
	}
	raw, ok := ext.(map[string]any)
	if !ok {
		return fmt.Errorf("graphql: %w: extensions is not a JSON object", ErrUnparseable)
	}
	pq, ok := folded(raw)[keyPersistedQuery]
	if !ok || pq == nil {
		return nil
	}
	if !hasQuery {
		return fmt.Errorf("graphql: %w: persisted query without a query", ErrPersistedQuery)
	}
	pqObj, ok := pq.(map[string]any)
	if !ok {
		return fmt.Errorf("graphql: %w: persistedQuery is not a JSON object", ErrPersistedQuery)
	}
	hash, _ := folded(pqObj)[keySHA256Hash].(string)
	sum := sha256.Sum256([]byte(query))
	if !strings.EqualFold(hash, hex.EncodeToString(sum[:])) {
		return fmt.Errorf("graphql: %w: persisted query hash does not match the query", ErrPersistedQuery)
	}
	return nil
}
