package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var authCodes = newTable("auth_codes",
	"hash", "client_id", "user_id", "redirect_uri", "scopes", "code_challenge",
	"code_challenge_method", "nonce", "auth_time", "expires_at", "created_at",
	"redeemed", "grant_id", "resources", "dpop_jkt")

func (s *Store) authCodeArgs(c *storage.AuthCode) []any {
	return []any{
		c.Hash, c.ClientID, c.UserID, c.RedirectURI, list(c.Scopes), c.CodeChallenge,
		c.CodeChallengeMethod, c.Nonce, s.time(c.AuthTime), s.time(c.ExpiresAt), s.time(c.CreatedAt),
		c.Redeemed, c.GrantID, list(c.Resources), c.DPoPJKT,
	}
}

func scanAuthCode(r rowScanner) (*storage.AuthCode, error) {
	var c storage.AuthCode
	err := r.Scan(&c.Hash, &c.ClientID, &c.UserID, &c.RedirectURI, listCol{&c.Scopes}, &c.CodeChallenge,
		&c.CodeChallengeMethod, &c.Nonce, timeCol{&c.AuthTime}, timeCol{&c.ExpiresAt}, timeCol{&c.CreatedAt},
		&c.Redeemed, &c.GrantID, listCol{&c.Resources}, &c.DPoPJKT)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateAuthCode stores a new authorization code.
func (s *Store) CreateAuthCode(ctx context.Context, c *storage.AuthCode) error {
	return s.insert(ctx, "auth code", authCodes.insert, s.authCodeArgs(c)...)
}

// UpdateAuthCode changes the code with hash through fn under a write lock;
// this is how a code is redeemed exactly once.
func (s *Store) UpdateAuthCode(ctx context.Context, hash string, fn func(*storage.AuthCode) error) error {
	return update(ctx, s, "update auth code", authCodes, hash, scanAuthCode, fn, func(tx *sql.Tx, v *storage.AuthCode) error {
		v.Hash = hash
		_, err := s.txExec(ctx, tx, authCodes.update, s.authCodeArgs(v)...)
		return err
	})
}

var deviceCodes = newTable("device_codes",
	"hash", "user_code", "client_id", "scopes", "status", "user_id", "auth_time",
	"interval_ns", "last_polled", "grant_id", "created_at", "expires_at", "resources")

func (s *Store) deviceCodeArgs(d *storage.DeviceCode) []any {
	return []any{
		d.Hash, d.UserCode, d.ClientID, list(d.Scopes), d.Status, d.UserID, s.time(d.AuthTime),
		int64(d.Interval), s.time(d.LastPolled), d.GrantID, s.time(d.CreatedAt), s.time(d.ExpiresAt), list(d.Resources),
	}
}

func scanDeviceCode(r rowScanner) (*storage.DeviceCode, error) {
	var d storage.DeviceCode
	var interval int64
	err := r.Scan(&d.Hash, &d.UserCode, &d.ClientID, listCol{&d.Scopes}, &d.Status, &d.UserID, timeCol{&d.AuthTime},
		&interval, timeCol{&d.LastPolled}, &d.GrantID, timeCol{&d.CreatedAt}, timeCol{&d.ExpiresAt}, listCol{&d.Resources})
	if err != nil {
		return nil, err
	}
	d.Interval = time.Duration(interval)
	return &d, nil
}

// CreateDeviceCode stores a new device authorization. A duplicate hash or
// user code is storage.ErrAlreadyExists.
func (s *Store) CreateDeviceCode(ctx context.Context, d *storage.DeviceCode) error {
	return s.insert(ctx, "device code", deviceCodes.insert, s.deviceCodeArgs(d)...)
}

// GetDeviceCodeByUserCode returns the device authorization whose user code
// is userCode, which the caller has normalised.
func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, userCode string) (*storage.DeviceCode, error) {
	d, err := scanDeviceCode(s.readRow(ctx, deviceCodes.sel+" WHERE user_code = $1", userCode))
	if err != nil {
		return nil, s.wrap("get device code", s.mapErr(err))
	}
	return d, nil
}

// UpdateDeviceCode changes the device authorization with hash through fn
// under a write lock (approval, polling, consumption).
func (s *Store) UpdateDeviceCode(ctx context.Context, hash string, fn func(*storage.DeviceCode) error) error {
	return update(ctx, s, "update device code", deviceCodes, hash, scanDeviceCode, fn, func(tx *sql.Tx, v *storage.DeviceCode) error {
		v.Hash = hash
		_, err := s.txExec(ctx, tx, deviceCodes.update, s.deviceCodeArgs(v)...)
		return err
	})
}
