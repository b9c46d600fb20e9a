package proxy

import (
	"net/http"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
)

const hostsPolicy = `
version: 1
rules:
  - name: admin host
    hosts: ["admin.example.com"]
    roles: [admin]
  - name: app host
    hosts: ["app.example.com", "*.apps.example.com"]
    roles: [viewer, admin]
    methods: [GET]
`

// A hosts: rule is judged on the Host the application receives: the
// gateway forwards the judged host and refuses hosts no rule names, so a
// client that spoofs Host reaches nothing the policy did not allow for
// that host (SECURITY-CASES 68).
func TestHostsAreTheHostTheAppReceives(t *testing.T) {
	h := newHarness(t, func(_ *Config, d *Deps) {
		p, err := policy.Parse([]byte(hostsPolicy), "hosts.yaml")
		if err != nil {
			t.Fatal(err)
		}
		d.Policy = p
	})
	viewer := h.clientToken("viewer-client", "viewer")
	get := func(host string, extra http.Header) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/echo", nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+viewer)
		for k, v := range extra {
			req.Header[k] = v
		}
		res, err := h.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, c := range []struct {
		host     string
		status   int
		appHost  string
		extraHdr http.Header
	}{
		{"app.example.com", http.StatusOK, "app.example.com", nil},
		{"APP.Example.COM.", http.StatusOK, "app.example.com", nil},
		{"app.example.com:8443", http.StatusOK, "app.example.com:8443", nil},
		{"x.apps.example.com", http.StatusOK, "x.apps.example.com", nil},
		{"admin.example.com", http.StatusForbidden, "", nil},
		{"Admin.Example.Com.", http.StatusForbidden, "", nil},
		{"admin.example.com", http.StatusForbidden, "", http.Header{"X-Forwarded-Host": {"app.example.com"}}},
		{"evil.example.com", http.StatusMisdirectedRequest, "", nil},
		{"app.example.com..", http.StatusMisdirectedRequest, "", nil},
		{"127.0.0.1", http.StatusForbidden, "", nil}, // the public host: known, but no rule allows it
	} {
		res := get(c.host, c.extraHdr)
		if res.StatusCode != c.status {
			t.Errorf("Host %q: %d, want %d", c.host, res.StatusCode, c.status)
			res.Body.Close()
			continue
		}
		if c.appHost != "" {
			e := echo(t, res)
			if e.Host != c.appHost {
				t.Errorf("Host %q: the app got Host %q, want %q", c.host, e.Host, c.appHost)
			}
			if e.Header("X-Forwarded-Host") != c.appHost {
				t.Errorf("Host %q: the app got X-Forwarded-Host %q, want %q", c.host, e.Header("X-Forwarded-Host"), c.appHost)
			}
		}
		res.Body.Close()
	}
}

// A method is judged and forwarded in the same form: "delete" is a DELETE
// for the policy and for the application.
func TestLowerCaseMethodsAreJudgedAndSentUpperCase(t *testing.T) {
	h := newHarness(t)
	viewer := h.clientToken("viewer-client", "viewer")
	admin := h.clientToken("admin-client", "admin")
	if res := h.do(h.client(), "delete", "/echo", bearer(viewer), nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer delete: %d", res.StatusCode)
	}
	if e := echo(t, h.do(h.client(), "delete", "/echo", bearer(admin), nil)); e.Method != http.MethodDelete {
		t.Fatalf("the app got method %q", e.Method)
	}
	if e := echo(t, h.do(h.client(), "get", "/echo", bearer(viewer), nil)); e.Method != http.MethodGet {
		t.Fatalf("the app got method %q", e.Method)
	}
}

// Paths that a case-folding or Windows application would read as another
// path are refused before anything is judged.
func TestLookalikePathsAreRefused(t *testing.T) {
	h := newHarness(t)
	admin := h.clientToken("admin-client", "admin")
	for _, p := range []string{"/adm%C4%B1n/x", "/%C5%BFecret", "/admin./x", "/admin%20/x", "/%EF%BD%81dmin"} {
		if res := h.get(h.client(), p, bearer(admin)); res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", p, res.StatusCode)
		}
	}
	if got := h.seen.Requests(); len(got) != 0 {
		t.Fatalf("the app saw %v", got)
	}
}
