package cli

import (
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// TestBadSecretKeyIsInvalidConfiguration: a GATEHOUSE_SECRET_KEY that is
// not a key stops the server, the gateway and key rotation with exit 2
// (invalid configuration, as docs/cli.md's table says), naming the
// variable but never its value.
func TestBadSecretKeyIsInvalidConfiguration(t *testing.T) {
	t.Parallel()
	h := commandtest.NewHarness(t, NewRootCmd)
	const value = "not-a-key-but-a-Secret"
	h.Env["GATEHOUSE_SECRET_KEY"] = value
	for _, args := range [][]string{
		{"server", "--addr", "127.0.0.1:0"},
		{"proxy", "--upstream", "http://127.0.0.1:9", "--preset", "demo", "--addr", "127.0.0.1:0"},
		{"keys", "rotate"},
	} {
		r := h.Fail(command.ExitUsage, "GATEHOUSE_SECRET_KEY", "", args...)
		if strings.Contains(r.Err.Error(), value) || strings.Contains(r.ErrOut, value) {
			t.Errorf("gatehouse %s shows the secret key's value: %v", strings.Join(args, " "), r.Err)
		}
	}
}
