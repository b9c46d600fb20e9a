package demoapp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func get(t *testing.T, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w
}

// vera is what the gateway sends for an API key of a viewer.
func vera() http.Header {
	return http.Header{
		"X-Gatehouse-User":      {"vera"},
		"X-Gatehouse-User-Id":   {"kK9yZOU5pT53a4Vsgl2jDc"},
		"X-Gatehouse-Roles":     {"viewer,operator"},
		"X-Gatehouse-Auth":      {"api_key"},
		"X-Gatehouse-Assertion": {"eyJ.x.y"},
	}
}

func TestHomeSaysWhoIsSignedIn(t *testing.T) {
	w := get(t, "/", vera())
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("GET / = %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if got, want := w.Body.String(), "Hello vera (roles viewer, operator; signed in with an API key).\n"; got != want {
		t.Errorf("GET / = %q, want %q", got, want)
	}

	w = get(t, "/", nil)
	if !strings.HasPrefix(w.Body.String(), "No one is signed in") {
		t.Errorf("GET / without the gateway's headers = %q", w.Body.String())
	}
}

func TestHomePageForBrowsers(t *testing.T) {
	h := vera()
	h.Set("Accept", "text/html,application/xhtml+xml")
	h.Set("X-Gatehouse-User", `<script>alert(1)</script>`)
	w := get(t, "/", h)
	body := w.Body.String()
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("Content-Type = %q", w.Header().Get("Content-Type"))
	}
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the user name is not escaped in the page:\n%s", body)
	}
	for _, want := range []string{"viewer, operator", "kK9yZOU5pT53a4Vsgl2jDc", "/_gatehouse/jwks", `href="/_gatehouse/logout"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
}

func TestMe(t *testing.T) {
	w := get(t, "/api/me", vera())
	var id Identity
	if err := json.Unmarshal(w.Body.Bytes(), &id); err != nil {
		t.Fatalf("GET /api/me: %v: %s", err, w.Body)
	}
	if id.User != "vera" || id.Auth != "api_key" || !id.Asserted || !slices.Equal(id.Roles, []string{"viewer", "operator"}) {
		t.Errorf("GET /api/me = %+v", id)
	}

	w = get(t, "/api/me", nil)
	if got := strings.TrimSpace(w.Body.String()); !strings.Contains(got, `"user": ""`) || !strings.Contains(got, `"roles": []`) {
		t.Errorf("GET /api/me without headers = %s", got)
	}
}

func TestPaths(t *testing.T) {
	for path, want := range map[string]int{
		"/healthz": http.StatusOK,
		"/admin":   http.StatusOK,
		"/nothing": http.StatusNotFound,
	} {
		if w := get(t, path, vera()); w.Code != want {
			t.Errorf("GET %s = %d, want %d", path, w.Code, want)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", w.Code)
	}
}

// TestListenOnlyOnLoopback: the app believes identity headers from anyone
// who reaches it, so it must not be reachable from other machines.
func TestListenOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:3000", ":3000", "[::]:3000", "10.1.2.3:3000", "example.com:3000", "127.0.0.1", "localhost"} {
		if err := CheckAddr(addr); err == nil {
			t.Errorf("CheckAddr(%q) = nil, want an error", addr)
		}
		if ln, err := Listen(addr); err == nil {
			ln.Close()
			t.Errorf("Listen(%q) listened", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0", "127.0.0.2:0"} {
		if err := CheckAddr(addr); err != nil {
			t.Errorf("CheckAddr(%q) = %v, want nil", addr, err)
		}
	}
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}
