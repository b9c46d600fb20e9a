package admincmd

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/password"
)

// verifyPassword checks the stored hash of user against pw.
func verifyPassword(t *testing.T, h *harness, user, pw string) bool {
	t.Helper()
	u, err := h.store().GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := password.NewHasher(password.DefaultParams, 1).Verify(t.Context(), u.PasswordHash, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestUsersLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("correct horse battery\n", "users", "add", "Alice", "--role", "editor", "--password-stdin", "--json")
	added := decode[userJSON](t, r.Out)
	if added.Username != "alice" || !slices.Equal(added.Roles, []string{"editor"}) || added.ID == "" || added.CreatedAt == "" {
		t.Errorf("users add --json = %+v", added)
	}
	if !strings.Contains(r.ErrOut, `"type":"user.created"`) || strings.Contains(r.ErrOut, "argon2") || strings.Contains(r.ErrOut, "correct horse") {
		t.Errorf("audit event missing or leaking the password:\n%s", r.ErrOut)
	}
	if !verifyPassword(t, h, "alice", "correct horse battery") {
		t.Fatal("stored hash does not verify the password read from stdin")
	}

	listed := h.ok("", "users", "list", "--json")
	users := decode[[]userJSON](t, listed.Out)
	if diff := cmp.Diff([]userJSON{added}, users); diff != "" {
		t.Errorf("users list --json (-want +got):\n%s", diff)
	}
	if strings.Contains(listed.Out, "argon2") {
		t.Error("users list prints the password hash")
	}
	if table := h.ok("", "users", "list").Out; !strings.Contains(table, "alice") || !strings.Contains(table, "editor") {
		t.Errorf("users list:\n%s", table)
	}

	h.ok("a new passphrase\r\n", "users", "passwd", "alice", "--password-stdin")
	if !verifyPassword(t, h, "alice", "a new passphrase") || verifyPassword(t, h, "alice", "correct horse battery") {
		t.Error("passwd did not replace the password (CRLF must be trimmed)")
	}

	h.ok("", "users", "set-role", "alice", "admin", "viewer")
	u, err := h.store().GetUserByName(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Roles, []string{"admin", "viewer"}) {
		t.Errorf("roles after set-role = %v", u.Roles)
	}

	// Alice is now the only admin.
	h.fail(command.ExitError, "last admin", "", "users", "delete", "alice")
	h.fail(command.ExitError, "last admin", "", "users", "set-role", "alice", "viewer")
	h.ok("bob's password\n", "users", "add", "bob", "--role", "admin", "--password-stdin")
	h.ok("", "users", "set-role", "alice", "viewer")
	h.fail(command.ExitError, "last admin", "", "users", "delete", "bob")
	r = h.ok("", "users", "delete", "alice")
	if !strings.Contains(r.ErrOut, `"type":"user.deleted"`) {
		t.Errorf("no user.deleted audit event:\n%s", r.ErrOut)
	}
	h.fail(command.ExitError, "not found", "", "users", "delete", "alice")
	h.fail(command.ExitError, "not found", "", "users", "passwd", "alice", "--password-stdin")
}

func TestUsersAddDefaultsAndErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.ok("long enough\n", "users", "add", "carol", "--password-stdin")
	u, err := h.store().GetUserByName(t.Context(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Roles, []string{"viewer"}) {
		t.Errorf("default roles = %v, want [viewer]", u.Roles)
	}
	h.fail(command.ExitError, "already exists", "long enough\n", "users", "add", "CAROL", "--password-stdin")
	h.fail(command.ExitUsage, "use --password-stdin", "", "users", "add", "dave")
	h.fail(command.ExitUsage, "at least 8 characters", "short\n", "users", "add", "dave", "--password-stdin")
	h.fail(command.ExitUsage, "stdin is empty", "", "users", "add", "dave", "--password-stdin")
	h.fail(command.ExitUsage, "unknown role", "long enough\n", "users", "add", "dave", "--role", "owner", "--password-stdin")
	h.fail(command.ExitUsage, "spaces", "long enough\n", "users", "add", "da ve", "--password-stdin")
	h.fail(command.ExitUsage, "requires at least 2 arg", "", "users", "set-role", "carol")
	h.fail(command.ExitUsage, "unknown role", "", "users", "set-role", "carol", "root")
	if _, err := h.store().GetUserByName(t.Context(), "dave"); err == nil {
		t.Error("a rejected user was stored")
	}
}

func TestUsersPromptOnTerminal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var answers []string
	h.prepare = func(s *command.IOStreams) {
		s.IsTTY = func() bool { return true }
		s.ReadPassword = func(context.Context) (string, error) {
			if len(answers) == 0 {
				return "", errors.New("EOF")
			}
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}
	}
	answers = []string{"typed twice!", "typed twice?"}
	h.fail(command.ExitUsage, "do not match", "", "users", "add", "erin")

	answers = []string{"typed twice!", "typed twice!"}
	r := h.ok("", "users", "add", "erin")
	if !strings.Contains(r.ErrOut, "New password for erin: ") || !strings.Contains(r.ErrOut, "Repeat the password: ") {
		t.Errorf("prompts on stderr:\n%s", r.ErrOut)
	}
	if !verifyPassword(t, h, "erin", "typed twice!") {
		t.Error("prompted password not stored")
	}

	answers = nil
	h.fail(command.ExitError, "read password", "", "users", "passwd", "erin")
}
