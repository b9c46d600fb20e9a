package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var totpTests = []test{
	{"TOTP/RoundTripUpdateDelete", testTOTP},
	{"TOTP/DeletedWithUser", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		must(t, "create user", s.CreateUser(ctx, newUser("u1", "alice")))
		must(t, "create totp", s.CreateTOTP(ctx, newTOTP("u1")))
		must(t, "delete user", s.DeleteUser(ctx, "u1"))
		_, err := s.GetTOTP(ctx, "u1")
		wantErr(t, "get after user deleted", err, storage.ErrNotFound)
	}},
	{"Session/ListAndDeleteUserSessions", testUserSessions},
	{"Concurrent/TOTPStepUsedOnce", inRounds(testConcurrentTOTPStep)},
	{"Concurrent/TerminalChallengeUsedOnce", inRounds(testConcurrentTerminalChallenge)},
}

// testConcurrentTOTPStep has racers accept the same time step at once, as
// two logins with the same code would: exactly one may (SECURITY-CASES 31).
func testConcurrentTOTPStep(t *testing.T, s storage.Store, round int) {
	ctx := t.Context()
	userID := fmt.Sprintf("u%d", round)
	must(t, "create", s.CreateTOTP(ctx, newTOTP(userID)))
	const step = 1000
	errs := race(racers, func(int) error {
		return s.UpdateTOTP(ctx, userID, func(v *storage.TOTP) error {
			if v.LastStep >= step {
				return errStop
			}
			v.LastStep = step
			return nil
		})
	})
	oneWinner(t, errs, errStop)
}

// testConcurrentTerminalChallenge has racers answer the same mfa_token of
// a terminal sign-in at once: exactly one may clear its challenge.
func testConcurrentTerminalChallenge(t *testing.T, s storage.Store, round int) {
	ctx := t.Context()
	userID := fmt.Sprintf("u%d", round)
	tt := newTOTP(userID)
	tt.TerminalChallenge = hash("nonce")
	must(t, "create", s.CreateTOTP(ctx, tt))
	errs := race(racers, func(int) error {
		return s.UpdateTOTP(ctx, userID, func(v *storage.TOTP) error {
			if v.TerminalChallenge != hash("nonce") {
				return errStop
			}
			v.TerminalChallenge = ""
			return nil
		})
	})
	oneWinner(t, errs, errStop)
}

func newTOTP(userID string) *storage.TOTP {
	return &storage.TOTP{
		UserID:          userID,
		EncryptedSecret: []byte{1, 2, 3, 0, 255},
		RecoveryCodes:   []string{hash("r1"), hash("r2")},
		CreatedAt:       base,
		UpdatedAt:       base,
	}
}

func testTOTP(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetTOTP(ctx, "u1")
	wantErr(t, "get before create", err, storage.ErrNotFound)
	wantErr(t, "update missing", s.UpdateTOTP(ctx, "u1", func(*storage.TOTP) error { return nil }), storage.ErrNotFound)
	wantErr(t, "delete missing", s.DeleteTOTP(ctx, "u1"), storage.ErrNotFound)

	want := newTOTP("u1")
	must(t, "create", s.CreateTOTP(ctx, want))
	wantErr(t, "create duplicate", s.CreateTOTP(ctx, newTOTP("u1")), storage.ErrAlreadyExists)
	got, err := s.GetTOTP(ctx, "u1")
	must(t, "get", err)
	diff(t, "totp", want, got)

	// An updater error leaves the row unchanged and comes back as is.
	err = s.UpdateTOTP(ctx, "u1", func(v *storage.TOTP) error {
		v.LastStep = 99
		return errStop
	})
	wantErr(t, "aborted update", err, errStop)
	got, err = s.GetTOTP(ctx, "u1")
	must(t, "get after abort", err)
	diff(t, "totp after abort", want, got)

	must(t, "update", s.UpdateTOTP(ctx, "u1", func(v *storage.TOTP) error {
		v.UserID = "other" // ignored
		v.Enrolled = true
		v.LastStep = 58_000_000
		v.RecoveryCodes = v.RecoveryCodes[1:]
		v.UpdatedAt = base.Add(time.Minute)
		v.Failures, v.LockedUntil = 7, base.Add(time.Hour)
		v.TerminalChallenge = hash("challenge")
		return nil
	}))
	want.Enrolled, want.LastStep, want.RecoveryCodes, want.UpdatedAt = true, 58_000_000, want.RecoveryCodes[1:], base.Add(time.Minute)
	want.Failures, want.LockedUntil = 7, base.Add(time.Hour)
	want.TerminalChallenge = hash("challenge")
	got, err = s.GetTOTP(ctx, "u1")
	must(t, "get updated", err)
	diff(t, "updated totp", want, got)

	// The back-off state clears again.
	must(t, "clear back-off", s.UpdateTOTP(ctx, "u1", func(v *storage.TOTP) error {
		v.Failures, v.LockedUntil, v.TerminalChallenge = 0, time.Time{}, ""
		return nil
	}))
	want.Failures, want.LockedUntil, want.TerminalChallenge = 0, time.Time{}, ""
	got, err = s.GetTOTP(ctx, "u1")
	must(t, "get cleared", err)
	diff(t, "cleared totp", want, got)

	must(t, "delete", s.DeleteTOTP(ctx, "u1"))
	_, err = s.GetTOTP(ctx, "u1")
	wantErr(t, "get deleted", err, storage.ErrNotFound)
}

func testUserSessions(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, b, c := newSession("a", "u1"), newSession("b", "u1"), newSession("c", "u2")
	b.CreatedAt = base.Add(time.Second)
	for _, sess := range []*storage.Session{b, a, c} {
		must(t, "create", s.CreateSession(ctx, sess))
	}
	got, err := s.ListUserSessions(ctx, "u1")
	must(t, "list", err)
	diff(t, "sessions of u1", []*storage.Session{a, b}, got)

	n, err := s.DeleteUserSessions(ctx, "u1", b.Hash)
	must(t, "delete others", err)
	if n != 1 {
		t.Errorf("deleted %d sessions, want 1", n)
	}
	got, err = s.ListUserSessions(ctx, "u1")
	must(t, "list after delete", err)
	diff(t, "sessions left", []*storage.Session{b}, got)
	if _, err := s.GetSession(ctx, c.Hash); err != nil {
		t.Errorf("other user's session: %v", err)
	}
	n, err = s.DeleteUserSessions(ctx, "u1", "")
	must(t, "delete all", err)
	if n != 1 {
		t.Errorf("deleted %d sessions, want 1", n)
	}
}
