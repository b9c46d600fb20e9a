package storage

import (
	"context"
	"errors"
	"fmt"
)

// SecondFactorStore is what ResetMFA needs of a Store.
type SecondFactorStore interface {
	DeleteTOTP(ctx context.Context, userID string) error
	ListUserPasskeys(ctx context.Context, userID string) ([]*Passkey, error)
	DeletePasskey(ctx context.Context, id string) error
}

// ResetMFA removes userID's second factors, for a user who lost their
// authenticator: the TOTP state (key and recovery codes) and every
// passkey. It reports whether there was a TOTP state and how many
// passkeys went. `gatehouse users mfa-reset`, on the database and over
// the admin API, calls it.
func ResetMFA(ctx context.Context, st SecondFactorStore, userID string) (totp bool, passkeys int, err error) {
	err = st.DeleteTOTP(ctx, userID)
	totp = err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, 0, fmt.Errorf("storage: reset mfa: %w", err)
	}
	keys, err := st.ListUserPasskeys(ctx, userID)
	if err != nil {
		return totp, 0, fmt.Errorf("storage: reset mfa: %w", err)
	}
	for _, k := range keys {
		if err := st.DeletePasskey(ctx, k.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return totp, passkeys, fmt.Errorf("storage: reset mfa: %w", err)
		}
		passkeys++
	}
	return totp, passkeys, nil
}
