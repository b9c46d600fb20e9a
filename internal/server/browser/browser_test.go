package browser

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

// fixture is a Sessions on a SQLite store and a fake clock, with what a
// test looks at.
type fixture struct {
	*Sessions
	store storage.Store
	clock *clocktest.Fake
	logs  *bytes.Buffer
}

func newFixture(t *testing.T, secure bool) *fixture {
	t.Helper()
	key, err := secret.ParseKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	pages, err := webpage.New("", "https://auth.example", "Gatehouse", log)
	if err != nil {
		t.Fatal(err)
	}
	st := storagetest.OpenSQLite(t)
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return &fixture{
		Sessions: New(Deps{
			SecureCookies: secure, SecretKey: key, Sessions: st, Users: st, Clock: clk,
			SessionTTL: 8 * time.Hour, ClientIP: func(r *http.Request) string { return "192.0.2.7" },
			Pages: pages, Log: log,
		}),
		store: st, clock: clk, logs: logs,
	}
}

// setCookies are the cookies rec set, by name.
func setCookies(rec *httptest.ResponseRecorder) map[string]*http.Cookie {
	m := map[string]*http.Cookie{}
	for _, c := range rec.Result().Cookies() {
		m[c.Name] = c
	}
	return m
}

func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		secure bool
		name   string
	}{
		{true, "__Host-gatehouse_session"},
		{false, "gatehouse_session"},
	} {
		s := newFixture(t, tc.secure)
		if got := s.CookieName(SessionCookie); got != tc.name {
			t.Errorf("secure %v: name %q, want %q", tc.secure, got, tc.name)
		}
		c := s.NewCookie(SessionCookie, "v", 60)
		if c.Name != tc.name || c.Value != "v" || c.Path != "/" || c.MaxAge != 60 || !c.HttpOnly ||
			c.Secure != tc.secure || c.SameSite != http.SameSiteLaxMode || c.Domain != "" {
			t.Errorf("secure %v: %+v", tc.secure, c)
		}
		rec := httptest.NewRecorder()
		s.ClearCookie(rec, CSRFCookie)
		if got := rec.Header().Get("Set-Cookie"); !strings.HasPrefix(got, s.CookieName(CSRFCookie)+"=; Path=/; Max-Age=0; HttpOnly") ||
			strings.Contains(got, "Secure") != tc.secure || !strings.HasSuffix(got, "SameSite=Lax") {
			t.Errorf("secure %v: clear: %s", tc.secure, got)
		}
	}
}

func TestWellFormedToken(t *testing.T) {
	if tok := secret.NewToken(); !wellFormedToken(tok) {
		t.Errorf("a new token %q is not well formed", tok)
	}
	for _, v := range []string{"", "short", strings.Repeat("a", 42), strings.Repeat("a", 44), strings.Repeat("a", 42) + "=",
		strings.Repeat("a", 42) + "/", strings.Repeat("a", 42) + "+", strings.Repeat("a", 41) + "é"} {
		if wellFormedToken(v) {
			t.Errorf("%q accepted", v)
		}
	}
}

