package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/server/linking"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// userByName loads a user or fails the test.
func (h *testHarness) userByName(name string) *storage.User {
	h.t.Helper()
	u, err := h.store.GetUserByName(context.Background(), name)
	if err != nil {
		h.t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func TestConnectorLDAPSignInCreatesThenUpdatesUser(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		h := newConnectorHarness(t, open, false)
		c := h.newBrowser()
		if p := h.browse(c, PathLogin); !strings.Contains(p.body, "Use your Corp directory account, or a local one.") {
			t.Errorf("login page does not name the directory: %s", p.body)
		}
		p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1"))
		if !signedIn(p) {
			t.Fatalf("ada: %d %s", p.status, p.body)
		}
		u := h.userByName("ada")
		if u.ConnectorID != "corp" || u.ConnectorSubject != "uid=ada,ou=people,dc=example,dc=org" || u.PasswordHash != "" ||
			!slices.Equal(u.Groups, []string{"ops-admins"}) || !slices.Equal(u.Roles, []string{RoleAdmin}) ||
			u.Email != "ada@example.org" || !u.EmailVerified || u.Name != "Person ada" {
			t.Errorf("created user %+v", u)
		}
		ev := h.waitAudit(audit.UserCreated)
		if ev["actor"] != "connector:corp" || ev["user_id"] != u.ID {
			t.Errorf("user.created %v", ev)
		}
		ev = h.waitAudit(audit.LoginSuccess)
		if d, _ := ev["details"].(map[string]any); ev["user_id"] != u.ID || d["connector"] != "corp" {
			t.Errorf("login.success %v", ev)
		}

		// The directory moves ada to analysts with a new address: the
		// next sign-in updates the same user and replaces the roles.
		h.dir.set("ada", func(id *connector.Identity) {
			id.Groups, id.Email, id.Name = []string{"analysts"}, "ada@example.net", "Ada Lovelace"
		})
		c = h.newBrowser()
		if p := h.submit(c, PathLogin, h.loginForm(c, "ADA ", "ada-password-1")); !signedIn(p) {
			t.Fatalf("second sign-in: %d %s", p.status, p.body)
		}
		v := h.userByName("ada")
		if v.ID != u.ID || !slices.Equal(v.Groups, []string{"analysts"}) || !slices.Equal(v.Roles, []string{RoleViewer}) ||
			v.Email != "ada@example.net" || v.Name != "Ada Lovelace" {
			t.Errorf("updated user %+v", v)
		}
		ev = h.waitAudit(audit.UserUpdated)
		if ev["actor"] != "connector:corp" || ev["user_id"] != u.ID {
			t.Errorf("user.updated %v", ev)
		}
		users, _ := h.store.ListUsers(context.Background())
		if len(users) != 2 { // admin and ada
			t.Errorf("%d users, want 2", len(users))
		}
	})
}

func TestConnectorLDAPWrongPasswordLooksLikeLocal(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	c := h.newBrowser()
	for _, cred := range [][2]string{{"ada", "wrong"}, {"nobody", "wrong"}, {"admin", "wrong"}} {
		p := h.submit(c, PathLogin, h.loginForm(c, cred[0], cred[1]))
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, msgInvalidLogin) {
			t.Errorf("%s: %d %s", cred[0], p.status, p.body)
		}
	}
	if _, err := h.store.GetUserByName(context.Background(), "ada"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a failed sign-in created a user: %v", err)
	}
	// Local users keep working, and are checked locally first.
	before := h.dir.logins
	if p := h.submit(c, PathLogin, h.loginForm(c, "admin", "admin-password-1")); !signedIn(p) {
		t.Fatalf("local admin: %d %s", p.status, p.body)
	}
	if h.dir.logins != before {
		t.Error("a correct local password was also sent to the directory")
	}
}

