package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/chromiumtest"
	"github.com/gatehouse-auth/gatehouse/internal/config"
)

// Passkeys in a real headless Chromium with the DevTools virtual
// authenticator (WebAuthn domain): the pages, passkey.js, the CSP that
// must let it run, and the server's checks, end to end. Chromium offers
// WebAuthn on http://localhost (a secure context), so the issuer is
// http://localhost:PORT and the RP ID its default, "localhost".

// withLocalhostIssuer serves the harness as http://localhost:PORT.
func withLocalhostIssuer() harnessOption {
	return func(c *config.Server) { c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1) }
}

// pkDo runs steps in the tab with a time limit.
func pkDo(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v (at %s: %s)", what, err, loc, body)
	}
}

// poll waits until the JavaScript expression is true, across
// navigations (an evaluation that meets one is tried again).
func poll(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("waiting for %s: %w (last: %v, %v)", expr, ctx.Err(), ok, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// virtualAuthenticator adds a platform authenticator with resident keys
// and user verification that succeeds, to the tab.
func virtualAuthenticator(t *testing.T, ctx context.Context) cdpwebauthn.AuthenticatorID {
	t.Helper()
	id, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (cdpwebauthn.AuthenticatorID, error) {
		if _, err := cdp.Call(ctx, tg, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, tg, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{
			Options: &cdpwebauthn.VirtualAuthenticatorOptions{
				Protocol:                    cdpwebauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                cdpwebauthn.Ctap2versionCtap21,
				Transport:                   cdpwebauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			},
		})
		return res.AuthenticatorID, err
	})
	if err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}
	return id
}

// setPresence turns the authenticator's automatic user presence on or
// off. With it on, Chromium's virtual authenticator also answers the
// login page's conditional UI request at once, which signs the tab in on
// arrival; off, requests wait.
func setPresence(t *testing.T, ctx context.Context, id cdpwebauthn.AuthenticatorID, on bool) {
	t.Helper()
	if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, cdpwebauthn.SetAutomaticPresenceSimulation,
			cdpwebauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: id, Enabled: on})
		return chromedp.Void{}, err
	}); err != nil {
		t.Fatalf("presence simulation: %v", err)
	}
}

// jsClick clicks the element sel in the page (a click whose answer
// navigates away cannot confuse it).
func jsClick(sel string) chromedp.Action[chromedp.Void] {
	js, _ := json.Marshal(sel)
	return poll(`(() => { const b = document.querySelector(` + string(js) + `); if (!b) return false; b.click(); return true; })()`)
}

func authenticatorCredentials(t *testing.T, ctx context.Context, id cdpwebauthn.AuthenticatorID) []*cdpwebauthn.Credential {
	t.Helper()
	creds, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) ([]*cdpwebauthn.Credential, error) {
		res, err := cdp.Call(ctx, tg, cdpwebauthn.GetCredentials, cdpwebauthn.GetCredentialsParams{AuthenticatorID: id})
		return res.Credentials, err
	})
	if err != nil {
		t.Fatalf("get credentials: %v", err)
	}
	return creds
}

// addCredential puts a copy of c, with signature counter count, into the
// authenticator id. (The params are written out: cdproto's Credential
// always sends the CMTG fields, which Chromium's virtual authenticator
// refuses.)
func addCredential(t *testing.T, ctx context.Context, id cdpwebauthn.AuthenticatorID, c *cdpwebauthn.Credential, count uint32) {
	t.Helper()
	params := map[string]any{"authenticatorId": id, "credential": map[string]any{
		"credentialId":         b64std(c.CredentialID),
		"isResidentCredential": true,
		"rpId":                 c.RpID,
		"privateKey":           b64std(c.PrivateKey),
		"userHandle":           b64std(c.UserHandle),
		"signCount":            count,
	}}
	if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, tg.Call(ctx, cdpwebauthn.CommandAddCredential, params, nil)
	}); err != nil {
		t.Fatalf("add credential: %v", err)
	}
}

