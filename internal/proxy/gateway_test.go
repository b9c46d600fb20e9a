package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestAnonymousBrowserGoesToLoginAndComesBack(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	c := h.client()

	res := h.get(c, "/echo/page?x=1", htmlAccept())
	if res.StatusCode != http.StatusFound {
		t.Fatalf("anonymous page: status %d, want 302", res.StatusCode)
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	if loc.Path != PathLogin || loc.Query().Get("rd") != "/echo/page?x=1" {
		t.Fatalf("redirect to %s", loc)
	}
	res = h.login(c, u, loc.Query().Get("rd"))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/echo/page?x=1" {
		t.Fatalf("callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	e := echo(t, h.get(c, "/echo/page?x=1", nil))
	if got := e.Header("X-Gatehouse-User"); got != "alice" {
		t.Fatalf("upstream saw user %q", got)
	}
	if got := e.Header("X-Gatehouse-Roles"); got != "viewer" {
		t.Fatalf("upstream saw roles %q", got)
	}
	if !h.waitAudit(`"type":"login.success"`) {
		t.Fatal("no login.success audit event")
	}

	// Logout is a POST; afterwards the page needs a login again, and a
	// copy of the old cookie is worthless.
	base, _ := url.Parse(h.ts.URL)
	old := cookieValue(c, base, sessionCookie)
	res = h.do(c, http.MethodPost, PathLogout, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, []byte("rd=/"))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.StatusCode)
	}
	if res := h.get(c, "/echo/page", htmlAccept()); res.StatusCode != http.StatusFound {
		t.Fatalf("after logout: %d, want 302 to login", res.StatusCode)
	}
	if res := h.get(h.client(), "/echo", http.Header{"Cookie": {sessionCookie + "=" + old}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old session cookie after logout: %d", res.StatusCode)
	}
	if !h.waitAudit(`"type":"logout"`) {
		t.Fatal("no logout audit event")
	}
}

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
func TestLoginReturnTargetStaysOnOrigin(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	bad := []string{
		"//evil.example", "/\\evil.example", "/%09/evil.example", "/%2F%2Fevil.example", "https:evil.example",
		"javascript:alert(1)", "evil.example.com.attacker", "https://evil.example/", "/x\r\nSet-Cookie: a=b",
		"/x%0d%0aLocation:%20//evil", "/\x00x", "\\\\evil.example",
	}
	for _, rd := range bad {
		res := h.login(h.client(), u, rd)
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Errorf("rd=%q: redirected to %q, want /", rd, loc)
		}
	}
	if res := h.login(h.client(), u, "/runs/42?tab=logs"); res.Header.Get("Location") != "/runs/42?tab=logs" {
		t.Errorf("a local target was not kept: %q", res.Header.Get("Location"))
	}
}

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
func TestSessionFixationAndCookieNeverUpstream(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	c := h.client()
	base, _ := url.Parse(h.ts.URL)
	h.login(c, u, "/")
	planted := cookieValue(c, base, sessionCookie)
	if planted == "" {
		t.Fatal("no session cookie after login")
	}
	// The attacker's id is planted in a victim's browser, who logs in.
	victim := h.client()
	victim.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: planted, Path: "/"}})
	h.login(victim, u, "/")
	if got := cookieValue(victim, base, sessionCookie); got == planted || got == "" {
		t.Fatalf("session id after login %q, planted %q", got, planted)
	}
	// The planted id is gone.
	if res := h.get(c, "/echo", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the planted session still works: %d", res.StatusCode)
	}
	// The upstream never sees gateway cookies, but does see its own.
	victim.Jar.SetCookies(base, []*http.Cookie{{Name: "app_pref", Value: "dark", Path: "/"}})
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/echo", nil)
	req.Header.Add("Cookie", "gatehouse_session=abc; __Host-gatehouse_proxy=def")
	res, err := victim.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	e := echo(t, res)
	for name := range e.Cookies {
		if isGatewayCookie(name) {
			t.Errorf("cookie %s reached the upstream", name)
		}
	}
	if e.Cookies["app_pref"] != "dark" {
		t.Errorf("the app's own cookie was dropped: %v", e.Cookies)
	}
}

