package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

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

// A changed password ends the user's gateway sessions, cached ones
// included, although the user still exists.
func TestPasswordChangeEndsCachedSessions(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	other := h.srv.AddUser(t, "bob", "pw-bob-12345", "viewer")
	c, cb := h.client(), h.client()
	h.login(c, u, "/")
	h.login(cb, other, "/")
	if res := h.get(c, "/echo", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("before: %d", res.StatusCode)
	}
	h.users.Observe(audit.Event{Type: audit.UserUpdated, UserID: u.ID, Details: map[string]string{"change": "password changed"}})
	deadline := time.Now().Add(5 * time.Second)
	for h.get(c, "/echo", nil).StatusCode != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("alice's session outlived her password change")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if res := h.get(cb, "/echo", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("bob's session ended too: %d", res.StatusCode)
	}
}
