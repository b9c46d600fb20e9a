package admincmd

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestUsersMFAReset(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("correct horse battery\n", "users", "add", "alice", "--password-stdin")
	u, err := h.store().GetUserByName(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store().CreateTOTP(t.Context(), &storage.TOTP{UserID: u.ID, EncryptedSecret: []byte{1}, Enrolled: true}); err != nil {
		t.Fatal(err)
	}
	r := h.ok("", "users", "mfa-reset", "Alice")
	if !strings.Contains(r.Out, "removed") || !strings.Contains(r.ErrOut, `"type":"user.updated"`) || !strings.Contains(r.ErrOut, "mfa reset") {
		t.Errorf("mfa-reset output %q, audit %q", r.Out, r.ErrOut)
	}
	if _, err := h.store().GetTOTP(t.Context(), u.ID); err == nil {
		t.Error("TOTP still stored after mfa-reset")
	}
	if r := h.ok("", "users", "mfa-reset", "alice"); !strings.Contains(r.Out, "no two-step") {
		t.Errorf("second reset: %q", r.Out)
	}
	h.fail(command.ExitError, "not found", "", "users", "mfa-reset", "bob")
}
