package admincmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

func TestKeysListAndRotate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	h.prepare = func(s *command.IOStreams) { s.Clock = clk }
	keys := decode[[]keyJSON](t, h.ok("", "keys", "list", "--json").Out)
	if len(keys) != 1 || keys[0].State != "active" || keys[0].ID == "" {
		t.Fatalf("keys on a new database = %+v, want one active key", keys)
	}

	clk.Advance(time.Minute)
	r := h.ok("", "keys", "rotate", "--json")
	rotated := decode[keyJSON](t, r.Out)
	if rotated.ID == "" || rotated.ID == keys[0].ID || rotated.State != "next" {
		t.Errorf("rotate --json = %+v, want a new key in state next", rotated)
	}
	// Default activation: signing.prepublish (1h) from now.
	if rotated.CreatedAt != "2030-01-02T03:05:05Z" || rotated.ActiveAt != "2030-01-02T04:05:05Z" {
		t.Errorf("new key created %s, active %s; want now and now+1h", rotated.CreatedAt, rotated.ActiveAt)
	}
	if !strings.Contains(r.ErrOut, `"type":"key.rotated"`) {
		t.Errorf("no key.rotated audit event:\n%s", r.ErrOut)
	}

	after := decode[[]keyJSON](t, h.ok("", "keys", "list", "--json").Out)
	states := map[string]string{}
	for _, k := range after {
		states[k.ID] = k.State
	}
	if len(after) != 2 || states[keys[0].ID] != "active" || states[rotated.ID] != "next" {
		t.Errorf("keys after rotate = %+v, want the old one active and the new one next", after)
	}
	if table := h.ok("", "keys", "list").Out; !strings.Contains(table, rotated.ID) || !strings.Contains(table, "next") {
		t.Errorf("keys list:\n%s", table)
	}

	human := h.ok("", "keys", "rotate", "--activate-in", "1m")
	if !strings.Contains(human.Out, "starts signing at") || !strings.Contains(human.Out, "signing.reload_interval (30s)") {
		t.Errorf("keys rotate output:\n%s", human.Out)
	}
	if !strings.Contains(human.ErrOut, "Warning") {
		t.Errorf("no warning for an activation shorter than prepublish:\n%s", human.ErrOut)
	}
	h.fail(command.ExitUsage, "negative", "", "keys", "rotate", "--activate-in", "-1s")
	h.fail(command.ExitUsage, "invalid argument", "", "keys", "rotate", "--activate-in", "soon")
}

func TestKeysRotateTakesOverAtActivation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	clk := clocktest.New(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	h.prepare = func(s *command.IOStreams) { s.Clock = clk }
	first := decode[[]keyJSON](t, h.ok("", "keys", "list", "--json").Out)[0]
	next := decode[keyJSON](t, h.ok("", "keys", "rotate", "--activate-in", "10m", "--json").Out)
	clk.Advance(11 * time.Minute)
	states := map[string]keyJSON{}
	for _, k := range decode[[]keyJSON](t, h.ok("", "keys", "list", "--json").Out) {
		states[k.ID] = k
	}
	if k := states[next.ID]; k.State != "active" || !k.Signing {
		t.Errorf("new key after its activation: %+v, want active and signing", k)
	}
	if k := states[first.ID]; k.State != "retired" || k.Signing {
		t.Errorf("old key after the new one activated: %+v, want retired", k)
	}
}

func TestKeysNeedTheServerSecretKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.ok("", "keys", "list")
	if !strings.Contains(r.ErrOut, "Generated a new secret key") {
		t.Errorf("no note about the generated secret key:\n%s", r.ErrOut)
	}
	// Elsewhere, the same database without its secret key: refuse rather
	// than generate a key that cannot decrypt the signing keys.
	elsewhere := filepath.Join(t.TempDir(), "other.key")
	h.fail(command.ExitError, "--secret-key-file", "", "keys", "rotate", "--secret-key-file", elsewhere)
	if _, err := os.Stat(elsewhere); err == nil {
		t.Error("a new secret key file was created")
	}
	h.ok("", "keys", "list", "--secret-key-file", filepath.Join(h.dataDir, "secret.key"))
}
