// Package credstoretest is the conformance suite every credstore.Store
// backend passes. A backend's test calls Run with a constructor for a
// fresh, empty store; the suite checks round trips, the ErrNotFound and
// ErrInvalidProfile contracts, overwrite and delete, sorted listing, odd
// profile names, concurrent writers, and that Lock excludes and honours
// its context.
package credstoretest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// test is one conformance check on a fresh store.
type test struct {
	name string
	run  func(t *testing.T, s credstore.Store)
}

var tests = []test{
	{"RoundTrip", testRoundTrip},
	{"NotFound", testNotFound},
	{"Overwrite", testOverwrite},
	{"Delete", testDelete},
	{"ListSorted", testListSorted},
	{"Copies", testCopies},
	{"NilCredential", testNilCredential},
	{"OddProfileNames", testOddProfileNames},
	{"InvalidProfileNames", testInvalidProfileNames},
	{"ConcurrentPut", testConcurrentPut},
	{"LockExcludes", testLockExcludes},
	{"LockCancel", testLockCancel},
	{"LockPerProfile", testLockPerProfile},
	{"LockThenWrite", testLockThenWrite},
}

// Run runs the conformance suite. Each subtest gets its own store from
// newStore, which must return a new, empty store on every call; subtests
// run one after another, so newStore need not be safe for concurrent use
// (go-keyring's mock is global).
func Run(t *testing.T, newStore func(t *testing.T) credstore.Store) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, newStore(t))
		})
	}
}

// base is the time fixtures start from: second precision, UTC.
var base = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// credential returns a credential with every field set, distinct per seed.
func credential(seed string) *credstore.Credential {
	return &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://id.example.com/" + seed,
		ClientID:     "cli-" + seed,
		ClientSecret: "client-secret-" + seed,
		APIKey:       "gh_apikey_" + seed,
		TokenType:    "Bearer",
		AccessToken:  "eyJhbGciOiJFUzI1NiJ9.access." + seed,
		RefreshToken: "refresh-" + seed,
		IDToken:      "eyJhbGciOiJFUzI1NiJ9.id." + seed,
		Expiry:       base.Add(time.Hour),
		Scopes:       []string{"openid", "offline_access", "scope-" + seed},
		Subject:      "sub-" + seed,
		Username:     "user-" + seed,
		UpdatedAt:    base,
		DPoPKey:      "-----BEGIN PRIVATE KEY-----\ndpop-" + seed + "\n-----END PRIVATE KEY-----\n",
	}
}

// diff fails t when got differs from want.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func get(t *testing.T, s credstore.Store, profile string) *credstore.Credential {
	t.Helper()
	c, err := s.Get(t.Context(), profile)
	must(t, "Get "+profile, err)
	return c
}

func list(t *testing.T, s credstore.Store) []string {
	t.Helper()
	names, err := s.List(t.Context())
	must(t, "List", err)
	return names
}

func testRoundTrip(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	want := credential("a")
	must(t, "Put", s.Put(ctx, "default", want))
	diff(t, "Get", want, get(t, s, "default"))

	minimal := &credstore.Credential{Kind: credstore.KindAPIKey, Issuer: "https://x", APIKey: "k"}
	must(t, "Put minimal", s.Put(ctx, "minimal", minimal))
	diff(t, "Get minimal", minimal, get(t, s, "minimal"))
}

func testNotFound(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	if _, err := s.Get(ctx, "nobody"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get on an empty store: error = %v, want ErrNotFound", err)
	}
	must(t, "Put", s.Put(ctx, "somebody", credential("s")))
	if _, err := s.Get(ctx, "nobody"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get of another profile: error = %v, want ErrNotFound", err)
	}
	if got := list(t, s); len(got) != 1 {
		t.Errorf("List = %q, want only somebody", got)
	}
}

func testOverwrite(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	must(t, "Put 1", s.Put(ctx, "p", credential("first")))
	second := credential("second")
	second.Scopes = nil
	must(t, "Put 2", s.Put(ctx, "p", second))
	diff(t, "Get after overwrite", second, get(t, s, "p"))
	diff(t, "List after overwrite", []string{"p"}, list(t, s))
}

