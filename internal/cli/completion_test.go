package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// TestUnknownCommandSuggests: a mistyped command gets cobra's "did you
// mean" (which its own Args never reach, so the groups add it).
func TestUnknownCommandSuggests(t *testing.T) {
	t.Parallel()
	h := commandtest.NewHarness(t, NewRootCmd)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"usrs"}, "\n\tusers"},
		{[]string{"lgoin"}, "\n\tlogin"},
		{[]string{"clients", "craete"}, "\n\tcreate"},
		{[]string{"apikeys", "revok"}, "\n\trevoke"},
		{[]string{"config", "lst"}, "\n\tlist"},
		{[]string{"profiles", "lis"}, "\n\tlist"},
	} {
		r := h.RunCtx(t.Context(), "", tc.args...)
		if r.Code != command.ExitUsage || r.Err == nil || !strings.Contains(r.Err.Error(), "Did you mean this?") || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("gatehouse %s: exit %d, %v; want a usage error suggesting %q", strings.Join(tc.args, " "), r.Code, r.Err, strings.TrimSpace(tc.want))
		}
	}
	// Nothing close: no suggestion.
	if r := h.RunCtx(t.Context(), "", "zzzzzz"); r.Err == nil || strings.Contains(r.Err.Error(), "Did you mean") {
		t.Errorf("gatehouse zzzzzz: %v", r.Err)
	}
}

// TestEnumFlagCompletion: every flag of enumFlags exists where it says
// and completes to its values; config set KEY completes KEY's values.
func TestEnumFlagCompletion(t *testing.T) {
	t.Parallel()
	streams, _, _ := command.NewTestIOStreams("")
	root := NewRootCmd(streams)
	h := commandtest.NewHarness(t, NewRootCmd)
	for _, e := range enumFlags {
		var paths []string
		ownCommands(root, func(c *cobra.Command) {
			if (e.command == "" || c.CommandPath() == e.command) && c.Flags().Lookup(e.flag) != nil {
				paths = append(paths, c.CommandPath())
			}
		})
		if len(paths) == 0 {
			t.Errorf("enumFlags: no command %q has --%s", e.command, e.flag)
			continue
		}
		for _, p := range paths {
			args := append(append([]string{"__complete"}, strings.Fields(p)[1:]...), "--"+e.flag, "")
			r := h.RunCtx(t.Context(), "", args...)
			got := strings.Split(r.Out, "\n")
			for _, v := range e.values {
				if !slices.Contains(got, v) {
					t.Errorf("%s --%s <TAB>: %q missing from\n%s", p, e.flag, v, r.Out)
				}
			}
		}
	}
}
