package server

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestReadyzReflectsRedis(t *testing.T) {
	h := newHarness(t)
	sec := h.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}})
	mr := miniredis.RunT(t)
	rc := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rc.Close() })
	h.srv.limiter = ratelimit.NewRedis(rc, ratelimit.RedisOptions{Clock: h.clock})

	status := func() int {
		resp, err := http.Get(h.url(PathReadyz))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("readyz with redis up: %d", got)
	}
	mr.Close()
	if got := status(); got != http.StatusServiceUnavailable {
		t.Fatalf("readyz with redis down: %d, want 503", got)
	}
	// Logins fail closed without the limiter; the token endpoint keeps serving.
	c := h.newBrowser()
	form := h.loginForm(c, "admin", "admin-password-1")
	if p := h.submit(c, PathLogin, form); p.status != http.StatusServiceUnavailable {
		t.Errorf("login with redis down: %d, want 503", p.status)
	}
	if st, body, _ := h.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "ci", sec); st != http.StatusOK {
		t.Errorf("token endpoint with redis down: %d %v, want 200", st, body)
	}
}