func testDelete(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	must(t, "Delete missing on empty store", s.Delete(ctx, "ghost"))
	must(t, "Put a", s.Put(ctx, "a", credential("a")))
	must(t, "Put b", s.Put(ctx, "b", credential("b")))
	must(t, "Delete a", s.Delete(ctx, "a"))
	if _, err := s.Get(ctx, "a"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get after Delete: error = %v, want ErrNotFound", err)
	}
	must(t, "Delete a again", s.Delete(ctx, "a"))
	must(t, "Delete missing", s.Delete(ctx, "ghost"))
	diff(t, "List after Delete", []string{"b"}, list(t, s))
	diff(t, "Get b (untouched)", credential("b"), get(t, s, "b"))
}

func testListSorted(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	if got := list(t, s); len(got) != 0 {
		t.Errorf("List on an empty store = %q, want none", got)
	}
	for _, p := range []string{"staging", "ci", "prod", "dev", "Zeta"} {
		must(t, "Put "+p, s.Put(ctx, p, credential(p)))
	}
	diff(t, "List", []string{"Zeta", "ci", "dev", "prod", "staging"}, list(t, s))
}

// testCopies checks that the store neither keeps the caller's value nor
// hands out its own: changing either after the call changes nothing.
func testCopies(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	c := credential("c")
	must(t, "Put", s.Put(ctx, "p", c))
	c.AccessToken = "changed after Put"
	c.Scopes[0] = "changed after Put"
	got := get(t, s, "p")
	diff(t, "Get after changing the Put value", credential("c"), got)
	got.RefreshToken = "changed after Get"
	got.Scopes[0] = "changed after Get"
	diff(t, "Get after changing a Get value", credential("c"), get(t, s, "p"))
}

func testNilCredential(t *testing.T, s credstore.Store) {
	if err := s.Put(t.Context(), "p", nil); err == nil {
		t.Error("Put(nil) succeeded, want an error")
	}
}

// oddNames are valid profile names that are not plain words.
var oddNames = []string{
	"my profile", "prod:eu-west-1", "ünïcødé-日本", "a.b", "x%41y", "name.lock",
	"-leading-dash", "UPPER", "Upper", "user@example.com", "q?*<>|\"", "con", "CON.x",
	"credentials.json", ".hidden", "a..b", "tab\u00a0nbsp",
}

func testOddProfileNames(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	for _, p := range oddNames {
		must(t, fmt.Sprintf("Put %q", p), s.Put(ctx, p, credential(p)))
	}
	for _, p := range oddNames {
		diff(t, fmt.Sprintf("Get %q", p), credential(p), get(t, s, p))
		unlock, err := s.Lock(ctx, p)
		must(t, fmt.Sprintf("Lock %q", p), err)
		unlock()
	}
	got := list(t, s)
	if len(got) != len(oddNames) {
		t.Errorf("List = %q, want %d names", got, len(oddNames))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] >= got[i] {
			t.Errorf("List not sorted: %q before %q", got[i-1], got[i])
		}
	}
	// Two names differing only in case are two profiles, each with its
	// own lock, even on a case-insensitive file system.
	unlock, err := s.Lock(ctx, "UPPER")
	must(t, "Lock UPPER", err)
	defer unlock()
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlock2, err := s.Lock(lctx, "upper")
	must(t, "Lock upper while UPPER is held", err)
	unlock2()
}

// invalidNames are profile names every store rejects.
var invalidNames = []string{
	"", "a/b", `a\b`, "/abs", "../up", ".", "..", "nul\x00byte", "line\nbreak",
	" padded", "padded ", "credentials", "credentials-keyring", "\xff\xfe",
	strings.Repeat("x", credstore.MaxProfileLen+1),
}

func testInvalidProfileNames(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	for _, p := range invalidNames {
		if err := s.Put(ctx, p, credential("x")); !errors.Is(err, credstore.ErrInvalidProfile) {
			t.Errorf("Put %q: error = %v, want ErrInvalidProfile", p, err)
		}
		if _, err := s.Get(ctx, p); !errors.Is(err, credstore.ErrInvalidProfile) {
			t.Errorf("Get %q: error = %v, want ErrInvalidProfile", p, err)
		}
		if err := s.Delete(ctx, p); !errors.Is(err, credstore.ErrInvalidProfile) {
			t.Errorf("Delete %q: error = %v, want ErrInvalidProfile", p, err)
		}
		if unlock, err := s.Lock(ctx, p); !errors.Is(err, credstore.ErrInvalidProfile) {
			t.Errorf("Lock %q: error = %v, want ErrInvalidProfile", p, err)
			if err == nil {
				unlock()
			}
		}
	}
	if got := list(t, s); len(got) != 0 {
		t.Errorf("List after rejected Puts = %q, want none", got)
	}
}

