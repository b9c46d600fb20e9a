package proxy

import (
	"fmt"
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
	base, _ := url.Parse(h.ts.URL)
	// Each case starts its own login in its own browser and builds its
	// callback from that login's state, in a fixed order: no case depends
	// on what an earlier one spent.
	for i, c := range []struct {
		name  string
		query func(state, code string) url.Values
		other bool // the callback arrives in another browser
	}{
		// Same length and same cookie name (its first 12 characters): only
		// the comparison with the sealed state refuses it.
		{"wrong state", func(state, code string) url.Values {
			return url.Values{"state": {state[:len(state)-1] + flip(state[len(state)-1])}, "code": {code}}
		}, false},
		{"no state", func(_, code string) url.Values { return url.Values{"code": {code}} }, false},
		{"other browser", func(state, code string) url.Values { return url.Values{"state": {state}, "code": {code}} }, true},
		{"issuer error", func(state, _ string) url.Values {
			return url.Values{"state": {state}, "error": {"access_denied"}}
		}, false},
		{"no code", func(state, _ string) url.Values { return url.Values{"state": {state}} }, false},
		{"issuer mismatch", func(state, code string) url.Values {
			return url.Values{"state": {state}, "code": {code}, "iss": {"https://evil.example"}}
		}, false},
	} {
		cl := h.client()
		res := h.get(cl, PathLogin+"?rd=/x", nil)
		loc, _ := url.Parse(res.Header.Get("Location"))
		state := loc.Query().Get("state")
		if len(state) < 32 {
			t.Fatalf("%s: login start gave state %q", c.name, state)
		}
		code := fmt.Sprintf("code-%d", i)
		h.provider.mu.Lock()
		h.provider.logins[code] = &Login{Subject: u.ID, Username: u.Username}
		h.provider.mu.Unlock()
		if c.other {
			cl = h.client()
		}
		res = h.get(cl, PathCallback+"?"+c.query(state, code).Encode(), nil)
		if res.StatusCode < 400 {
			t.Errorf("%s: status %d", c.name, res.StatusCode)
		}
		if cookieValue(cl, base, sessionCookie) != "" {
			t.Errorf("%s: a session was started", c.name)
		}
	}
	if !h.waitAudit(`"type":"login.failure"`) {
		t.Error("no login.failure audit event")
	}

	// The control: the same steps with the right state start a session.
	cl := h.client()
	res := h.get(cl, PathLogin+"?rd=/x", nil)
	loc, _ := url.Parse(res.Header.Get("Location"))
	h.provider.mu.Lock()
	h.provider.logins["code-ok"] = &Login{Subject: u.ID, Username: u.Username}
	h.provider.mu.Unlock()
	h.get(cl, PathCallback+"?"+url.Values{"state": {loc.Query().Get("state")}, "code": {"code-ok"}}.Encode(), nil)
	if cookieValue(cl, base, sessionCookie) == "" {
		t.Error("control: the right state did not start a session")
	}
}

// flip returns a state character other than c.
func flip(c byte) string {
	if c == 'x' {
		return "y"
	}
	return "x"
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
