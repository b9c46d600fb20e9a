package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/browser"
	"github.com/gatehouse-auth/gatehouse/internal/server/webpage"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// withPasskeys turns passkeys on: the harness's issuer host is an IP
// address, which is no RP ID, so the RP ID is "localhost" and the origin
// the issuer's with localhost for the address.
func withPasskeys() harnessOption {
	return func(c *config.Server) {
		c.WebAuthn.RPID = "localhost"
		c.WebAuthn.Origins = []string{strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1)}
	}
}

// authenticator is a well-behaved authenticator for h's server.
func (h *testHarness) authenticator() *softAuthenticator {
	return &softAuthenticator{t: h.t, rpID: "localhost", origin: h.cfg.WebAuthn.Origins[0], uv: true, be: true, bs: true}
}

// passkeyCall posts form (plus c's CSRF token) to a passkey endpoint and
// decodes the JSON answer.
func (h *testHarness) passkeyCall(c *http.Client, path string, form url.Values) (int, passkeyAnswer, ceremonyOptions) {
	h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get(browser.CSRFField) == "" {
		form.Set(browser.CSRFField, h.csrfOf(c))
	}
	p := h.submit(c, path, form)
	var ans passkeyAnswer
	var opts ceremonyOptions
	if err := json.Unmarshal([]byte(p.body), &ans); err != nil {
		h.t.Fatalf("%s: not JSON (%d): %s", path, p.status, p.body)
	}
	_ = json.Unmarshal([]byte(p.body), &opts)
	if ct := p.header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("%s: Content-Type %q", path, ct)
	}
	return p.status, ans, opts
}

// csrfOf is c's CSRF token (from the cookie the login page sets).
func (h *testHarness) csrfOf(c *http.Client) string {
	u, _ := url.Parse(h.ts.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == browser.CSRFCookie {
			return ck.Value
		}
	}
	p := h.browse(c, PathLogin+"?prompt=login")
	return formFields(p.body).Get(browser.CSRFField)
}

// registerPasskey registers a passkey named name with a for c's
// signed-in user.
func (h *testHarness) registerPasskey(c *http.Client, a *softAuthenticator, name string) *softCredential {
	h.t.Helper()
	status, ans, opts := h.passkeyCall(c, PathAccountPasskeys+"/begin", nil)
	if status != http.StatusOK || ans.Options == nil {
		h.t.Fatalf("register begin: %d %+v", status, ans)
	}
	cred, body := a.create(opts)
	status, ans, _ = h.passkeyCall(c, PathAccountPasskeys+"/finish", url.Values{"name": {name}, "credential": {body}})
	if status != http.StatusOK || ans.Redirect == "" {
		h.t.Fatalf("register finish: %d %+v", status, ans)
	}
	return cred
}

// passkeySignIn signs in with cred in browser c through the login page's
// passkey button and returns the finish answer.
func (h *testHarness) passkeySignIn(c *http.Client, a *softAuthenticator, cred *softCredential, returnTo string) (int, passkeyAnswer) {
	h.t.Helper()
	form := url.Values{}
	if returnTo != "" {
		form.Set("return_to", returnTo)
	}
	status, ans, opts := h.passkeyCall(c, PathLoginPasskey+"/begin", form)
	if status != http.StatusOK || ans.Options == nil {
		h.t.Fatalf("sign-in begin: %d %+v", status, ans)
	}
	if opts.Options.PublicKey.UserVerification != "required" || len(opts.Options.PublicKey.AllowCredentials) != 0 {
		h.t.Errorf("sign-in options: uv %q, allow list %v; want required and none (discoverable)",
			opts.Options.PublicKey.UserVerification, opts.Options.PublicKey.AllowCredentials)
	}
	status, ans, _ = h.passkeyCall(c, PathLoginPasskey+"/finish", url.Values{"credential": {a.get(opts, cred)}})
	return status, ans
}

// waitLoginFailure waits for a login.failure event and checks its reason.
func (h *testHarness) waitLoginFailure(reason string) {
	h.t.Helper()
	ev := h.waitAudit(audit.LoginFailure)
	if ev["reason"] != reason {
		h.t.Errorf("login.failure reason = %v, want %s", ev["reason"], reason)
	}
}

