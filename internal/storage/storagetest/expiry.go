package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var expiryTests = []test{
	{"DeleteExpired", testDeleteExpired},
	{"DeleteExpired/ManyBatches", testDeleteExpiredBatches},
}

// testDeleteExpiredBatches removes a backlog larger than one delete batch, and
// only the expired rows.
func testDeleteExpiredBatches(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := base.Add(time.Hour)
	const old = 1234
	for i := range old {
		must(t, "use jti", s.UseJTI(ctx, fmt.Sprintf("old-%d", i), now.Add(-time.Minute)))
	}
	must(t, "use jti", s.UseJTI(ctx, "live", now.Add(time.Minute)))
	n, err := s.DeleteExpired(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if n != old {
		t.Fatalf("DeleteExpired removed %d rows, want %d", n, old)
	}
	if err := s.UseJTI(ctx, "old-7", now.Add(time.Minute)); err != nil {
		t.Fatalf("an expired jti was not deleted: %v", err)
	}
	if err := s.UseJTI(ctx, "live", now.Add(time.Minute)); err == nil {
		t.Fatal("the live jti was deleted")
	}
}

func testDeleteExpired(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := base.Add(time.Hour)
	past, future := now.Add(-time.Second), now.Add(time.Second)

	// One expired and one live row of every kind that expires.
	for i, exp := range []time.Time{past, future} {
		sfx := []string{"-old", "-new"}[i]
		c := newAuthCode("code" + sfx)
		c.ExpiresAt = exp
		must(t, "create auth code", s.CreateAuthCode(ctx, c))
		d := newDeviceCode("dev"+sfx, "USER"+sfx)
		d.ExpiresAt = exp
		must(t, "create device code", s.CreateDeviceCode(ctx, d))
		par := newPushedRequest("par" + sfx)
		par.ExpiresAt = exp
		must(t, "create pushed request", s.CreatePushedRequest(ctx, par))
		sess := newSession("sess"+sfx, "u1")
		sess.ExpiresAt = exp
		must(t, "create session", s.CreateSession(ctx, sess))
		must(t, "revoke access token", s.RevokeAccessToken(ctx, "at"+sfx, exp))
		must(t, "use jti", s.UseJTI(ctx, "jti"+sfx, exp))
	}
	live := newGrant("live", "app", "u1")
	live.ExpiresAt = future
	must(t, "create live grant", s.CreateGrant(ctx, live))
	forever := newGrant("forever", "app", "u1")
	forever.ExpiresAt = time.Time{}
	must(t, "create grant without expiry", s.CreateGrant(ctx, forever))
	dead := newGrant("dead", "app", "u1")
	dead.ExpiresAt = past
	must(t, "create expired grant", s.CreateGrant(ctx, dead))
	rtOld := newRefreshToken("rt-old", live)
	rtOld.ExpiresAt = past
	rtNew := newRefreshToken("rt-new", live)
	rtNew.ExpiresAt = future
	rtDead := newRefreshToken("rt-dead", dead) // live token of an expired grant
	rtDead.ExpiresAt = future
	for _, rt := range []*storage.RefreshToken{rtOld, rtNew, rtDead} {
		must(t, "create refresh token", s.CreateRefreshToken(ctx, rt))
	}

	n, err := s.DeleteExpired(ctx, now)
	must(t, "delete expired", err)
	// auth code, device code, pushed request, session, revoked jti, used
	// jti, expired refresh token, expired grant and its refresh token.
	if n != 9 {
		t.Errorf("DeleteExpired = %d rows, want 9", n)
	}

	exists := func(what string, err error, want bool) {
		t.Helper()
		switch {
		case want && err != nil:
			t.Errorf("%s: %v, want it kept", what, err)
		case !want:
			wantErr(t, what+" (expired)", err, storage.ErrNotFound)
		}
	}
	for i, want := range []bool{false, true} {
		sfx := []string{"-old", "-new"}[i]
		err := s.UpdateAuthCode(ctx, hash("code"+sfx), func(*storage.AuthCode) error { return nil })
		exists("auth code"+sfx, err, want)
		_, err = s.GetDeviceCodeByUserCode(ctx, "USER"+sfx)
		exists("device code"+sfx, err, want)
		err = s.UpdatePushedRequest(ctx, hash("par"+sfx), func(*storage.PushedRequest) error { return nil })
		exists("pushed request"+sfx, err, want)
		_, err = s.GetSession(ctx, hash("sess"+sfx))
		exists("session"+sfx, err, want)
		revoked, err := s.IsAccessTokenRevoked(ctx, "at"+sfx)
		must(t, "check revoked", err)
		if revoked != want {
			t.Errorf("revoked access token%s still listed = %v, want %v", sfx, revoked, want)
		}
		if err := s.UseJTI(ctx, "jti"+sfx, future); want {
			wantErr(t, "live jti"+sfx+" replay", err, storage.ErrAlreadyExists)
		} else if err != nil {
			t.Errorf("expired jti%s still recorded: %v", sfx, err)
		}
	}
	for id, want := range map[string]bool{"live": true, "forever": true, "dead": false} {
		_, err := s.GetGrant(ctx, id)
		exists("grant "+id, err, want)
	}
	for _, c := range []struct {
		rt   *storage.RefreshToken
		want bool
	}{{rtOld, false}, {rtNew, true}, {rtDead, false}} {
		_, err := s.GetRefreshToken(ctx, c.rt.Hash)
		exists("refresh token", err, c.want)
	}

	n, err = s.DeleteExpired(ctx, now)
	must(t, "delete expired again", err)
	if n != 0 {
		t.Errorf("second DeleteExpired = %d rows, want 0", n)
	}
}