func TestCSRFTokenKeepsAWellFormedCookie(t *testing.T) {
	s := newFixture(t, true)
	// No cookie: a new token in a new browser-session cookie.
	rec := httptest.NewRecorder()
	tok := s.CSRFToken(rec, httptest.NewRequest("GET", "/login", nil))
	c := setCookies(rec)["__Host-gatehouse_csrf"]
	if c == nil || c.Value != tok || !wellFormedToken(tok) || c.MaxAge != 0 || !c.Secure || !c.HttpOnly {
		t.Fatalf("token %q, cookie %+v", tok, c)
	}
	// The browser's token is kept.
	req := httptest.NewRequest("GET", "/login", nil)
	req.AddCookie(c)
	rec = httptest.NewRecorder()
	if got := s.CSRFToken(rec, req); got != tok || len(rec.Result().Cookies()) != 0 {
		t.Errorf("kept %q (want %q), set %v", got, tok, rec.Result().Cookies())
	}
	// A malformed one is replaced.
	req = httptest.NewRequest("GET", "/login", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-gatehouse_csrf", Value: "planted"})
	rec = httptest.NewRecorder()
	if got := s.CSRFToken(rec, req); got == "planted" || !wellFormedToken(got) || setCookies(rec)["__Host-gatehouse_csrf"].Value != got {
		t.Errorf("malformed cookie: %q", got)
	}
}

// formRequest is a POST of body with the CSRF cookie cookie ("" for
// none).
func formRequest(name, cookie, body string) *http.Request {
	r := httptest.NewRequest("POST", "/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: name, Value: cookie})
	}
	return r
}

func TestCSRFDoubleSubmit(t *testing.T) {
	s := newFixture(t, false)
	tok, other := secret.NewToken(), secret.NewToken()
	malformed := strings.Repeat("a", 42) + "!"
	for _, tc := range []struct {
		name, cookieName, cookie, body string
		ok                             bool
	}{
		{"cookie and field agree", CSRFCookie, tok, "csrf_token=" + tok + "&x=1", true},
		{"no cookie", CSRFCookie, "", "csrf_token=" + tok, false},
		{"no field", CSRFCookie, tok, "x=1", false},
		{"empty field", CSRFCookie, tok, "csrf_token=", false},
		{"another token", CSRFCookie, tok, "csrf_token=" + other, false},
		{"malformed cookie equal to the field", CSRFCookie, malformed, "csrf_token=" + malformed, false},
		{"the token in the __Host- cookie of secure mode", "__Host-" + CSRFCookie, tok, "csrf_token=" + tok, false},
		{"the token in the session cookie", SessionCookie, tok, "csrf_token=" + tok, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.ReadForm(httptest.NewRecorder(), formRequest(tc.cookieName, tc.cookie, tc.body))
			if tc.ok != (err == nil) || !tc.ok && !errors.Is(err, ErrCSRF) {
				t.Fatalf("ReadForm: %v, want ok %v", err, tc.ok)
			}
			rec := httptest.NewRecorder()
			ok := s.ParsePostForm(rec, formRequest(tc.cookieName, tc.cookie, tc.body))
			if ok != tc.ok {
				t.Fatalf("ParsePostForm: %v", ok)
			}
			if !ok && (rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "The form was stale or was not sent from this site.")) {
				t.Errorf("refusal: %d %s", rec.Code, rec.Body)
			}
			if ok && rec.Body.Len() != 0 {
				t.Errorf("answered an accepted form: %s", rec.Body)
			}
		})
	}
}

