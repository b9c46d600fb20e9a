package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// ownCommands walks the tree, skipping what cobra adds (help, completion).
func ownCommands(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, c := range cmd.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		ownCommands(c, fn)
	}
}

func TestEveryCommandIsDocumented(t *testing.T) {
	t.Parallel()
	streams, _, _ := command.NewTestIOStreams("")
	root := NewRootCmd(streams)
	n := 0
	ownCommands(root, func(c *cobra.Command) {
		n++
		path := c.CommandPath()
		if c.Short == "" || strings.Contains(c.Short, "\n") || strings.HasSuffix(c.Short, ".") {
			t.Errorf("%s: Short %q must be one line without a final period", path, c.Short)
		}
		if len(c.Long) < len(c.Short) {
			t.Errorf("%s: no Long help", path)
		}
		if !strings.Contains(c.Example, "gatehouse ") {
			t.Errorf("%s: no Examples", path)
		}
	})
	if n < 16 {
		t.Errorf("only %d commands in the tree", n)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	t.Parallel()
	streams, _, _ := command.NewTestIOStreams("")
	var paths [][]string
	ownCommands(NewRootCmd(streams), func(c *cobra.Command) {
		paths = append(paths, strings.Fields(c.CommandPath())[1:])
	})
	h := commandtest.NewHarness(t, NewRootCmd)
	for _, p := range paths {
		r := h.RunCtx(t.Context(), "", append(p, "--help")...)
		if r.Err != nil || !strings.Contains(r.Out, "Usage:") || !strings.Contains(r.Out, "Examples:") {
			t.Errorf("gatehouse %s --help: %v\n%s", strings.Join(p, " "), r.Err, r.Out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	h := commandtest.NewHarness(t, NewRootCmd)
	cases := [][]string{
		{"bogus"},
		{"clients", "bogus"},
		{"users", "list", "extra"},
		{"keys", "--nope"},
		{"version", "x"},
	}
	for _, args := range cases {
		r := h.RunCtx(t.Context(), "", args...)
		if r.Code != command.ExitUsage {
			t.Errorf("gatehouse %s: exit %d (%v), want %d", strings.Join(args, " "), r.Code, r.Err, command.ExitUsage)
		}
		if r.Out != "" {
			t.Errorf("gatehouse %s printed to stdout:\n%s", strings.Join(args, " "), r.Out)
		}
	}
	// A group without a subcommand shows its help and succeeds.
	if r := h.RunCtx(t.Context(), "", "clients"); r.Err != nil || !strings.Contains(r.Out, "rotate-secret") {
		t.Errorf("gatehouse clients: %v\n%s", r.Err, r.Out)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	h := commandtest.NewHarness(t, NewRootCmd)
	r := h.RunCtx(t.Context(), "", "version")
	if r.Err != nil || !strings.HasPrefix(r.Out, "gatehouse ") || !strings.Contains(r.Out, "go1.") {
		t.Errorf("version: %v %q", r.Err, r.Out)
	}
	r = h.RunCtx(t.Context(), "", "--version")
	if r.Err != nil || !strings.HasPrefix(r.Out, "gatehouse ") {
		t.Errorf("--version: %v %q", r.Err, r.Out)
	}
}

// The client commands are part of the tree, with the global flags.
func TestClientCommandsInTree(t *testing.T) {
	t.Parallel()
	h := commandtest.NewHarness(t, NewRootCmd)
	r := h.RunCtx(t.Context(), "", "--help")
	for _, name := range []string{"login", "logout", "token", "status", "profiles", "config", "api", "credential-helper", "completion"} {
		if !strings.Contains(r.Out, "\n  "+name+" ") {
			t.Errorf("--help lacks %s:\n%s", name, r.Out)
		}
	}
	r = h.RunCtx(t.Context(), "", "token", "--help")
	if !strings.Contains(r.Out, "-p, --profile NAME") || !strings.Contains(r.Out, "$GATEHOUSE_PROFILE") {
		t.Errorf("token --help:\n%s", r.Out)
	}
	if r := h.RunCtx(t.Context(), "", "token", "--bogus"); r.Code != command.ExitUsage {
		t.Errorf("unknown flag: exit %d", r.Code)
	}
	if r := h.RunCtx(t.Context(), "", "status"); r.Code != command.ExitNotLoggedIn {
		t.Errorf("status without a login: exit %d", r.Code)
	}
}
