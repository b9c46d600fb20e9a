package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var grantTests = []test{
	{"Grant/RoundTrip", testGrantRoundTrip},
	{"Grant/Duplicate", testGrantDuplicate},
	{"Grant/NotFound", testGrantNotFound},
	{"Grant/RevokeMarksRefreshTokens", testGrantRevoke},
}

func testGrantRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newGrant("g1", "app", "u1")
	must(t, "create", s.CreateGrant(ctx, want))
	got, err := s.GetGrant(ctx, "g1")
	must(t, "get", err)
	diff(t, "grant", want, got)
}

func testGrantDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateGrant(ctx, newGrant("g1", "app", "u1")))
	wantErr(t, "create duplicate", s.CreateGrant(ctx, newGrant("g1", "other", "u2")), storage.ErrAlreadyExists)
}

func testGrantNotFound(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetGrant(ctx, "nope")
	wantErr(t, "get", err, storage.ErrNotFound)
	wantErr(t, "revoke", s.RevokeGrant(ctx, "nope", base), storage.ErrNotFound)
}

func testGrantRevoke(t *testing.T, s storage.Store) {
	ctx := t.Context()
	g := newGrant("g1", "app", "u1")
	other := newGrant("g2", "app", "u1")
	must(t, "create grant", s.CreateGrant(ctx, g))
	must(t, "create other grant", s.CreateGrant(ctx, other))
	tokens := []*storage.RefreshToken{newRefreshToken("rt1", g), newRefreshToken("rt2", g)}
	tokens[0].Rotated = true
	for _, rt := range tokens {
		must(t, "create refresh token", s.CreateRefreshToken(ctx, rt))
	}
	keep := newRefreshToken("rt3", other)
	must(t, "create other refresh token", s.CreateRefreshToken(ctx, keep))

	at := base.Add(time.Hour)
	must(t, "revoke", s.RevokeGrant(ctx, "g1", at))
	got, err := s.GetGrant(ctx, "g1")
	must(t, "get", err)
	if !got.Revoked || !got.RevokedAt.Equal(at) {
		t.Errorf("revoked grant: Revoked=%v RevokedAt=%v, want true, %v", got.Revoked, got.RevokedAt, at)
	}
	for _, rt := range tokens {
		got, err := s.GetRefreshToken(ctx, rt.Hash)
		must(t, "get refresh token", err)
		want := *rt
		want.Revoked = true
		diff(t, "refresh token of revoked grant", &want, got)
	}
	gotKeep, err := s.GetRefreshToken(ctx, keep.Hash)
	must(t, "get other refresh token", err)
	diff(t, "refresh token of other grant", keep, gotKeep)
	gotOther, err := s.GetGrant(ctx, "g2")
	must(t, "get other grant", err)
	diff(t, "other grant", other, gotOther)

	must(t, "revoke again", s.RevokeGrant(ctx, "g1", at.Add(time.Hour)))
	got, err = s.GetGrant(ctx, "g1")
	must(t, "get", err)
	if !got.Revoked {
		t.Error("grant not revoked after revoking twice")
	}
}

var refreshTokenTests = []test{
	{"RefreshToken/RoundTrip", testRefreshTokenRoundTrip},
	{"RefreshToken/Duplicate", testRefreshTokenDuplicate},
	{"RefreshToken/NotFound", testRefreshTokenNotFound},
	{"RefreshToken/Rotate", testRotate},
	{"RefreshToken/RotateUpdaterError", testRotateUpdaterError},
	{"RefreshToken/RotateDuplicateNewToken", testRotateDuplicate},
	{"RefreshToken/RotateSeesRevoked", testRotateRevoked},
	{"RefreshToken/RotateStoresRetry", testRotateStoresRetry},
}

// seedRefreshToken creates a grant g1 and one refresh token of it.
func seedRefreshToken(t *testing.T, s storage.Store, secret string) (*storage.Grant, *storage.RefreshToken) {
	t.Helper()
	g := newGrant("g1", "app", "u1")
	must(t, "create grant", s.CreateGrant(t.Context(), g))
	rt := newRefreshToken(secret, g)
	must(t, "create refresh token", s.CreateRefreshToken(t.Context(), rt))
	return g, rt
}

func testRefreshTokenRoundTrip(t *testing.T, s storage.Store) {
	_, want := seedRefreshToken(t, s, "rt1")
	got, err := s.GetRefreshToken(t.Context(), want.Hash)
	must(t, "get", err)
	diff(t, "refresh token", want, got)
}

