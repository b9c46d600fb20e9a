package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// racers is how many goroutines compete for one code or token; each race
// runs for rounds fresh codes, the first of which also warms up the
// backend's connection pool so later rounds overlap tightly.
const (
	racers = 16
	rounds = 3
)

var concurrencyTests = []test{
	{"Concurrent/RedeemAuthCode", inRounds(testConcurrentRedeem)},
	{"Concurrent/RotateRefreshToken", inRounds(testConcurrentRotate)},
	{"Concurrent/DeviceCodeApproveAndConsume", inRounds(testConcurrentDeviceCode)},
	{"Concurrent/RotateWhileRevoking", testConcurrentRotateRevoke},
}

// inRounds runs a race test rounds times on the same store; the round
// number makes its codes and tokens unique.
func inRounds(f func(t *testing.T, s storage.Store, round int)) func(t *testing.T, s storage.Store) {
	return func(t *testing.T, s storage.Store) {
		for round := range rounds {
			f(t, s, round)
		}
	}
}

// race runs f(i) for i in [0, n) in goroutines released together and
// returns their errors.
func race(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one error is nil and all others are lost.
// It returns the winner's index.
func oneWinner(t *testing.T, errs []error, lost error) int {
	t.Helper()
	winner, wins := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			winner = i
			wins++
		case errors.Is(err, lost):
		default:
			t.Errorf("racer %d: unexpected error %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d racers succeeded, want exactly 1", wins)
	}
	return winner
}

func testConcurrentRedeem(t *testing.T, s storage.Store, round int) {
	ctx := t.Context()
	c := newAuthCode(fmt.Sprint("code-", round))
	must(t, "create", s.CreateAuthCode(ctx, c))
	errRedeemed := errors.New("already redeemed")
	errs := race(racers, func(i int) error {
		return s.UpdateAuthCode(ctx, c.Hash, func(c *storage.AuthCode) error {
			if c.Redeemed {
				return errRedeemed
			}
			c.Redeemed = true
			c.GrantID = fmt.Sprintf("grant-%d", i)
			return nil
		})
	})
	winner := oneWinner(t, errs, errRedeemed)
	got := loadAuthCode(t, s, c.Hash)
	if want := fmt.Sprintf("grant-%d", winner); !got.Redeemed || got.GrantID != want {
		t.Errorf("code after race: Redeemed=%v GrantID=%q, want true, %q", got.Redeemed, got.GrantID, want)
	}
}

func testConcurrentRotate(t *testing.T, s storage.Store, round int) {
	ctx := t.Context()
	g := newGrant(fmt.Sprint("g-", round), "app", "u1")
	must(t, "create grant", s.CreateGrant(ctx, g))
	old := newRefreshToken(fmt.Sprint("rt-", round), g)
	must(t, "create refresh token", s.CreateRefreshToken(ctx, old))
	errReuse := errors.New("refresh token reused")
	next := func(i int) *storage.RefreshToken { return newRefreshToken(fmt.Sprintf("rt-%d-%d", round, i), g) }
	errs := race(racers, func(i int) error {
		return s.RotateRefreshToken(ctx, old.Hash, func(o *storage.RefreshToken, _ *storage.Grant) (*storage.RefreshToken, error) {
			if o.Rotated {
				return nil, errReuse
			}
			return next(i), nil
		})
	})
	winner := oneWinner(t, errs, errReuse)
	got, err := s.GetRefreshToken(ctx, old.Hash)
	must(t, "get old", err)
	if !got.Rotated {
		t.Error("old token not marked rotated")
	}
	for i := range racers {
		_, err := s.GetRefreshToken(ctx, next(i).Hash)
		if i == winner {
			must(t, "get winner's token", err)
		} else {
			wantErr(t, fmt.Sprintf("loser %d's token", i), err, storage.ErrNotFound)
		}
	}
}

func testConcurrentDeviceCode(t *testing.T, s storage.Store, round int) {
	ctx := t.Context()
	userCode := fmt.Sprintf("AAAABBB%d", round)
	d := newDeviceCode(fmt.Sprint("dev-", round), userCode)
	must(t, "create", s.CreateDeviceCode(ctx, d))

	errNotPending := errors.New("not pending")
	errs := race(racers, func(i int) error {
		return s.UpdateDeviceCode(ctx, d.Hash, func(d *storage.DeviceCode) error {
			if d.Status != storage.DeviceStatusPending {
				return errNotPending
			}
			d.Status = storage.DeviceStatusApproved
			d.UserID = fmt.Sprintf("user-%d", i)
			return nil
		})
	})
	approver := oneWinner(t, errs, errNotPending)

	errNotApproved := errors.New("not approved")
	errs = race(racers, func(i int) error {
		return s.UpdateDeviceCode(ctx, d.Hash, func(d *storage.DeviceCode) error {
			if d.Status != storage.DeviceStatusApproved {
				return errNotApproved
			}
			d.Status = storage.DeviceStatusConsumed
			d.GrantID = fmt.Sprintf("grant-%d", i)
			return nil
		})
	})
	consumer := oneWinner(t, errs, errNotApproved)

	got, err := s.GetDeviceCodeByUserCode(ctx, userCode)
	must(t, "get", err)
	if got.Status != storage.DeviceStatusConsumed ||
		got.UserID != fmt.Sprintf("user-%d", approver) ||
		got.GrantID != fmt.Sprintf("grant-%d", consumer) {
		t.Errorf("device code after race: status %q user %q grant %q; want consumed by user-%d into grant-%d",
			got.Status, got.UserID, got.GrantID, approver, consumer)
	}
}

// testConcurrentRotateRevoke rotates many tokens of one grant while the
// grant is revoked: no call may fail with anything but the updater's own
// error, and afterwards no live token of the family may remain.
func testConcurrentRotateRevoke(t *testing.T, s storage.Store) {
	ctx := t.Context()
	g := newGrant("g1", "app", "u1")
	must(t, "create grant", s.CreateGrant(ctx, g))
	const rotators = racers - 4
	var hashes []string
	for i := range rotators {
		rt := newRefreshToken(fmt.Sprintf("rt-%d", i), g)
		must(t, "create refresh token", s.CreateRefreshToken(ctx, rt))
		hashes = append(hashes, rt.Hash, hash(fmt.Sprintf("rt-%d-next", i)))
	}
	errRevoked := errors.New("grant revoked")
	errs := race(racers, func(i int) error {
		if i >= rotators {
			return s.RevokeGrant(ctx, g.ID, base)
		}
		return s.RotateRefreshToken(ctx, hash(fmt.Sprintf("rt-%d", i)), func(o *storage.RefreshToken, g *storage.Grant) (*storage.RefreshToken, error) {
			if g.Revoked || o.Revoked {
				return nil, errRevoked
			}
			return newRefreshToken(fmt.Sprintf("rt-%d-next", i), g), nil
		})
	})
	for i, err := range errs {
		if err != nil && !errors.Is(err, errRevoked) {
			t.Errorf("racer %d: unexpected error %v", i, err)
		}
	}
	for _, h := range hashes {
		rt, err := s.GetRefreshToken(ctx, h)
		if errors.Is(err, storage.ErrNotFound) {
			continue // a rotation that lost to the revocation
		}
		must(t, "get refresh token", err)
		if !rt.Revoked {
			t.Errorf("token %s… of the revoked grant is live", h[:8])
		}
	}
}
