package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
)

// refreshWithKey refreshes rt as clientID (a public client when sec is
// empty) with the Idempotency-Key header value key (none when empty) and
// a DPoP proof of signer (none when nil).
func (f *userFixture) refreshWithKey(clientID, sec, rt, key string, signer *dpop.Signer) (int, map[string]any) {
	f.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if sec == "" {
		form.Set("client_id", clientID)
	}
	req, err := http.NewRequest(http.MethodPost, f.url(PathToken), strings.NewReader(form.Encode()))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sec != "" {
		req.SetBasicAuth(clientID, sec)
	}
	if key != "" {
		req.Header.Set(oauth.IdempotencyKeyHeader, key)
	}
	if signer != nil {
		req.Header.Set("DPoP", f.tokenProof(signer, ""))
	}
	st, body, _ := f.doJSON(req)
	return st, body
}

const (
	retryKey = `"Ut9mhnP0sLRlV3e8x0p6Bw"`
	otherKey = `"q0Jm1cWcW3rP8vAq2ZzX4g"`
)

// TestRefreshRetry: a refresh repeated with the Idempotency-Key of the
// request that rotated the token, by the same client within the reuse
// interval, gets the same successor and a new access token; the family
// stays valid and the successor refreshes on.
func TestRefreshRetry(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newUserFixtureOn(newHarnessOn(t, open))
		rt := f.codeTokens("openid", "read")["refresh_token"].(string)
		st, first := f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
		if st != 200 {
			t.Fatalf("refresh with a key: %d %v", st, first)
		}
		f.clock.Advance(time.Duration(f.cfg.Tokens.RefreshReuseInterval) - time.Second)
		st, again := f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
		if st != 200 || again["refresh_token"] != first["refresh_token"] {
			t.Fatalf("retry with the same key: %d %v, want the successor %v again", st, again, first["refresh_token"])
		}
		if again["access_token"] == first["access_token"] || again["id_token"] == nil || again["scope"] != "openid read" {
			t.Errorf("retry's answer %v: want a new access token, an ID token and the scope", again)
		}
		if a := f.waitAudit("refresh.reuse"); a["outcome"] != "success" || !strings.Contains(a["reason"].(string), "same successor") {
			t.Errorf("audit of a retry: %v", a)
		}
		for _, at := range []any{first["access_token"], again["access_token"]} {
			if in := f.introspect(at.(string)); in["active"] != true {
				t.Errorf("access token after a retry: %v", in)
			}
		}
		if st, body := f.refreshWithKey("web", f.webSecret, first["refresh_token"].(string), "", nil); st != 200 {
			t.Fatalf("the successor after a retry: %d %v", st, body)
		}
	})
}

// TestRefreshRetryHoursLater: a CLI killed after the rotation may run
// again long after the reuse interval; within tokens.refresh_retry_window
// its keyed retry still gets the unused successor, and the family lives.
func TestRefreshRetryHoursLater(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newUserFixtureOn(newHarnessOn(t, open))
		rt := f.codeTokens("read")["refresh_token"].(string)
		st, first := f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
		if st != 200 {
			t.Fatalf("refresh with a key: %d %v", st, first)
		}
		f.clock.Advance(3 * time.Hour)
		st, again := f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
		if st != 200 || again["refresh_token"] != first["refresh_token"] {
			t.Fatalf("retry three hours later: %d %v, want the successor %v again", st, again, first["refresh_token"])
		}
		if st, body := f.refreshWithKey("web", f.webSecret, first["refresh_token"].(string), "", nil); st != 200 {
			t.Fatalf("the successor after a late retry: %d %v", st, body)
		}
	})
}

