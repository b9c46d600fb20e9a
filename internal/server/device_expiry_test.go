package server

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// TestDeviceCodeExpiryIsExclusive: an approved device code is redeemed
// up to a second before tokens.device_code_ttl has passed and refused
// with expired_token from that instant on (RFC 8628 §3.5).
func TestDeviceCodeExpiryIsExclusive(t *testing.T) {
	f := newUserFixture(t)
	early, late := f.startDevice(t), f.startDevice(t)
	for _, dev := range []map[string]any{early, late} {
		f.setDeviceStatus(t, dev["user_code"].(string), storage.DeviceStatusApproved)
	}
	f.clock.Advance(time.Duration(f.cfg.Tokens.DeviceCodeTTL) - time.Second)
	if st, body := f.pollDevice(early["device_code"].(string), CLIClientID); st != 200 {
		t.Fatalf("a second before expiry: %d %v", st, body)
	}
	f.clock.Advance(time.Second)
	if st, body := f.pollDevice(late["device_code"].(string), CLIClientID); st != 400 || errCode(body) != "expired_token" {
		t.Errorf("at the instant of expiry: %d %v, want 400 expired_token", st, body)
	}
}
