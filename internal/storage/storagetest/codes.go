package storagetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var authCodeTests = []test{
	{"AuthCode/RoundTripAndRedeem", testAuthCodeRoundTrip},
	{"AuthCode/Duplicate", testAuthCodeDuplicate},
	{"AuthCode/NotFound", testAuthCodeNotFound},
	{"AuthCode/UpdaterError", testAuthCodeUpdaterError},
}

// loadAuthCode reads a code through UpdateAuthCode, the only way the
// contract offers, with an updater that aborts.
func loadAuthCode(t *testing.T, s storage.Store, hash string) *storage.AuthCode {
	t.Helper()
	var got *storage.AuthCode
	err := s.UpdateAuthCode(t.Context(), hash, func(c *storage.AuthCode) error {
		cp := *c
		got = &cp
		return errStop
	})
	if err != errStop {
		t.Fatalf("load auth code: %v", err)
	}
	return got
}

func testAuthCodeRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newAuthCode("code1")
	must(t, "create", s.CreateAuthCode(ctx, want))
	diff(t, "auth code", want, loadAuthCode(t, s, want.Hash))

	must(t, "redeem", s.UpdateAuthCode(ctx, want.Hash, func(c *storage.AuthCode) error {
		c.Redeemed = true
		c.GrantID = "g1"
		return nil
	}))
	want.Redeemed, want.GrantID = true, "g1"
	diff(t, "redeemed auth code", want, loadAuthCode(t, s, want.Hash))

	bare := &storage.AuthCode{Hash: hash("bare"), ClientID: "app", UserID: "u1"}
	must(t, "create bare", s.CreateAuthCode(ctx, bare))
	diff(t, "bare auth code", bare, loadAuthCode(t, s, bare.Hash))
}

func testAuthCodeDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateAuthCode(ctx, newAuthCode("code1")))
	other := newAuthCode("code1")
	other.ClientID = "evil"
	wantErr(t, "create duplicate", s.CreateAuthCode(ctx, other), storage.ErrAlreadyExists)
	diff(t, "auth code after duplicate", newAuthCode("code1"), loadAuthCode(t, s, hash("code1")))
}

func testAuthCodeNotFound(t *testing.T, s storage.Store) {
	called := false
	err := s.UpdateAuthCode(t.Context(), hash("nope"), func(*storage.AuthCode) error { called = true; return nil })
	wantErr(t, "update", err, storage.ErrNotFound)
	if called {
		t.Error("update called fn for a missing code")
	}
}

func testAuthCodeUpdaterError(t *testing.T, s storage.Store) {
	ctx := t.Context()
	c := newAuthCode("code1")
	must(t, "create", s.CreateAuthCode(ctx, c))
	err := s.UpdateAuthCode(ctx, c.Hash, func(c *storage.AuthCode) error {
		c.Redeemed = true
		return errStop
	})
	if err != errStop {
		t.Errorf("update error = %v, want the updater's error unchanged", err)
	}
	diff(t, "auth code after failed update", newAuthCode("code1"), loadAuthCode(t, s, c.Hash))
}

var deviceCodeTests = []test{
	{"DeviceCode/RoundTripAndApprove", testDeviceCodeRoundTrip},
	{"DeviceCode/Duplicate", testDeviceCodeDuplicate},
	{"DeviceCode/NotFound", testDeviceCodeNotFound},
	{"DeviceCode/UpdaterError", testDeviceCodeUpdaterError},
}

func testDeviceCodeRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newDeviceCode("dev1", "WDJBMJHT")
	must(t, "create", s.CreateDeviceCode(ctx, want))
	got, err := s.GetDeviceCodeByUserCode(ctx, "WDJBMJHT")
	must(t, "get", err)
	diff(t, "device code", want, got)

	must(t, "poll", s.UpdateDeviceCode(ctx, want.Hash, func(d *storage.DeviceCode) error {
		diff(t, "device code seen by fn", want, d)
		d.Interval += 5 * time.Second
		d.LastPolled = base.Add(3 * time.Second)
		return nil
	}))
	must(t, "approve", s.UpdateDeviceCode(ctx, want.Hash, func(d *storage.DeviceCode) error {
		d.Status = storage.DeviceStatusApproved
		d.UserID = "u1"
		d.AuthTime = base.Add(time.Minute)
		return nil
	}))
	want.Interval, want.LastPolled = 10*time.Second, base.Add(3*time.Second)
	want.Status, want.UserID, want.AuthTime = storage.DeviceStatusApproved, "u1", base.Add(time.Minute)
	got, err = s.GetDeviceCodeByUserCode(ctx, "WDJBMJHT")
	must(t, "get approved", err)
	diff(t, "approved device code", want, got)
}

func testDeviceCodeDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateDeviceCode(ctx, newDeviceCode("dev1", "AAAABBBB")))
	wantErr(t, "same hash", s.CreateDeviceCode(ctx, newDeviceCode("dev1", "CCCCDDDD")), storage.ErrAlreadyExists)
	wantErr(t, "same user code", s.CreateDeviceCode(ctx, newDeviceCode("dev2", "AAAABBBB")), storage.ErrAlreadyExists)
	_, err := s.GetDeviceCodeByUserCode(ctx, "CCCCDDDD")
	wantErr(t, "get rejected", err, storage.ErrNotFound)
}

func testDeviceCodeNotFound(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetDeviceCodeByUserCode(ctx, "NOPENOPE")
	wantErr(t, "get", err, storage.ErrNotFound)
	err = s.UpdateDeviceCode(ctx, hash("nope"), func(*storage.DeviceCode) error { return nil })
	wantErr(t, "update", err, storage.ErrNotFound)
}

func testDeviceCodeUpdaterError(t *testing.T, s storage.Store) {
	ctx := t.Context()
	d := newDeviceCode("dev1", "AAAABBBB")
	must(t, "create", s.CreateDeviceCode(ctx, d))
	err := s.UpdateDeviceCode(ctx, d.Hash, func(d *storage.DeviceCode) error {
		d.Status = storage.DeviceStatusDenied
		return errStop
	})
	if err != errStop {
		t.Errorf("update error = %v, want the updater's error unchanged", err)
	}
	got, err := s.GetDeviceCodeByUserCode(ctx, "AAAABBBB")
	must(t, "get", err)
	diff(t, "device code after failed update", newDeviceCode("dev1", "AAAABBBB"), got)
}