func TestConnectorNeverMergesWithLocalUser(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	local := h.addUser("ada", "local-password-1", RoleViewer)
	c := h.newBrowser()
	// The directory's ada signs in with her directory password: a new,
	// linked user, not the local ada.
	if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1")); !signedIn(p) || !strings.Contains(p.body, "<strong>ada-corp</strong>") {
		t.Fatalf("directory ada: %d %s", p.status, p.body)
	}
	linked := h.userByName("ada-corp")
	if linked.ID == local.ID || linked.ConnectorID != "corp" || !slices.Equal(linked.Roles, []string{RoleAdmin}) {
		t.Errorf("linked user %+v", linked)
	}
	if got := h.userByName("ada"); got.ConnectorID != "" || !slices.Equal(got.Roles, []string{RoleViewer}) || got.PasswordHash != local.PasswordHash {
		t.Errorf("local ada changed: %+v", got)
	}
	// Her next sign-in finds the linked user again.
	c = h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1")); !signedIn(p) || !strings.Contains(p.body, "<strong>ada-corp</strong>") {
		t.Fatalf("directory ada again: %d %s", p.status, p.body)
	}
	// The local password still signs in the local user.
	c = h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "local-password-1")); !signedIn(p) || !strings.Contains(p.body, "<strong>ada</strong>") {
		t.Fatalf("local ada: %d %s", p.status, p.body)
	}
}

func TestConnectorEmailOfAnotherUserNotTaken(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	carol := h.addUser("carol", "carol-password-1")
	if err := h.store.UpdateUser(context.Background(), carol.ID, func(u *storage.User) error { u.Email = "ada@example.org"; return nil }); err != nil {
		t.Fatal(err)
	}
	c := h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1")); !signedIn(p) {
		t.Fatalf("ada: %d %s", p.status, p.body)
	}
	if u := h.userByName("ada"); u.Email != "" || u.ConnectorID != "corp" {
		t.Errorf("ada %+v, want no email (carol has it)", u)
	}
}

func TestConnectorPrecreatedUserIsLinked(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	ctx := context.Background()
	pre := &storage.User{ID: "pre-ada", Username: "ada", ConnectorID: "corp", Disabled: false}
	if _, err := userreg.Create(ctx, h.store, pre); err != nil {
		t.Fatal(err)
	}
	// Pre-created by email for the provider.
	byEmail := &storage.User{ID: "pre-grace", Username: "grace", Email: "grace@example.com", ConnectorID: "google"}
	if _, err := userreg.Create(ctx, h.store, byEmail); err != nil {
		t.Fatal(err)
	}
	c := h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1")); !signedIn(p) {
		t.Fatalf("ada: %d %s", p.status, p.body)
	}
	u, err := h.store.GetUserByIdentity(ctx, "corp", "uid=ada,ou=people,dc=example,dc=org")
	if err != nil || u.ID != "pre-ada" || !slices.Equal(u.Roles, []string{RoleAdmin}) {
		t.Fatalf("linked %+v %v", u, err)
	}
	h.provider.setNext(connector.Identity{Subject: "g-1", Username: "gh", Email: "Grace@example.com", EmailVerified: true}, nil)
	if p := h.oidcSignIn(h.newBrowser(), ""); !signedIn(p) {
		t.Fatalf("grace: %d %s", p.status, p.body)
	}
	if u, err := h.store.GetUserByIdentity(ctx, "google", "g-1"); err != nil || u.ID != "pre-grace" {
		t.Fatalf("grace linked %+v %v", u, err)
	}
	// An unverified email links nothing: a new user.
	other := &storage.User{ID: "pre-hopper", Username: "hopper", Email: "hopper@example.com", ConnectorID: "google"}
	if _, err := userreg.Create(ctx, h.store, other); err != nil {
		t.Fatal(err)
	}
	h.provider.setNext(connector.Identity{Subject: "g-2", Username: "mallory", Email: "hopper@example.com"}, nil)
	if p := h.oidcSignIn(h.newBrowser(), ""); !signedIn(p) {
		t.Fatalf("mallory: %d %s", p.status, p.body)
	}
	if u, err := h.store.GetUserByIdentity(ctx, "google", "g-2"); err != nil || u.ID == "pre-hopper" {
		t.Fatalf("an unverified email linked a pre-created user: %+v %v", u, err)
	}
}

