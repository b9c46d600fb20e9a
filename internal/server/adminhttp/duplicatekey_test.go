package adminhttp

import "testing"

// TestDuplicateKey covers the scanner on nesting and arrays.
func TestDuplicateKey(t *testing.T) {
	for body, dup := range map[string]bool{
		`{}`:               false,
		`{"a": 1, "b": 2}`: false,
		`{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}`: false,
		`{"a": [1, 2], "A": 3}`:                      true,
		`{"x": {"k": 1, "K": 2}}`:                    true,
		`[{"a": 1}, {"a": 1, "a": 2}]`:               true,
		`{"a": {}, "b": [], "c": {"d": [[], {}]}}`:   false,
		`not json`: false,
		`{"a": 1,`: false,
	} {
		if got := duplicateKey([]byte(body)) != nil; got != dup {
			t.Errorf("duplicateKey(%s) = %v, want %v", body, got, dup)
		}
	}
}

// FuzzDuplicateKey: the scanner never panics on any input.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"A":2}`, `[{"a":[{"b":{}}]}]`, `{"a":`, `"x"`, `{"a":{"b":1,"b":2}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = duplicateKey(data)
	})
}