func cookieValue(c *http.Client, u *url.URL, name string) string {
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SECURITY-CASES 50: after a role change or a user deletion, the next
// request is judged again — through the in-process audit observer and
// through the audit trail another process writes.
func TestRoleChangeAndDeletionApplyOnTheNextRequest(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	u := h.srv.AddUser(t, "ed", "pw-editor-123", "editor")
	c := h.client()
	h.login(c, u, "/")
	mutation := []byte(`{"query":"mutation { launchRun(job: \"a\") { id } }"}`)
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	if res := h.do(c, http.MethodPost, "/graphql", jsonHdr, mutation); res.StatusCode != http.StatusOK {
		t.Fatalf("editor mutation: %d", res.StatusCode)
	}
	// Demoted in this process (admin API, /account): the observer applies it.
	setRoles(t, h, u.ID, "viewer")
	h.users.Observe(audit.Event{Type: audit.UserUpdated, UserID: u.ID, Details: map[string]string{"change": "roles set"}})
	if res := h.do(c, http.MethodPost, "/graphql", jsonHdr, mutation); res.StatusCode != http.StatusForbidden {
		t.Fatalf("after demotion: %d, want 403", res.StatusCode)
	}
	// Promoted by another process (`gatehouse users set-role --db`): read
	// from the audit trail.
	setRoles(t, h, u.ID, "editor")
	seq, _, _ := h.srv.Store.AuditHead(ctx)
	ev, _ := json.Marshal(audit.Event{Time: h.srv.Clock.Now(), Type: audit.UserUpdated, UserID: u.ID, Details: map[string]string{"change": "roles set"}})
	if _, err := h.srv.Store.AppendAudit(ctx, [][]byte{ev}); err != nil {
		t.Fatal(err)
	}
	h.users.poll(ctx, seq)
	if res := h.do(c, http.MethodPost, "/graphql", jsonHdr, mutation); res.StatusCode != http.StatusOK {
		t.Fatalf("after promotion by another process: %d", res.StatusCode)
	}
	// Deleted: the next page needs a login, the session is gone.
	if err := h.srv.Store.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	h.users.Observe(audit.Event{Type: audit.UserDeleted, UserID: u.ID})
	if res := h.get(c, "/echo", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after deletion: %d, want 401", res.StatusCode)
	}
	// A bearer token of the deleted user is refused too.
}

func setRoles(t *testing.T, h *harness, id string, roles ...string) {
	t.Helper()
	err := h.srv.Store.UpdateUser(context.Background(), id, func(u *storage.User) error {
		u.Roles = roles
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// SECURITY-CASES 52 through the gateway: a viewer's mutation never reaches
// the app in any disguise; queries do.
func TestViewerGraphQLMutationsNeverReachTheApp(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("viewer-client", "viewer")
	jsonHdr := bearer(tok)
	jsonHdr.Set("Content-Type", "application/json")
	gqlHdr := bearer(tok)
	gqlHdr.Set("Content-Type", "application/graphql")
	denied := []struct {
		method, path string
		hdr          http.Header
		body         string
	}{
		{"POST", "/graphql", jsonHdr, `{"query":"mutation { launchRun(job: \"a\") { id } }"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"mutation { safe: launchRun(job: \"a\") { id } }"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"query A { runs { id } } mutation B { launchRun(job: \"a\") { id } }","operationName":"A"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"query A { runs { id } } mutation B { launchRun(job: \"a\") { id } }"}`},
		{"POST", "/graphql", jsonHdr, `[{"query":"{ runs { id } }"},{"query":"mutation { launchRun(job: \"a\") { id } }"}]`},
		{"GET", "/graphql?query=" + url.QueryEscape(`mutation { launchRun(job: "a") { id } }`), bearer(tok), ""},
		{"POST", "/graphql", gqlHdr, `mutation { launchRun(job: "a") { id } }`},
		{"POST", "/graphql", jsonHdr, `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`},
		{"POST", "/graphql", jsonHdr, `{"query":"mutation {"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"query { runs { id } }","query":"mutation { launchRun(job: \"a\") { id } }"}`},
	}
	for _, tc := range denied {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		res := h.do(h.client(), tc.method, tc.path, tc.hdr, body)
		if res.StatusCode == http.StatusOK {
			t.Errorf("%s %s %s: allowed", tc.method, tc.path, tc.body)
		}
	}
	if m := h.app.Mutations(); len(m) != 0 {
		t.Fatalf("mutations reached the app: %v", m)
	}
	allowed := []string{
		`{"query":"{ runs { id } }"}`,
		`{"query":"query { runs(filter: \"mutation\") { id } } # mutation { launchRun }"}`,
	}
	for _, b := range allowed {
		res := h.do(h.client(), http.MethodPost, "/graphql", jsonHdr, []byte(b))
		if res.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(res.Body)
			t.Errorf("query %s: %d %s", b, res.StatusCode, body)
		}
	}
	if !h.waitAudit(`"type":"proxy.denied"`) {
		t.Error("no proxy.denied audit event")
	}
}

func TestEditorMayLaunchButNotDelete(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("editor-client", "editor")
	hdr := bearer(tok)
	hdr.Set("Content-Type", "application/json")
	if res := h.do(h.client(), http.MethodPost, "/graphql", hdr, []byte(`{"query":"mutation { launchRun(job: \"a\") { id } }"}`)); res.StatusCode != http.StatusOK {
		t.Fatalf("launch: %d", res.StatusCode)
	}
	if res := h.do(h.client(), http.MethodPost, "/graphql", hdr, []byte(`{"query":"mutation { launchRun(job: \"a\") { id } deleteRun(id: \"1\") }"}`)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("launch+delete: %d, want 403", res.StatusCode)
	}
	if m := h.app.Mutations(); !slices.Equal(m, []string{"launchRun"}) {
		t.Fatalf("app mutations %v", m)
	}
}

func TestAPIKeyRevocationWithinTheIntrospectionTTL(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "bot", "pw-bot-12345", "viewer")
	id, key := h.apiKey(u)
	if res := h.get(h.client(), "/echo", bearer(key)); res.StatusCode != http.StatusOK {
		t.Fatalf("API key: %d", res.StatusCode)
	}
	err := h.srv.Store.UpdateAPIKey(context.Background(), id, func(k *storage.APIKey) error {
		k.RevokedAt = h.srv.Clock.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The server caches keys for 5 s and the gateway introspection answers
	// for DefaultIntrospectionTTL: after both, the key is refused.
	h.srv.Clock.Advance(DefaultIntrospectionTTL + 6e9)
	if res := h.get(h.client(), "/echo", bearer(key)); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked API key: %d, want 401", res.StatusCode)
	}
}

func TestCachedSessionDoesNoStoreQuery(t *testing.T) {
	counting := &countingSessions{}
	h := newHarness(t, func(_ *Config, d *Deps) {
		counting.Store = d.Sessions
		d.Sessions = counting
	})
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	c := h.client()
	h.login(c, u, "/")
	h.get(c, "/echo", nil) // fills the caches
	counting.reset()
	users := &countingUsers{Store: h.srv.Store}
	h.users.store = users
	for range 5 {
		if res := h.get(c, "/echo", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	if n := counting.calls(); n != 0 {
		t.Fatalf("%d session store calls for cached sessions", n)
	}
	if users.n != 0 {
		t.Fatalf("%d user lookups reached the database", users.n)
	}
}

func TestEmbeddedIssuerMetadataAtTheRFC8414Location(t *testing.T) {
	var served []string
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.AuthServer = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served = append(served, r.URL.Path)
			w.WriteHeader(http.StatusOK)
		})
	})
	if res := h.get(h.client(), "/.well-known/oauth-authorization-server"+PathAuth, nil); res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	if len(served) != 1 || served[0] != PathAuth+"/.well-known/oauth-authorization-server" {
		t.Fatalf("embedded server saw %v", served)
	}
	if len(h.seen.Requests()) != 0 {
		t.Fatal("the app saw the metadata request")
	}
}

func TestSessionIdleAndAbsoluteTimeouts(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.IdleTimeout = 10 * time.Minute
		c.AbsoluteTimeout = 30 * time.Minute
	})
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	c := h.client()
	h.login(c, u, "/")
	// Used every 9 minutes, the session lives until the absolute timeout.
	for range 3 {
		h.srv.Clock.Advance(9 * time.Minute)
		if res := h.get(c, "/echo", nil); res.StatusCode != http.StatusOK {
			t.Fatalf("active session refused after %s: %d", h.srv.Clock.Now(), res.StatusCode)
		}
	}
	h.srv.Clock.Advance(4 * time.Minute) // 31 minutes after login
	if res := h.get(c, "/echo", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("past the absolute timeout: %d", res.StatusCode)
	}
	// Idle: a new login left alone for longer than the idle timeout.
	c2 := h.client()
	h.login(c2, u, "/")
	h.srv.Clock.Advance(11 * time.Minute)
	if res := h.get(c2, "/echo", nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("past the idle timeout: %d", res.StatusCode)
	}
}

