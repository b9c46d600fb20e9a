package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func userinfo(t *testing.T, h *testHarness, tok string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.url(PathUserinfo), nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, resp.Header
}

func TestUserinfo(t *testing.T) {
	f := newUserFixture(t)
	tok := f.codeTokens("openid", "read")
	st, body, _ := userinfo(t, f.testHarness, tok["access_token"].(string))
	if st != 200 || body["sub"] != f.user.ID || body["preferred_username"] != "alice" {
		t.Fatalf("userinfo: %d %v", st, body)
	}
	if st, _, hdr := userinfo(t, f.testHarness, ""); st != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %v", st, hdr)
	}
}

func TestNonAccessTokensRejectedAsAccessTokens(t *testing.T) {
	// SECURITY-CASES 20.
	f := newUserFixture(t)
	tok := f.codeTokens("openid", "read")
	at := tok["access_token"].(string)
	parts := strings.Split(at, ".")
	reheader := func(h map[string]any) string {
		b, _ := json.Marshal(h)
		return base64.RawURLEncoding.EncodeToString(b) + "." + parts[1] + "." + parts[2]
	}
	hdr := headerOf(t, at)
	unknownKid := map[string]any{"alg": hdr["alg"], "typ": "at+jwt", "kid": "no-such-key"}
	jwtTyp := map[string]any{"alg": hdr["alg"], "typ": "JWT", "kid": hdr["kid"]}
	none := map[string]any{"alg": "none", "typ": "at+jwt", "kid": hdr["kid"]}
	cases := map[string]string{
		"id token":        tok["id_token"].(string),
		"unknown kid":     reheader(unknownKid),
		"typ JWT":         reheader(jwtTyp),
		"alg none":        reheader(none),
		"tampered claims": parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"admin"}`)) + "." + parts[2],
	}
	for name, bad := range cases {
		if st, body, _ := userinfo(t, f.testHarness, bad); st != 401 {
			t.Errorf("%s accepted at userinfo: %d %v", name, st, body)
		}
		if got := f.introspect(bad); got["active"] != false {
			t.Errorf("%s active at introspection: %v", name, got)
		}
	}
	// The genuine token passes, so the rejections above are the checks at work.
	if st, _, _ := userinfo(t, f.testHarness, at); st != 200 {
		t.Fatalf("genuine token rejected: %d", st)
	}
}

func TestRotatedOutKeyRejected(t *testing.T) {
	// SECURITY-CASES 20: a token signed by a rotated-out key.
	f := newUserFixture(t)
	at := f.codeTokens("read")["access_token"].(string)
	if _, err := f.srv.keys.Rotate(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(1) // the new key is active
	if st, _, _ := userinfo(t, f.testHarness, at); st != 200 {
		t.Fatalf("token of the previous key rejected while still published: %d", st)
	}
	// Past the retention window the old key leaves JWKS and its tokens die,
	// even with exp (checked separately) put aside.
	f.clock.Advance(25 * 60 * 60e9)
	if err := f.srv.keys.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.keys.Verify(at, "at+jwt"); err == nil {
		t.Fatal("rotated-out key still verifies")
	}
}
