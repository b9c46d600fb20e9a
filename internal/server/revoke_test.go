package server

import (
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestRevokeRefreshTokenDeactivatesFamily(t *testing.T) {
	// SECURITY-CASES 23.
	f := newUserFixture(t)
	tok := f.codeTokens("read")
	st, body, _ := f.postForm(PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}, "token_type_hint": {"refresh_token"}}, "web", f.webSecret)
	if st != 200 {
		t.Fatalf("revoke: %d %v", st, body)
	}
	if got := f.introspect(tok["access_token"].(string)); got["active"] != false {
		t.Errorf("access token active after its refresh token was revoked: %v", got)
	}
	if got := f.introspectAs("web", f.webSecret, tok["refresh_token"].(string)); got["active"] != false {
		t.Errorf("refresh token active after revocation: %v", got)
	}
	f.waitAudit("token.revoked")
}

func TestRevokeAccessTokenIsImmediate(t *testing.T) {
	f := newUserFixture(t)
	tok := f.codeTokens("read")
	at := tok["access_token"].(string)
	if got := f.introspect(at); got["active"] != true {
		t.Fatalf("fresh token inactive: %v", got)
	}
	if st, _, _ := f.postForm(PathRevoke, url.Values{"token": {at}}, "web", f.webSecret); st != 200 {
		t.Fatal(st)
	}
	if got := f.introspect(at); got["active"] != false {
		t.Errorf("revoked access token still active: %v", got)
	}
	// The refresh token of the grant is not affected by revoking one access token.
	if got := f.introspectAs("web", f.webSecret, tok["refresh_token"].(string)); got["active"] != true {
		t.Errorf("refresh token affected: %v", got)
	}
}

func TestRevokeOtherClientsTokenDoesNothing(t *testing.T) {
	// SECURITY-CASES 22.
	f := newUserFixture(t)
	tok := f.codeTokens("read")
	for _, k := range []string{"access_token", "refresh_token"} {
		st, _, _ := f.postForm(PathRevoke, url.Values{"token": {tok[k].(string)}}, "other", f.otherSecret)
		if st != 200 {
			t.Fatalf("%s: status %d", k, st)
		}
		if got := f.introspectAs("web", f.webSecret, tok[k].(string)); got["active"] != true {
			t.Errorf("%s revoked by another client", k)
		}
	}
	for _, tk := range []string{"unknown-token", "a.b.c"} {
		if st, _, _ := f.postForm(PathRevoke, url.Values{"token": {tk}}, "web", f.webSecret); st != 200 {
			t.Errorf("unknown token %q: %d", tk, st)
		}
	}
	// Revoking twice is fine.
	for range 2 {
		if st, _, _ := f.postForm(PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}}, "web", f.webSecret); st != 200 {
			t.Errorf("repeat revoke: %d", st)
		}
	}
	if st, _, _ := f.postForm(PathRevoke, url.Values{"token": {tok["refresh_token"].(string)}}, "web", "bad-secret"); st != 401 {
		t.Errorf("unauthenticated revoke: %d", st)
	}
}

func TestIntrospection(t *testing.T) {
	f := newUserFixture(t)
	tok := f.codeTokens("read")
	got := f.introspect(tok["access_token"].(string))
	if got["active"] != true || got["sub"] != f.user.ID || got["client_id"] != "web" || got["scope"] != "read" || got["username"] != "alice" {
		t.Errorf("active introspection %v", got)
	}
	// SECURITY-CASES 24: no caller authentication → 401.
	if st, _, _ := f.postForm(PathIntrospect, url.Values{"token": {tok["access_token"].(string)}}, "", ""); st != 401 {
		t.Errorf("unauthenticated introspection: %d", st)
	}
	// A public client cannot authenticate, so it cannot introspect either.
	if st, _, _ := f.postForm(PathIntrospect, url.Values{"token": {tok["access_token"].(string)}, "client_id": {CLIClientID}}, "", ""); st != 401 {
		t.Errorf("public client introspection: %d", st)
	}
	// Expired, unknown and garbage tokens: exactly {"active":false}.
	f.clock.Advance(16 * 60e9)
	for _, tk := range []string{tok["access_token"].(string), "unknown", "x.y.z"} {
		got := f.introspect(tk)
		if len(got) != 1 || got["active"] != false {
			t.Errorf("inactive token %q answered %v", tk, got)
		}
	}
}

func TestIntrospectClientCredentialsToken(t *testing.T) {
	f := newUserFixture(t)
	sec := f.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}, Roles: []string{"viewer"}})
	_, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "ci", sec)
	got := f.introspect(body["access_token"].(string))
	if got["active"] != true || got["sub"] != "ci" {
		t.Fatalf("%v", got)
	}
	if st, _, _ := f.postForm(PathRevoke, url.Values{"token": {body["access_token"].(string)}}, "ci", sec); st != 200 {
		t.Fatal(st)
	}
	if got := f.introspect(body["access_token"].(string)); got["active"] != false {
		t.Errorf("revoked client-credentials token active: %v", got)
	}
}

// TestIntrospectRefreshTokenOnlyForItsClient: a refresh token is active
// only to the client it was issued to; any other authenticated caller gets
// exactly {"active":false} (RFC 7662 §2.2). A rotated (spent) refresh
// token is inactive even to its own client. SECURITY-CASES 24.
func TestIntrospectRefreshTokenOnlyForItsClient(t *testing.T) {
	f := newUserFixture(t)
	tok := f.codeTokens("read")
	rt := tok["refresh_token"].(string)
	if got := f.introspectAs("web", f.webSecret, rt); got["active"] != true || got["client_id"] != "web" {
		t.Fatalf("own client: %v", got)
	}
	for _, c := range []struct{ id, sec string }{{"rs", f.rsSecret}, {"other", f.otherSecret}} {
		if got := f.introspectAs(c.id, c.sec, rt); len(got) != 1 || got["active"] != false {
			t.Errorf("refresh token introspected by %s: %v", c.id, got)
		}
	}
	st, body := f.refresh("web", f.webSecret, rt, nil)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, body)
	}
	if got := f.introspectAs("web", f.webSecret, rt); len(got) != 1 || got["active"] != false {
		t.Errorf("rotated refresh token: %v", got)
	}
	if got := f.introspectAs("web", f.webSecret, body["refresh_token"].(string)); got["active"] != true {
		t.Errorf("new refresh token: %v", got)
	}
}