func TestCallbackRefusesBadState(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	c := h.client()
	res := h.get(c, PathLogin+"?rd=/x", nil)
	loc, _ := url.Parse(res.Header.Get("Location"))
	state := loc.Query().Get("state")
	code := "code-1"
	h.provider.logins[code] = &Login{Subject: u.ID, Username: u.Username}
	for name, q := range map[string]url.Values{
		"wrong state":     {"state": {state[:len(state)-1] + "x"}, "code": {code}},
		"no state":        {"code": {code}},
		"other browser":   nil, // a fresh client has no login cookie
		"issuer error":    {"state": {state}, "error": {"access_denied"}},
		"no code":         {"state": {state}},
		"issuer mismatch": {"state": {state}, "code": {code}, "iss": {"https://evil.example"}},
	} {
		cl := c
		if q == nil {
			cl = h.client()
			q = url.Values{"state": {state}, "code": {code}}
		}
		res := h.get(cl, PathCallback+"?"+q.Encode(), nil)
		if res.StatusCode < 400 {
			t.Errorf("%s: status %d", name, res.StatusCode)
		}
		base, _ := url.Parse(h.ts.URL)
		if cookieValue(cl, base, sessionCookie) != "" {
			t.Fatalf("%s: a session was started", name)
		}
		if name != "other browser" && name != "wrong state" && name != "no state" {
			// The login cookie was spent: start again for the next case.
			res := h.get(c, PathLogin+"?rd=/x", nil)
			loc, _ := url.Parse(res.Header.Get("Location"))
			state = loc.Query().Get("state")
		}
	}
	if !h.waitAudit(`"type":"login.failure"`) {
		t.Error("no login.failure audit event")
	}
}