// testConcurrentPut writes different profiles from many goroutines at
// once; a store that rewrites one shared document without a store-wide
// lock loses some of them.
func testConcurrentPut(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	const writers, each = 6, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				p := fmt.Sprintf("w%d-p%d", w, i)
				if err := s.Put(ctx, p, credential(p)); err != nil {
					errs <- fmt.Errorf("Put %s: %w", p, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := list(t, s)
	if len(got) != writers*each {
		t.Fatalf("List has %d profiles after %d concurrent Puts: %q", len(got), writers*each, got)
	}
	for _, p := range got {
		diff(t, "Get "+p, credential(p), get(t, s, p))
	}
}

// waitLock is how long the suite lets a Lock that must block try before
// concluding it blocks.
const waitLock = 100 * time.Millisecond

func testLockExcludes(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	unlock, err := s.Lock(ctx, "p")
	must(t, "Lock", err)

	short, cancel := context.WithTimeout(ctx, waitLock)
	defer cancel()
	if unlock2, err := s.Lock(short, "p"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Lock while held: error = %v, want context.DeadlineExceeded", err)
		if err == nil {
			unlock2()
		}
	}

	var (
		mu       sync.Mutex
		released bool
		acquired = make(chan bool, 1)
	)
	go func() {
		unlock2, err := s.Lock(ctx, "p")
		if err != nil {
			t.Errorf("waiting Lock: %v", err)
			acquired <- false
			return
		}
		mu.Lock()
		acquired <- released
		mu.Unlock()
		unlock2()
	}()
	select {
	case <-acquired:
		t.Fatal("a waiting Lock was granted while the lock was held")
	case <-time.After(waitLock):
	}
	mu.Lock()
	released = true
	unlock()
	mu.Unlock()
	select {
	case ok := <-acquired:
		if !ok {
			t.Error("the waiting Lock was granted before Unlock")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting Lock was not granted after Unlock")
	}
	unlock() // a second call does nothing
	unlock3, err := s.Lock(ctx, "p")
	must(t, "Lock after double unlock", err)
	unlock3()
}

func testLockCancel(t *testing.T, s credstore.Store) {
	ctx := t.Context()
	unlock, err := s.Lock(ctx, "p")
	must(t, "Lock", err)
	defer unlock()

	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		unlock2, err := s.Lock(wctx, "p")
		if err == nil {
			unlock2()
		}
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Lock returned %v while the lock was held", err)
	case <-time.After(waitLock):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lock after cancel: error = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Lock did not return after its context was cancelled")
	}

	dead, cancel2 := context.WithCancel(ctx)
	cancel2()
	if unlock3, err := s.Lock(dead, "other"); !errors.Is(err, context.Canceled) {
		t.Errorf("Lock with a cancelled context: error = %v, want context.Canceled", err)
		if err == nil {
			unlock3()
		}
	}
}

func testLockPerProfile(t *testing.T, s credstore.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	unlockA, err := s.Lock(ctx, "a")
	must(t, "Lock a", err)
	defer unlockA()
	unlockB, err := s.Lock(ctx, "b")
	must(t, "Lock b while a is held", err)
	unlockB()
}

// testLockThenWrite checks the refresh pattern: under the profile's lock,
// read, write and delete — the store's own locking must not deadlock
// with the caller's.
func testLockThenWrite(t *testing.T, s credstore.Store) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	unlock, err := s.Lock(ctx, "p")
	must(t, "Lock", err)
	defer unlock()
	if _, err := s.Get(ctx, "p"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("Get under lock: error = %v, want ErrNotFound", err)
	}
	must(t, "Put under lock", s.Put(ctx, "p", credential("p")))
	must(t, "Put other under lock", s.Put(ctx, "q", credential("q")))
	diff(t, "Get under lock", credential("p"), get(t, s, "p"))
	must(t, "Delete under lock", s.Delete(ctx, "p"))
	diff(t, "List", []string{"q"}, list(t, s))
}
