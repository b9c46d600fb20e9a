package server

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCodeExchangeIssuesTokens(t *testing.T) {
	f := newUserFixture(t)
	body := f.codeTokens("openid", "read")
	for _, k := range []string{"access_token", "refresh_token", "id_token"} {
		if body[k] == nil {
			t.Fatalf("missing %s in %v", k, body)
		}
	}
	c := claimsOf(t, body["access_token"].(string))
	if c["sub"] != f.user.ID || c["client_id"] != "web" || c["scope"] != "openid read" || c["gid"] == nil {
		t.Errorf("access claims %v", c)
	}
	if roles := c["roles"].([]any); len(roles) != 1 || roles[0] != "editor" {
		t.Errorf("roles %v", roles)
	}
	id := claimsOf(t, body["id_token"].(string))
	if id["aud"] != "web" || id["sub"] != f.user.ID {
		t.Errorf("id claims %v", id)
	}
	if headerOf(t, body["id_token"].(string))["typ"] == "at+jwt" {
		t.Error("ID token typed as access token")
	}
	// SECURITY-CASES 28: opaque tokens carry ≥128 bits (43 base64url chars = 256 bits).
	if rt := body["refresh_token"].(string); len(rt) < 43 {
		t.Errorf("refresh token too short: %d", len(rt))
	}
}

func TestCodeReplayRevokesIssuedTokens(t *testing.T) {
	// SECURITY-CASES 1.
	f := newUserFixture(t)
	code := f.insertCode(codeOpts{clientID: "web", userID: f.user.ID, redirectURI: f.webRedirect, scopes: []string{"read"}, challenge: s256(testVerifier), method: "S256"})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}
	st, first, _ := f.postForm(PathToken, form, "web", f.webSecret)
	if st != 200 {
		t.Fatalf("first redemption %d %v", st, first)
	}
	st, second, _ := f.postForm(PathToken, form, "web", f.webSecret)
	if st != 400 || errCode(second) != "invalid_grant" {
		t.Fatalf("replay: %d %v", st, second)
	}
	f.waitAudit("code.replay")
	if got := f.introspect(first["access_token"].(string)); got["active"] != false {
		t.Errorf("access token from replayed code still active: %v", got)
	}
	if st, body := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil); st != 400 || errCode(body) != "invalid_grant" {
		t.Errorf("refresh token from replayed code still works: %d %v", st, body)
	}
}

