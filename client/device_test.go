package client

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// runDevice starts DeviceLogin in the background and returns its result
// channel and the prompt it got.
func runDevice(t *testing.T, ctx context.Context, cfg *Config) (<-chan *oauth2.DeviceAuthResponse, <-chan result) {
	t.Helper()
	prompts := make(chan *oauth2.DeviceAuthResponse, 1)
	done := make(chan result, 1)
	go func() {
		tok, err := cfg.DeviceLogin(ctx, DeviceOptions{Prompt: func(da *oauth2.DeviceAuthResponse) { prompts <- da }})
		done <- result{tok, err}
	}()
	return prompts, done
}

type result struct {
	tok *oauth2.Token
	err error
}

func TestDeviceLoginPendingSlowDownSuccess(t *testing.T) {
	as := newFakeAS(t)
	as.set(func() { as.deviceSteps = []string{"authorization_pending", "slow_down", "authorization_pending"} })
	clk := newWaitClock()
	prompts, done := runDevice(t, context.Background(), as.config(clk))

	da := <-prompts
	if da.UserCode != "WDJB-MJHT" || da.VerificationURI != as.issuer+"/verify" || !da.Expiry.Equal(start.Add(10*time.Minute)) {
		t.Errorf("prompt got %+v", da)
	}
	// The interval is 5s; slow_down adds 5s for this and every later poll
	// (RFC 8628 §3.5).
	for i, want := range []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second} {
		d := clk.nextWait(t)
		if d != want {
			t.Fatalf("wait %d = %v, want %v", i, d, want)
		}
		if n := as.count(&as.devicePoll); n != i {
			t.Fatalf("polled %d times before wait %d", n, i)
		}
		clk.Advance(d)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.tok.AccessToken == "" || r.tok.RefreshToken == "" || !r.tok.Expiry.Equal(clk.Now().Add(time.Hour)) {
		t.Errorf("token = %+v", r.tok)
	}
	if n := as.count(&as.devicePoll); n != 4 {
		t.Errorf("polls = %d, want 4", n)
	}
}

func TestDeviceLoginDeniedAndExpired(t *testing.T) {
	for _, tc := range []struct {
		step string
		want error
	}{
		{protocol.ErrAccessDenied, ErrDeviceDenied},
		{protocol.ErrExpiredToken, ErrDeviceExpired},
	} {
		t.Run(tc.step, func(t *testing.T) {
			as := newFakeAS(t)
			as.set(func() { as.deviceSteps = []string{"authorization_pending", tc.step} })
			clk := newWaitClock()
			_, done := runDevice(t, context.Background(), as.config(clk))
			clk.Advance(clk.nextWait(t))
			clk.Advance(clk.nextWait(t))
			r := <-done
			if !errors.Is(r.err, tc.want) || !errors.Is(r.err, &protocol.Error{Code: tc.step}) {
				t.Errorf("err = %v, want %v and %s", r.err, tc.want, tc.step)
			}
			if r.tok != nil {
				t.Errorf("token %+v", r.tok)
			}
		})
	}
}

func TestDeviceLoginCodeExpiresLocally(t *testing.T) {
	// The server keeps saying pending; once expires_in has passed on the
	// clock the client stops on its own.
	as := newFakeAS(t)
	as.set(func() {
		for range 200 {
			as.deviceSteps = append(as.deviceSteps, protocol.ErrAuthorizationPending)
		}
	})
	clk := newWaitClock()
	_, done := runDevice(t, context.Background(), as.config(clk))
	for {
		select {
		case r := <-done:
			if !errors.Is(r.err, ErrDeviceExpired) {
				t.Fatalf("err = %v", r.err)
			}
			if n := as.count(&as.devicePoll); n != 119 {
				t.Errorf("polls = %d, want 119 in 600s at 5s", n)
			}
			return
		case d := <-clk.waits:
			clk.Advance(d)
		case <-time.After(5 * time.Second):
			t.Fatal("device login did not end")
		}
	}
}

func TestDeviceLoginCancelled(t *testing.T) {
	as := newFakeAS(t)
	ctx, cancel := context.WithCancel(context.Background())
	clk := newWaitClock()
	_, done := runDevice(t, ctx, as.config(clk))
	clk.nextWait(t)
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) {
		t.Errorf("err = %v", r.err)
	}
	if n := as.count(&as.devicePoll); n != 0 {
		t.Errorf("polled %d times", n)
	}
}

func TestDeviceLoginConfidentialClient(t *testing.T) {
	// The confidential client authenticates with HTTP Basic at both
	// endpoints; the fake server refuses anything else.
	as := newFakeAS(t)
	cfg := as.config(newWaitClock())
	cfg.ClientID, cfg.ClientSecret = secretClient, clientSecret
	clk := cfg.Clock.(*waitClock)
	_, done := runDevice(t, context.Background(), cfg)
	clk.Advance(clk.nextWait(t))
	if r := <-done; r.err != nil {
		t.Fatal(r.err)
	}
	cfg.ClientSecret = "wrong"
	_, err := cfg.DeviceAuthorization(context.Background())
	if !errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidClient}) {
		t.Errorf("wrong secret: err = %v", err)
	}
}

func TestDevicePrompt(t *testing.T) {
	var buf bytes.Buffer
	DevicePrompt(&buf)(&oauth2.DeviceAuthResponse{
		UserCode:                "WDJB-MJHT",
		VerificationURI:         "https://auth.example/device",
		VerificationURIComplete: "https://auth.example/device?user_code=WDJB-MJHT",
	})
	out := buf.String()
	if !strings.Contains(out, "https://auth.example/device\n") || !strings.Contains(out, "WDJB-MJHT") {
		t.Errorf("prompt:\n%s", out)
	}
	if strings.ContainsAny(out, "█▀▄") {
		t.Errorf("QR code written to a non-terminal:\n%s", out)
	}
}
