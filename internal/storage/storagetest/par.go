package storagetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var pushedRequestTests = []test{
	{"PushedRequest/RoundTripAndUse", testPushedRequestRoundTrip},
	{"PushedRequest/Duplicate", testPushedRequestDuplicate},
	{"PushedRequest/NotFound", testPushedRequestNotFound},
	{"PushedRequest/UpdaterError", testPushedRequestUpdaterError},
	{"Concurrent/UsePushedRequest", inRounds(testConcurrentUsePushedRequest)},
}

func newPushedRequest(secret string) *storage.PushedRequest {
	return &storage.PushedRequest{
		Hash:     hash(secret),
		ClientID: "app",
		Params: map[string][]string{
			"client_id":    {"app"},
			"redirect_uri": {"https://app.example/callback"},
			"scope":        {"openid profile"},
			"resource":     {"https://api.example", "https://other.example/x"},
		},
		CreatedAt: base,
		ExpiresAt: base.Add(90 * time.Second),
	}
}

// loadPushedRequest reads a pushed request through UpdatePushedRequest
// with an updater that aborts.
func loadPushedRequest(t *testing.T, s storage.Store, h string) *storage.PushedRequest {
	t.Helper()
	var got *storage.PushedRequest
	err := s.UpdatePushedRequest(t.Context(), h, func(p *storage.PushedRequest) error {
		cp := *p
		got = &cp
		return errStop
	})
	if err != errStop {
		t.Fatalf("load pushed request: %v", err)
	}
	return got
}

func testPushedRequestRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newPushedRequest("par1")
	must(t, "create", s.CreatePushedRequest(ctx, want))
	diff(t, "pushed request", want, loadPushedRequest(t, s, want.Hash))

	opened := base.Add(10 * time.Second)
	must(t, "open and use", s.UpdatePushedRequest(ctx, want.Hash, func(p *storage.PushedRequest) error {
		p.OpenedAt = opened
		p.ExpiresAt = opened.Add(10 * time.Minute)
		p.Used = true
		return nil
	}))
	want.OpenedAt, want.ExpiresAt, want.Used = opened, opened.Add(10*time.Minute), true
	diff(t, "used pushed request", want, loadPushedRequest(t, s, want.Hash))

	bare := &storage.PushedRequest{Hash: hash("bare"), ClientID: "app"}
	must(t, "create bare", s.CreatePushedRequest(ctx, bare))
	diff(t, "bare pushed request", bare, loadPushedRequest(t, s, bare.Hash))
}

func testPushedRequestDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreatePushedRequest(ctx, newPushedRequest("par1")))
	other := newPushedRequest("par1")
	other.ClientID = "evil"
	wantErr(t, "create duplicate", s.CreatePushedRequest(ctx, other), storage.ErrAlreadyExists)
	diff(t, "pushed request after duplicate", newPushedRequest("par1"), loadPushedRequest(t, s, hash("par1")))
}

func testPushedRequestNotFound(t *testing.T, s storage.Store) {
	called := false
	err := s.UpdatePushedRequest(t.Context(), hash("nope"), func(*storage.PushedRequest) error { called = true; return nil })
	wantErr(t, "update", err, storage.ErrNotFound)
	if called {
		t.Error("update called fn for a missing pushed request")
	}
}

func testPushedRequestUpdaterError(t *testing.T, s storage.Store) {
	ctx := t.Context()
	p := newPushedRequest("par1")
	must(t, "create", s.CreatePushedRequest(ctx, p))
	err := s.UpdatePushedRequest(ctx, p.Hash, func(p *storage.PushedRequest) error {
		p.Used = true
		return errStop
	})
	if err != errStop {
		t.Errorf("update error = %v, want the updater's error unchanged", err)
	}
	diff(t, "pushed request after aborted update", newPushedRequest("par1"), loadPushedRequest(t, s, p.Hash))
}

// testConcurrentUsePushedRequest: of many /authorize requests spending
// one request_uri at once, exactly one succeeds.
func testConcurrentUsePushedRequest(t *testing.T, s storage.Store, round int) {
	ctx := t.Context()
	p := newPushedRequest(fmt.Sprint("par-", round))
	must(t, "create", s.CreatePushedRequest(ctx, p))
	errUsed := errors.New("already used")
	errs := race(racers, func(i int) error {
		return s.UpdatePushedRequest(ctx, p.Hash, func(p *storage.PushedRequest) error {
			if p.Used {
				return errUsed
			}
			p.Used = true
			return nil
		})
	})
	oneWinner(t, errs, errUsed)
	if !loadPushedRequest(t, s, p.Hash).Used {
		t.Error("pushed request not used after the race")
	}
}