func TestPasskeyRegisterAndSignIn(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		h := newHarnessOn(t, open, withPasskeys())
		u := h.addUser("alice", "correct horse battery")
		c := h.newBrowser()
		h.loginAs(c, "alice", "correct horse battery")

		// Registration asks for a discoverable credential, user
		// verification and no attestation, and excludes the user's own.
		a := h.authenticator()
		a.packed = true
		status, _, opts := h.passkeyCall(c, PathAccountPasskeys+"/begin", nil)
		pk := opts.Options.PublicKey
		if status != http.StatusOK || pk.RP.ID != "localhost" || pk.AuthenticatorSel.ResidentKey != "required" ||
			pk.AuthenticatorSel.UserVerification != "required" || pk.Attestation != "none" || len(pk.ExcludeCredentials) != 0 {
			t.Fatalf("register options: %d %+v", status, pk)
		}
		cred, body := a.create(opts)
		status, ans, _ := h.passkeyCall(c, PathAccountPasskeys+"/finish", url.Values{"name": {"Laptop"}, "credential": {body}})
		if status != http.StatusOK || ans.Redirect != PathAccount {
			t.Fatalf("register finish: %d %+v", status, ans)
		}
		ev := h.waitAudit(audit.PasskeyRegistered)
		d, _ := ev["details"].(map[string]any)
		if ev["user_id"] != u.ID || d["name"] != "Laptop" || d["passkey_id"] == "" {
			t.Errorf("passkey.registered event: %v", ev)
		}
		keys, err := h.store.ListUserPasskeys(context.Background(), u.ID)
		if err != nil || len(keys) != 1 {
			t.Fatalf("stored passkeys: %v %v", keys, err)
		}
		if k := keys[0]; !k.UserVerified || !k.BackupEligible || !k.BackupState || k.Name != "Laptop" ||
			k.AttestationFormat != "packed" || strings.Join(k.Transports, ",") != "internal,hybrid" {
			t.Errorf("stored passkey: %+v", k)
		}
		p := h.browse(c, PathAccount)
		if !strings.Contains(p.body, "<strong>Laptop</strong>") || !strings.Contains(p.body, "last used never") ||
			!strings.Contains(p.body, "synced (backed up)") {
			t.Errorf("account page does not list the passkey: %s", p.body)
		}
		// The same credential is excluded from a second registration.
		_, _, opts = h.passkeyCall(c, PathAccountPasskeys+"/begin", nil)
		if ex := opts.Options.PublicKey.ExcludeCredentials; len(ex) != 1 || ex[0].ID != b64u.EncodeToString(cred.id) {
			t.Errorf("excludeCredentials = %v, want the registered passkey", ex)
		}

		// A new browser signs in with the passkey alone, and goes back to
		// where it was going.
		b := h.newBrowser()
		a.bs = false // the backup state is stored anew at each sign-in
		status, ans = h.passkeySignIn(b, a, cred, PathAccount)
		if status != http.StatusOK || ans.Redirect != PathAccount || h.sessionCookie(b) == "" {
			t.Fatalf("passkey sign-in: %d %+v", status, ans)
		}
		ev = h.waitAudit(audit.LoginSuccess)
		d, _ = ev["details"].(map[string]any)
		if ev["user_id"] != u.ID || d["method"] != "passkey" || d["mfa"] != "passkey" {
			t.Errorf("login.success event: %v", ev)
		}
		if p := h.browse(b, PathAccount); p.status != http.StatusOK || !strings.Contains(p.body, "<strong>alice</strong>") {
			t.Errorf("signed in with a passkey, the account page is %d %s", p.status, p.body)
		}
		k, err := h.store.GetPasskey(context.Background(), keys[0].ID)
		if err != nil || k.SignCount != 1 || k.BackupState || !k.LastUsedAt.Equal(h.clock.Now().UTC()) {
			t.Errorf("after sign-in: %+v %v; want counter 1, backup state false, last used now", k, err)
		}
	})
}

