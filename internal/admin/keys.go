package admin

import (
	"context"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// SigningKeys is what RotateSigningKey needs of a signing.Manager: the
// server's, or one the CLI opens on the database.
type SigningKeys interface {
	// Rotate creates a key that signs activateIn from now; a negative
	// activateIn is the manager's prepublish period.
	Rotate(ctx context.Context, activateIn time.Duration) (*storage.SigningKey, error)
	Keys() []signing.KeyInfo
}

// RotateSigningKey creates a signing key, published in the JWKS at once,
// that starts signing activateIn from now (nil: the prepublish period of
// keys), and returns it as listed.
func RotateSigningKey(ctx context.Context, keys SigningKeys, activateIn *time.Duration) (signing.KeyInfo, audit.Event, error) {
	d := time.Duration(-1)
	if activateIn != nil {
		if *activateIn < 0 {
			return signing.KeyInfo{}, audit.Event{}, invalidf("the time before the new key signs must not be negative, got %s", *activateIn)
		}
		d = *activateIn
	}
	k, err := keys.Rotate(ctx, d)
	if err != nil {
		return signing.KeyInfo{}, audit.Event{}, err
	}
	info := signing.KeyInfo{ID: k.ID, Algorithm: k.Algorithm, State: signing.StateNext, CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt}
	for _, i := range keys.Keys() {
		if i.ID == k.ID {
			info = i
		}
	}
	return info, audit.Event{Type: audit.KeyRotated, Outcome: audit.Success,
		Details: map[string]string{"kid": k.ID, "algorithm": k.Algorithm, "active_at": rfc3339(k.ActiveAt)}}, nil
}