func testRefreshTokenDuplicate(t *testing.T, s storage.Store) {
	g, rt := seedRefreshToken(t, s, "rt1")
	wantErr(t, "create duplicate", s.CreateRefreshToken(t.Context(), newRefreshToken("rt1", g)), storage.ErrAlreadyExists)
	got, err := s.GetRefreshToken(t.Context(), rt.Hash)
	must(t, "get", err)
	diff(t, "refresh token after duplicate", rt, got)
}

func testRefreshTokenNotFound(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetRefreshToken(ctx, hash("nope"))
	wantErr(t, "get", err, storage.ErrNotFound)
	called := false
	err = s.RotateRefreshToken(ctx, hash("nope"), func(*storage.RefreshToken, *storage.Grant) (*storage.RefreshToken, error) {
		called = true
		return nil, nil
	})
	wantErr(t, "rotate", err, storage.ErrNotFound)
	if called {
		t.Error("rotate called fn for a missing token")
	}
}

func testRotate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	g, old := seedRefreshToken(t, s, "rt1")
	next := newRefreshToken("rt2", g)
	next.CreatedAt = base.Add(time.Hour)
	err := s.RotateRefreshToken(ctx, old.Hash, func(o *storage.RefreshToken, gg *storage.Grant) (*storage.RefreshToken, error) {
		diff(t, "old token seen by fn", old, o)
		diff(t, "grant seen by fn", g, gg)
		return next, nil
	})
	must(t, "rotate", err)

	gotOld, err := s.GetRefreshToken(ctx, old.Hash)
	must(t, "get old", err)
	wantOld := *old
	wantOld.Rotated = true
	wantOld.RotatedAt = next.CreatedAt // when it was rotated
	diff(t, "rotated token", &wantOld, gotOld)
	gotNext, err := s.GetRefreshToken(ctx, next.Hash)
	must(t, "get new", err)
	diff(t, "new token", next, gotNext)

	// Presenting the old token again: fn sees that it was rotated.
	errReuse := errors.New("reuse")
	err = s.RotateRefreshToken(ctx, old.Hash, func(o *storage.RefreshToken, _ *storage.Grant) (*storage.RefreshToken, error) {
		if !o.Rotated {
			t.Error("second rotation: fn saw Rotated=false")
		}
		return nil, errReuse
	})
	if err != errReuse {
		t.Errorf("second rotation error = %v, want the updater's error unchanged", err)
	}
}

func testRotateUpdaterError(t *testing.T, s storage.Store) {
	ctx := t.Context()
	g, old := seedRefreshToken(t, s, "rt1")
	next := newRefreshToken("rt2", g)
	err := s.RotateRefreshToken(ctx, old.Hash, func(o *storage.RefreshToken, _ *storage.Grant) (*storage.RefreshToken, error) {
		o.Revoked = true
		return next, errStop
	})
	if err != errStop {
		t.Errorf("rotate error = %v, want the updater's error unchanged", err)
	}
	got, err := s.GetRefreshToken(ctx, old.Hash)
	must(t, "get old", err)
	diff(t, "old token after failed rotation", old, got)
	_, err = s.GetRefreshToken(ctx, next.Hash)
	wantErr(t, "new token after failed rotation", err, storage.ErrNotFound)

	// A nil token without an error writes nothing either.
	must(t, "rotate to nothing", s.RotateRefreshToken(ctx, old.Hash, func(*storage.RefreshToken, *storage.Grant) (*storage.RefreshToken, error) {
		return nil, nil
	}))
	got, err = s.GetRefreshToken(ctx, old.Hash)
	must(t, "get old", err)
	diff(t, "old token after rotation to nothing", old, got)
}

func testRotateDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	g, old := seedRefreshToken(t, s, "rt1")
	taken := newRefreshToken("rt2", g)
	must(t, "create second token", s.CreateRefreshToken(ctx, taken))
	err := s.RotateRefreshToken(ctx, old.Hash, func(*storage.RefreshToken, *storage.Grant) (*storage.RefreshToken, error) {
		return newRefreshToken("rt2", g), nil
	})
	wantErr(t, "rotate onto an existing hash", err, storage.ErrAlreadyExists)
	got, err := s.GetRefreshToken(ctx, old.Hash)
	must(t, "get old", err)
	diff(t, "old token after failed rotation", old, got)
}

