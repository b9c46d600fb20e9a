package client

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestTokenTypeMustBeBearerOrDPoP: a token response whose token_type is
// not Bearer or DPoP (any case) is refused by every flow, never used as a
// bearer token (RFC 6749 §7.1). SECURITY-CASES 20 (client side).
func TestTokenTypeMustBeBearerOrDPoP(t *testing.T) {
	flows := map[string]func(t *testing.T, as *fakeAS) error{
		"client credentials": func(t *testing.T, as *fakeAS) error {
			cfg := as.config(newWaitClock())
			cfg.ClientID, cfg.ClientSecret = secretClient, clientSecret
			_, err := cfg.ClientCredentialsToken(context.Background())
			return err
		},
		"device": func(t *testing.T, as *fakeAS) error {
			clk := newWaitClock()
			prompts, done := runDevice(t, context.Background(), as.config(clk))
			<-prompts
			clk.Advance(clk.nextWait(t))
			r := <-done
			return r.err
		},
		"refresh": func(t *testing.T, as *fakeAS) error {
			store := newMemStore()
			login(as, store, time.Minute)
			clk := newWaitClock()
			clk.Advance(time.Hour)
			_, err := newSource(t, as, store, clk).Token()
			return err
		},
	}
	for name, flow := range flows {
		for _, tt := range []struct {
			typ string
			ok  bool
		}{
			{"Bearer", true}, {"bearer", true}, {"BEARER", true}, {"DPoP", true}, {"dpop", true},
			{"MAC", false}, {"N_A", false}, {"Bearer ", false}, {"-", false},
		} {
			t.Run(name+"/"+tt.typ, func(t *testing.T) {
				as := newFakeAS(t)
				as.set(func() { as.tokenType = tt.typ })
				err := flow(t, as)
				if tt.ok && err != nil {
					t.Errorf("refused: %v", err)
				}
				if !tt.ok && !errors.Is(err, ErrTokenType) {
					t.Errorf("err = %v, want ErrTokenType", err)
				}
			})
		}
	}
}