func TestConcurrentCodeRedemptionHasOneWinner(t *testing.T) {
	f := newUserFixture(t)
	code := f.insertCode(codeOpts{clientID: "web", userID: f.user.ID, redirectURI: f.webRedirect, challenge: s256(testVerifier), method: "S256"})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 8 {
		wg.Go(func() {
			st, _, _ := f.postForm(PathToken, form, "web", f.webSecret)
			mu.Lock()
			statuses[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 1 || statuses[400] != 7 {
		t.Fatalf("statuses %v, want one 200 and seven 400", statuses)
	}
}

func TestCodeExchangeRejections(t *testing.T) {
	f := newUserFixture(t)
	challenge := s256(testVerifier)
	tests := []struct {
		name     string
		code     codeOpts
		form     url.Values // merged over the default form
		client   string
		advance  time.Duration
		wantErr  string
		noVerify bool
	}{
		// SECURITY-CASES 2.
		{name: "other client", client: "other", wantErr: "invalid_grant"},
		// SECURITY-CASES 3.
		{name: "redirect_uri differs", form: url.Values{"redirect_uri": {"https://app.example/cb2"}}, wantErr: "invalid_grant"},
		{name: "redirect_uri omitted after being sent", form: url.Values{"redirect_uri": nil}, wantErr: "invalid_grant"},
		// SECURITY-CASES 8: verifier at /token for a code without a challenge.
		{name: "downgrade verifier without challenge", code: codeOpts{challenge: "-"}, wantErr: "invalid_grant"},
		// SECURITY-CASES 8: challenge at /authorize but no verifier.
		{name: "downgrade missing verifier", form: url.Values{"code_verifier": nil}, wantErr: "invalid_grant"},
		// SECURITY-CASES 10.
		{name: "wrong verifier", form: url.Values{"code_verifier": {strings.Repeat("a", 50)}}, wantErr: "invalid_grant"},
		{name: "verifier too short", form: url.Values{"code_verifier": {strings.Repeat("a", 42)}}, wantErr: "invalid_grant"},
		{name: "verifier too long", form: url.Values{"code_verifier": {strings.Repeat("a", 129)}}, wantErr: "invalid_grant"},
		{name: "verifier bad chars", form: url.Values{"code_verifier": {strings.Repeat("a", 44) + "+/"}}, wantErr: "invalid_grant"},
		// SECURITY-CASES 11.
		{name: "expired code", advance: 61 * time.Second, wantErr: "invalid_grant"},
		// A code is dead at its expiry instant, not one step later
		// (TestCodeUsableUntilExpiry is the other side of the boundary).
		{name: "code used exactly at expiry", advance: 60 * time.Second, wantErr: "invalid_grant"},
		{name: "unknown code", form: url.Values{"code": {"not-a-code"}}, wantErr: "invalid_grant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			co := codeOpts{clientID: "web", userID: f.user.ID, redirectURI: f.webRedirect, challenge: challenge, method: "S256"}
			if tc.code.challenge == "-" {
				co.challenge, co.method = "", ""
			}
			code := f.insertCode(co)
			f.clock.Advance(tc.advance)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}
			for k, v := range tc.form {
				if v == nil {
					form.Del(k)
				} else {
					form[k] = v
				}
			}
			user, pass := "web", f.webSecret
			if tc.client == "other" {
				user, pass = "other", f.otherSecret
			}
			st, body, _ := f.postForm(PathToken, form, user, pass)
			if st != 400 || errCode(body) != tc.wantErr {
				t.Fatalf("got %d %v, want 400 %s", st, body, tc.wantErr)
			}
			if body["access_token"] != nil {
				t.Fatal("token issued")
			}
			// The same code is still redeemable by its rightful owner in the
			// cases that must not consume it, proving the check itself failed.
			if tc.client == "other" {
				st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "web", f.webSecret)
				if st != 200 {
					t.Fatalf("rightful redemption after other client's attempt: %d %v", st, body)
				}
			}
		})
	}
}

func TestPublicClientCodeExchangeWithPKCE(t *testing.T) {
	f := newUserFixture(t)
	code := f.insertCode(codeOpts{clientID: CLIClientID, userID: f.user.ID, redirectURI: "http://127.0.0.1:43123/callback",
		scopes: []string{"openid", "offline_access"}, challenge: s256(testVerifier), method: "S256"})
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "client_id": {CLIClientID}, "code": {code},
		"redirect_uri": {"http://127.0.0.1:43123/callback"}, "code_verifier": {testVerifier}}, "", "")
	if st != 200 || body["refresh_token"] == nil {
		t.Fatalf("public exchange: %d %v", st, body)
	}
}

// TestCodeUsableUntilExpiry is the other side of the "exactly at expiry"
// row of TestCodeExchangeRejections: a microsecond before its expiry (the
// stored precision) the code is still good. SECURITY-CASES 11.
func TestCodeUsableUntilExpiry(t *testing.T) {
	f := newUserFixture(t)
	code := f.insertCode(codeOpts{clientID: "web", userID: f.user.ID, redirectURI: f.webRedirect, challenge: s256(testVerifier), method: "S256"})
	f.clock.Advance(time.Duration(f.cfg.Tokens.CodeTTL) - time.Microsecond)
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {f.webRedirect}, "code_verifier": {testVerifier}}, "web", f.webSecret)
	if st != 200 {
		t.Fatalf("code a microsecond before expiry: %d %v", st, body)
	}
}
