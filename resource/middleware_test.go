package resource_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/resource"
)

// whoami answers with the subject of the identity in the context.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	id, ok := resource.FromContext(r.Context())
	if !ok {
		http.Error(w, "no identity", http.StatusInternalServerError)
		return
	}
	fmt.Fprint(w, id.Subject)
})

type response struct {
	status    int
	challenge string
	body      string
	header    http.Header
}

func serve(h http.Handler, authorization ...string) response {
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	for _, a := range authorization {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return response{w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String(), w.Header()}
}

func TestMiddleware(t *testing.T) {
	is := newTestIssuer(t)
	h := is.verifier().Middleware(whoami)
	tok := is.token()
	expired := signWith(is, claim("exp", is.clock.Now().Unix()-60))
	forged := signWith(is, hdr("typ", "JWT"))

	tests := []struct {
		name          string
		authorization []string
		status        int
		challenge     string
		body          string
	}{
		{"valid", []string{"Bearer " + tok}, 200, "", "user-1"},
		{"scheme in lower case", []string{"bearer " + tok}, 200, "", "user-1"},
		// RFC 6750 §3.1: no error code when no credential was sent.
		{"no credential", nil, 401, "Bearer", ""},
		{"other scheme", []string{"Basic dXNlcjpwYXNz"}, 401, "Bearer", ""},
		{"empty bearer", []string{"Bearer "}, 400, `Bearer error="invalid_request", error_description="The Bearer credential is empty"`, `"invalid_request"`},
		{"two headers", []string{"Bearer " + tok, "Bearer " + tok}, 400, `Bearer error="invalid_request", error_description="More than one Authorization header"`, `"invalid_request"`},
		{"invalid token", []string{"Bearer " + forged}, 401, `Bearer error="invalid_token", error_description="The access token is invalid"`, `"invalid_token"`},
		{"expired token", []string{"Bearer " + expired}, 401, `Bearer error="invalid_token", error_description="The access token expired"`, `"invalid_token"`},
		{"header injection attempt", []string{"Bearer a\"b"}, 401, `Bearer error="invalid_token", error_description="The access token is invalid"`, `"invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := serve(h, tt.authorization...)
			if got.status != tt.status || got.challenge != tt.challenge || !strings.Contains(got.body, tt.body) {
				t.Fatalf("got %d %q %q; want %d %q body with %q", got.status, got.challenge, got.body, tt.status, tt.challenge, tt.body)
			}
			if got.status != 200 {
				if got.body != "" && !json.Valid([]byte(got.body)) {
					t.Errorf("error body is not JSON: %q", got.body)
				}
				for _, a := range tt.authorization {
					assertNoTokenIn(t, got.body+fmt.Sprint(got.header), strings.TrimPrefix(a, "Bearer "))
				}
			}
		})
	}
}

func TestMiddlewareInsufficientScope(t *testing.T) {
	is := newTestIssuer(t)
	h := is.verifier(func(c *resource.Config) { c.RequiredScopes = []string{"read", "admin"} }).Middleware(whoami)
	got := serve(h, "Bearer "+is.token())
	want := `Bearer error="insufficient_scope", error_description="The access token lacks a scope this resource requires", scope="read admin"`
	if got.status != 403 || got.challenge != want || !strings.Contains(got.body, `"insufficient_scope"`) {
		t.Fatalf("got %d %q %q", got.status, got.challenge, got.body)
	}
}

func TestMiddlewareIssuerUnavailable(t *testing.T) {
	is := newTestIssuer(t)
	is.jwksStatus = http.StatusServiceUnavailable
	got := serve(is.verifier().Middleware(whoami), "Bearer "+is.token())
	if got.status != 503 || got.header.Get("Retry-After") == "" || !strings.Contains(got.body, "temporarily_unavailable") {
		t.Fatalf("got %d %v %q", got.status, got.header, got.body)
	}
}

func TestRequireRoles(t *testing.T) {
	is := newTestIssuer(t) // the default token has roles viewer and editor
	v := is.verifier()
	tok := "Bearer " + is.token()
	tests := []struct {
		name   string
		h      http.Handler
		auth   []string
		status int
	}{
		{"has one of the roles", v.Middleware(resource.RequireRoles("admin", "editor")(whoami)), []string{tok}, 200},
		{"has none of the roles", v.Middleware(resource.RequireRoles("admin")(whoami)), []string{tok}, 403},
		{"no credential", v.Middleware(resource.RequireRoles("viewer")(whoami)), nil, 401},
		{"without Middleware", resource.RequireRoles("viewer")(whoami), []string{tok}, 401},
		{"scopes granted", v.Middleware(resource.RequireScopes("read", "write")(whoami)), []string{tok}, 200},
		{"scope missing", v.Middleware(resource.RequireScopes("read", "admin")(whoami)), []string{tok}, 403},
		{"scopes without Middleware", resource.RequireScopes("read")(whoami), []string{tok}, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := serve(tt.h, tt.auth...); got.status != tt.status {
				t.Fatalf("status %d (%q), want %d", got.status, got.body, tt.status)
			}
		})
	}
	if got := serve(v.Middleware(resource.RequireScopes("admin")(whoami)), tok); !strings.Contains(got.challenge, `scope="admin"`) {
		t.Errorf("insufficient scope challenge %q", got.challenge)
	}
	defer func() {
		if recover() == nil {
			t.Error("RequireRoles() with no roles did not panic")
		}
	}()
	resource.RequireRoles()
}

func TestMiddlewareAPIKey(t *testing.T) {
	is := newTestIssuer(t)
	is.setActive(apiKey, is.apiKeyAnswer())
	h := is.verifier(withIntrospection).Middleware(resource.RequireRoles("viewer")(whoami))
	if got := serve(h, "Bearer "+apiKey); got.status != 200 || got.body != "user-2" {
		t.Fatalf("got %d %q", got.status, got.body)
	}
	if got := serve(h, "Bearer gatehouse_k2_unknown"); got.status != 401 || !strings.Contains(got.challenge, "invalid_token") {
		t.Fatalf("unknown key: got %d %q", got.status, got.challenge)
	}
}
