package oauth

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestMatchRedirectURI(t *testing.T) {
	tests := []struct {
		registered, requested string
		want                  bool
	}{
		// SECURITY-CASES 4: exact string matching.
		{"https://app.example/cb", "https://app.example/cb", true},
		{"https://app.example/cb", "https://app.example/cb123", false},
		{"https://app.example/cb123", "https://app.example/cb", false},
		{"https://app.example/cb", "https://app.example/cb/", false},
		{"https://app.example/cb", "https://app.example/cb/../cb", false},
		{"https://app.example/cb", "https://app.example/CB", false},
		{"https://app.example/cb", "https://APP.example/cb", false},
		{"https://app.example/cb", "HTTPS://app.example/cb", false},
		{"https://app.example/cb", "https://app.example/cb?x=1", false},
		{"https://app.example/cb?x=1", "https://app.example/cb?x=1", true},
		{"https://app.example/cb?x=1", "https://app.example/cb?x=1&y=2", false},
		{"https://app.example/cb?x=1", "https://app.example/cb", false},
		{"https://app.example/cb", "https://evil.example/cb", false},
		{"https://app.example/cb", "https://app.example.evil.example/cb", false},
		{"https://app.example/cb", "https://app.example:443/cb", false},
		{"https://app.example/cb", "http://app.example/cb", false},
		{"https://app.example/cb", "https://app.example/cb#frag", false},
		{"https://app.example/cb#frag", "https://app.example/cb#frag", false},
		{"https://app.example/cb", "https://app.example/cb#", false},
		{"https://app.example/cb", "https://user@app.example/cb", false},
		{"https://user@app.example/cb", "https://user@app.example/cb", false},
		{"https://app.example/cb", "https://app.example@evil.example/cb", false},
		{"https://app.example/cb", "https://app.example\\@evil.example/cb", false},
		{"https://app.example/cb", "https://app.example/cb%0d%0a", false},
		{"https://app.example/cb", " https://app.example/cb", false},
		{"https://app.example/cb", "", false},
		{"com.example.app:/oauth", "com.example.app:/oauth", true},
		{"com.example.app:/oauth", "com.example.app:/oauth2", false},
		// SECURITY-CASES 5: loopback IP literals registered without a
		// port accept any port (RFC 8252 §7.3).
		{"http://127.0.0.1/cb", "http://127.0.0.1/cb", true},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080/cb", true},
		{"http://127.0.0.1/cb", "http://127.0.0.1:1/cb", true},
		{"http://127.0.0.1/cb", "http://127.0.0.1:65535/cb", true},
		{"http://127.0.0.1/cb", "http://127.0.0.1:65536/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:0/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:08080/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080/cb2", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080/CB", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080/cb?x=1", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080/cb#x", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080.evil.example/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.1:8080@evil.example/cb", false},
		{"http://127.0.0.1/cb", "http://user@127.0.0.1:8080/cb", false},
		{"http://127.0.0.1/cb", "https://127.0.0.1:8080/cb", false},
		{"http://127.0.0.1/cb", "HTTP://127.0.0.1:8080/cb", false},
		{"http://127.0.0.1/cb", "http://127.0.0.2:8080/cb", false},
		{"http://127.0.0.1/cb", "http://[::1]:8080/cb", false},
		{"http://127.0.0.1/cb?x=1", "http://127.0.0.1:5000/cb?x=1", true},
		{"http://127.0.0.1", "http://127.0.0.1:5000", true},
		{"http://127.0.0.1", "http://127.0.0.1:5000/", false},
		{"http://[::1]/cb", "http://[::1]:8080/cb", true},
		{"http://[::1]/cb", "http://[::1]/cb", true},
		{"http://[::1]/cb", "http://[0:0:0:0:0:0:0:1]:8080/cb", false},
		{"http://[::1]/cb", "http://127.0.0.1:8080/cb", false},
		// A port in the registration pins it.
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb", true},
		{"http://127.0.0.1:8080/cb", "http://127.0.0.1:9090/cb", false},
		// localhost registered without a port gets port freedom (a choice
		// for native clients such as kubelogin, RFC 8252 §8.3); with a port
		// it matches exactly; the name's case and lookalikes never match.
		{"http://localhost/cb", "http://localhost/cb", true},
		{"http://localhost/cb", "http://localhost:8080/cb", true},
		{"http://localhost", "http://localhost:8000", true},
		{"http://localhost", "http://localhost:8000/", false},
		{"http://localhost/cb", "http://LOCALHOST:8080/cb", false},
		{"http://localhost/cb", "http://localhost.evil.example:8080/cb", false},
		{"http://localhost/cb", "http://localhost:8080@evil.example/cb", false},
		{"http://localhost/cb", "https://localhost:8080/cb", false},
		{"http://localhost:3000/cb", "http://localhost:3000/cb", true},
		{"http://localhost:3000/cb", "http://localhost:3001/cb", false},
		{"https://127.0.0.1/cb", "https://127.0.0.1:8443/cb", false},
	}
	for _, tc := range tests {
		if got := matchRedirectURI(tc.registered, tc.requested); got != tc.want {
			t.Errorf("matchRedirectURI(%q, %q) = %v, want %v", tc.registered, tc.requested, got, tc.want)
		}
	}
}

func TestResolveRedirectURI(t *testing.T) {
	tests := []struct {
		name       string
		registered []string
		param      string
		sent       bool
		want       string // "" means an error
	}{
		{"omitted, one registered", []string{"https://app.example/cb"}, "", false, "https://app.example/cb"},
		{"omitted, two registered", []string{"https://app.example/cb", "https://app.example/cb2"}, "", false, ""},
		{"omitted, none registered", nil, "", false, ""},
		{"omitted, loopback pattern", []string{"http://127.0.0.1/cb"}, "", false, ""},
		{"omitted, loopback with port", []string{"http://127.0.0.1:8080/cb"}, "", false, "http://127.0.0.1:8080/cb"},
		{"sent empty", []string{"https://app.example/cb"}, "", true, ""},
		{"sent, second registered", []string{"https://app.example/cb", "https://app.example/cb2"}, "https://app.example/cb2", true, "https://app.example/cb2"},
		{"sent, loopback port", []string{"http://127.0.0.1/cb"}, "http://127.0.0.1:4000/cb", true, "http://127.0.0.1:4000/cb"},
		{"sent, unregistered", []string{"https://app.example/cb"}, "https://evil.example/cb", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, perr := ResolveRedirectURI(&storage.Client{RedirectURIs: tc.registered}, tc.param, tc.sent)
			if tc.want == "" {
				if perr == nil || perr.Code != "invalid_request" {
					t.Fatalf("got %q, %v; want invalid_request", got, perr)
				}
				return
			}
			if perr != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, perr, tc.want)
			}
		})
	}
}
