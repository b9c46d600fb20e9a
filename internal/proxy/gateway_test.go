package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAnonymousAPIRequestGets401JSON(t *testing.T) {
	h := newHarness(t)
	res := h.get(h.client(), "/echo", http.Header{"Accept": {"application/json"}})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", res.StatusCode)
	}
	var body map[string]string
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || body["error"] != "unauthorized" {
		t.Fatalf("body %v, %v", body, err)
	}
}

// SECURITY-CASES 43: the login return target never leaves the origin.
// SECURITY-CASES 44 and 45: a public pattern placed in the query, the
// fragment, ; parameters or an encoded form does not open a protected path,
// and the upstream sees exactly the path the policy judged.
func TestPathTricksDoNotSkipAuthentication(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for _, p := range []string{
		"/echo?x=/public/a", "/echo?/public/a", "/echo;/public/a", "/public/..%2fecho", "/public/%2e%2e/echo",
		"/public/../echo", "/public/./../echo", "/public%2f..%2fecho", "/public/..%5cecho", "/public/%00/../echo",
		"/public/%c0%ae%c0%ae/echo", "/%2e%2e/echo", "//public/../echo",
	} {
		res := h.get(c, p, nil)
		if res.StatusCode == http.StatusOK {
			t.Errorf("%s: anonymous request reached the app", p)
		}
	}
	if len(h.seen.Requests()) != 0 {
		t.Fatalf("the app saw requests: %v", h.seen.Requests())
	}
	// A public path in an equivalent spelling reaches the app normalised.
	h.get(c, "/public//a/./b/../%63", nil)
	if got := h.seen.Requests(); len(got) != 1 || got[0] != "/public/a/c" {
		t.Fatalf("app saw %v, want [/public/a/c]", got)
	}
}

// SECURITY-CASES 45: mixed case cannot dodge a rule.
func TestMixedCaseIsJudgedLikeTheRule(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("ci", "admin")
	for _, p := range []string{"/admin/x", "/ADMIN/x", "/Admin/x", "/%41dmin/x"} {
		if res := h.get(h.client(), p, bearer(tok)); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403 (block admin area)", p, res.StatusCode)
		}
	}
}

