package pages

import (
	"testing"
)

func TestSafeReturnTo(t *testing.T) {
	tests := map[string]bool{
		"/":                             true,
		"/oauth2/authorize?client_id=x": true,
		"/device?user_code=ABCD-EFGH":   true,
		"":                              false,
		"//evil.example":                false,
		"/\\evil.example":               false,
		"\\\\evil.example":              false,
		"https://evil.example/":         false,
		"https:evil.example":            false,
		"javascript:alert(1)":           false,
		"evil.example":                  false,
		"/\t/evil.example":              false,
		"/\n/evil.example":              false,
		"/x\r\nSet-Cookie: a=b":         false,
		"/x\x00":                        false,
	}
	for in, want := range tests {
		if got := safeReturnTo("", in); got != want {
			t.Errorf("safeReturnTo(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestSafeReturnToUnderBase(t *testing.T) {
	tests := map[string]bool{
		"/_gatehouse/auth" + "/":                             true,
		"/_gatehouse/auth" + "/oauth2/authorize?client_id=x": true,
		"/_gatehouse/auth" + "/device?user_code=ABCD-EFGH":   true,
		"/_gatehouse/auth" + "/a/../login":                   true,
		"/":                                                  false,
		"/oauth2/authorize":                                  false,
		"/_gatehouse/auth":                                   false,
		"/_gatehouse/auth" + "x":                             false,
		"/_gatehouse/auth" + "/..":                           false,
		"/_gatehouse/auth" + "/../x":                         false,
		"/_gatehouse/auth" + "/%2e%2e/x":                     false,
		"/_gatehouse/auth" + "/..%2fx":                       false,
		"/_gatehouse/auth" + "/..\\x":                        false,
		"//evil.example" + "/_gatehouse/auth" + "/":          false,
		"/\\evil.example" + "/_gatehouse/auth" + "/":         false,
		"https://evil.example" + "/_gatehouse/auth" + "/":    false,
		"/\t/evil.example" + "/_gatehouse/auth" + "/":        false,
	}
	for in, want := range tests {
		if got := safeReturnTo("/_gatehouse/auth", in); got != want {
			t.Errorf("safeReturnTo(%q, %q) = %v, want %v", "/_gatehouse/auth", in, got, want)
		}
	}
}