func TestConnectorDisabledLinkedUserRefused(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	c := h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "bob", "bob-password-1")); !signedIn(p) {
		t.Fatalf("bob: %d %s", p.status, p.body)
	}
	bob := h.userByName("bob")
	disabled := true
	if _, _, err := userreg.Update(context.Background(), h.store, bob.ID, h.clock.Now(), userreg.Change{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	c = h.newBrowser()
	p := h.submit(c, PathLogin, h.loginForm(c, "bob", "bob-password-1"))
	if p.status != http.StatusUnauthorized || signedIn(p) || h.sessionCookie(c) != "" {
		t.Fatalf("disabled bob: %d %s", p.status, p.body)
	}
	for {
		ev := h.waitAudit(audit.LoginFailure)
		if ev["user_id"] == bob.ID {
			if ev["reason"] != "disabled" {
				t.Errorf("login.failure %v", ev)
			}
			break
		}
	}
	// The same through the provider.
	h.provider.setNext(connector.Identity{Subject: "g-bob", Username: "bobby"}, nil)
	if p := h.oidcSignIn(h.newBrowser(), ""); !signedIn(p) {
		t.Fatalf("bobby: %d %s", p.status, p.body)
	}
	bobby := h.userByName("bobby")
	if _, _, err := userreg.Update(context.Background(), h.store, bobby.ID, h.clock.Now(), userreg.Change{Disabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	c = h.newBrowser()
	if p := h.oidcSignIn(c, ""); p.status != http.StatusForbidden || h.sessionCookie(c) != "" || !strings.Contains(p.body, "back-to-login") {
		t.Fatalf("disabled bobby: %d %s", p.status, p.body)
	}
}

func TestConnectorDirectoryDownOnLogin(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	h.dir.setDown(true)
	c := h.newBrowser()
	p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1"))
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "Directory unavailable") || h.sessionCookie(c) != "" || p.header.Get("Retry-After") == "" {
		t.Fatalf("directory down: %d %s", p.status, p.body)
	}
	ev := h.waitAudit(audit.LoginFailure)
	if ev["reason"] != "directory_unavailable" {
		t.Errorf("login.failure %v", ev)
	}
	// Local users are not affected.
	if p := h.submit(c, PathLogin, h.loginForm(c, "admin", "admin-password-1")); !signedIn(p) {
		t.Fatalf("local admin while the directory is down: %d %s", p.status, p.body)
	}
}

// oidcSignIn starts a sign-in with the provider in c and comes back with
// the state it was given; it returns the page the callback ends on.
func (h *connectorHarness) oidcSignIn(c *http.Client, returnTo string) *browserPage {
	h.t.Helper()
	p := h.oidcStart(c, returnTo)
	loc := p.location()
	return h.browse(c, PathLoginConnector+"google/callback?"+url.Values{"code": {"c0de"}, "state": {loc.Query().Get("state")}}.Encode())
}

// oidcStart follows the login page's "Sign in with Google" link and
// expects the redirect to the provider.
func (h *connectorHarness) oidcStart(c *http.Client, returnTo string) *browserPage {
	h.t.Helper()
	path := PathLogin
	if returnTo != "" {
		path += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}
	login := h.browse(c, path)
	want := h.base + PathLoginConnector + "google"
	if returnTo != "" {
		want += "?" + url.Values{"return_to": {returnTo}}.Encode()
	}
	if !strings.Contains(login.body, `href="`+strings.ReplaceAll(want, "&", "&amp;")+`">Sign in with Google</a>`) {
		h.t.Fatalf("login page lacks the provider link %s: %s", want, login.body)
	}
	p := h.browse(c, strings.TrimPrefix(want, h.base))
	loc := p.location()
	if p.status != http.StatusSeeOther || loc == nil || loc.Host != "upstream.example" || loc.Query().Get("state") == "" {
		h.t.Fatalf("start: %d %v", p.status, loc)
	}
	return p
}

func TestConnectorOIDCSignIn(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		h := newConnectorHarness(t, open, false)
		h.provider.setNext(connector.Identity{Subject: "g-ada", Username: "ada.l", Email: "ada@example.com", EmailVerified: true,
			Name: "Ada", Groups: []string{"eng"}, Claims: map[string][]string{"hd": {"example.com"}}}, nil)
		c := h.newBrowser()
		start := h.oidcStart(c, h.base+PathDevice)
		loc := start.location()
		pend := h.provider.last
		if loc.Query().Get("state") != pend.State || pend.Nonce == "" || len(pend.CodeVerifier) < 43 ||
			pend.RedirectURI != h.issuer+PathLoginConnector+"google/callback" || pend.State == pend.Nonce {
			t.Errorf("pending %+v", pend)
		}
		// A second start makes fresh values.
		if again := h.oidcStart(h.newBrowser(), ""); again.location().Query().Get("state") == pend.State {
			t.Error("state reused")
		}
		p := h.browse(c, PathLoginConnector+"google/callback?"+url.Values{"code": {"c0de"}, "state": {pend.State}}.Encode())
		if p.status != http.StatusOK || p.url.Path != h.base+PathDevice {
			t.Fatalf("callback: %d at %s: %s", p.status, p.url, p.body)
		}
		if h.sessionCookie(c) == "" {
			t.Fatal("no session")
		}
		u := h.userByName("ada.l")
		if u.ConnectorID != "google" || u.ConnectorSubject != "g-ada" || !slices.Equal(u.Roles, []string{RoleEditor}) || !slices.Equal(u.Groups, []string{"eng"}) {
			t.Errorf("user %+v", u)
		}
		ev := h.waitAudit(audit.LoginSuccess)
		if d, _ := ev["details"].(map[string]any); d["connector"] != "google" {
			t.Errorf("login.success %v", ev)
		}
		// The callback cannot be replayed: the pending sign-in is spent.
		again := h.browse(c, PathLoginConnector+"google/callback?"+url.Values{"code": {"c0de"}, "state": {pend.State}}.Encode())
		if again.status != http.StatusBadRequest {
			t.Errorf("replayed callback: %d", again.status)
		}
	})
}