func TestPasskeySignInRefusals(t *testing.T) {
	h := newHarness(t, withPasskeys())
	u := h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	cred := h.registerPasskey(c, h.authenticator(), "Laptop")
	h.waitAudit(audit.PasskeyRegistered)

	refused := func(t *testing.T, a *softAuthenticator, reason string) {
		t.Helper()
		b := h.newBrowser()
		status, ans := h.passkeySignIn(b, a, cred, "")
		if status != http.StatusUnauthorized || ans.Error == "" || ans.Redirect != "" || h.sessionCookie(b) != "" {
			t.Fatalf("want the sign-in refused, got %d %+v", status, ans)
		}
		h.waitLoginFailure(reason)
	}

	t.Run("wrong RP ID", func(t *testing.T) {
		a := h.authenticator()
		a.rpID = "evil.example"
		refused(t, a, "passkey_invalid")
	})
	t.Run("wrong origin", func(t *testing.T) {
		a := h.authenticator()
		a.origin = "http://evil.localhost:1"
		refused(t, a, "passkey_invalid")
	})
	t.Run("user not verified", func(t *testing.T) {
		a := h.authenticator()
		a.uv = false
		refused(t, a, "passkey_invalid")
	})
	t.Run("counter regression", func(t *testing.T) {
		a := h.authenticator()
		cred.count = 10
		if status, ans := h.passkeySignIn(h.newBrowser(), a, cred, ""); status != http.StatusOK {
			t.Fatalf("sign-in with counter 10: %d %+v", status, ans)
		}
		h.waitAudit(audit.LoginSuccess)
		// A clone of the credential reports an older counter, then the
		// same one again: both refused, and the counter stays.
		for _, n := range []uint32{5, 10} {
			cred.count = n
			refused(t, a, "passkey_cloned")
		}
		keys, _ := h.store.ListUserPasskeys(context.Background(), u.ID)
		if len(keys) != 1 || keys[0].SignCount != 10 {
			t.Errorf("stored counter after the clone: %+v", keys)
		}
		cred.count = 11
		if status, ans := h.passkeySignIn(h.newBrowser(), a, cred, ""); status != http.StatusOK {
			t.Fatalf("the original goes on: %d %+v", status, ans)
		}
		h.waitAudit(audit.LoginSuccess)
	})
	t.Run("unknown credential", func(t *testing.T) {
		a := h.authenticator()
		other := *cred
		other.id = []byte("not a registered credential id")
		b := h.newBrowser()
		_, _, opts := h.passkeyCall(b, PathLoginPasskey+"/begin", nil)
		status, ans, _ := h.passkeyCall(b, PathLoginPasskey+"/finish", url.Values{"credential": {a.get(opts, &other)}})
		if status != http.StatusUnauthorized || ans.Redirect != "" {
			t.Fatalf("unknown credential: %d %+v", status, ans)
		}
		h.waitLoginFailure("passkey_unknown")
	})
	t.Run("replayed answer", func(t *testing.T) {
		a := h.authenticator()
		b := h.newBrowser()
		_, _, opts := h.passkeyCall(b, PathLoginPasskey+"/begin", nil)
		iss, _ := url.Parse(h.ts.URL)
		var ceremony *http.Cookie
		for _, ck := range b.Jar.Cookies(iss) {
			if ck.Name == passkeyCookieName {
				ceremony = ck
			}
		}
		answer := a.get(opts, cred)
		if status, ans, _ := h.passkeyCall(b, PathLoginPasskey+"/finish", url.Values{"credential": {answer}}); status != http.StatusOK {
			t.Fatalf("first answer: %d %+v", status, ans)
		}
		h.waitAudit(audit.LoginSuccess)
		// The same answer with the same ceremony cookie, in another
		// browser: the challenge was used up.
		e := h.newBrowser()
		e.Jar.SetCookies(iss, []*http.Cookie{ceremony})
		status, ans, _ := h.passkeyCall(e, PathLoginPasskey+"/finish", url.Values{"credential": {answer}})
		if status != http.StatusUnauthorized || h.sessionCookie(e) != "" {
			t.Fatalf("replayed answer: %d %+v", status, ans)
		}
		h.waitLoginFailure("passkey_replay")
	})
	t.Run("no ceremony", func(t *testing.T) {
		a := h.authenticator()
		b := h.newBrowser()
		status, ans, _ := h.passkeyCall(b, PathLoginPasskey+"/finish", url.Values{"credential": {a.get(ceremonyOptions{}, cred)}})
		if status != http.StatusBadRequest || ans.Error != msgPasskeyExpired {
			t.Fatalf("finish without begin: %d %+v", status, ans)
		}
	})
	t.Run("ceremony expired", func(t *testing.T) {
		a := h.authenticator()
		b := h.newBrowser()
		_, _, opts := h.passkeyCall(b, PathLoginPasskey+"/begin", nil)
		h.clock.Advance(6 * time.Minute)
		status, ans, _ := h.passkeyCall(b, PathLoginPasskey+"/finish", url.Values{"credential": {a.get(opts, cred)}})
		if status != http.StatusBadRequest || ans.Error != msgPasskeyExpired {
			t.Fatalf("finish after the timeout: %d %+v", status, ans)
		}
	})
	t.Run("missing CSRF token", func(t *testing.T) {
		b := h.newBrowser()
		h.csrfOf(b)
		p := h.submit(b, PathLoginPasskey+"/begin", url.Values{})
		if p.status != http.StatusForbidden || !strings.Contains(p.body, `"error"`) {
			t.Fatalf("begin without the CSRF token: %d %s", p.status, p.body)
		}
	})
	t.Run("disabled user", func(t *testing.T) {
		if err := h.store.UpdateUser(context.Background(), u.ID, func(x *storage.User) error { x.Disabled = true; return nil }); err != nil {
			t.Fatal(err)
		}
		defer func() {
			_ = h.store.UpdateUser(context.Background(), u.ID, func(x *storage.User) error { x.Disabled = false; return nil })
		}()
		refused(t, h.authenticator(), "disabled")
	})
}

