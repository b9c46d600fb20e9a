package server

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/pages"
)

func TestIPLimitKey(t *testing.T) {
	tests := []struct {
		ip   string
		bits int
		want string
	}{
		{"192.0.2.1", 64, "192.0.2.1"},
		{"192.0.2.2", 64, "192.0.2.2"},
		{"::ffff:192.0.2.1", 64, "192.0.2.1"},
		{"2001:db8:1:2::1", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", 64, "2001:db8:1:3::/64"},
		{"2001:db8:1:2::1", 48, "2001:db8:1::/48"},
		{"2001:db8:1:2::1", 128, "2001:db8:1:2::1/128"},
		{"fe80::1%eth0", 64, "fe80::/64"},
		{"not-an-ip", 64, "not-an-ip"},
	}
	for _, tc := range tests {
		if got := ipLimitKey(tc.ip, tc.bits); got != tc.want {
			t.Errorf("ipLimitKey(%q, %d) = %q, want %q", tc.ip, tc.bits, got, tc.want)
		}
	}
}

// deviceAuthFrom asks for a device code for the CLI client as if from the
// client address ip (the harness trusts the loopback proxy).
func deviceAuthFrom(t *testing.T, h *testHarness, ip string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url(PathDeviceAuthorize),
		strings.NewReader(url.Values{"client_id": {CLIClientID}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func behindLoopbackProxy(c *config.Server) { c.TrustedProxies = []string{"127.0.0.1/32", "::1/128"} }

// TestPerIPLimitsKeyIPv6ByPrefix: addresses of one IPv6 /64 share one
// budget, another /64 has its own; IPv4 addresses count one by one.
// SECURITY-CASES 30.
func TestPerIPLimitsKeyIPv6ByPrefix(t *testing.T) {
	h := newHarness(t, behindLoopbackProxy, func(c *config.Server) {
		c.Limits.DeviceAuthPerIP = config.Rate{Requests: 2, Per: config.Duration(time.Hour), Burst: 2}
	})
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2"} {
		if resp := deviceAuthFrom(t, h, ip); resp.StatusCode != 200 {
			t.Fatalf("%s: %d", ip, resp.StatusCode)
		}
	}
	resp := deviceAuthFrom(t, h, "2001:db8:1:2:ffff::9")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("third address of the same /64: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp := deviceAuthFrom(t, h, "2001:db8:1:3::1"); resp.StatusCode != 200 {
		t.Errorf("another /64: %d", resp.StatusCode)
	}
	for _, ip := range []string{"192.0.2.1", "192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		if resp := deviceAuthFrom(t, h, ip); resp.StatusCode != 200 {
			t.Errorf("IPv4 %s: %d", ip, resp.StatusCode)
		}
	}
	if resp := deviceAuthFrom(t, h, "192.0.2.1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("third request from 192.0.2.1: %d", resp.StatusCode)
	}
}

// TestPerIPPrefixLengthIsConfigurable: with limits.ipv6_prefix_length 128
// every IPv6 address counts alone.
func TestPerIPPrefixLengthIsConfigurable(t *testing.T) {
	h := newHarness(t, behindLoopbackProxy, func(c *config.Server) {
		c.Limits.DeviceAuthPerIP = config.Rate{Requests: 1, Per: config.Duration(time.Hour), Burst: 1}
		c.Limits.IPv6PrefixLength = 128
	})
	for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2"} {
		if resp := deviceAuthFrom(t, h, ip); resp.StatusCode != 200 {
			t.Errorf("%s: %d", ip, resp.StatusCode)
		}
	}
}

// TestDeviceAuthorizationLimits: POST /oauth2/device_authorization is
// limited per client address and per client, with 429 and Retry-After,
// and a refused request stores nothing. SECURITY-CASES 26.
func TestDeviceAuthorizationLimits(t *testing.T) {
	t.Run("per IP", func(t *testing.T) {
		h := newHarness(t)
		limit := h.cfg.Limits.DeviceAuthPerIP.Burst
		for i := range limit {
			st, body, _ := h.postForm(PathDeviceAuthorize, url.Values{"client_id": {CLIClientID}}, "", "")
			if st != 200 {
				t.Fatalf("request %d: %d %v", i+1, st, body)
			}
		}
		st, body, hdr := h.postForm(PathDeviceAuthorize, url.Values{"client_id": {CLIClientID}}, "", "")
		if st != http.StatusTooManyRequests || errCode(body) != "too_many_requests" || hdr.Get("Retry-After") == "" {
			t.Fatalf("over the per-IP limit: %d %v Retry-After %q", st, body, hdr.Get("Retry-After"))
		}
		if body["device_code"] != nil {
			t.Error("a device code was issued")
		}
		h.waitAudit("rate_limited")
	})
	t.Run("per client", func(t *testing.T) {
		h := newHarness(t, behindLoopbackProxy, func(c *config.Server) {
			c.Limits.DeviceAuthPerClient = config.Rate{Requests: 3, Per: config.Duration(time.Hour), Burst: 3}
		})
		for i := range 3 {
			if resp := deviceAuthFrom(t, h, "192.0.2."+string(rune('1'+i))); resp.StatusCode != 200 {
				t.Fatalf("request %d: %d", i+1, resp.StatusCode)
			}
		}
		resp := deviceAuthFrom(t, h, "198.51.100.7")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Errorf("over the per-client limit from a new address: %d", resp.StatusCode)
		}
	})
}

// keyRecorder is a limiter that remembers the keys it was asked about.
type keyRecorder struct {
	ratelimit.Limiter
	keys []string
}

func (k *keyRecorder) Allow(ctx context.Context, key string, l ratelimit.Limit) (ratelimit.Result, error) {
	k.keys = append(k.keys, key)
	return k.Limiter.Allow(ctx, key, l)
}

// TestEveryPerAddressLimitKeysIPv6ByPrefix: each limit counted per client
// address, the passkey sign-in's included, keys an IPv6 client by its /64,
// and the limits counted per client or per user keep their subject as it
// is. SECURITY-CASES 30.
func TestEveryPerAddressLimitKeysIPv6ByPrefix(t *testing.T) {
	h := newHarness(t)
	rec := &keyRecorder{Limiter: h.srv.limiter}
	h.srv.limiter = rec
	perAddress := []string{
		pages.LimitLoginIP, pages.LimitDeviceIP, pages.LimitMFAIP, "passkey-ip",
		oauth.LimitClientAuthIP, oauth.LimitDeviceAuthIP, oauth.LimitPARIP,
	}
	rate := config.Rate{Requests: 100, Per: config.Duration(time.Minute), Burst: 100}
	for _, prefix := range perAddress {
		if _, err := h.srv.allow(context.Background(), prefix, "2001:db8:1:2::7", rate); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefix := range []string{oauth.LimitTokenClient, oauth.LimitDeviceAuthClient, "login-user", "mfa-user", "device-user"} {
		if _, err := h.srv.allow(context.Background(), prefix, "2001:db8:1:2::7", rate); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]string, 0, len(rec.keys))
	for _, prefix := range perAddress {
		want = append(want, prefix+":2001:db8:1:2::/64")
	}
	for _, prefix := range []string{oauth.LimitTokenClient, oauth.LimitDeviceAuthClient, "login-user", "mfa-user", "device-user"} {
		want = append(want, prefix+":2001:db8:1:2::7")
	}
	if strings.Join(rec.keys, "\n") != strings.Join(want, "\n") {
		t.Errorf("limiter keys:\n%s\nwant:\n%s", strings.Join(rec.keys, "\n"), strings.Join(want, "\n"))
	}
}
