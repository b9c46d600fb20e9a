package pages

import (
	"net/url"
	"testing"
)

func TestRedirectOrigin(t *testing.T) {
	tests := map[string]string{
		"https://app.example/cb?x=1":       "https://app.example",
		"https://App.Example:8443/cb":      "https://app.example:8443",
		"http://127.0.0.1:5000/callback":   "http://127.0.0.1:5000",
		"http://[::1]:5000/callback":       "http://[::1]:5000",
		"com.example.app:/oauth":           "com.example.app:",
		"https://a.example;script-src *":   "",
		"https://a.example'/cb":            "",
		"not a uri":                        "",
		"https://app.example,evil.example": "",
	}
	for in, want := range tests {
		if got := redirectOrigin(in); got != want {
			t.Errorf("redirectOrigin(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWithQuery(t *testing.T) {
	p := url.Values{"code": {"c d"}, "state": {"s"}}
	tests := map[string]string{
		"https://app.example/cb":                 "https://app.example/cb?code=c+d&state=s",
		"https://app.example/cb?tenant=a%20b":    "https://app.example/cb?tenant=a%20b&code=c+d&state=s",
		"https://app.example/cb?":                "https://app.example/cb?code=c+d&state=s",
		"https://app.example/cb?x=1&":            "https://app.example/cb?x=1&code=c+d&state=s",
		"http://127.0.0.1:5000/callback?a=1&b=2": "http://127.0.0.1:5000/callback?a=1&b=2&code=c+d&state=s",
	}
	for in, want := range tests {
		if got := withQuery(in, p); got != want {
			t.Errorf("withQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
