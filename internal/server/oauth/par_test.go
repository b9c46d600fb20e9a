package oauth

import (
	"net/url"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/testbed"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// TestPushedRequestSpentOnce: a request_uri opened twice before either
// sign-in finishes (two tabs, or a copied link) still ends in one
// authorization: the second spend is refused, and the request cannot be
// opened again.
func TestPushedRequestSpentOnce(t *testing.T) {
	b := testbed.New(t, testbed.Options{})
	e := &Endpoints{store: b.Store, clock: b.Clock}
	ctx := t.Context()
	c := &storage.Client{ID: "web", RedirectURIs: []string{"https://app.example/cb"}}
	tok := secret.NewToken()
	now := b.Clock.Now().UTC()
	err := b.Store.CreatePushedRequest(ctx, &storage.PushedRequest{
		Hash: secret.Hash(tok), ClientID: c.ID, CreatedAt: now, ExpiresAt: now.Add(PARTTL),
		Params: url.Values{"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {"https://app.example/cb"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"client_id": {c.ID}, "request_uri": {RequestURIPrefix + tok}}
	open := func() *AuthorizeRequest {
		t.Helper()
		ar, perr, err := e.OpenPushedRequest(ctx, c, q)
		if err != nil || perr != nil {
			t.Fatalf("open: %v %v", perr, err)
		}
		return ar
	}
	first, second := open(), open()
	if perr, err := e.SpendPushedRequest(ctx, first); perr != nil || err != nil {
		t.Fatalf("first spend: %v %v", perr, err)
	}
	perr, err := e.SpendPushedRequest(ctx, second)
	if err != nil || perr == nil || perr.Code != protocol.ErrInvalidRequestURI {
		t.Fatalf("second spend of one request_uri: %v %v, want %s", perr, err, protocol.ErrInvalidRequestURI)
	}
	if _, perr, err := e.OpenPushedRequest(ctx, c, q); err != nil || perr == nil || perr.Code != protocol.ErrInvalidRequestURI {
		t.Fatalf("open after the spend: %v %v, want %s", perr, err, protocol.ErrInvalidRequestURI)
	}
}

// TestPeekPushedParams: the sign-in pages see the parameters of a pushed
// request only for its own client, while it is neither used nor expired.
func TestPeekPushedParams(t *testing.T) {
	b := testbed.New(t, testbed.Options{})
	e := &Endpoints{store: b.Store, clock: b.Clock}
	ctx := t.Context()
	web := &storage.Client{ID: "web"}
	other := &storage.Client{ID: "other"}
	now := b.Clock.Now().UTC()
	push := func(used bool) string {
		t.Helper()
		tok := secret.NewToken()
		err := b.Store.CreatePushedRequest(ctx, &storage.PushedRequest{
			Hash: secret.Hash(tok), ClientID: web.ID, CreatedAt: now, ExpiresAt: now.Add(PARTTL), Used: used,
			Params: url.Values{"redirect_uri": {"https://app.example/cb"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return RequestURIPrefix + tok
	}
	live, used := push(false), push(true)
	if got := e.PeekPushedParams(ctx, web, live); got.Get("redirect_uri") != "https://app.example/cb" {
		t.Errorf("own live request: %v", got)
	}
	if got := e.PeekPushedParams(ctx, other, live); got != nil {
		t.Errorf("another client's request: %v, want nil", got)
	}
	if got := e.PeekPushedParams(ctx, web, used); got != nil {
		t.Errorf("used request: %v, want nil", got)
	}
	b.Clock.Advance(PARTTL)
	if got := e.PeekPushedParams(ctx, web, live); got != nil {
		t.Errorf("request at its expiry: %v, want nil", got)
	}
}
