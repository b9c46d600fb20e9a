package jwt

import (
	"encoding/json"
	"reflect"
	"testing"
)

// referenceDecodeObject is what decodeObject must agree with:
// encoding/json into a map, and the duplicate check by member count.
func referenceDecodeObject(b []byte) (map[string]any, bool) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil || !startsWithObject(b) {
		return nil, false
	}
	return m, members(b) == len(m)
}

// FuzzDecodeObject checks that decodeObject, which decodes top-level
// strings, numbers and literals itself, gives what encoding/json gives,
// and refuses what it refuses.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{}`, ` { } `, `null`, `[]`, `"x"`, `{"a":1}x`,
		`{"jti":"e1Zq","htm":"POST","htu":"https://a.example/t","iat":1767225600}`,
		`{"iat":1.5e9,"exp":-0,"nbf":1E400,"n":null,"t":true,"f":false}`,
		`{"a":"\u00e9","b":"caf\u00e9","c":"\ud800","d":"tab\tx"}`,
		"{\"a\":\"\xff\xfe\",\"b\":\"\xc3\xa9\"}",
		"{\"\xff\":1,\"\xfe\":2}",
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"b":1,"b":2}}`,
		`{"aud":["x","y"],"cnf":{"jkt":"abc"}, "s" : "sp ace" , "z":[ ] }`,
		`{"a":-12.5e-3,"b":0,"c":123456789012345678901234567890}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantOK := referenceDecodeObject(b)
		got, err := decodeObject(b)
		if (err == nil) != wantOK {
			t.Fatalf("decodeObject(%q) err = %v, encoding/json ok = %v", b, err, wantOK)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeObject(%q) = %#v, encoding/json gives %#v", b, got, want)
		}
	})
}
