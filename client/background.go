package client

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// backgroundRetry is how long the background refresh waits after a
// failure before trying again.
const backgroundRetry = 30 * time.Second

// StartBackgroundRefresh refreshes the token ahead of its expiry, on the
// source's clock, until ctx ends, so that a long-running process never
// waits for a refresh on a request. It refreshes when the token has less
// than twice MinTTL left (less than half its lifetime for short-lived
// tokens); foreground callers refresh only below MinTTL. Errors go to the
// Logger; an expired login (ErrLoginExpired) stops the loop, and so does
// a credential that never expires. It returns at once.
func (s *TokenSource) StartBackgroundRefresh(ctx context.Context) {
	go s.background(ctx)
}

func (s *TokenSource) background(ctx context.Context) {
	for {
		wait, lead, err := s.nextRefresh(ctx)
		switch {
		case err != nil:
			s.log.Warn("background token refresh", "profile", s.profile, "error", err)
			wait = backgroundRetry
		case lead < 0:
			return // nothing to refresh
		case wait <= 0:
			if _, err := s.TokenWithMinTTL(ctx, lead); err != nil {
				if ctx.Err() != nil {
					return
				}
				s.log.Warn("background token refresh", "profile", s.profile, "error", err)
				if errors.Is(err, ErrLoginExpired) {
					return
				}
				wait = backgroundRetry
			}
		}
		if wait <= 0 {
			continue
		}
		t := s.clk.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// nextRefresh says how long to wait before the next background refresh
// and with which lead; a negative lead means the credential never needs
// one.
func (s *TokenSource) nextRefresh(ctx context.Context) (wait, lead time.Duration, err error) {
	cred, err := s.current(ctx)
	if err != nil {
		return 0, 0, err
	}
	if cred.Kind == credstore.KindAPIKey || cred.Expiry.IsZero() {
		return 0, -1, nil
	}
	lead = 2 * s.minTTL
	if !cred.UpdatedAt.IsZero() && cred.Expiry.After(cred.UpdatedAt) {
		if half := cred.Expiry.Sub(cred.UpdatedAt) / 2; half < lead {
			lead = half
		}
	}
	return cred.Expiry.Sub(s.clk.Now()) - lead, lead, nil
}
