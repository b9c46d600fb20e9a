package proxy

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
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