func testRotateRevoked(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, old := seedRefreshToken(t, s, "rt1")
	must(t, "revoke grant", s.RevokeGrant(ctx, "g1", base))
	errRevoked := errors.New("revoked")
	err := s.RotateRefreshToken(ctx, old.Hash, func(o *storage.RefreshToken, g *storage.Grant) (*storage.RefreshToken, error) {
		if !o.Revoked || !g.Revoked {
			t.Errorf("fn saw token Revoked=%v, grant Revoked=%v; want both true", o.Revoked, g.Revoked)
		}
		return nil, errRevoked
	})
	if err != errRevoked {
		t.Errorf("rotate error = %v, want the updater's error unchanged", err)
	}
}

// testRotateStoresRetry: the retry fields fn sets on the old token are
// stored with its rotation (and only then), and read back byte for byte.
func testRotateStoresRetry(t *testing.T, s storage.Store) {
	ctx := t.Context()
	g, old := seedRefreshToken(t, s, "rt1")
	sealed := []byte{0x01, 0x00, 0xff, 0x7f, 0x80, 0x0a}
	next := newRefreshToken("rt2", g)
	next.CreatedAt = base.Add(time.Minute)
	must(t, "rotate", s.RotateRefreshToken(ctx, old.Hash, func(o *storage.RefreshToken, _ *storage.Grant) (*storage.RefreshToken, error) {
		if o.RetryKeyHash != "" || o.RetrySuccessor != nil {
			t.Errorf("a token never rotated has retry fields %q, %x", o.RetryKeyHash, o.RetrySuccessor)
		}
		o.RetryKeyHash, o.RetrySuccessor = hash("key"), sealed
		return next, nil
	}))
	got, err := s.GetRefreshToken(ctx, old.Hash)
	must(t, "get old", err)
	want := *old
	want.Rotated, want.RotatedAt = true, next.CreatedAt
	want.RetryKeyHash, want.RetrySuccessor = hash("key"), sealed
	diff(t, "rotated token with retry", &want, got)
	gotNext, err := s.GetRefreshToken(ctx, next.Hash)
	must(t, "get new", err)
	diff(t, "successor", next, gotNext)

	// A failed rotation stores nothing of what fn set.
	third := newRefreshToken("rt3", g)
	err = s.RotateRefreshToken(ctx, next.Hash, func(o *storage.RefreshToken, _ *storage.Grant) (*storage.RefreshToken, error) {
		o.RetryKeyHash, o.RetrySuccessor = hash("other"), sealed
		return third, errStop
	})
	if err != errStop {
		t.Errorf("rotate error = %v, want the updater's error unchanged", err)
	}
	gotNext, err = s.GetRefreshToken(ctx, next.Hash)
	must(t, "get new after failed rotation", err)
	diff(t, "successor after failed rotation", next, gotNext)
}

var revocationTests = []test{
	{"AccessToken/Revoke", testRevokeAccessToken},
	{"JTI/Replay", testUseJTI},
	{"Ping", func(t *testing.T, s storage.Store) { must(t, "ping", s.Ping(t.Context())) }},
}

func testRevokeAccessToken(t *testing.T, s storage.Store) {
	ctx := t.Context()
	revoked, err := s.IsAccessTokenRevoked(ctx, "jti-1")
	must(t, "check", err)
	if revoked {
		t.Fatal("unknown jti reported revoked")
	}
	must(t, "revoke", s.RevokeAccessToken(ctx, "jti-1", base.Add(time.Hour)))
	must(t, "revoke again", s.RevokeAccessToken(ctx, "jti-1", base.Add(time.Hour)))
	for jti, want := range map[string]bool{"jti-1": true, "jti-2": false} {
		got, err := s.IsAccessTokenRevoked(ctx, jti)
		must(t, "check "+jti, err)
		if got != want {
			t.Errorf("IsAccessTokenRevoked(%s) = %v, want %v", jti, got, want)
		}
	}
}

func testUseJTI(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "first use", s.UseJTI(ctx, "assertion-1", base.Add(time.Minute)))
	wantErr(t, "replay", s.UseJTI(ctx, "assertion-1", base.Add(time.Minute)), storage.ErrAlreadyExists)
	must(t, "other jti", s.UseJTI(ctx, "assertion-2", base.Add(time.Minute)))
}