// TestRefreshRetryRefused: each condition of a retry, broken alone,
// refuses it with invalid_grant as a plain repeat is refused; within the
// interval the family survives, after it the family is revoked.
func TestRefreshRetryRefused(t *testing.T) {
	cases := []struct {
		name string
		// retry presents the spent token rt; first is the answer of its
		// rotation.
		retry func(f *userFixture, rt string, first map[string]any) (int, map[string]any)
		// revoked: the family must be revoked afterwards (else kept).
		revoked bool
	}{
		{"another key", func(f *userFixture, rt string, _ map[string]any) (int, map[string]any) {
			return f.refreshWithKey("web", f.webSecret, rt, otherKey, nil)
		}, false},
		{"no key", func(f *userFixture, rt string, _ map[string]any) (int, map[string]any) {
			return f.refreshWithKey("web", f.webSecret, rt, "", nil)
		}, false},
		{"another client with the key", func(f *userFixture, rt string, _ map[string]any) (int, map[string]any) {
			// SECURITY-CASES 14 holds for a retry too.
			return f.refreshWithKey("other", f.otherSecret, rt, retryKey, nil)
		}, false},
		{"the successor was used", func(f *userFixture, rt string, first map[string]any) (int, map[string]any) {
			if st, body := f.refreshWithKey("web", f.webSecret, first["refresh_token"].(string), "", nil); st != 200 {
				f.t.Fatalf("refresh with the successor: %d %v", st, body)
			}
			return f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
		}, false},
		{"the successor was used, after the reuse interval", func(f *userFixture, rt string, first map[string]any) (int, map[string]any) {
			// SECURITY-CASES 12: past the interval the spent token is
			// reuse, key or not, once its successor was used.
			if st, body := f.refreshWithKey("web", f.webSecret, first["refresh_token"].(string), "", nil); st != 200 {
				f.t.Fatalf("refresh with the successor: %d %v", st, body)
			}
			f.clock.Advance(time.Duration(f.cfg.Tokens.RefreshReuseInterval) + time.Second)
			return f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
		}, true},
		{"after the retry window", func(f *userFixture, rt string, _ map[string]any) (int, map[string]any) {
			f.clock.Advance(time.Duration(f.cfg.Tokens.RefreshRetryWindow) + time.Second)
			return f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
		}, true},
		{"another key after the reuse interval", func(f *userFixture, rt string, _ map[string]any) (int, map[string]any) {
			f.clock.Advance(time.Duration(f.cfg.Tokens.RefreshReuseInterval) + time.Second)
			return f.refreshWithKey("web", f.webSecret, rt, otherKey, nil)
		}, true},
	}
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				f := newUserFixtureOn(newHarnessOn(t, open))
				rt := f.codeTokens("read")["refresh_token"].(string)
				st, first := f.refreshWithKey("web", f.webSecret, rt, retryKey, nil)
				if st != 200 {
					t.Fatalf("refresh with a key: %d %v", st, first)
				}
				st, body := tc.retry(f, rt, first)
				if st != 400 || errCode(body) != "invalid_grant" {
					t.Fatalf("retry: %d %v, want invalid_grant", st, body)
				}
				if body["refresh_token"] != nil {
					t.Fatalf("a refused retry carries a refresh token: %v", body)
				}
				// The family: the newest token's access token is active
				// unless the family was revoked.
				want := !tc.revoked
				if in := f.introspect(first["access_token"].(string)); in["active"] != want {
					t.Errorf("access token of the family: active %v, want %v", in["active"], want)
				}
			})
		}
	})
}

