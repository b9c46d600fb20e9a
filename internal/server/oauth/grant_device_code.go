package oauth

import (
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// slowDownStep is how much the polling interval grows on each slow_down
// (RFC 8628 §3.5: "the interval MUST be increased by 5 seconds").
const slowDownStep = 5 * time.Second

// grantDeviceCode implements the device access token request
// (RFC 8628 §3.4, §3.5).
func (e *Endpoints) grantDeviceCode(r *http.Request, c *storage.Client, jkt string) (*protocol.TokenResponse, error) {
	if err := requireGrantType(c, protocol.GrantDeviceCode); err != nil {
		return nil, err
	}
	dc := r.PostForm.Get("device_code")
	if dc == "" {
		return nil, protocol.NewError(protocol.ErrInvalidRequest, "device_code is required")
	}
	now := e.clock.Now().UTC()
	grantID := secret.NewID()

	// The outcome is decided inside the transaction; the polling state
	// (last poll, interval) must be saved even when the answer is an
	// error, so the closure records the outcome and returns nil.
	var (
		outcome  *protocol.Error
		approved storage.DeviceCode
	)
	err := e.store.UpdateDeviceCode(r.Context(), secret.Hash(dc), func(d *storage.DeviceCode) error {
		outcome = nil
		if d.ClientID != c.ID {
			return protocol.NewError(protocol.ErrInvalidGrant, "invalid device code")
		}
		switch d.Status {
		case storage.DeviceStatusConsumed:
			return protocol.NewError(protocol.ErrInvalidGrant, "device code already used")
		case storage.DeviceStatusDenied:
			return protocol.NewError(protocol.ErrAccessDenied, "the user denied the request")
		}
		if !now.Before(d.ExpiresAt) {
			return protocol.NewError(protocol.ErrExpiredToken, "device code expired")
		}
		tooFast := !d.LastPolled.IsZero() && now.Sub(d.LastPolled) < d.Interval
		d.LastPolled = now
		if tooFast {
			d.Interval += slowDownStep
			outcome = protocol.NewError(protocol.ErrSlowDown, "polling too fast; wait longer between requests")
			return nil
		}
		if d.Status == storage.DeviceStatusPending {
			outcome = protocol.NewError(protocol.ErrAuthorizationPending, "the user has not yet approved the request")
			return nil
		}
		if len(d.Resources) == 0 {
			d.Resources = e.defaultAudience(c) // a device code issued before resources were stored
		}
		// Checked before the device code is spent (RFC 8707 §2.2).
		if _, err := narrowResources(d.Resources, ResourceParams(r.PostForm)); err != nil {
			return err
		}
		d.Status = storage.DeviceStatusConsumed
		d.GrantID = grantID
		approved = *d
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, protocol.NewError(protocol.ErrInvalidGrant, "invalid device code")
	}
	if err != nil {
		return nil, err
	}
	if outcome != nil {
		return nil, outcome
	}
	u, err := e.activeUser(r, approved.UserID)
	if err != nil {
		return nil, err
	}
	g, err := e.newGrant(r.Context(), grantID, c, u.ID, approved.Scopes, approved.Resources, approved.AuthTime)
	if err != nil {
		return nil, err
	}
	return e.issueForGrant(r.Context(), r, c, u, g, "", jkt)
}