func b64std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// chromiumPasswordLogin signs in with the login form.
func chromiumPasswordLogin(t *testing.T, ctx context.Context, h *testHarness, user, pass string) {
	t.Helper()
	pkDo(t, ctx, "password sign-in",
		chromedp.Navigate(h.issuer+PathLogin+"?prompt=login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), user),
		chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
	)
}

// chromiumSignOut signs out through the sign-out page.
func chromiumSignOut(t *testing.T, ctx context.Context, h *testHarness) {
	t.Helper()
	pkDo(t, ctx, "sign out",
		chromedp.Navigate(h.issuer+PathLogout),
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/login"]`)),
	)
}

// chromiumPasskeyButton signs in with "Sign in with a passkey": the
// conditional request the login page starts is held back (no presence)
// until the button is clicked.
func chromiumPasskeyButton(t *testing.T, ctx context.Context, h *testHarness, va cdpwebauthn.AuthenticatorID) {
	t.Helper()
	setPresence(t, ctx, va, false)
	pkDo(t, ctx, "login page",
		chromedp.Navigate(h.issuer+PathLogin),
		chromedp.WaitVisible(chromedp.CSS(`form[data-kind="login"] button`)),
	)
	setPresence(t, ctx, va, true)
	pkDo(t, ctx, "passkey button", jsClick(`form[data-kind="login"] button`))
}

// waitSignedIn waits for the "signed in" page.
func waitSignedIn(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	pkDo(t, ctx, what, poll(`document.body.innerText.includes("You are signed in as")`))
}

// waitPasskeyError waits for the passkey error box to show msg.
func waitPasskeyError(t *testing.T, ctx context.Context, what, msg string) {
	t.Helper()
	js, _ := json.Marshal(msg)
	pkDo(t, ctx, what, poll(`(() => { const e = document.querySelector("[data-passkey-error]"); return !!e && !e.hidden && e.textContent === `+string(js)+`; })()`))
}

func TestChromiumPasskeys(t *testing.T) {
	ctx := chromiumtest.New(t)
	h := newHarness(t, withLocalhostIssuer())
	if h.cfg.PasskeyRPID() != "localhost" {
		t.Fatalf("RP ID %q", h.cfg.PasskeyRPID())
	}
	u := h.addUser("alice", "correct horse battery")
	va := virtualAuthenticator(t, ctx)

	// Register on /account.
	chromiumPasswordLogin(t, ctx, h, "alice", "correct horse battery")
	waitSignedIn(t, ctx, "after the password")
	pkDo(t, ctx, "register",
		chromedp.Navigate(h.issuer+PathAccount),
		chromedp.WaitVisible(chromedp.ID("passkey-name")),
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Chromium"),
		jsClick(`form[data-kind="register"] button`),
		poll(`!!document.querySelector("ul.passkeys") && document.querySelector("ul.passkeys").innerText.includes("Chromium")`),
	)
	h.waitAudit(audit.PasskeyRegistered)
	creds := authenticatorCredentials(t, ctx, va)
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("authenticator credentials: %+v", creds)
	}

	// Sign out, sign in with the passkey alone (twice, to move the
	// counter on).
	for i := range 2 {
		chromiumSignOut(t, ctx, h)
		if i == 0 {
			// Conditional UI: the login page's autofill request signs in.
			pkDo(t, ctx, "login page", chromedp.Navigate(h.issuer+PathLogin))
		} else {
			chromiumPasskeyButton(t, ctx, h, va)
		}
		waitSignedIn(t, ctx, "passkey sign-in")
		ev := h.waitAudit(audit.LoginSuccess)
		if d, _ := ev["details"].(map[string]any); d["method"] != "passkey" || ev["user_id"] != u.ID {
			t.Errorf("sign-in %d: %v", i, ev)
		}
	}
	keys, err := h.store.ListUserPasskeys(context.Background(), u.ID)
	if err != nil || len(keys) != 1 || keys[0].SignCount < 2 || keys[0].LastUsedAt.IsZero() {
		t.Fatalf("stored passkey after two sign-ins: %+v %v", keys, err)
	}

	t.Run("cloned authenticator", func(t *testing.T) {
		// The credential, copied to a second authenticator whose counter
		// is behind the original's, is refused.
		orig := authenticatorCredentials(t, ctx, va)[0]
		_, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, cdpwebauthn.RemoveVirtualAuthenticator, cdpwebauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: va})
			return chromedp.Void{}, err
		})
		if err != nil {
			t.Fatal(err)
		}
		clone := virtualAuthenticator(t, ctx)
		addCredential(t, ctx, clone, orig, 0)
		chromiumSignOut(t, ctx, h)
		pkDo(t, ctx, "login page", chromedp.Navigate(h.issuer+PathLogin))
		waitPasskeyError(t, ctx, "cloned passkey refused", msgPasskeyRefused)
		h.waitLoginFailure("passkey_cloned")
		if h.sessionCookieIn(t, ctx) {
			t.Error("signed in with a cloned authenticator")
		}
		// The original (its counter ahead) goes on working.
		if _, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := cdp.Call(ctx, tg, cdpwebauthn.ClearCredentials, cdpwebauthn.ClearCredentialsParams{AuthenticatorID: clone})
			return chromedp.Void{}, err
		}); err != nil {
			t.Fatal(err)
		}
		addCredential(t, ctx, clone, orig, keys[0].SignCount+5)
		pkDo(t, ctx, "login page", chromedp.Navigate(h.issuer+PathLogin))
		waitSignedIn(t, ctx, "the original after the clone")
		h.waitAudit(audit.LoginSuccess)
	})

	t.Run("wrong RP ID", func(t *testing.T) {
		// The same page and passkey against a server whose RP ID is
		// another domain: the browser answers for "localhost", whose hash
		// is not the server's RP ID hash. The options are edited in the
		// page (as a page on a sibling origin could) to make the browser
		// use the credential at all.
		// The account page (signed in from the subtest before) runs no
		// conditional request that could get in the way.
		pkDo(t, ctx, "account page", chromedp.Navigate(h.issuer+PathAccount), chromedp.WaitVisible(chromedp.ID("passkey-name")))
		h.srv.webauthn.Config.RPID = "login.localhost"
		defer func() { h.srv.webauthn.Config.RPID = "localhost" }()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(async () => {
			const f = document.querySelector('form[data-kind="register"]');
			f.dataset.begin = "/login/passkey/begin";
			f.dataset.finish = "/login/passkey/finish";
			const post = async (url, extra) => {
				const body = new URLSearchParams(new FormData(f));
				for (const k in extra) body.set(k, extra[k]);
				return (await fetch(url, {method: "POST", body, credentials: "same-origin"})).json();
			};
			const b = await post(f.dataset.begin, {});
			const pk = b.options.publicKey;
			const dec = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), c => c.charCodeAt(0));
			const enc = buf => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
			pk.challenge = dec(pk.challenge);
			pk.rpId = "localhost";
			const c = await navigator.credentials.get({publicKey: pk});
			const r = c.response;
			const fin = await post(f.dataset.finish, {credential: JSON.stringify({id: c.id, rawId: enc(c.rawId), type: c.type,
				clientExtensionResults: {}, response: {clientDataJSON: enc(r.clientDataJSON), authenticatorData: enc(r.authenticatorData),
				signature: enc(r.signature), userHandle: enc(r.userHandle)}})});
			return JSON.stringify(fin);
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("ceremony in the page: %v", err)
		}
		if !strings.Contains(got, msgPasskeyRefused) || strings.Contains(got, "redirect") {
			t.Fatalf("wrong RP ID: the server answered %s", got)
		}
		h.waitLoginFailure("passkey_invalid")
	})

	t.Run("removed passkey", func(t *testing.T) {
		pkDo(t, ctx, "remove",
			chromedp.Navigate(h.issuer+PathAccount),
			chromedp.Click(chromedp.CSS(`form[action="/account/passkeys/remove#passkeys"] button`)),
			poll(`document.body.innerText.includes("Passkey removed.")`),
		)
		h.waitAudit(audit.PasskeyRemoved)
		chromiumSignOut(t, ctx, h)
		pkDo(t, ctx, "login page", chromedp.Navigate(h.issuer+PathLogin))
		waitPasskeyError(t, ctx, "removed passkey refused", msgPasskeyRefused)
		h.waitLoginFailure("passkey_unknown")
	})
}

