package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server/accountapi"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/secondfactor"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// accessTokenOf returns an account API access token for userID: a user
// login of the first-party console client with the account resource and
// scope, signed in just now.
func accessTokenOf(f *userFixture, userID string) string {
	f.t.Helper()
	return f.resourceToken(userID, []string{"openid", oauth.ScopeAccount}, []string{oauth.AccountResource(f.issuer)})
}

// accountAPI posts body to an account API path with c (nil: a plain
// client) and the bearer token tok (none when empty), and returns the
// status and decoded JSON.
func accountAPI(t *testing.T, h *testHarness, c *http.Client, path, tok, body string) (int, map[string]any) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	req, err := http.NewRequest(http.MethodPost, h.url(path), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: not JSON (%d): %s", path, resp.StatusCode, raw)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
	}
	return resp.StatusCode, m
}

func confirmBody(code string) string { return `{"code":"` + code + `"}` }

// apiEnrol starts an enrolment over the API and returns the secret.
func apiEnrol(t *testing.T, h *testHarness, tok string) string {
	t.Helper()
	st, body := accountAPI(t, h, nil, accountapi.PathMFAEnroll, tok, "")
	sec, _ := body["secret"].(string)
	uri, _ := body["otpauth_uri"].(string)
	if st != http.StatusOK || sec == "" || !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+sec) {
		t.Fatalf("enroll: %d %v", st, body)
	}
	return sec
}

func TestAccountAPIEnrolAndConfirm(t *testing.T) {
	f := newUserFixture(t)
	h := f.testHarness
	ctx := context.Background()
	tok := accessTokenOf(f, f.user.ID)
	sec := apiEnrol(t, h, tok)

	tt, err := h.store.GetTOTP(ctx, f.user.ID)
	if err != nil || tt.Enrolled || strings.Contains(string(tt.EncryptedSecret), sec) {
		t.Fatalf("after enroll: %+v %v (must be pending, secret sealed)", tt, err)
	}

	// A wrong code does not enrol.
	st, body := accountAPI(t, h, nil, accountapi.PathMFAConfirm, tok, confirmBody(h.wrongCode(sec)))
	if st != http.StatusBadRequest || errCode(body) != accountapi.ErrCodeBadCode || body["recovery_codes"] != nil {
		t.Fatalf("wrong code: %d %v", st, body)
	}
	if tt, err := h.store.GetTOTP(ctx, f.user.ID); err != nil || tt.Enrolled {
		t.Fatalf("after a wrong code: %+v %v", tt, err)
	}
	if st, body := accountAPI(t, h, nil, accountapi.PathMFAConfirm, tok, "not json"); st != http.StatusBadRequest || errCode(body) != "invalid_request" {
		t.Errorf("bad body: %d %v", st, body)
	}

	// The right code enrols and shows the recovery codes.
	code := totpCode(t, sec, h.clock.Now())
	st, body = accountAPI(t, h, nil, accountapi.PathMFAConfirm, tok, confirmBody(code))
	list, _ := body["recovery_codes"].([]any)
	if st != http.StatusOK || len(list) != secondfactor.RecoveryCodeCount {
		t.Fatalf("confirm: %d %v", st, body)
	}
	tt, err = h.store.GetTOTP(ctx, f.user.ID)
	if err != nil || !tt.Enrolled || len(tt.RecoveryCodes) != secondfactor.RecoveryCodeCount {
		t.Fatalf("after confirm: %+v %v", tt, err)
	}
	for i, c := range list {
		if s, _ := c.(string); tt.RecoveryCodes[i] != secondfactor.HashRecoveryCode(s) {
			t.Errorf("recovery code %d %v is not the stored one", i, c)
		}
	}

	// The codes are shown once: confirming again, even with the next
	// step's code, gives nothing.
	next := totpCode(t, sec, h.clock.Now().Add(30*time.Second))
	for _, c := range []string{code, next} {
		if st, body := accountAPI(t, h, nil, accountapi.PathMFAConfirm, tok, confirmBody(c)); st != http.StatusBadRequest || body["recovery_codes"] != nil {
			t.Errorf("second confirm with %s: %d %v", c, st, body)
		}
	}
	// A new enrolment is refused while TOTP is on.
	if st, body := accountAPI(t, h, nil, accountapi.PathMFAEnroll, tok, ""); st != http.StatusConflict || errCode(body) != accountapi.ErrCodeAlreadyEnrolled {
		t.Errorf("enroll when enrolled: %d %v", st, body)
	}
	if tt2, err := h.store.GetTOTP(ctx, f.user.ID); err != nil || string(tt2.EncryptedSecret) != string(tt.EncryptedSecret) {
		t.Errorf("refused enroll changed the secret: %v", err)
	}

	// The login needs TOTP now; the code used to confirm is spent
	// (SECURITY-CASES 31), the next step's code works.
	c, p := h.passwordStep("alice", "correct horse battery")
	if p := h.submitCode(c, p, code); p.status != http.StatusUnauthorized {
		t.Fatalf("confirmation code replayed at login: %d", p.status)
	}
	if p := h.submitCode(c, p, next); !signedIn(p) {
		t.Fatalf("next code at login: %d %s", p.status, p.body)
	}
}