func TestConnectorOIDCStateRefused(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	h.provider.setNext(connector.Identity{Subject: "g-ada", Username: "ada"}, nil)

	// No pending sign-in in this browser (another browser started it).
	other := h.newBrowser()
	state := h.oidcStart(other, "").location().Query().Get("state")
	c := h.newBrowser()
	p := h.browse(c, PathLoginConnector+"google/callback?code=x&state="+url.QueryEscape(state))
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in expired") || !strings.Contains(p.body, `id="back-to-login"`) {
		t.Errorf("no cookie: %d %s", p.status, p.body)
	}
	// A state that does not match this browser's.
	h.oidcStart(c, "")
	p = h.browse(c, PathLoginConnector+"google/callback?code=x&state="+url.QueryEscape(state))
	if p.status != http.StatusBadRequest || h.sessionCookie(c) != "" {
		t.Errorf("mismatched state: %d", p.status)
	}
	// A tampered cookie.
	c2 := h.newBrowser()
	st := h.oidcStart(c2, "").location().Query().Get("state")
	iss, _ := url.Parse(h.ts.URL)
	for _, ck := range c2.Jar.Cookies(iss) {
		if ck.Name == connectorPendingCookie {
			ck.Value = "x" + ck.Value[1:]
			c2.Jar.SetCookies(iss, []*http.Cookie{ck})
		}
	}
	if p := h.browse(c2, PathLoginConnector+"google/callback?code=x&state="+url.QueryEscape(st)); p.status != http.StatusBadRequest {
		t.Errorf("tampered cookie: %d", p.status)
	}
	// The pending sign-in expires.
	c3 := h.newBrowser()
	st = h.oidcStart(c3, "").location().Query().Get("state")
	h.clock.Advance(connectorPendingTTL)
	if p := h.browse(c3, PathLoginConnector+"google/callback?code=x&state="+url.QueryEscape(st)); p.status != http.StatusBadRequest {
		t.Errorf("expired: %d", p.status)
	}
	if h.provider.exchanges != 0 {
		t.Errorf("%d exchanges of refused callbacks", h.provider.exchanges)
	}
	ev := h.waitAudit(audit.LoginFailure)
	if ev["reason"] != "no_pending_sign_in" {
		t.Errorf("login.failure %v", ev)
	}
	// A pending sign-in of one connector is not accepted by another.
	if p := h.browse(h.newBrowser(), PathLoginConnector+"nope/callback?state=x"); p.status != http.StatusNotFound {
		t.Errorf("unknown connector: %d", p.status)
	}
}

