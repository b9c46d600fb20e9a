package server

import (
	"testing"
	"time"
)

// TestRefreshTokenExpiresWithItsGrant checks that a family lives exactly
// tokens.refresh_token_ttl from the code exchange: a refresh a second
// before works, one at the instant of expiry is refused (expiry is
// exclusive) and the refresh token then introspects as inactive even to
// its own client.
func TestRefreshTokenExpiresWithItsGrant(t *testing.T) {
	f := newUserFixture(t)
	rt := f.codeTokens("read")["refresh_token"].(string)
	ttl := time.Duration(f.cfg.Tokens.RefreshTokenTTL)

	f.clock.Advance(ttl - time.Second)
	st, body := f.refresh("web", f.webSecret, rt, nil)
	if st != 200 {
		t.Fatalf("refresh a second before the grant expires: %d %v", st, body)
	}
	next := body["refresh_token"].(string)
	if got := f.introspectAs("web", f.webSecret, next); got["active"] != true {
		t.Fatalf("live refresh token introspects as %v", got)
	}

	f.clock.Advance(time.Second)
	if got := f.introspectAs("web", f.webSecret, next); got["active"] != false || len(got) != 1 {
		t.Errorf("refresh token at the instant of expiry introspects as %v, want exactly {\"active\":false}", got)
	}
	if st, body := f.refresh("web", f.webSecret, next, nil); st != 400 || errCode(body) != "invalid_grant" {
		t.Errorf("refresh at the instant of expiry: %d %v, want 400 invalid_grant", st, body)
	}
}
