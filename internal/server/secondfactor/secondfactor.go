// Package secondfactor is the TOTP second factor (RFC 6238) without HTTP:
// the secret sealed at rest, the check of a code — a six-digit code of a
// time step after the last accepted one, or a recovery code — with its
// use and the per-user back-off after wrong codes recorded in the same
// transaction, the recovery codes, and the start of an enrolment. The
// login and account pages (internal/server/pages), the account API and
// the password grant's terminal sign-in share it; it does not import the
// server.
package secondfactor

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// TOTP back-off: the first FreeFailures wrong codes in a row cost nothing,
// each further one locks code entry for backoffBase doubled per failure
// beyond the free ones, up to backoffMax (1 minute, 2, 4, ... up to 24
// hours); an accepted code (or recovery code) clears the count.
const (
	FreeFailures = 5
	backoffBase  = time.Minute
	backoffMax   = 24 * time.Hour
)

const (
	// period is the TOTP time step, in seconds.
	period = 30
	// RecoveryCodeCount is how many recovery codes an enrolment gives.
	RecoveryCodeCount = 10
)

// TOTP checks and enrols the TOTP codes of users.
type TOTP struct {
	store     storage.TOTPStore
	secretKey *secret.Key
	clock     clock.Clock
}

// New returns the TOTP codes on store, whose secrets key seals.
func New(store storage.TOTPStore, key *secret.Key, clk clock.Clock) *TOTP {
	return &TOTP{store: store, secretKey: key, clock: clk}
}

// Backoff is how long code entry is locked after the failures-th wrong
// code in a row: nothing for the free ones, then backoffBase doubled
// for each further failure, at most backoffMax.
func Backoff(failures int) time.Duration {
	n := failures - FreeFailures
	if n <= 0 {
		return 0
	}
	d := backoffBase
	for range n - 1 {
		d *= 2
		if d >= backoffMax {
			return backoffMax
		}
	}
	return d
}

// errBadCode aborts a TOTP update when the code does not match.
var errBadCode = errors.New("server: bad totp code")

// secretAD binds a sealed TOTP secret to its user.
func secretAD(userID string) []byte { return []byte("totp:" + userID) }

// SealSecret seals the raw TOTP secret of userID with key, as
// storage.TOTP.EncryptedSecret holds it (for tools and tests that enrol a
// user without the account page).
func SealSecret(key *secret.Key, userID string, raw []byte) ([]byte, error) {
	return key.Seal(raw, secretAD(userID))
}

// Consume checks code against userID's TOTP state and, when it
// matches, records its use in the same transaction: a six-digit code of a
// time step after the last accepted one (±1 step around now), or — for an
// enrolled user — an unused recovery code, which is removed. enrolled says
// which state the TOTP must be in;
// then, if not nil, changes the state further in the same transaction.
func (s *TOTP) Consume(ctx context.Context, userID, code string, enrolled bool, then func(*storage.TOTP)) (bool, error) {
	return s.ConsumeIf(ctx, userID, code, enrolled, nil, then)
}

// ConsumeIf is Consume that first asks guard, when not nil, in
// the same transaction: when it says no, nothing changes (no code is
// used, no failure counted) and the error is ErrGuard.
func (s *TOTP) ConsumeIf(ctx context.Context, userID, code string, enrolled bool, guard func(*storage.TOTP) bool, then func(*storage.TOTP)) (bool, error) {
	if s.secretKey == nil {
		return false, errors.New("server: multi-factor login needs the secret key")
	}
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 64 {
		return false, nil
	}
	now := s.clock.Now()
	// A wrong code is recorded (the back-off count) in the same
	// transaction, which therefore commits: bad says the code was wrong.
	var bad bool
	err := s.store.UpdateTOTP(ctx, userID, func(t *storage.TOTP) error {
		bad = false
		if guard != nil && !guard(t) {
			return ErrGuard
		}
		if t.Enrolled != enrolled || now.Before(t.LockedUntil) {
			return errBadCode
		}
		if ok, err := s.match(t, userID, code, enrolled, now); err != nil {
			return err
		} else if !ok {
			bad = true
			t.Failures++
			if d := Backoff(t.Failures); d > 0 {
				t.LockedUntil = now.Add(d).UTC()
			}
			t.UpdatedAt = now.UTC()
			return nil
		}
		t.Failures, t.LockedUntil = 0, time.Time{}
		t.UpdatedAt = now.UTC()
		if then != nil {
			then(t)
		}
		return nil
	})
	switch {
	case err == nil:
		return !bad, nil
	case errors.Is(err, ErrGuard):
		return false, err
	case errors.Is(err, errBadCode), errors.Is(err, storage.ErrNotFound):
		return false, nil
	}
	return false, fmt.Errorf("server: check totp code: %w", err)
}