func TestConnectorOIDCErrorsHaveAWayBack(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	ret := h.base + PathDevice
	for _, c := range []struct {
		name   string
		err    error
		query  string
		status int
		text   string
	}{
		{"denied at the provider", nil, "error=access_denied", http.StatusUnauthorized, "did not sign you in"},
		{"domain not allowed", fmt.Errorf("%w: email domain", connector.ErrNotAllowed), "", http.StatusForbidden, "does not accept that account"},
		{"provider down", fmt.Errorf("%w: token endpoint", connector.ErrUnavailable), "", http.StatusServiceUnavailable, "cannot be reached"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h.provider.setNext(connector.Identity{Subject: "x"}, c.err)
			b := h.newBrowser()
			state := h.oidcStart(b, ret).location().Query().Get("state")
			q := "code=x&state=" + url.QueryEscape(state)
			if c.query != "" {
				q = c.query + "&state=" + url.QueryEscape(state)
			}
			p := h.browse(b, PathLoginConnector+"google/callback?"+q)
			back := `href="` + strings.ReplaceAll(h.base+PathLogin+"?"+url.Values{"return_to": {ret}}.Encode(), "&", "&amp;") + `"`
			if p.status != c.status || !strings.Contains(p.body, c.text) || !strings.Contains(p.body, back) || h.sessionCookie(b) != "" {
				t.Errorf("%d %s", p.status, p.body)
			}
		})
	}
	// The provider cannot be reached to start the sign-in.
	h.provider.startErr = fmt.Errorf("%w: discovery", connector.ErrUnavailable)
	b := h.newBrowser()
	p := h.browse(b, PathLoginConnector+"google")
	if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "back-to-login") {
		t.Errorf("start while down: %d %s", p.status, p.body)
	}
	if p := h.browse(b, PathLoginConnector+"corp"); p.status != http.StatusNotFound {
		t.Errorf("a directory has no redirect sign-in: %d", p.status)
	}
}

func TestConnectorRoleRulesEmailDomainNeedsVerifiedEmail(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	h.provider.setNext(connector.Identity{Subject: "g-1", Username: "eve", Email: "eve@example.com", EmailVerified: false}, nil)
	if p := h.oidcSignIn(h.newBrowser(), ""); !signedIn(p) {
		t.Fatalf("eve: %d %s", p.status, p.body)
	}
	if u := h.userByName("eve"); len(u.Roles) != 0 || u.EmailVerified {
		t.Errorf("unverified email got roles: %+v", u)
	}
	h.provider.setNext(connector.Identity{Subject: "g-1", Username: "eve", Email: "eve@example.com", EmailVerified: true}, nil)
	if p := h.oidcSignIn(h.newBrowser(), ""); !signedIn(p) {
		t.Fatalf("eve again: %d %s", p.status, p.body)
	}
	if u := h.userByName("eve"); !slices.Equal(u.Roles, []string{RoleEditor}) {
		t.Errorf("verified email: roles %q", u.Roles)
	}
}