func TestParsePostFormRefusesAnUnreadableForm(t *testing.T) {
	s := newFixture(t, false)
	tok := secret.NewToken()
	for name, body := range map[string]string{
		"bad escape": "csrf_token=" + tok + "&x=%zz",
		"too large":  "csrf_token=" + tok + "&x=" + strings.Repeat("a", maxFormBytes),
	} {
		if err := s.ReadForm(httptest.NewRecorder(), formRequest(CSRFCookie, tok, body)); err == nil || errors.Is(err, ErrCSRF) {
			t.Errorf("%s: ReadForm: %v", name, err)
		}
		rec := httptest.NewRecorder()
		if s.ParsePostForm(rec, formRequest(CSRFCookie, tok, body)) || rec.Code != http.StatusBadRequest ||
			!strings.Contains(rec.Body.String(), "The form could not be read.") {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if !strings.Contains(s.logs.String(), `msg="error page"`) {
		t.Errorf("error pages not logged: %s", s.logs)
	}
}

type sealedThing struct {
	User    string `json:"u"`
	Expires int64  `json:"e"`
}

func TestSealedCookie(t *testing.T) {
	s := newFixture(t, true)
	rec := httptest.NewRecorder()
	if err := s.SetSealed(rec, "gatehouse_test", "purpose-a", sealedThing{"alice", 42}, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	c := setCookies(rec)["__Host-gatehouse_test"]
	if c == nil || c.MaxAge != 300 || !c.Secure || !c.HttpOnly || strings.Contains(c.Value, "alice") {
		t.Fatalf("cookie %+v", c)
	}
	read := func(name, value, ad string) (sealedThing, bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: name, Value: value})
		var v sealedThing
		ok := s.Sealed(r, "gatehouse_test", ad, &v)
		return v, ok
	}
	if v, ok := read(c.Name, c.Value, "purpose-a"); !ok || v != (sealedThing{"alice", 42}) {
		t.Fatalf("read back %v %+v", ok, v)
	}
	if _, ok := read(c.Name, c.Value, "purpose-b"); ok {
		t.Error("opened for another purpose")
	}
	b := []byte(c.Value)
	b[len(b)/2] ^= 1
	if b[len(b)/2] == '-' || b[len(b)/2] == '_' || b[len(b)/2] < '0' {
		b[len(b)/2] = 'A'
	}
	if _, ok := read(c.Name, string(b), "purpose-a"); ok {
		t.Error("a tampered cookie opened")
	}
	if _, ok := read(c.Name, c.Value[:len(c.Value)-4], "purpose-a"); ok {
		t.Error("a cut cookie opened")
	}
	if _, ok := read(c.Name, "not base64!", "purpose-a"); ok {
		t.Error("garbage opened")
	}
	if _, ok := read(c.Name, strings.Repeat("A", maxSealedCookie+1), "purpose-a"); ok {
		t.Error("an oversized cookie opened")
	}
	if _, ok := read("gatehouse_test", c.Value, "purpose-a"); ok {
		t.Error("opened without the __Host- prefix in secure mode")
	}

	// Without the secret key nothing is sealed or opened.
	s.d.SecretKey = nil
	if err := s.SetSealed(httptest.NewRecorder(), "gatehouse_test", "purpose-a", sealedThing{}, time.Minute); err == nil {
		t.Error("sealed without a key")
	}
	if _, ok := read(c.Name, c.Value, "purpose-a"); ok {
		t.Error("opened without a key")
	}
}

// addUser stores an enabled user.
func (f *fixture) addUser(t *testing.T, id string, disabled bool) *storage.User {
	t.Helper()
	now := f.clock.Now()
	u := &storage.User{ID: id, Username: id, Roles: []string{"viewer"}, Disabled: disabled, CreatedAt: now, UpdatedAt: now}
	if err := f.store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// start signs u in with the session cookie old ("" for none) and
// returns the new session cookie.
func (f *fixture) start(t *testing.T, u *storage.User, old string) *http.Cookie {
	t.Helper()
	r := httptest.NewRequest("POST", "/login", nil)
	r.Header.Set("User-Agent", "Firefox/1\r\n"+strings.Repeat("x", 300))
	if old != "" {
		r.AddCookie(&http.Cookie{Name: f.CookieName(SessionCookie), Value: old})
	}
	rec := httptest.NewRecorder()
	if err := f.Start(rec, r, u); err != nil {
		t.Fatal(err)
	}
	c := setCookies(rec)[f.CookieName(SessionCookie)]
	if c == nil {
		t.Fatal("no session cookie")
	}
	return c
}

// current is CurrentUser for a request with the session cookie tok.
func (f *fixture) current(t *testing.T, tok string) (*storage.User, *storage.Session) {
	t.Helper()
	r := httptest.NewRequest("GET", "/account", nil)
	if tok != "" {
		r.AddCookie(&http.Cookie{Name: f.CookieName(SessionCookie), Value: tok})
	}
	u, sess, err := f.CurrentUser(r)
	if err != nil {
		t.Fatal(err)
	}
	return u, sess
}

func TestStartMakesANewSessionAndDeletesThePresentedOne(t *testing.T) {
	f := newFixture(t, true)
	alice := f.addUser(t, "alice", false)
	first := f.start(t, alice, "")
	if !wellFormedToken(first.Value) || first.MaxAge != int((8*time.Hour)/time.Second) || !first.Secure || !first.HttpOnly ||
		first.SameSite != http.SameSiteLaxMode || first.Path != "/" {
		t.Fatalf("cookie %+v", first)
	}
	sess, err := f.store.GetSession(context.Background(), secret.Hash(first.Value))
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().UTC()
	if sess.UserID != "alice" || sess.IP != "192.0.2.7" || !sess.AuthTime.Equal(now) || !sess.ExpiresAt.Equal(now.Add(8*time.Hour)) ||
		!strings.HasPrefix(sess.UserAgent, "Firefox/1xxx") || len(sess.UserAgent) != MaxUserAgent {
		t.Errorf("session %+v", sess)
	}
	// Signing in again (a planted or an old id): a new id, the old one gone.
	second := f.start(t, alice, first.Value)
	if second.Value == first.Value {
		t.Fatal("the session id was not renewed")
	}
	if _, err := f.store.GetSession(context.Background(), secret.Hash(first.Value)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the presented session survived: %v", err)
	}
	if u, _ := f.current(t, first.Value); u != nil {
		t.Error("the old id still signs in")
	}
	if u, _ := f.current(t, second.Value); u == nil || u.ID != "alice" {
		t.Errorf("new session: %v", u)
	}
	// An id the store never knew is no obstacle.
	if third := f.start(t, alice, secret.NewToken()); third.Value == second.Value {
		t.Error("not renewed")
	}
}

func TestCurrentUser(t *testing.T) {
	f := newFixture(t, false)
	alice := f.addUser(t, "alice", false)
	bob := f.addUser(t, "bob", false)
	carol := f.addUser(t, "carol", false)
	a, b, c := f.start(t, alice, ""), f.start(t, bob, ""), f.start(t, carol, "")
	if u, sess := f.current(t, a.Value); u == nil || u.ID != "alice" || sess == nil || sess.Hash != secret.Hash(a.Value) {
		t.Fatalf("alice: %v %v", u, sess)
	}
	ctx := context.Background()
	if err := f.store.UpdateUser(ctx, "bob", func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteUser(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{
		"no cookie":      "",
		"malformed":      "not-a-token",
		"unknown":        secret.NewToken(),
		"disabled user":  b.Value,
		"deleted user":   c.Value,
		"a session hash": secret.Hash(a.Value),
	} {
		if u, sess := f.current(t, tok); u != nil || sess != nil {
			t.Errorf("%s: signed in as %v", name, u)
		}
	}
	f.clock.Advance(8*time.Hour - time.Second)
	if u, _ := f.current(t, a.Value); u == nil {
		t.Error("signed out a second before the session expires")
	}
	f.clock.Advance(time.Second)
	if u, sess := f.current(t, a.Value); u != nil || sess != nil {
		t.Error("an expired session signs in")
	}
}

// failingSessions is a session store whose TouchSession fails.
type failingSessions struct {
	storage.SessionStore
	touches int
}

func (f *failingSessions) TouchSession(ctx context.Context, hash string, lastSeen time.Time) error {
	f.touches++
	return errors.New("database down")
}

func TestCurrentUserRecordsUseOncePerInterval(t *testing.T) {
	f := newFixture(t, false)
	alice := f.addUser(t, "alice", false)
	c := f.start(t, alice, "")
	start := f.clock.Now().UTC()
	lastSeen := func() time.Time {
		t.Helper()
		sess, err := f.store.GetSession(context.Background(), secret.Hash(c.Value))
		if err != nil {
			t.Fatal(err)
		}
		return sess.LastSeen.UTC()
	}
	f.clock.Advance(touchInterval - time.Second)
	if _, sess := f.current(t, c.Value); !sess.LastSeen.Equal(start) || !lastSeen().Equal(start) {
		t.Errorf("written within the interval: %v", lastSeen())
	}
	f.clock.Advance(time.Second)
	now := f.clock.Now().UTC()
	if _, sess := f.current(t, c.Value); !sess.LastSeen.Equal(now) || !lastSeen().Equal(now) {
		t.Errorf("not written after the interval: %v %v", sess.LastSeen, lastSeen())
	}

	// A failed write is logged and the request goes on.
	fs := &failingSessions{SessionStore: f.store}
	f.d.Sessions = fs
	f.clock.Advance(touchInterval)
	if u, _ := f.current(t, c.Value); u == nil || fs.touches != 1 {
		t.Fatalf("user %v after %d touches", u, fs.touches)
	}
	if !strings.Contains(f.logs.String(), `msg="record session use"`) {
		t.Errorf("not logged: %s", f.logs)
	}
}

func TestEndDeletesTheSessionAndClearsTheCookie(t *testing.T) {
	f := newFixture(t, true)
	c := f.start(t, f.addUser(t, "alice", false), "")
	r := httptest.NewRequest("POST", "/logout", nil)
	r.AddCookie(c)
	rec := httptest.NewRecorder()
	if err := f.End(rec, r); err != nil {
		t.Fatal(err)
	}
	if gone := setCookies(rec)[c.Name]; gone == nil || gone.Value != "" || gone.MaxAge >= 0 {
		t.Errorf("cookie not cleared: %+v", gone)
	}
	if _, err := f.store.GetSession(context.Background(), secret.Hash(c.Value)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("session kept: %v", err)
	}
	// Without a session it only clears the cookie.
	rec = httptest.NewRecorder()
	if err := f.End(rec, httptest.NewRequest("POST", "/logout", nil)); err != nil || setCookies(rec)[c.Name] == nil {
		t.Errorf("no session: %v %v", err, rec.Result().Cookies())
	}
}

func TestBoundUserAgent(t *testing.T) {
	long := strings.Repeat("a", MaxUserAgent-1) + "é and more"
	got := boundUserAgent(long)
	if len(got) > MaxUserAgent || !utf8.ValidString(got) || got != strings.Repeat("a", MaxUserAgent-1) {
		t.Errorf("bounded to %d bytes %q, want the %d a's without half an é", len(got), got[len(got)-4:], MaxUserAgent-1)
	}
	if got := boundUserAgent("Firefox/1\r\nX: y\x00"); got != "Firefox/1X: y" {
		t.Errorf("control characters kept: %q", got)
	}
	if ua := "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"; boundUserAgent(ua) != ua {
		t.Errorf("a short User-Agent changed: %q", boundUserAgent(ua))
	}
}

// FuzzBoundUserAgent: whatever a client sends, the bounded User-Agent is
// valid UTF-8 within MaxUserAgent bytes, without control characters.
func FuzzBoundUserAgent(f *testing.F) {
	for _, s := range []string{"", "Chrome/1 Linux", "\xff\xfe", "a\r\nb", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		b := boundUserAgent(ua)
		if len(b) > MaxUserAgent || !utf8.ValidString(b) || strings.ContainsFunc(b, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("boundUserAgent(%q) = %q (%d bytes)", ua, b, len(b))
		}
	})
}
