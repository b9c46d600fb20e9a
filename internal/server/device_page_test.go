package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// addDeviceCode stores a pending device authorization for the CLI client
// and returns its device code hash and formatted user code.
func (h *testHarness) addDeviceCode() (hash, userCode string) {
	h.t.Helper()
	userCode = secret.NewUserCode()
	now := h.clock.Now()
	d := &storage.DeviceCode{
		Hash:      secret.Hash(secret.NewToken()),
		UserCode:  secret.NormalizeUserCode(userCode),
		ClientID:  CLIClientID,
		Scopes:    []string{"openid", "offline_access"},
		Status:    storage.DeviceStatusPending,
		Interval:  5 * time.Second,
		CreatedAt: now,
		ExpiresAt: now.Add(10 * time.Minute),
	}
	if err := h.store.CreateDeviceCode(context.Background(), d); err != nil {
		h.t.Fatal(err)
	}
	return d.Hash, userCode
}

// deviceCode reads a device code back by its user code.
func (h *testHarness) deviceCode(userCode string) *storage.DeviceCode {
	h.t.Helper()
	d, err := h.store.GetDeviceCodeByUserCode(context.Background(), secret.NormalizeUserCode(userCode))
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

func TestDevicePageRequiresLogin(t *testing.T) {
	h := newHarness(t)
	c := h.newBrowser()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := h.browse(c, PathDevice+"?user_code=BCDF-GHJK")
	loc := p.location()
	if p.status != http.StatusFound || loc == nil || loc.Path != PathLogin || loc.Query().Get("return_to") != "/device?user_code=BCDF-GHJK" {
		t.Fatalf("got %d %v", p.status, loc)
	}
}

func TestDeviceApproveAndDeny(t *testing.T) {
	for _, decision := range []string{"approve", "deny"} {
		t.Run(decision, func(t *testing.T) {
			h := newHarness(t)
			u := h.addUser("alice", "correct horse battery")
			_, code := h.addDeviceCode()
			c := h.newBrowser()
			h.loginAs(c, "alice", "correct horse battery")
			sess, err := h.store.GetSession(context.Background(), secret.Hash(h.sessionCookie(c)))
			if err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(time.Minute)

			// A link with the code only prefills the form.
			p := h.browse(c, PathDevice+"?user_code="+url.QueryEscape(code))
			if p.status != http.StatusOK || !strings.Contains(p.body, `value="`+code+`"`) {
				t.Fatalf("device page: %d %s", p.status, p.body)
			}
			// Entering it (in any spelling) shows the confirmation and
			// changes nothing yet (RFC 8628 §5.4).
			typed := strings.ToLower(strings.ReplaceAll(code, "-", " "))
			p = h.submit(c, PathDevice, fillForm(p.body, url.Values{"user_code": {typed}}))
			if p.status != http.StatusOK || !strings.Contains(p.body, "Gatehouse CLI") || !strings.Contains(p.body, "<code>offline_access</code>") ||
				!strings.Contains(p.body, code) {
				t.Fatalf("confirmation: %d %s", p.status, p.body)
			}
			if d := h.deviceCode(code); d.Status != storage.DeviceStatusPending {
				t.Fatalf("status %s before the decision", d.Status)
			}
			p = h.submit(c, PathDevice, fillForm(p.body, url.Values{"decision": {decision}}))
			if p.status != http.StatusOK || !strings.Contains(p.body, "return to your device") {
				t.Fatalf("decision: %d %s", p.status, p.body)
			}
			d := h.deviceCode(code)
			if decision == "approve" {
				if d.Status != storage.DeviceStatusApproved || d.UserID != u.ID || !d.AuthTime.Equal(sess.AuthTime) {
					t.Errorf("approved code %+v", d)
				}
				if ev := h.waitAudit(audit.DeviceApproved); ev["user_id"] != u.ID || ev["client_id"] != CLIClientID {
					t.Errorf("audit %v", ev)
				}
			} else {
				if d.Status != storage.DeviceStatusDenied || d.UserID != "" {
					t.Errorf("denied code %+v", d)
				}
				h.waitAudit(audit.DeviceDenied)
			}
			// A decided code cannot be decided again.
			other := map[string]string{"approve": "deny", "deny": "approve"}[decision]
			p = h.submit(c, PathDevice, fillForm(h.browse(c, PathDevice).body, url.Values{"user_code": {code}, "decision": {other}}))
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, msgInvalidUserCode) {
				t.Errorf("second decision: %d %s", p.status, p.body)
			}
			if got := h.deviceCode(code); got.Status != d.Status {
				t.Errorf("status changed to %s", got.Status)
			}
		})
	}
}