func TestConnectorMFA(t *testing.T) {
	requireAdminMFA := func(c *config.Server) { c.MFA.RequiredRoles = []string{RoleAdmin} }
	admin := connector.Identity{Subject: "g-root", Username: "root", Groups: []string{"ops-admins"}}
	for _, c := range []struct {
		name    string
		trust   bool
		amr     []string
		session bool
	}{
		{"required, no amr", false, nil, false},
		{"required, amr mfa but not trusted", false, []string{"pwd", "mfa"}, false},
		{"required, trusted but only a password", true, []string{"pwd"}, false},
		{"required, trusted sms only", true, []string{"sms"}, false},
		{"required, trusted mfa", true, []string{"pwd", "mfa"}, true},
		{"required, trusted hardware key", true, []string{"hwk"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newConnectorHarness(t, openSQLite, c.trust, requireAdminMFA)
			id := admin
			id.AMR = c.amr
			h.provider.setNext(id, nil)
			b := h.newBrowserNoRedirects()
			p := h.oidcSignIn(b, "")
			loc := p.location()
			if c.session {
				if loc == nil || loc.Path != h.base+PathLogin || h.sessionCookie(b) == "" {
					t.Fatalf("want a session: %d %v", p.status, loc)
				}
				ev := h.waitAudit(audit.LoginSuccess)
				if d, _ := ev["details"].(map[string]any); d["mfa"] != "upstream" {
					t.Errorf("login.success %v", ev)
				}
				return
			}
			if loc == nil || loc.Path != h.base+PathAccount || h.sessionCookie(b) != "" {
				t.Fatalf("want the enrolment step: %d %v", p.status, loc)
			}
		})
	}
	// A user with an enrolled TOTP is asked for the code after the
	// provider unless upstream MFA is trusted.
	h := newConnectorHarness(t, openSQLite, false)
	h.provider.setNext(connector.Identity{Subject: "g-v", Username: "val", AMR: []string{"mfa"}}, nil)
	b := h.newBrowserNoRedirects()
	h.oidcSignIn(b, "")
	if h.sessionCookie(b) == "" {
		t.Fatal("no session without MFA requirements")
	}
	h.browse(b, PathLogin)
	b.CheckRedirect = h.newBrowser().CheckRedirect
	h.enrol(b)
	b2 := h.newBrowserNoRedirects()
	if p := h.oidcSignIn(b2, ""); p.location() == nil || p.location().Path != h.base+PathLoginMFA || h.sessionCookie(b2) != "" {
		t.Fatalf("enrolled TOTP not asked for: %d %v", p.status, p.location())
	}
}

func TestConnectorRefreshReevaluatesLDAPUser(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		h := newConnectorHarness(t, open, false)
		f := newUserFixtureOn(h.testHarness)
		c := h.newBrowser()
		if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1")); !signedIn(p) {
			t.Fatalf("ada: %d %s", p.status, p.body)
		}
		f.user = h.userByName("ada")
		tokens := f.codeTokens("openid", "read")
		if roles := claimsOf(t, tokens["access_token"].(string))["roles"]; fmt.Sprint(roles) != "[admin]" {
			t.Fatalf("roles at sign-in %v", roles)
		}
		rt := tokens["refresh_token"].(string)

		// ops-admins is taken away: the next refresh loses admin.
		h.dir.set("ada", func(id *connector.Identity) { id.Groups = []string{"analysts"} })
		st, body := f.refresh("web", f.webSecret, rt, nil)
		if st != 200 {
			t.Fatalf("refresh: %d %v", st, body)
		}
		if roles := claimsOf(t, body["access_token"].(string))["roles"]; fmt.Sprint(roles) != "[viewer]" {
			t.Errorf("roles after the group was removed: %v", roles)
		}
		if u := h.userByName("ada"); !slices.Equal(u.Roles, []string{RoleViewer}) || !slices.Equal(u.Groups, []string{"analysts"}) {
			t.Errorf("stored user %+v", u)
		}
		rt = body["refresh_token"].(string)

		// The directory is down: fail open with the stored roles.
		h.dir.setDown(true)
		st, body = f.refresh("web", f.webSecret, rt, nil)
		if st != 200 {
			t.Fatalf("refresh while the directory is down: %d %v", st, body)
		}
		if roles := claimsOf(t, body["access_token"].(string))["roles"]; fmt.Sprint(roles) != "[viewer]" {
			t.Errorf("roles while down: %v", roles)
		}
		ev := h.waitAudit(audit.ConnectorUnavailable)
		if ev["user_id"] != f.user.ID || ev["reason"] != "refresh_with_stored_roles" {
			t.Errorf("connector.unavailable %v", ev)
		}
		rt = body["refresh_token"].(string)
		lastAccess := body["access_token"].(string)

		// The account is gone: invalid_grant, and the grant is revoked.
		h.dir.setDown(false)
		h.dir.remove("ada")
		st, body = f.refresh("web", f.webSecret, rt, nil)
		if st != 400 || errCode(body) != "invalid_grant" {
			t.Fatalf("refresh of a gone account: %d %v", st, body)
		}
		for {
			ev := h.waitAudit(audit.TokenRefused)
			if ev["reason"] == "account_gone_upstream" {
				break
			}
		}
		if got := f.introspect(lastAccess); got["active"] != false {
			t.Errorf("access token of the gone account's grant still active: %v", got)
		}
	})
}

