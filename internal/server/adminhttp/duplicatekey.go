package adminhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// duplicateKey finds the first object member name that occurs twice in the
// same JSON object of data, ignoring case: encoding/json matches member
// names to struct fields without regard to case and keeps the last one, so
// {"roles": [...], "Roles": [...]} would mean whatever the last spelling
// says, and an intermediary that reads the first one sees another request.
// Such a body is refused. A body that is not JSON is left to the decoder.
func duplicateKey(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// One set of seen names per open object; nil for an open array.
	var stack []map[string]bool
	expectKey := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // a syntax error: the decoder reports it
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = true
				continue
			case '[':
				stack = append(stack, nil)
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey {
				k := strings.ToLower(t)
				if stack[len(stack)-1][k] {
					return fmt.Errorf("the member %q appears more than once (names are compared without regard to case)", t)
				}
				stack[len(stack)-1][k] = true
				expectKey = false
				continue
			}
		}
		// After a value inside an object, the next token is a key.
		expectKey = len(stack) > 0 && stack[len(stack)-1] != nil
	}
}
