package server

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// headerTransport sends every request with the given headers, as a
// particular browser (User-Agent) behind a particular proxy would.
type headerTransport map[string]string

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range t {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

const (
	firefoxWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
	safariIPhone   = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// TestAccountSessionsShowDevice: each session on /account says the
// browser and system it signed in with, the address and when it was last
// used, and marks the session of the browser looking at the list. A
// client's own X-Forwarded-For is not its address unless it comes
// through a trusted proxy.
func TestAccountSessionsShowDevice(t *testing.T) {
	h := newHarness(t)
	h.addUser("bob", "correct horse battery")
	laptop, phone := h.newBrowser(), h.newBrowser()
	laptop.Transport = headerTransport{"User-Agent": firefoxWindows, "X-Forwarded-For": "203.0.113.9"}
	phone.Transport = headerTransport{"User-Agent": strings.Repeat("x", 300) + safariIPhone}
	h.loginAs(laptop, "bob", "correct horse battery")
	h.clock.Advance(5 * time.Minute)
	h.loginAs(phone, "bob", "correct horse battery")

	p := h.browse(laptop, PathAccount)
	list := p.body[strings.Index(p.body, `id="sessions"`):]
	for _, want := range []string{
		"<strong>Firefox on Windows</strong> <span class=\"badge\">This browser</span>",
		"From 127.0.0.1.",
		"Sign out<span class=\"visually-hidden\"> of this browser</span>",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("session list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "203.0.113.9") {
		t.Error("the list shows the address a client put in X-Forwarded-For without a trusted proxy")
	}
	// The phone's User-Agent was cut to its first bytes, which name no
	// browser.
	if !strings.Contains(list, "<strong>"+unknownBrowser+"</strong>") || strings.Count(list, "This browser") != 1 {
		t.Errorf("phone session:\n%s", list)
	}
	// The phone signed in last, but its own list shows it first.
	p = h.browse(phone, PathAccount)
	list = p.body[strings.Index(p.body, `id="sessions"`):]
	if i, j := strings.Index(list, unknownBrowser), strings.Index(list, "Firefox on Windows"); i < 0 || j < i ||
		!strings.Contains(list, unknownBrowser+`</strong> <span class="badge">This browser`) {
		t.Errorf("the phone's list does not start with its own session:\n%s", list)
	}
	sess, err := h.store.GetSession(t.Context(), secret.Hash(h.sessionCookie(phone)))
	if err != nil {
		t.Fatal(err)
	}
	if len(sess.UserAgent) != browser.MaxUserAgent || sess.IP != "127.0.0.1" {
		t.Errorf("phone session keeps a User-Agent of %d bytes and IP %q", len(sess.UserAgent), sess.IP)
	}
}

// TestSessionLastSeen: a session records its sign-in as its last use,
// and a request records a new one only when the last is a minute old or
// more, not on every request.
func TestSessionLastSeen(t *testing.T) {
	h := newHarness(t)
	h.addUser("bob", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "bob", "correct horse battery")
	signIn := h.clock.Now().UTC()
	lastSeen := func() time.Time {
		t.Helper()
		sess, err := h.store.GetSession(t.Context(), secret.Hash(h.sessionCookie(c)))
		if err != nil {
			t.Fatal(err)
		}
		return sess.LastSeen
	}
	if got := lastSeen(); !got.Equal(signIn) {
		t.Fatalf("last seen after sign-in = %v, want %v", got, signIn)
	}
	h.clock.Advance(59 * time.Second)
	h.browse(c, PathAccount)
	if got := lastSeen(); !got.Equal(signIn) {
		t.Errorf("last seen 59 s after sign-in = %v, want it unchanged (%v)", got, signIn)
	}
	h.clock.Advance(time.Second)
	p := h.browse(c, PathAccount)
	now := h.clock.Now().UTC()
	if got := lastSeen(); !got.Equal(now) {
		t.Errorf("last seen a minute after sign-in = %v, want %v", got, now)
	}
	if want := "last active " + now.Format("2006-01-02 15:04 UTC"); !strings.Contains(p.body, want) {
		t.Errorf("account page lacks %q", want)
	}
}

// TestSessionAddressThroughTrustedProxy: behind a trusted proxy the
// session keeps the address the proxy saw.
func TestSessionAddressThroughTrustedProxy(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.TrustedProxies = []string{"127.0.0.0/8", "::1/128"} })
	h.addUser("bob", "correct horse battery")
	c := h.newBrowser()
	c.Transport = headerTransport{"User-Agent": safariIPhone, "X-Forwarded-For": "203.0.113.9"}
	h.loginAs(c, "bob", "correct horse battery")
	sess, err := h.store.GetSession(t.Context(), secret.Hash(h.sessionCookie(c)))
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Session{IP: "203.0.113.9", UserAgent: safariIPhone}
	if sess.IP != want.IP || sess.UserAgent != want.UserAgent {
		t.Errorf("session IP %q, User-Agent %q; want %q, %q", sess.IP, sess.UserAgent, want.IP, want.UserAgent)
	}
	if p := h.browse(c, PathAccount); !strings.Contains(p.body, "Safari on iPhone") || !strings.Contains(p.body, "From 203.0.113.9.") {
		t.Errorf("account page:\n%s", p.body)
	}
}

// sectionOf is the part of an account page from the section with id to
// the next section (or the end).
func sectionOf(body, id string) string {
	i := strings.Index(body, `<section id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i+1:]
	if j := strings.Index(rest, "<section"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// TestAccountOutcomeNextToForm: the error or message of a form on
// /account is shown in that form's section, which the form's action
// scrolls to, and nowhere else on the page.
func TestAccountOutcomeNextToForm(t *testing.T) {
	h := newHarness(t)
	h.addUser("bob", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "bob", "correct horse battery")
	sec, _ := h.enrol(c)
	p := h.browse(c, PathAccount)
	for _, tc := range []struct {
		path, section, text string
		form                url.Values
	}{
		{"/password", sectionPassword, "The current password is not correct.",
			url.Values{"current_password": {"wrong"}, "new_password": {"x"}, "new_password2": {"x"}}},
		{"/apikeys", sectionAPIKeys, "Give the key a name of at most 100 characters.",
			url.Values{"name": {strings.Repeat("k", 101)}}},
		{"/sessions/end", sectionSessions, "That session has already ended.", url.Values{"id": {"nope"}}},
		{"/mfa/disable", sectionMFA, msgBadCode, url.Values{"code": {h.wrongCode(sec)}}},
	} {
		if !strings.Contains(p.body, `action="`+PathAccount+tc.path+`#`+tc.section+`"`) {
			t.Errorf("the form posting to %s does not return to #%s", tc.path, tc.section)
		}
		got := h.submit(c, PathAccount+tc.path, fillForm(p.body, tc.form))
		want := `<p class="error" role="alert">` + html.EscapeString(tc.text) + `</p>`
		if !strings.Contains(sectionOf(got.body, tc.section), want) || strings.Count(got.body, `class="error"`) != 1 {
			t.Errorf("%s: the error is not (only) in section %s:\n%s", tc.path, tc.section, got.body)
		}
	}
}

// TestAccountCopyScript: the page with a new API key loads copy.js, which
// the CSP allows on that page only; the key is in the page as text (so it
// is selectable without the script) with the copy button hidden until
// the script shows it.
func TestAccountCopyScript(t *testing.T) {
	h := newHarness(t)
	h.addUser("bob", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "bob", "correct horse battery")
	p := h.browse(c, PathAccount)
	if csp := p.header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") || strings.Contains(p.body, webpage.CopyScript) {
		t.Errorf("account page without a new key loads a script: CSP %q", csp)
	}
	p = h.submit(c, PathAccount+"/apikeys", fillForm(p.body, url.Values{"name": {"ci"}}))
	csp := p.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src "+h.issuer+PathStatic+webpage.CopyScript+";") || strings.Contains(csp, "connect-src") {
		t.Errorf("CSP of the new key page: %q", csp)
	}
	for _, want := range []string{`<script src="/static/copy.js" defer></script>`, `<code id="new-api-key">gatehouse_`,
		`<button type="button" class="secondary" data-copy="new-api-key" hidden>Copy the key</button>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("new key page lacks %q", want)
		}
	}
	js := h.browse(c, PathStatic+webpage.CopyScript)
	if js.status != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Errorf("copy.js: %d %s", js.status, js.header.Get("Content-Type"))
	}
}
