package server

import (
	"context"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func (f *userFixture) startDevice(t *testing.T) map[string]any {
	t.Helper()
	st, body, _ := f.postForm(PathDeviceAuthorize, url.Values{"client_id": {CLIClientID}, "scope": {"openid offline_access"}}, "", "")
	if st != 200 {
		t.Fatalf("device authorization: %d %v", st, body)
	}
	return body
}

func (f *userFixture) pollDevice(deviceCode, clientID string) (int, map[string]any) {
	st, body, _ := f.postForm(PathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {deviceCode}, "client_id": {clientID}}, "", "")
	return st, body
}

// setDeviceStatus approves or denies as the /device page would.
func (f *userFixture) setDeviceStatus(t *testing.T, userCode, status string) {
	t.Helper()
	d, err := f.store.GetDeviceCodeByUserCode(context.Background(), secret.NormalizeUserCode(userCode))
	if err != nil {
		t.Fatal(err)
	}
	err = f.store.UpdateDeviceCode(context.Background(), d.Hash, func(d *storage.DeviceCode) error {
		d.Status, d.UserID, d.AuthTime = status, f.user.ID, f.clock.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeviceFlow(t *testing.T) {
	f := newUserFixture(t)
	dev := f.startDevice(t)
	// SECURITY-CASES 26: 8 letters from the 20-letter alphabet.
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(dev["user_code"].(string)) {
		t.Errorf("user code %q", dev["user_code"])
	}
	if dev["verification_uri"] != f.issuer+"/device" || dev["interval"].(float64) != 5 {
		t.Errorf("response %v", dev)
	}
	dc := dev["device_code"].(string)
	if st, body := f.pollDevice(dc, CLIClientID); st != 400 || errCode(body) != "authorization_pending" {
		t.Fatalf("first poll: %d %v", st, body)
	}
	// SECURITY-CASES 25: polling faster than the interval → slow_down.
	f.clock.Advance(2 * time.Second)
	if st, body := f.pollDevice(dc, CLIClientID); st != 400 || errCode(body) != "slow_down" {
		t.Fatalf("fast poll: %d %v", st, body)
	}
	// The interval is now 10 s: 6 s later is still too fast.
	f.clock.Advance(6 * time.Second)
	if _, body := f.pollDevice(dc, CLIClientID); errCode(body) != "slow_down" {
		t.Fatalf("poll after 6s with a 10s interval: %v", body)
	}
	f.setDeviceStatus(t, dev["user_code"].(string), storage.DeviceStatusApproved)
	f.clock.Advance(16 * time.Second)
	st, tok := f.pollDevice(dc, CLIClientID)
	if st != 200 || tok["access_token"] == nil || tok["refresh_token"] == nil {
		t.Fatalf("approved poll: %d %v", st, tok)
	}
	if c := claimsOf(t, tok["access_token"].(string)); c["sub"] != f.user.ID {
		t.Errorf("claims %v", c)
	}
	// Reused after success → invalid_grant.
	f.clock.Advance(20 * time.Second)
	if st, body := f.pollDevice(dc, CLIClientID); st != 400 || errCode(body) != "invalid_grant" {
		t.Errorf("reuse: %d %v", st, body)
	}
}

func TestDeviceFlowRejections(t *testing.T) {
	f := newUserFixture(t)
	f.addClient(storage.Client{ID: "tv", Public: true, GrantTypes: []string{"urn:ietf:params:oauth:grant-type:device_code"}, Scopes: []string{"openid"}})

	t.Run("denied", func(t *testing.T) {
		dev := f.startDevice(t)
		f.setDeviceStatus(t, dev["user_code"].(string), storage.DeviceStatusDenied)
		if st, body := f.pollDevice(dev["device_code"].(string), CLIClientID); st != 403 || errCode(body) != "access_denied" {
			t.Errorf("denied: %d %v", st, body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		dev := f.startDevice(t)
		f.clock.Advance(11 * time.Minute)
		if st, body := f.pollDevice(dev["device_code"].(string), CLIClientID); st != 400 || errCode(body) != "expired_token" {
			t.Errorf("expired: %d %v", st, body)
		}
	})
	t.Run("other client", func(t *testing.T) {
		dev := f.startDevice(t)
		f.setDeviceStatus(t, dev["user_code"].(string), storage.DeviceStatusApproved)
		if st, body := f.pollDevice(dev["device_code"].(string), "tv"); st != 400 || errCode(body) != "invalid_grant" {
			t.Errorf("other client: %d %v", st, body)
		}
		// Still redeemable by its own client.
		if st, body := f.pollDevice(dev["device_code"].(string), CLIClientID); st != 200 {
			t.Errorf("own client after other's attempt: %d %v", st, body)
		}
	})
	t.Run("client without device grant", func(t *testing.T) {
		st, body, _ := f.postForm(PathDeviceAuthorize, url.Values{"scope": {"read"}}, "web", f.webSecret)
		if st != 400 || errCode(body) != "unauthorized_client" {
			t.Errorf("%d %v", st, body)
		}
	})
}