func TestDeviceInvalidCodes(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	_, expired := h.addDeviceCode()
	h.clock.Advance(11 * time.Minute)
	_, denied := h.addDeviceCode()
	if err := h.store.UpdateDeviceCode(context.Background(), h.deviceCode(denied).Hash, func(d *storage.DeviceCode) error {
		d.Status = storage.DeviceStatusDenied
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, pending := h.addDeviceCode()
	// The pending code with its last letter changed.
	last := byte('B')
	if pending[len(pending)-1] == 'B' {
		last = 'C'
	}
	offByOne := pending[:len(pending)-1] + string(last)
	tests := []struct{ name, code, decision string }{
		{"unknown", "BCDF-GHJK", ""},
		{"empty", " - ", ""},
		{"expired", expired, ""},
		{"expired approve", expired, "approve"},
		{"already denied", denied, ""},
		{"already denied approve", denied, "approve"},
		{"one letter off", offByOne, "approve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := fillForm(h.browse(c, PathDevice).body, url.Values{"user_code": {tc.code}})
			if tc.decision != "" {
				form.Set("decision", tc.decision)
			}
			p := h.submit(c, PathDevice, form)
			if p.status != http.StatusBadRequest || !strings.Contains(p.body, msgInvalidUserCode) {
				t.Fatalf("%d %s", p.status, p.body)
			}
		})
	}
	if d := h.deviceCode(expired); d.Status != storage.DeviceStatusPending {
		t.Errorf("expired code moved to %s", d.Status)
	}
	if d := h.deviceCode(pending); d.Status != storage.DeviceStatusPending {
		t.Errorf("neighbouring code moved to %s", d.Status)
	}
}

func TestDeviceEntryRateLimited(t *testing.T) {
	// SECURITY-CASES 26.
	h := newHarness(t, func(c *config.Server) { c.Limits.DeviceEntryPerIP = perMinute(3) })
	h.addUser("alice", "correct horse battery")
	_, code := h.addDeviceCode()
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	for range 3 {
		p := h.submit(c, PathDevice, fillForm(h.browse(c, PathDevice).body, url.Values{"user_code": {"BCDF-GHJK"}}))
		if p.status != http.StatusBadRequest {
			t.Fatalf("guess: %d", p.status)
		}
	}
	// Even the right code is refused now.
	p := h.submit(c, PathDevice, fillForm(h.browse(c, PathDevice).body, url.Values{"user_code": {code}}))
	if p.status != http.StatusTooManyRequests || p.header.Get("Retry-After") == "" || strings.Contains(p.body, "Gatehouse CLI") {
		t.Fatalf("fourth entry: %d %s", p.status, p.body)
	}
	if ev := h.waitAudit(audit.RateLimited); ev["reason"] != limitDeviceIP {
		t.Errorf("audit %v", ev)
	}
	h.clock.Advance(time.Minute)
	p = h.submit(c, PathDevice, fillForm(h.browse(c, PathDevice).body, url.Values{"user_code": {code}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Gatehouse CLI") {
		t.Fatalf("after a minute: %d", p.status)
	}
}

func TestDeviceEntryRateLimitedPerUser(t *testing.T) {
	// Two users behind one address each get their own counter, and one
	// user cannot escape theirs by changing address: the per-user key is
	// the user id, not the IP.
	h := newHarness(t, func(c *config.Server) {
		c.Limits.DeviceEntryPerIP = perMinute(2)
		c.TrustedProxies = []string{"127.0.0.1/32"}
	})
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	enter := func(ip string) int {
		form := fillForm(h.browse(c, PathDevice).body, url.Values{"user_code": {"BCDF-GHJK"}})
		req, _ := http.NewRequest(http.MethodPost, h.url(PathDevice), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", ip)
		return h.do(c, req).status
	}
	if st := enter("203.0.113.1"); st != http.StatusBadRequest {
		t.Fatalf("first: %d", st)
	}
	if st := enter("203.0.113.2"); st != http.StatusBadRequest {
		t.Fatalf("second: %d", st)
	}
	if st := enter("203.0.113.3"); st != http.StatusTooManyRequests {
		t.Fatalf("third from a fresh address: %d, want the per-user limit", st)
	}
	if ev := h.waitAudit(audit.RateLimited); ev["reason"] != limitDeviceUser {
		t.Errorf("audit %v", ev)
	}
}

// racingStore lets a test change a device code between the page's lookup
// and its update, as a concurrent request would.
type racingStore struct {
	storage.Store
	before func()
}

func (r *racingStore) UpdateDeviceCode(ctx context.Context, hash string, fn func(*storage.DeviceCode) error) error {
	if r.before != nil {
		r.before()
		r.before = nil
	}
	return r.Store.UpdateDeviceCode(ctx, hash, fn)
}

func TestDeviceDecisionRace(t *testing.T) {
	// Another tab denies the code after this one looked it up: the
	// approval must not overwrite the denial (the update re-checks the
	// status under the row lock).
	h := newHarness(t)
	h.addUser("alice", "correct horse battery")
	hash, code := h.addDeviceCode()
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	h.srv.store = &racingStore{Store: h.store, before: func() {
		err := h.store.UpdateDeviceCode(context.Background(), hash, func(d *storage.DeviceCode) error {
			d.Status = storage.DeviceStatusDenied
			return nil
		})
		if err != nil {
			t.Error(err)
		}
	}}
	h.srv.rewire()
	p := h.submit(c, PathDevice, fillForm(h.browse(c, PathDevice).body, url.Values{"user_code": {code}, "decision": {"approve"}}))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, msgInvalidUserCode) {
		t.Fatalf("approve after a concurrent deny: %d %s", p.status, p.body)
	}
	if d := h.deviceCode(code); d.Status != storage.DeviceStatusDenied || d.UserID != "" {
		t.Errorf("code %+v", d)
	}
}