// match reports whether code is good for t, and uses it up in t: a
// six-digit code of a time step after the last accepted one (±1 step
// around now), or, for an enrolled user, an unused recovery code, which
// is removed.
func (s *TOTP) match(t *storage.TOTP, userID, code string, enrolled bool, now time.Time) (bool, error) {
	if isTOTPCode(code) {
		sec, err := s.secretKey.Open(t.EncryptedSecret, secretAD(userID))
		if err != nil {
			return false, fmt.Errorf("server: open totp secret: %w", err)
		}
		cur := now.Unix() / period
		for step := cur - 1; step <= cur+1; step++ {
			if step <= t.LastStep {
				continue
			}
			ok, _ := totp.ValidateCustom(code, string(sec), time.Unix(step*period, 0), totp.ValidateOpts{
				Period: period, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
			})
			if ok {
				t.LastStep = step
				return true, nil
			}
		}
		return false, nil
	}
	if !enrolled {
		return false, nil
	}
	h := secret.Hash(normalizeRecoveryCode(code))
	i := slices.Index(t.RecoveryCodes, h)
	if i < 0 {
		return false, nil
	}
	t.RecoveryCodes = slices.Delete(slices.Clone(t.RecoveryCodes), i, i+1)
	return true, nil
}

func isTOTPCode(c string) bool {
	if len(c) != 6 {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// normalizeRecoveryCode drops separators and case, so "ABCDE-FGHIJ" and
// "abcdefghij" are the same code.
func normalizeRecoveryCode(c string) string {
	c = strings.ToLower(c)
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, c)
}

// NewRecoveryCodes makes RecoveryCodeCount codes ("xxxxx-xxxxx", base32
// lower case, 50 bits each) and their stored hashes.
func NewRecoveryCodes() (codes, hashes []string) {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for range RecoveryCodeCount {
		b := make([]byte, 7)
		_, _ = rand.Read(b)
		c := strings.ToLower(enc.EncodeToString(b))[:10]
		c = c[:5] + "-" + c[5:]
		codes = append(codes, c)
		hashes = append(hashes, secret.Hash(normalizeRecoveryCode(c)))
	}
	return codes, hashes
}

// ErrGuard is ConsumeIf's refusal when its guard says no.
var ErrGuard = errors.New("server: totp code check refused by its guard")

// HashRecoveryCode is the stored form of the recovery code c, whatever
// its separators and case.
func HashRecoveryCode(c string) string { return secret.Hash(normalizeRecoveryCode(c)) }

// ErrAlreadyEnrolled refuses a new enrolment of a user whose TOTP is on.
var ErrAlreadyEnrolled = errors.New("server: totp already enrolled")

// Begin starts (or restarts) the TOTP enrolment of userID with a new
// secret, stored sealed and not yet enrolled, and returns it (base32);
// issuer and accountName name it in authenticator apps. It returns
// ErrAlreadyEnrolled when the user's TOTP is already on.
func (s *TOTP) Begin(ctx context.Context, userID, issuer, accountName string) (string, error) {
	if s.secretKey == nil {
		return "", errors.New("server: multi-factor login needs the secret key")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: accountName})
	if err != nil {
		return "", fmt.Errorf("server: generate totp key: %w", err)
	}
	sealed, err := s.secretKey.Seal([]byte(key.Secret()), secretAD(userID))
	if err != nil {
		return "", fmt.Errorf("server: seal totp secret: %w", err)
	}
	now := s.clock.Now().UTC()
	err = s.store.UpdateTOTP(ctx, userID, func(t *storage.TOTP) error {
		if t.Enrolled {
			return ErrAlreadyEnrolled
		}
		t.EncryptedSecret, t.LastStep, t.RecoveryCodes, t.UpdatedAt = sealed, 0, nil, now
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		err = s.store.CreateTOTP(ctx, &storage.TOTP{UserID: userID, EncryptedSecret: sealed, CreatedAt: now, UpdatedAt: now})
	}
	switch {
	case errors.Is(err, ErrAlreadyEnrolled):
		return "", ErrAlreadyEnrolled
	case err != nil:
		return "", fmt.Errorf("server: store totp: %w", err)
	}
	return key.Secret(), nil
}

// Secret is the secret of t, userID's TOTP state, as stored sealed.
func (s *TOTP) Secret(t *storage.TOTP, userID string) ([]byte, error) {
	sec, err := s.secretKey.Open(t.EncryptedSecret, secretAD(userID))
	if err != nil {
		return nil, fmt.Errorf("server: open totp secret: %w", err)
	}
	return sec, nil
}