func TestConnectorRefreshKeepsOIDCUserRoles(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	f := newUserFixtureOn(h.testHarness)
	h.provider.setNext(connector.Identity{Subject: "g-1", Username: "olga", Groups: []string{"ops-admins"}}, nil)
	if p := h.oidcSignIn(h.newBrowser(), ""); !signedIn(p) {
		t.Fatalf("olga: %d %s", p.status, p.body)
	}
	f.user = h.userByName("olga")
	rt := f.codeTokens("read")["refresh_token"].(string)
	h.provider.setNext(connector.Identity{}, fmt.Errorf("%w: down", connector.ErrUnavailable))
	st, body := f.refresh("web", f.webSecret, rt, nil)
	if st != 200 || fmt.Sprint(claimsOf(t, body["access_token"].(string))["roles"]) != "[admin]" {
		t.Fatalf("refresh: %d %v", st, body)
	}
}

func TestCheckConnectorRoles(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ok := []Connector{{ID: "corp", Rules: testRules}}
	if err := linking.CheckRoles(ctx, h.store, ok); err != nil {
		t.Errorf("built-in roles: %v", err)
	}
	bad := []Connector{{ID: "corp", Rules: append(slices.Clone(testRules), testRules[0])}}
	bad[0].Rules[3].Roles = []string{"finance-reader"}
	err := linking.CheckRoles(ctx, h.store, bad)
	var ue *rolereg.UnknownError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "corp: role_rules[3]") {
		t.Errorf("unknown role: %v", err)
	}
	if err := h.store.CreateRole(ctx, &storage.Role{Name: "finance-reader", CreatedAt: h.clock.Now(), UpdatedAt: h.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := linking.CheckRoles(ctx, h.store, bad); err != nil {
		t.Errorf("stored custom role: %v", err)
	}
}

// TestAdminPrecreatesConnectorUser: the admin API pre-creates a user of a
// connector without a password, refuses one with a password or of an
// unknown connector, shows the link and groups after the first sign-in,
// and a pre-created user disabled before it cannot sign in.
func TestAdminPrecreatesConnectorUser(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	f := newAdminFixtureOn(h.testHarness)
	ada := f.mustCall(201, "POST", "/users", map[string]any{"username": "ada", "connector": "corp"})
	if ada["connector"] != "corp" || ada["connector_subject"] != nil {
		t.Errorf("pre-created: %v", ada)
	}
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"username": "x", "connector": "corp", "password": "a long enough password"}, "has no password here"},
		{map[string]any{"username": "x", "connector": "nope"}, `unknown connector "nope"; configured connectors: corp, google`},
		{map[string]any{"username": "x"}, "password"},
	} {
		st, body, _ := f.adminCall("POST", "/users", f.adminToken, tc.body)
		if desc, _ := body["error_description"].(string); st != 400 || !strings.Contains(desc, tc.want) {
			t.Errorf("%v: %d %v", tc.body, st, body)
		}
	}
	st, body, _ := f.adminCall("PUT", "/users/ada/password", f.adminToken, map[string]any{"password": "a long enough password"})
	if desc, _ := body["error_description"].(string); st != 400 || !strings.Contains(desc, "manages the password") {
		t.Errorf("password of a connector user: %d %v", st, body)
	}
	f.mustCall(201, "POST", "/users", map[string]any{"username": "bob", "connector": "corp"})
	f.mustCall(200, "PATCH", "/users/bob", map[string]any{"disabled": true})

	c := h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1")); !signedIn(p) {
		t.Fatalf("ada: %d %s", p.status, p.body)
	}
	got := f.mustCall(200, "GET", "/users/ada", nil)
	if got["id"] != ada["id"] || got["connector_subject"] != "uid=ada,ou=people,dc=example,dc=org" || fmt.Sprint(got["groups"]) != "[ops-admins]" {
		t.Errorf("after sign-in: %v", got)
	}
	c = h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "bob", "bob-password-1")); p.status != http.StatusUnauthorized || h.sessionCookie(c) != "" {
		t.Errorf("disabled pre-created bob: %d", p.status)
	}
	// Deleting a linked user: the next sign-in makes a new one.
	f.mustCall(204, "DELETE", "/users/ada", nil)
	c = h.newBrowser()
	if p := h.submit(c, PathLogin, h.loginForm(c, "ada", "ada-password-1")); !signedIn(p) {
		t.Fatalf("ada after delete: %d %s", p.status, p.body)
	}
	if again := h.userByName("ada"); again.ID == ada["id"] {
		t.Error("deleted user came back")
	}
}