// TestRefreshRetryDPoPKey: a retry must repeat the DPoP key of the
// rotating request. The public client's login is unbound; the refresh
// with a proof binds the successor to that key, so a retry with another
// key's proof, or none, is refused; with the same key it succeeds.
func TestRefreshRetryDPoPKey(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newUserFixtureOn(newHarnessOn(t, open))
		rt := f.deviceLogin(nil)["refresh_token"].(string)
		key := f.dpopKey()
		st, first := f.refreshWithKey(CLIClientID, "", rt, retryKey, key)
		if st != 200 || first["token_type"] != "DPoP" {
			t.Fatalf("refresh with a key and a proof: %d %v", st, first)
		}
		for name, signer := range map[string]*dpop.Signer{"another DPoP key": f.dpopKey(), "no proof": nil} {
			if st, body := f.refreshWithKey(CLIClientID, "", rt, retryKey, signer); st != 400 || errCode(body) != "invalid_grant" {
				t.Errorf("retry with %s: %d %v, want invalid_grant", name, st, body)
			}
		}
		st, again := f.refreshWithKey(CLIClientID, "", rt, retryKey, key)
		if st != 200 || again["refresh_token"] != first["refresh_token"] {
			t.Fatalf("retry with the same DPoP key: %d %v", st, again)
		}
		if cnf, _ := claimsOf(t, again["access_token"].(string))["cnf"].(map[string]any); cnf["jkt"] != key.Thumbprint() {
			t.Errorf("retried access token cnf %v, want the key's thumbprint", cnf)
		}

		// A bound token: the binding is checked before the key, as for
		// every refresh.
		bound := first["refresh_token"].(string)
		if st, body := f.refreshWithKey(CLIClientID, "", bound, otherKey, key); st != 200 {
			t.Fatalf("refresh of the bound successor: %d %v", st, body)
		}
		if st, body := f.refreshWithKey(CLIClientID, "", bound, otherKey, f.dpopKey()); st != 400 || errCode(body) != "invalid_grant" {
			t.Errorf("retry of a bound token with another DPoP key: %d %v", st, body)
		}
	})
}

// TestRefreshConcurrentKeys: SECURITY-CASES 13 with idempotency keys. Two
// concurrent refreshes of one token without a key, or with different
// keys, get exactly one success; never a 500. Two with the same key both
// get the one successor.
func TestRefreshConcurrentKeys(t *testing.T) {
	onEachBackend(t, func(t *testing.T, open storeOpener) {
		f := newUserFixtureOn(newHarnessOn(t, open))
		for name, keys := range map[string][2]string{"no key": {"", ""}, "different keys": {retryKey, otherKey}, "one key": {retryKey, ""}} {
			rt := f.codeTokens("read")["refresh_token"].(string)
			var wg sync.WaitGroup
			var mu sync.Mutex
			statuses := map[int]int{}
			for _, key := range keys {
				wg.Go(func() {
					st, _ := f.refreshWithKey("web", f.webSecret, rt, key, nil)
					mu.Lock()
					statuses[st]++
					mu.Unlock()
				})
			}
			wg.Wait()
			if statuses[200] != 1 || statuses[400] != 1 {
				t.Errorf("%s: statuses %v, want exactly one 200 and one 400", name, statuses)
			}
		}
		// The same key twice is one request sent twice: the same answer.
		rt := f.codeTokens("read")["refresh_token"].(string)
		var wg sync.WaitGroup
		got := make([]any, 2)
		for i := range got {
			wg.Go(func() {
				if st, body := f.refreshWithKey("web", f.webSecret, rt, retryKey, nil); st == 200 {
					got[i] = body["refresh_token"]
				}
			})
		}
		wg.Wait()
		if got[0] == nil || got[0] != got[1] {
			t.Errorf("two concurrent refreshes with the same key got refresh tokens %v, want the same one twice", got)
		}
	})
}

// TestRefreshIdempotencyKeyMalformed: a malformed key is refused with
// invalid_request naming the header, before the token is spent.
func TestRefreshIdempotencyKeyMalformed(t *testing.T) {
	f := newUserFixture(t)
	rt := f.codeTokens("read")["refresh_token"].(string)
	for _, key := range []string{
		"Ut9mhnP0sLRlV3e8x0p6Bw", // not quoted
		`"short"`,
		`"` + strings.Repeat("a", 256) + `"`,
		`"Ut9mhnP0sLRlV3e8x0p6Bw\x"`,
		"\"Ut9mhnP0sLRlV3e8x0p6B\u00e9\"",
	} {
		st, body := f.refreshWithKey("web", f.webSecret, rt, key, nil)
		if desc, _ := body["error_description"].(string); st != 400 || errCode(body) != "invalid_request" || !strings.Contains(desc, oauth.IdempotencyKeyHeader) {
			t.Errorf("key %q: %d %v, want invalid_request naming the header", key, st, body)
		}
	}
	stored, err := f.store.GetRefreshToken(context.Background(), secret.Hash(rt))
	if err != nil || stored.Rotated {
		t.Fatalf("the token after refused keys: %+v, %v; want it unspent", stored, err)
	}
}