// sessionCookieIn reports whether the tab is signed in. The session
// cookie is HttpOnly, so the server tells: the account page sends a
// browser without a session to the login page.
func (h *testHarness) sessionCookieIn(t *testing.T, ctx context.Context) bool {
	t.Helper()
	pkDo(t, ctx, "account page", chromedp.Navigate(h.issuer+PathAccount))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return !strings.Contains(loc, PathLogin)
}

func TestChromiumPasskeySecondFactor(t *testing.T) {
	ctx := chromiumtest.New(t)
	h := newHarness(t, withLocalhostIssuer(), func(c *config.Server) { c.MFA.RequiredRoles = []string{"ops"} })
	u := h.addUser("olga", "correct horse battery", "ops")
	va := virtualAuthenticator(t, ctx)

	// mfa.required_roles: after the password, the account page asks
	// for two-step verification; a passkey satisfies it and finishes
	// the sign-in.
	chromiumPasswordLogin(t, ctx, h, "olga", "correct horse battery")
	pkDo(t, ctx, "required enrolment",
		chromedp.WaitVisible(chromedp.CSS(`form[data-kind="register"] button`)),
		jsClick(`form[data-kind="register"] button`),
		poll(`location.pathname === "/login" && document.body.innerText.includes("You are signed in as")`),
	)
	h.waitAudit(audit.PasskeyRegistered)
	if ev := h.waitAudit(audit.LoginSuccess); ev["user_id"] != u.ID {
		t.Errorf("login.success: %v", ev)
	}

	// The password is now followed by "Use a passkey".
	// (No presence while the password is typed: the login page's
	// conditional request would sign in with the passkey alone.)
	chromiumSignOut(t, ctx, h)
	setPresence(t, ctx, va, false)
	chromiumPasswordLogin(t, ctx, h, "olga", "correct horse battery")
	pkDo(t, ctx, "second step page", chromedp.WaitVisible(chromedp.CSS(`form[data-kind="mfa"] button`)))
	if has, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('input[name="code"]')`)); has {
		t.Error("the second step offers a code form to a user without TOTP")
	}
	setPresence(t, ctx, va, true)
	pkDo(t, ctx, "second step", jsClick(`form[data-kind="mfa"] button`))
	waitSignedIn(t, ctx, "after the passkey step")
	ev := h.waitAudit(audit.LoginSuccess)
	if d, _ := ev["details"].(map[string]any); d["method"] != "password+passkey" {
		t.Errorf("login.success: %v", ev)
	}
}