// TestConnectorPendingBoundToConnector: a sign-in started with one
// provider cannot be finished at another's callback, even with its state.
func TestConnectorPendingBoundToConnector(t *testing.T) {
	a, b := &fakeProvider{id: "alpha"}, &fakeProvider{id: "beta"}
	h := newHarnessWith(t, openSQLite, func(d *Deps) {
		d.Connectors = []Connector{{ID: "alpha", Name: "Alpha", Redirect: a}, {ID: "beta", Name: "Beta", Redirect: b}}
	})
	a.setNext(connector.Identity{Subject: "s", Username: "x"}, nil)
	b.setNext(connector.Identity{Subject: "s", Username: "x"}, nil)
	c := h.newBrowser()
	start := h.browse(c, PathLoginConnector+"alpha")
	state := start.location().Query().Get("state")
	if start.status != http.StatusSeeOther || state == "" {
		t.Fatalf("start: %d", start.status)
	}
	p := h.browse(c, PathLoginConnector+"beta/callback?code=x&state="+url.QueryEscape(state))
	if p.status != http.StatusBadRequest || h.sessionCookie(c) != "" || b.exchanges != 0 {
		t.Errorf("alpha's sign-in at beta's callback: %d, %d exchanges", p.status, b.exchanges)
	}
}

// TestConnectorFailedSignInsAskTheDirectoryAlike: an unknown username and
// a local user's wrong password both ask the directory once (after the
// same argon2 work), so neither the answer nor the work tells them apart.
func TestConnectorFailedSignInsAskTheDirectoryAlike(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	h.addUser("dora", "dora-password-1")
	c := h.newBrowser()
	var calls []int
	for _, name := range []string{"nobody", "dora"} {
		before := h.dir.logins
		p := h.submit(c, PathLogin, h.loginForm(c, name, "wrong-password"))
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, msgInvalidLogin) {
			t.Errorf("%s: %d", name, p.status)
		}
		calls = append(calls, h.dir.logins-before)
	}
	if calls[0] != 1 || calls[1] != 1 {
		t.Errorf("directory asked %v times (unknown user, local wrong password), want once each", calls)
	}
}

// TestConnectorTerminalSignIn: terminal sign-in (the password grant) checks
// a directory user's password at the directory like the login page, and a
// directory that is down is 503 temporarily_unavailable, never a wrong
// password or a server error.
func TestConnectorTerminalSignIn(t *testing.T) {
	h := newConnectorHarness(t, openSQLite, false)
	h.allowTerminalLogin(CLIClientID)
	st, body, _ := h.terminal("ada", "ada-password-1")
	if st != http.StatusOK || body["refresh_token"] == nil {
		t.Fatalf("directory user at the terminal: %d %v", st, body)
	}
	if roles := claimsOf(t, body["access_token"].(string))["roles"]; fmt.Sprint(roles) != "[admin]" {
		t.Errorf("roles of a directory user signed in at the terminal: %v", roles)
	}
	if st, body, _ := h.terminal("ada", "wrong-password-1"); st != http.StatusBadRequest || errCode(body) != "invalid_grant" {
		t.Errorf("wrong directory password at the terminal: %d %v", st, body)
	}
	// The directory's password is never kept as a local one.
	if u, err := h.store.GetUserByName(t.Context(), "ada"); err != nil || u.PasswordHash != "" {
		t.Fatalf("ada after terminal sign-in: %v, local password hash %q", err, u.PasswordHash)
	}
	h.dir.setDown(true)
	st, body, _ = h.terminal("ada", "ada-password-1")
	if st != http.StatusServiceUnavailable || errCode(body) != protocol.ErrTemporarilyUnavailable {
		t.Fatalf("directory down at the terminal: %d %v", st, body)
	}
}