func TestLoginStartsAreRateLimited(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.LoginRate = config.Rate{Requests: 3, Per: config.Duration(time.Minute), Burst: 3}
	})
	codes := []int{}
	for range 5 {
		codes = append(codes, h.get(h.client(), PathLogin, nil).StatusCode)
	}
	if codes[2] != http.StatusSeeOther || codes[3] != http.StatusTooManyRequests {
		t.Fatalf("statuses %v: want three logins then 429", codes)
	}
}

// With the embedded server, a revoked JWT is refused within RevocationTTL,
// not only when it expires.
func TestRevokedJWTRefusedWithinTheRevocationTTL(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("viewer-client", "viewer")
	if res := h.get(h.client(), "/echo", bearer(tok)); res.StatusCode != http.StatusOK {
		t.Fatalf("token: %d", res.StatusCode)
	}
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		JTI string `json:"jti"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.JTI == "" {
		t.Fatalf("claims %s: %v", payload, err)
	}
	if err := h.srv.Store.RevokeAccessToken(context.Background(), claims.JTI, time.Unix(claims.Exp, 0)); err != nil {
		t.Fatal(err)
	}
	h.srv.Clock.Advance(RevocationTTL)
	if res := h.get(h.client(), "/echo", bearer(tok)); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token after %s: %d, want 401", RevocationTTL, res.StatusCode)
	}
}