func TestPasskeyRegistrationRefusals(t *testing.T) {
	h := newHarness(t, withPasskeys())
	h.addUser("alice", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	for _, tc := range []struct {
		name   string
		break_ func(a *softAuthenticator)
	}{
		{"user not verified", func(a *softAuthenticator) { a.uv = false }},
		{"wrong RP ID", func(a *softAuthenticator) { a.rpID = "evil.example" }},
		{"wrong origin", func(a *softAuthenticator) { a.origin = "https://evil.example" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := h.authenticator()
			tc.break_(a)
			_, _, opts := h.passkeyCall(c, PathAccountPasskeys+"/begin", nil)
			_, body := a.create(opts)
			status, ans, _ := h.passkeyCall(c, PathAccountPasskeys+"/finish", url.Values{"credential": {body}})
			if status != http.StatusBadRequest || ans.Error == "" {
				t.Fatalf("want the registration refused, got %d %+v", status, ans)
			}
		})
	}
	t.Run("another user's ceremony", func(t *testing.T) {
		// Bob cannot finish a registration alice began (her sealed
		// ceremony cookie names her), which would put his credential on
		// her account.
		h.addUser("bob", "correct horse battery")
		b := h.newBrowser()
		h.loginAs(b, "bob", "correct horse battery")
		_, _, opts := h.passkeyCall(c, PathAccountPasskeys+"/begin", nil)
		iss, _ := url.Parse(h.ts.URL)
		for _, ck := range c.Jar.Cookies(iss) {
			if ck.Name == passkeyCookieName {
				b.Jar.SetCookies(iss, []*http.Cookie{ck})
			}
		}
		_, body := h.authenticator().create(opts)
		status, ans, _ := h.passkeyCall(b, PathAccountPasskeys+"/finish", url.Values{"credential": {body}})
		if status != http.StatusBadRequest || ans.Error != msgPasskeyExpired {
			t.Fatalf("bob finishing alice's ceremony: %d %+v", status, ans)
		}
	})
	for _, name := range []string{"alice", "bob"} {
		keys, err := h.store.ListUserPasskeys(context.Background(), "u-"+name)
		if err != nil || len(keys) != 0 {
			t.Errorf("passkeys of %s stored after refused registrations: %v %v", name, keys, err)
		}
	}
}

func TestPasskeyRemoveRenameAndRecentSignIn(t *testing.T) {
	h := newHarness(t, withPasskeys())
	u := h.addUser("alice", "correct horse battery")
	h.addUser("bob", "correct horse battery")
	c := h.newBrowser()
	h.loginAs(c, "alice", "correct horse battery")
	a := h.authenticator()
	cred := h.registerPasskey(c, a, "Laptop")
	h.waitAudit(audit.PasskeyRegistered)
	keys, _ := h.store.ListUserPasskeys(context.Background(), u.ID)
	id := keys[0].ID

	p := h.browse(c, PathAccount)
	p = h.submit(c, PathAccountPasskeys+"/rename", fillForm(p.body, url.Values{"id": {id}, "name": {"Work laptop"}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Passkey renamed.") || !strings.Contains(p.body, "<strong>Work laptop</strong>") {
		t.Fatalf("rename: %d %s", p.status, p.body)
	}
	ev := h.waitAudit(audit.PasskeyRenamed)
	if d, _ := ev["details"].(map[string]any); d["name"] != "Work laptop" || d["old_name"] != "Laptop" {
		t.Errorf("passkey.renamed: %v", ev)
	}

	// Another user cannot touch the passkey.
	b := h.newBrowser()
	h.loginAs(b, "bob", "correct horse battery")
	q := h.browse(b, PathAccount)
	for _, action := range []string{"rename", "remove"} {
		r := h.submit(b, PathAccountPasskeys+"/"+action, fillForm(q.body, url.Values{"id": {id}, "name": {"mine"}}))
		if r.status != http.StatusNotFound {
			t.Errorf("bob %ss alice's passkey: %d", action, r.status)
		}
	}

	// Registering and removing need a recent sign-in.
	h.clock.Advance(time.Duration(h.cfg.Tokens.AccountRecentAuth) + time.Second)
	status, ans, _ := h.passkeyCall(c, PathAccountPasskeys+"/begin", nil)
	if status != http.StatusUnauthorized || ans.Options != nil || !strings.Contains(ans.Redirect, "prompt=login") {
		t.Errorf("register begin long after sign-in: %d %+v, want a redirect to sign in again", status, ans)
	}
	nc := h.newBrowserNoRedirects()
	nc.Jar = c.Jar
	r := h.submit(nc, PathAccountPasskeys+"/remove", fillForm(p.body, url.Values{"id": {id}}))
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "prompt=login") {
		t.Fatalf("remove long after sign-in: %d %s", r.status, r.header.Get("Location"))
	}
	if _, err := h.store.GetPasskey(context.Background(), id); err != nil {
		t.Fatalf("the passkey went without a recent sign-in: %v", err)
	}

	// Signing in again (with the passkey, which the password now needs
	// as its second step) makes the removal possible.
	if status, ans := h.passkeySignIn(c, a, cred, ""); status != http.StatusOK {
		t.Fatalf("sign in again: %d %+v", status, ans)
	}
	h.waitAudit(audit.LoginSuccess)
	p = h.browse(c, PathAccount)
	p = h.submit(c, PathAccountPasskeys+"/remove", fillForm(p.body, url.Values{"id": {id}}))
	if p.status != http.StatusOK || !strings.Contains(p.body, "Passkey removed.") || strings.Contains(p.body, "Work laptop") {
		t.Fatalf("remove: %d %s", p.status, p.body)
	}
	ev = h.waitAudit(audit.PasskeyRemoved)
	if d, _ := ev["details"].(map[string]any); d["passkey_id"] != id {
		t.Errorf("passkey.removed: %v", ev)
	}

	// A removed passkey no longer signs in.
	status, ans = h.passkeySignIn(h.newBrowser(), a, cred, "")
	if status != http.StatusUnauthorized || ans.Redirect != "" {
		t.Fatalf("removed passkey: %d %+v", status, ans)
	}
	h.waitLoginFailure("passkey_unknown")
}

func TestPasskeySecondFactor(t *testing.T) {
	h := newHarness(t, withPasskeys(), func(c *config.Server) { c.MFA.RequiredRoles = []string{"ops"} })
	u := h.addUser("olga", "correct horse battery", "ops")
	a := h.authenticator()

	// A user who must use two-step verification may add a passkey
	// instead of TOTP, which finishes the sign-in.
	c := h.newBrowser()
	p := h.submit(c, PathLogin, h.loginForm(c, "olga", "correct horse battery"))
	if p.url.Path != PathAccount || !strings.Contains(p.body, "or add a passkey below") || !strings.Contains(p.body, `data-kind="register"`) {
		t.Fatalf("required enrolment page: %d %s %s", p.status, p.url, p.body)
	}
	if h.sessionCookie(c) != "" {
		t.Fatal("session before the second factor")
	}
	cred := h.registerPasskey(c, a, "Key")
	if h.sessionCookie(c) == "" {
		t.Fatal("no session after adding the required passkey")
	}
	h.waitAudit(audit.PasskeyRegistered)
	if ev := h.waitAudit(audit.LoginSuccess); ev["user_id"] != u.ID {
		t.Errorf("login.success: %v", ev)
	}

	// With a passkey, the password is followed by the passkey: the code
	// page offers it, and no code form (no TOTP).
	c = h.newBrowser()
	p = h.submit(c, PathLogin, h.loginForm(c, "olga", "correct horse battery"))
	if p.url.Path != PathLoginMFA || !strings.Contains(p.body, "Use a passkey") || strings.Contains(p.body, `name="code"`) {
		t.Fatalf("second step page: %d %s %s", p.status, p.url, p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src "+h.issuer+"/static/passkey.js;") {
		t.Errorf("second step CSP: %s", csp)
	}
	status, ans, opts := h.passkeyCall(c, PathLoginMFAPasskey+"/begin", nil)
	if status != http.StatusOK || len(opts.Options.PublicKey.AllowCredentials) != 1 {
		t.Fatalf("second step begin: %d %+v", status, ans)
	}
	status, ans, _ = h.passkeyCall(c, PathLoginMFAPasskey+"/finish", url.Values{"credential": {a.get(opts, cred)}})
	if status != http.StatusOK || ans.Redirect == "" || h.sessionCookie(c) == "" {
		t.Fatalf("second step finish: %d %+v", status, ans)
	}
	ev := h.waitAudit(audit.LoginSuccess)
	if d, _ := ev["details"].(map[string]any); d["method"] != "password+passkey" {
		t.Errorf("login.success: %v", ev)
	}

	// Without the password step there is no second-step ceremony.
	status, _, _ = h.passkeyCall(h.newBrowser(), PathLoginMFAPasskey+"/begin", nil)
	if status != http.StatusUnauthorized {
		t.Errorf("second step begin without a password: %d", status)
	}

	// A passkey with user verification on its own is multi-factor: no
	// code step follows.
	b := h.newBrowser()
	if status, ans := h.passkeySignIn(b, a, cred, ""); status != http.StatusOK || h.sessionCookie(b) == "" {
		t.Fatalf("passkey sign-in of a user with required MFA: %d %+v", status, ans)
	}

	// A cloned authenticator is refused at the second step too.
	cred.count = 1
	c = h.newBrowser()
	h.submit(c, PathLogin, h.loginForm(c, "olga", "correct horse battery"))
	_, _, opts = h.passkeyCall(c, PathLoginMFAPasskey+"/begin", nil)
	status, _, _ = h.passkeyCall(c, PathLoginMFAPasskey+"/finish", url.Values{"credential": {a.get(opts, cred)}})
	if status != http.StatusUnauthorized || h.sessionCookie(c) != "" {
		t.Fatalf("cloned passkey at the second step: %d", status)
	}
}

func TestPasskeyPages(t *testing.T) {
	h := newHarness(t, withPasskeys())
	c := h.newBrowser()
	p := h.browse(c, PathLogin)
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{`autocomplete="username webauthn"`, `<script src="/static/passkey.js" defer></script>`,
		"Sign in with a passkey", `data-passkey-box hidden`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	if !strings.Contains(csp, "script-src "+h.issuer+"/static/passkey.js; connect-src 'self';") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("login page CSP: %s", csp)
	}
	js := h.browse(c, PathStatic+webpage.PasskeyScript)
	if js.status != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") || !strings.Contains(js.body, "navigator.credentials") {
		t.Errorf("passkey.js: %d %s", js.status, js.header.Get("Content-Type"))
	}
	// Pages without passkeys load no script and allow none.
	p = h.browse(c, PathLogout)
	if strings.Contains(p.body, "<script") || strings.Contains(p.header.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("sign-out page: script or script-src: %s", p.header.Get("Content-Security-Policy"))
	}

	// Without an RP ID (an IP-address issuer), passkeys are off.
	off := newHarness(t)
	p = off.browse(off.newBrowser(), PathLogin)
	if strings.Contains(p.body, "passkey") || strings.Contains(p.header.Get("Content-Security-Policy"), "script-src") {
		t.Errorf("passkeys off, the login page still offers them: %s", p.body)
	}
	status, _, _ := off.passkeyCall(off.newBrowser(), PathLoginPasskey+"/begin", nil)
	if status != http.StatusNotFound {
		t.Errorf("passkeys off, begin answers %d", status)
	}
}
