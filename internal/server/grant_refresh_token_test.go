package server

import (
	"net/url"
	"sync"
	"testing"
	"time"
)

func TestRefreshRotates(t *testing.T) {
	f := newUserFixture(t)
	first := f.codeTokens("openid", "read", "write")
	st, second := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, second)
	}
	if second["refresh_token"] == first["refresh_token"] || second["refresh_token"] == nil {
		t.Fatal("refresh token was not rotated")
	}
	// Narrowing the scope is allowed (RFC 6749 §6).
	st, third := f.refresh("web", f.webSecret, second["refresh_token"].(string), url.Values{"scope": {"read"}})
	if st != 200 || third["scope"] != "read" {
		t.Fatalf("narrowed refresh: %d %v", st, third)
	}
	// The rotated token keeps the original scope.
	st, fourth := f.refresh("web", f.webSecret, third["refresh_token"].(string), url.Values{"scope": {"write"}})
	if st != 200 || fourth["scope"] != "write" {
		t.Fatalf("refresh after narrowing: %d %v", st, fourth)
	}
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	// SECURITY-CASES 12.
	f := newUserFixture(t)
	first := f.codeTokens("read")
	st, second := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil)
	if st != 200 {
		t.Fatalf("refresh: %d %v", st, second)
	}
	// Past the reuse interval a repeat is reuse.
	f.clock.Advance(time.Duration(f.cfg.Tokens.RefreshReuseInterval) + time.Second)
	st, reuse := f.refresh("web", f.webSecret, first["refresh_token"].(string), nil)
	if st != 400 || errCode(reuse) != "invalid_grant" {
		t.Fatalf("reuse: %d %v", st, reuse)
	}
	f.waitAudit("refresh.reuse")
	if st, body := f.refresh("web", f.webSecret, second["refresh_token"].(string), nil); st != 400 {
		t.Errorf("newest refresh token of a revoked family still works: %d %v", st, body)
	}
	for _, at := range []any{first["access_token"], second["access_token"]} {
		if got := f.introspect(at.(string)); got["active"] != false {
			t.Errorf("access token of revoked family active: %v", got)
		}
	}
}

func TestConcurrentRefreshHasOneWinner(t *testing.T) {
	// SECURITY-CASES 13.
	f := newUserFixture(t)
	rt := f.codeTokens("read")["refresh_token"].(string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 2 {
		wg.Go(func() {
			st, _ := f.refresh("web", f.webSecret, rt, nil)
			mu.Lock()
			statuses[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 1 || statuses[400] != 1 {
		t.Fatalf("statuses %v, want exactly one 200 and one 400 (never 500)", statuses)
	}
}

func TestRefreshRejections(t *testing.T) {
	f := newUserFixture(t)
	rt := f.codeTokens("read")["refresh_token"].(string)
	// SECURITY-CASES 14.
	if st, body := f.refresh("other", f.otherSecret, rt, nil); st != 400 || errCode(body) != "invalid_grant" {
		t.Errorf("other client's refresh token: %d %v", st, body)
	}
	// SECURITY-CASES 15.
	if st, body := f.refresh("web", f.webSecret, rt, url.Values{"scope": {"read write"}}); st != 400 || errCode(body) != "invalid_scope" {
		t.Errorf("wider scope: %d %v", st, body)
	}
	// Neither attempt spent the token.
	if st, body := f.refresh("web", f.webSecret, rt, nil); st != 200 {
		t.Errorf("rightful refresh after rejections: %d %v", st, body)
	}
}

func TestRefreshAfterUserDeletionFails(t *testing.T) {
	f := newUserFixture(t)
	rt := f.codeTokens("read")["refresh_token"].(string)
	if err := f.store.DeleteUser(t.Context(), f.user.ID); err != nil {
		t.Fatal(err)
	}
	if st, body := f.refresh("web", f.webSecret, rt, nil); st != 400 || errCode(body) != "invalid_grant" {
		t.Errorf("refresh for deleted user: %d %v", st, body)
	}
}
