package proxy

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countIntrospection counts the gateway's introspection requests to the
// issuer.
func countIntrospection(h *harness) *atomic.Int64 {
	var n atomic.Int64
	base := h.srv.HTTP.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	h.srv.HTTP.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if strings.HasSuffix(r.URL.Path, "/introspect") {
			n.Add(1)
		}
		return base.RoundTrip(r)
	})
	return &n
}

// 120 bad opaque tokens from one address do not make 120 introspection
// requests: once the address is over its limit of refused credentials it
// gets 429 without the issuer being asked, and a token just refused is
// refused again from memory.
func TestRefusedTokensAreNotIntrospectedAgain(t *testing.T) {
	h := newHarness(t)
	calls := countIntrospection(h)
	codes := map[int]int{}
	for i := range 120 {
		res := h.get(h.client(), "/echo", bearer(fmt.Sprintf("gatehouse_bad%04dxxxxxxxxxxxxxxxxxxxxxxxx", i)))
		codes[res.StatusCode]++
	}
	if n := calls.Load(); n > 25 {
		t.Fatalf("120 bad tokens made %d introspection requests (answers %v)", n, codes)
	}
	if codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("answers %v", codes)
	}

	h2 := newHarness(t)
	calls2 := countIntrospection(h2)
	for range 10 {
		// Past the verifier's own 10 s cache, within the gateway's minute.
		h2.srv.Clock.Advance(5 * time.Second)
		if res := h2.get(h2.client(), "/echo", bearer("gatehouse_samebadtokenxxxxxxxxxxxxxxxxxxx")); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("bad token: %d", res.StatusCode)
		}
	}
	if n := calls2.Load(); n != 1 {
		t.Fatalf("one bad token sent 10 times made %d introspection requests", n)
	}
}
