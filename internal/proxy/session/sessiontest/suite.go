// Package sessiontest is the conformance suite every session.Store passes:
// Run(t, newStore). It checks round trips, the sentinel errors, expiry on
// a fake clock, that DeleteUser removes exactly one user's sessions, that
// the store hands out independent copies, and concurrent use.
package sessiontest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/session"
)

// NewStore returns a fresh, empty store whose time is clk. It should
// release the store when t ends.
type NewStore func(t *testing.T, clk *clocktest.Fake) session.Store

// Run runs the conformance suite against stores made by newStore, each
// subtest on its own store and clock.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, session.Store, *clocktest.Fake)
	}{
		{"RoundTrip", testRoundTrip},
		{"Duplicate", testDuplicate},
		{"Invalid", testInvalid},
		{"Touch", testTouch},
		{"Delete", testDelete},
		{"Expiry", testExpiry},
		{"TouchKeepsExpiry", testTouchKeepsExpiry},
		{"DeleteUser", testDeleteUser},
		{"Copies", testCopies},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 123_000_000, time.UTC))
			tc.fn(t, newStore(t, clk), clk)
		})
	}
}

// ID returns the session ID of a cookie value: its SHA-256 in hex.
func ID(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// newSession is a session of userID created now, with every field set.
func newSession(clk *clocktest.Fake, cookie, userID string) *session.Session {
	now := clk.Now()
	return &session.Session{
		ID:        ID(cookie),
		UserID:    userID,
		Username:  "name-" + userID,
		Email:     userID + "@example.com",
		Roles:     []string{"admin", "reader"},
		Groups:    []string{"ops-admins", "analysts"},
		AuthTime:  now.Add(-time.Minute),
		CreatedAt: now,
		LastSeen:  now,
		ExpiresAt: now.Add(12 * time.Hour),
		Data:      []byte{0x00, 0x01, 0xfe, 0xff, byte(len(cookie))},

		EmailVerified: true,
	}
}

// equal compares sessions with times to the millisecond and nil equal to
// empty.
var equal = []cmp.Option{cmpopts.EquateApproxTime(time.Millisecond), cmpopts.EquateEmpty()}

func diff(t *testing.T, what string, want, got *session.Session) {
	t.Helper()
	if d := cmp.Diff(want, got, equal...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

func create(t *testing.T, s session.Store, sess *session.Session) {
	t.Helper()
	must(t, "create "+sess.UserID, s.Create(t.Context(), sess))
}

func get(t *testing.T, s session.Store, id string) *session.Session {
	t.Helper()
	got, err := s.Get(t.Context(), id)
	must(t, "get", err)
	return got
}

func gone(t *testing.T, what string, s session.Store, id string) {
	t.Helper()
	got, err := s.Get(t.Context(), id)
	if !errors.Is(err, session.ErrNotFound) {
		t.Errorf("%s: Get = %+v, %v; want %v", what, got, err, session.ErrNotFound)
	}
}

func testRoundTrip(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	must(t, "ping", s.Ping(ctx))
	gone(t, "before create", s, ID("c1"))

	want := newSession(clk, "c1", "alice")
	create(t, s, want)
	diff(t, "session", want, get(t, s, want.ID))

	// Optional fields may be empty.
	bare := &session.Session{ID: ID("c2"), UserID: "bob", CreatedAt: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)}
	create(t, s, bare)
	diff(t, "bare session", bare, get(t, s, bare.ID))
	diff(t, "first session after second", want, get(t, s, want.ID))
}

func testDuplicate(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	first := newSession(clk, "c1", "alice")
	create(t, s, first)
	clk.Advance(time.Minute)
	dup := newSession(clk, "c1", "mallory")
	dup.Roles = []string{"superuser"}
	wantErr(t, "create duplicate", s.Create(ctx, dup), session.ErrAlreadyExists)
	diff(t, "session after duplicate", first, get(t, s, first.ID))
	// The refused duplicate left no trace under its user.
	n, err := s.DeleteUser(ctx, "mallory")
	must(t, "delete duplicate's user", err)
	if n != 0 {
		t.Errorf("DeleteUser of the duplicate's user = %d, want 0", n)
	}
	diff(t, "session after deleting the duplicate's user", first, get(t, s, first.ID))
}

func testInvalid(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	noID := newSession(clk, "c1", "alice")
	noID.ID = ""
	if err := s.Create(ctx, noID); err == nil {
		t.Error("created a session without ID")
	}
	noExpiry := newSession(clk, "c2", "alice")
	noExpiry.ExpiresAt = time.Time{}
	if err := s.Create(ctx, noExpiry); err == nil {
		t.Error("created a session without expiry")
	}
	gone(t, "session without expiry", s, noExpiry.ID)
}

func testTouch(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	want := newSession(clk, "c1", "alice")
	other := newSession(clk, "c2", "alice")
	create(t, s, want)
	create(t, s, other)

	clk.Advance(90 * time.Minute)
	want.LastSeen = clk.Now()
	must(t, "touch", s.Touch(ctx, want.ID, want.LastSeen))
	diff(t, "touched session", want, get(t, s, want.ID))
	diff(t, "other session", other, get(t, s, other.ID))

	clk.Advance(time.Second)
	want.LastSeen = clk.Now()
	must(t, "touch again", s.Touch(ctx, want.ID, want.LastSeen))
	diff(t, "touched again", want, get(t, s, want.ID))

	wantErr(t, "touch unknown", s.Touch(ctx, ID("nope"), clk.Now()), session.ErrNotFound)
	gone(t, "unknown after touch", s, ID("nope"))
}

func testDelete(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	sess := newSession(clk, "c1", "alice")
	other := newSession(clk, "c2", "alice")
	create(t, s, sess)
	create(t, s, other)
	must(t, "delete", s.Delete(ctx, sess.ID))
	gone(t, "deleted", s, sess.ID)
	wantErr(t, "touch deleted", s.Touch(ctx, sess.ID, clk.Now()), session.ErrNotFound)
	must(t, "delete again", s.Delete(ctx, sess.ID))
	must(t, "delete unknown", s.Delete(ctx, ID("nope")))
	diff(t, "other session", other, get(t, s, other.ID))
	// The deleted session is gone from its user too.
	n, err := s.DeleteUser(ctx, "alice")
	must(t, "delete user", err)
	if n != 1 {
		t.Errorf("DeleteUser after Delete = %d, want 1", n)
	}
}

func testExpiry(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	short := newSession(clk, "c1", "alice")
	short.ExpiresAt = clk.Now().Add(time.Hour)
	long := newSession(clk, "c2", "alice")
	long.ExpiresAt = clk.Now().Add(2 * time.Hour)
	create(t, s, short)
	create(t, s, long)

	clk.Advance(time.Hour - time.Second)
	diff(t, "session a second before expiry", short, get(t, s, short.ID))
	clk.Advance(time.Second)
	gone(t, "session at its expiry", s, short.ID)
	wantErr(t, "touch expired", s.Touch(ctx, short.ID, clk.Now()), session.ErrNotFound)
	gone(t, "expired session after touch", s, short.ID)
	diff(t, "longer session", long, get(t, s, long.ID))

	clk.Advance(time.Hour)
	gone(t, "longer session at its expiry", s, long.ID)
	// Delete and DeleteUser still work on what the store may not have
	// forgotten yet.
	must(t, "delete expired", s.Delete(ctx, short.ID))
	if _, err := s.DeleteUser(ctx, "alice"); err != nil {
		t.Errorf("delete user of expired sessions: %v", err)
	}
	gone(t, "after delete user", s, long.ID)
}

func testTouchKeepsExpiry(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	sess := newSession(clk, "c1", "alice")
	sess.ExpiresAt = clk.Now().Add(time.Hour)
	create(t, s, sess)
	for range 4 {
		clk.Advance(15*time.Minute - time.Second)
		must(t, "touch", s.Touch(ctx, sess.ID, clk.Now()))
	}
	clk.Advance(4 * time.Second)
	gone(t, "session touched until its absolute expiry", s, sess.ID)
}

func testDeleteUser(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	var alice, bob []*session.Session
	for i := range 3 {
		a := newSession(clk, fmt.Sprintf("a%d", i), "alice")
		create(t, s, a)
		alice = append(alice, a)
		b := newSession(clk, fmt.Sprintf("b%d", i), "bob")
		create(t, s, b)
		bob = append(bob, b)
	}
	// A user ID that is a prefix of another is a different user.
	al := newSession(clk, "al", "al")
	create(t, s, al)
	clk.Advance(time.Minute)
	must(t, "touch", s.Touch(ctx, alice[1].ID, clk.Now()))

	n, err := s.DeleteUser(ctx, "alice")
	must(t, "delete alice", err)
	if n != len(alice) {
		t.Errorf("DeleteUser(alice) = %d, want %d", n, len(alice))
	}
	for _, a := range alice {
		gone(t, "alice's session", s, a.ID)
		wantErr(t, "touch alice's session", s.Touch(ctx, a.ID, clk.Now()), session.ErrNotFound)
	}
	for _, b := range bob {
		diff(t, "bob's session", b, get(t, s, b.ID))
	}
	diff(t, "al's session", al, get(t, s, al.ID))

	n, err = s.DeleteUser(ctx, "alice")
	must(t, "delete alice again", err)
	if n != 0 {
		t.Errorf("second DeleteUser(alice) = %d, want 0", n)
	}
	n, err = s.DeleteUser(ctx, "nobody")
	must(t, "delete unknown user", err)
	if n != 0 {
		t.Errorf("DeleteUser(nobody) = %d, want 0", n)
	}
	// A new session after DeleteUser is not affected by the earlier one.
	again := newSession(clk, "a-again", "alice")
	create(t, s, again)
	diff(t, "alice's new session", again, get(t, s, again.ID))
}

func testCopies(t *testing.T, s session.Store, clk *clocktest.Fake) {
	in := newSession(clk, "c1", "alice")
	want := newSession(clk, "c1", "alice")
	create(t, s, in)
	// Changing what was passed to Create changes nothing stored.
	in.Roles[0] = "superuser"
	in.Data[0] = 0x42
	in.Username = "mallory"
	diff(t, "session after changing the created value", want, get(t, s, want.ID))

	got := get(t, s, want.ID)
	got.Roles[0] = "superuser"
	got.Roles = append(got.Roles, "more")
	got.Data[0] = 0x42
	got.UserID = "mallory"
	got.ExpiresAt = got.ExpiresAt.Add(24 * time.Hour)
	diff(t, "session after changing a copy", want, get(t, s, want.ID))
}

// testConcurrent has workers create, read, touch and delete their own
// sessions while all of them read and touch a shared one and race to
// create the same ID, which exactly one may.
func testConcurrent(t *testing.T, s session.Store, clk *clocktest.Fake) {
	ctx := t.Context()
	const workers, each = 8, 20
	shared := newSession(clk, "shared", "carol")
	create(t, s, shared)

	var created atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers*(each+2))
	for w := range workers {
		wg.Go(func() {
			user := fmt.Sprintf("user%d", w)
			dup := newSession(clk, "contested", user)
			switch err := s.Create(ctx, dup); {
			case err == nil:
				created.Add(1)
			case !errors.Is(err, session.ErrAlreadyExists):
				errs <- fmt.Errorf("create contested: %w", err)
			}
			for i := range each {
				sess := newSession(clk, fmt.Sprintf("w%d-%d", w, i), user)
				if err := s.Create(ctx, sess); err != nil {
					errs <- fmt.Errorf("create: %w", err)
					return
				}
				got, err := s.Get(ctx, sess.ID)
				if err != nil || got.UserID != user {
					errs <- fmt.Errorf("get own session: %+v, %v", got, err)
					return
				}
				if err := s.Touch(ctx, sess.ID, clk.Now()); err != nil {
					errs <- fmt.Errorf("touch own session: %w", err)
				}
				if got, err := s.Get(ctx, shared.ID); err != nil || got.UserID != shared.UserID {
					errs <- fmt.Errorf("get shared session: %+v, %v", got, err)
				}
				if err := s.Touch(ctx, shared.ID, clk.Now()); err != nil {
					errs <- fmt.Errorf("touch shared session: %w", err)
				}
				if i%2 == 0 {
					if err := s.Delete(ctx, sess.ID); err != nil {
						errs <- fmt.Errorf("delete own session: %w", err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := created.Load(); n != 1 {
		t.Errorf("%d workers created the same session ID, want exactly 1", n)
	}
	owner := get(t, s, ID("contested")).UserID
	for w := range workers {
		user := fmt.Sprintf("user%d", w)
		want := each / 2
		if user == owner {
			want++
		}
		n, err := s.DeleteUser(ctx, user)
		must(t, "delete "+user, err)
		if n != want {
			t.Errorf("DeleteUser(%s) = %d, want %d", user, n, want)
		}
	}
	diff(t, "shared session", shared, get(t, s, shared.ID))
}
