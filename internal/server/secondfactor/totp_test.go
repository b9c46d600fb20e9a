package secondfactor

import (
	"context"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// memTOTP is a storage.TOTPStore in memory whose UpdateTOTP keeps a
// change only when fn succeeds, as a transaction would.
type memTOTP struct {
	mu   sync.Mutex
	rows map[string]storage.TOTP
}

func (m *memTOTP) CreateTOTP(_ context.Context, t *storage.TOTP) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rows[t.UserID]; ok {
		return storage.ErrAlreadyExists
	}
	m.rows[t.UserID] = *t
	return nil
}

func (m *memTOTP) GetTOTP(_ context.Context, userID string) (*storage.TOTP, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.rows[userID]
	if !ok {
		return nil, storage.ErrNotFound
	}
	return &t, nil
}

func (m *memTOTP) UpdateTOTP(_ context.Context, userID string, fn func(*storage.TOTP) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.rows[userID]
	if !ok {
		return storage.ErrNotFound
	}
	if err := fn(&t); err != nil {
		return err
	}
	m.rows[userID] = t
	return nil
}

func (m *memTOTP) DeleteTOTP(_ context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, userID)
	return nil
}

func newTestTOTP(t *testing.T) (*TOTP, *memTOTP, *clocktest.Fake) {
	t.Helper()
	st := &memTOTP{rows: map[string]storage.TOTP{}}
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	return New(st, secret.NewKey(), clk), st, clk
}

func codeAt(t *testing.T, b32 string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(b32, at, totp.ValidateOpts{Period: period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An enrolment confirms with a current code, which cannot be used again;
// a recovery code works once; a new enrolment of an enrolled user is
// refused.
func TestEnrolConsumeAndReplay(t *testing.T) {
	ctx := context.Background()
	c, st, clk := newTestTOTP(t)
	sec, err := c.Begin(ctx, "u1", "Gatehouse", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(sec, "=")); err != nil {
		t.Fatalf("secret %q: %v", sec, err)
	}
	row, _ := st.GetTOTP(ctx, "u1")
	if row.Enrolled || len(row.EncryptedSecret) == 0 || strings.Contains(string(row.EncryptedSecret), sec) {
		t.Fatalf("stored state %+v", row)
	}
	if got, err := c.Secret(row, "u1"); err != nil || string(got) != sec {
		t.Fatalf("Secret = %q, %v", got, err)
	}
	if _, err := c.Secret(row, "u2"); err == nil {
		t.Fatal("the sealed secret opened for another user")
	}
	codes, hashes := NewRecoveryCodes()
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	code := codeAt(t, sec, clk.Now())
	ok, err := c.Consume(ctx, "u1", code, false, func(t *storage.TOTP) { t.Enrolled, t.RecoveryCodes = true, hashes })
	if err != nil || !ok {
		t.Fatalf("confirm: %v %v", ok, err)
	}
	if ok, _ := c.Consume(ctx, "u1", code, true, nil); ok {
		t.Fatal("a used code was accepted again")
	}
	if _, err := c.Begin(ctx, "u1", "Gatehouse", "alice"); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("Begin of an enrolled user: %v", err)
	}
	rc := strings.ToUpper(codes[0])
	if ok, err := c.Consume(ctx, "u1", rc, true, nil); err != nil || !ok {
		t.Fatalf("recovery code: %v %v", ok, err)
	}
	if ok, _ := c.Consume(ctx, "u1", codes[0], true, nil); ok {
		t.Fatal("a recovery code was accepted twice")
	}
	if HashRecoveryCode(codes[1]) != hashes[1] || HashRecoveryCode(strings.ReplaceAll(codes[1], "-", "")) != hashes[1] {
		t.Fatal("HashRecoveryCode does not give the stored hash")
	}
}

// Wrong codes count; past FreeFailures they lock code entry, even for the
// right code; a guard that says no changes nothing.
func TestWrongCodesLockAndGuard(t *testing.T) {
	ctx := context.Background()
	c, st, clk := newTestTOTP(t)
	sec, err := c.Begin(ctx, "u1", "Gatehouse", "alice")
	if err != nil {
		t.Fatal(err)
	}
	no := func(*storage.TOTP) bool { return false }
	if ok, err := c.ConsumeIf(ctx, "u1", codeAt(t, sec, clk.Now()), false, no, nil); ok || !errors.Is(err, ErrGuard) {
		t.Fatalf("guard said no: %v %v", ok, err)
	}
	if row, _ := st.GetTOTP(ctx, "u1"); row.Failures != 0 || row.LastStep != 0 {
		t.Fatalf("a refused guard changed the state: %+v", row)
	}
	for i := 1; i <= FreeFailures+1; i++ {
		if ok, err := c.Consume(ctx, "u1", "000000", false, nil); ok || err != nil {
			t.Fatalf("wrong code %d: %v %v", i, ok, err)
		}
	}
	row, _ := st.GetTOTP(ctx, "u1")
	if row.Failures != FreeFailures+1 || !row.LockedUntil.Equal(clk.Now().Add(Backoff(FreeFailures+1))) {
		t.Fatalf("after %d wrong codes: %+v", FreeFailures+1, row)
	}
	if ok, _ := c.Consume(ctx, "u1", codeAt(t, sec, clk.Now()), false, nil); ok {
		t.Fatal("the right code was accepted during the lock")
	}
	clk.Advance(Backoff(FreeFailures+1) + time.Second)
	if ok, err := c.Consume(ctx, "u1", codeAt(t, sec, clk.Now()), false, nil); !ok || err != nil {
		t.Fatalf("the right code after the lock: %v %v", ok, err)
	}
	if row, _ := st.GetTOTP(ctx, "u1"); row.Failures != 0 || !row.LockedUntil.IsZero() {
		t.Fatalf("a right code did not clear the count: %+v", row)
	}
}

func TestNoSecretKey(t *testing.T) {
	c := New(&memTOTP{rows: map[string]storage.TOTP{}}, nil, clocktest.New(time.Now()))
	if _, err := c.Consume(context.Background(), "u1", "123456", true, nil); err == nil {
		t.Fatal("Consume without a secret key")
	}
	if _, err := c.Begin(context.Background(), "u1", "Gatehouse", "alice"); err == nil {
		t.Fatal("Begin without a secret key")
	}
}