// Only the user's own login token authorises the API: not the session
// cookie, a client-credentials token, an API key or a revoked token; and a
// token acts on its own user only.
func TestAccountAPIAuthorisation(t *testing.T) {
	f := newUserFixture(t)
	h := f.testHarness
	ctx := context.Background()

	browser := h.newBrowser()
	h.loginAs(browser, "alice", "correct horse battery")
	// A client whose ID is the user's ID: its token's subject names the
	// user, yet it is no login of theirs.
	ccSecret := h.addClient(storage.Client{ID: f.user.ID, GrantTypes: []string{"client_credentials"}})
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, f.user.ID, ccSecret)
	cc, _ := body["access_token"].(string)
	if st != http.StatusOK || cc == "" {
		t.Fatalf("client credentials: %d %v", st, body)
	}
	_, key := h.addAPIKey(storage.APIKey{UserID: f.user.ID})
	revoked := accessTokenOf(f, f.user.ID)
	if st, _, _ := f.postForm(PathRevoke, url.Values{"token": {revoked}}, "console", f.consoleSecret); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}

	for _, path := range []string{accountapi.PathMFAEnroll, accountapi.PathMFAConfirm} {
		for _, c := range []struct {
			what   string
			client *http.Client
			tok    string
		}{
			{"session cookie", browser, ""},
			{"no token", nil, ""},
			{"client-credentials token", nil, cc},
			{"API key of the user", nil, key},
			{"revoked token", nil, revoked},
			{"garbage", nil, "not-a-token"},
		} {
			st, body := accountAPI(t, h, c.client, path, c.tok, confirmBody("123456"))
			if st != http.StatusUnauthorized || body["otpauth_uri"] != nil {
				t.Errorf("%s with %s: %d %v, want 401", path, c.what, st, body)
			}
		}
	}
	if _, err := h.store.GetTOTP(ctx, f.user.ID); err == nil {
		t.Error("a refused request started an enrolment")
	}

	// Bob's token enrols bob; alice is untouched.
	bob := h.addUser("bob", "another good password")
	bobTok := accessTokenOf(f, bob.ID)
	apiEnrol(t, h, bobTok)
	if _, err := h.store.GetTOTP(ctx, bob.ID); err != nil {
		t.Errorf("bob's enrolment: %v", err)
	}
	if _, err := h.store.GetTOTP(ctx, f.user.ID); err == nil {
		t.Error("bob's token started an enrolment for alice")
	}

	// A disabled user's token stops working.
	if err := h.store.UpdateUser(ctx, bob.ID, func(u *storage.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if st, body := accountAPI(t, h, nil, accountapi.PathMFAEnroll, bobTok, ""); st != http.StatusUnauthorized {
		t.Errorf("token of a disabled user: %d %v, want 401", st, body)
	}
}

// Code attempts on the API count against the login limits.
func TestAccountAPIConfirmRateLimited(t *testing.T) {
	h := newHarness(t, func(c *config.Server) { c.Limits.LoginPerUser = perMinute(2) })
	f := &userFixture{testHarness: h, webRedirect: "https://app.example/cb"}
	f.user = h.addUser("alice", "correct horse battery")
	f.consoleSecret = h.addClient(storage.Client{ID: "console", Name: "Console", RedirectURIs: []string{f.webRedirect},
		GrantTypes: []string{"authorization_code"}, Scopes: []string{"openid"}, FirstParty: true})
	tok := accessTokenOf(f, f.user.ID)
	sec := apiEnrol(t, h, tok)
	for range 2 {
		if st, _ := accountAPI(t, h, nil, accountapi.PathMFAConfirm, tok, confirmBody(h.wrongCode(sec))); st != http.StatusBadRequest {
			t.Fatalf("wrong code: %d", st)
		}
	}
	st, body := accountAPI(t, h, nil, accountapi.PathMFAConfirm, tok, confirmBody(totpCode(t, sec, h.clock.Now())))
	if st != http.StatusTooManyRequests || errCode(body) != "too_many_requests" || body["recovery_codes"] != nil {
		t.Fatalf("third attempt: %d %v, want 429", st, body)
	}
	if tt, err := h.store.GetTOTP(context.Background(), f.user.ID); err != nil || tt.Enrolled {
		t.Fatalf("a refused attempt enrolled: %+v %v", tt, err)
	}
}