// SECURITY-CASES 46: forwarding headers from an untrusted peer change
// neither the decision nor the rate-limit key.
func TestUntrustedForwardingHeadersAreIgnored(t *testing.T) {
	h := newHarness(t)
	viewer := h.clientToken("viewer-client", "viewer")
	spoof := http.Header{
		"X-Forwarded-Host":  {"admin.internal"},
		"X-Forwarded-For":   {"10.1.2.3"},
		"X-Forwarded-Proto": {"https"},
		"X-Forwarded-Uri":   {"/public/a"},
		"X-Original-Url":    {"/public/a"},
		"X-Real-Ip":         {"10.9.9.9"},
		"Connection":        {"X-Forwarded-Host"},
		"Authorization":     {"Bearer " + viewer},
	}
	// admin.internal is open to admins only: the viewer's POST stays refused.
	if res := h.do(h.client(), http.MethodPost, "/echo", spoof, []byte("x")); res.StatusCode != http.StatusForbidden {
		t.Fatalf("spoofed host: status %d, want 403", res.StatusCode)
	}
	// Anonymous request for a protected path with a public path in the
	// forwarding headers.
	if res := h.get(h.client(), "/echo", http.Header{"X-Forwarded-Uri": {"/public/a"}, "X-Original-Url": {"/public/a"}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("spoofed URI: status %d, want 401", res.StatusCode)
	}
	// The upstream sees the gateway's forwarding headers only.
	e := echo(t, h.get(h.client(), "/echo", spoof))
	if got := e.Header("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("upstream X-Forwarded-For %q, want the peer", got)
	}
	if got := e.Header("X-Forwarded-Host"); got == "admin.internal" {
		t.Errorf("upstream X-Forwarded-Host %q came from the client", got)
	}
	if e.Header("X-Forwarded-Uri") != "" || e.Header("X-Original-Url") != "" {
		t.Errorf("client forwarding headers reached the upstream: %v", e.Headers)
	}

	// Failed credentials are limited per peer, whatever X-Forwarded-For says.
	limited := false
	for i := range 40 {
		hdr := http.Header{"Authorization": {"Bearer not-a-token"}, "X-Forwarded-For": {"10.0.0." + string(rune('1'+i%9))}}
		if res := h.get(h.client(), "/echo", hdr); res.StatusCode == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("failed credentials from one peer were never limited: X-Forwarded-For changed the key")
	}
}

// SECURITY-CASES 47: identity headers sent by the client never reach the
// upstream, in any spelling.
func TestClientIdentityHeadersAreStripped(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("viewer-client", "viewer")
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/echo", nil)
	req.Header["Authorization"] = []string{"Bearer " + tok}
	req.Header["X-Gatehouse-User"] = []string{"root"}
	req.Header["x-gatehouse-roles"] = []string{"admin"}
	req.Header["X_Gatehouse_User"] = []string{"root"}
	req.Header["X-Forwarded-User"] = []string{"root", "root2"}
	req.Header["X-Forwarded-Email"] = []string{"root@example.com, other@example.com"}
	req.Header["Remote-User"] = []string{"root"}
	req.Header["X-Gatehouse-Assertion"] = []string{"forged"}
	req.Header["X-Http-Method-Override"] = []string{"DELETE"}
	req.Header["X_HTTP_Method"] = []string{"DELETE"}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	e := echo(t, res)
	for name, values := range e.Headers {
		n := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		for _, v := range values {
			if strings.Contains(v, "root") || v == "forged" || (n == "x-gatehouse-roles" && v != "viewer") {
				t.Errorf("client-sent %s: %q reached the upstream", name, v)
			}
		}
		if n == "x-gatehouse-user" && len(values) != 1 {
			t.Errorf("%s has %d values", name, len(values))
		}
	}
	for name := range e.Headers {
		if strings.Contains(strings.ToLower(strings.ReplaceAll(name, "_", "-")), "method") {
			t.Errorf("method override %s reached the upstream", name)
		}
	}
	if got := e.Header("X-Gatehouse-User"); got != "viewer-client" {
		t.Errorf("X-Gatehouse-User %q, want the gateway's value", got)
	}
	if e.Header("Authorization") != "" {
		t.Error("the bearer credential was forwarded")
	}
}

// SECURITY-CASES 48: a health-check path or user agent never opens a
// protected path, and the gateway's own health routes never reach the app.
func TestHealthChecksOpenNothing(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for _, ua := range []string{"kube-probe/1.30", "GoogleHC/1.0", "ELB-HealthChecker/2.0", "Prometheus/2.0"} {
		if res := h.get(c, "/echo", http.Header{"User-Agent": {ua}}); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("User-Agent %s: status %d", ua, res.StatusCode)
		}
	}
	for _, p := range []string{"/healthz", "/_gatehouse/healthz/../../echo", "/echo?/_gatehouse/healthz", "/_gatehouse/healthz%2f..%2f..%2fecho"} {
		if res := h.get(c, p, nil); res.StatusCode == http.StatusOK {
			t.Errorf("%s opened a protected path", p)
		}
	}
	if res := h.get(c, PathHealthz, nil); res.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", res.StatusCode)
	}
	if len(h.seen.Requests()) != 0 {
		t.Fatalf("the app saw %v", h.seen.Requests())
	}
}

// SECURITY-CASES 49: a session id planted before login does not survive
// it, and the session cookie never reaches the upstream.
// SECURITY-CASES 50: after a role change or a user deletion, the next
// request is judged again — through the in-process audit observer and
// through the audit trail another process writes.
// SECURITY-CASES 52 through the gateway: a viewer's mutation never reaches
// the app in any disguise; queries do.
// With the embedded server, a revoked JWT is refused within RevocationTTL,
// not only when it expires.
