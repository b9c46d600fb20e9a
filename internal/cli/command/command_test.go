package command

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestNewRootUsageErrors: under NewRoot, a bad flag, a wrong number of
// arguments, an unknown subcommand and a usage error returned by a run
// function are all *UsageError naming the command; a group without a
// subcommand prints its help.
func TestNewRootUsageErrors(t *testing.T) {
	t.Parallel()
	newTree := func() (*cobra.Command, *Buffer) {
		streams, out, _ := NewTestIOStreams("")
		group := &cobra.Command{Use: "things", Short: "Things"}
		Group(group)
		group.AddCommand(&cobra.Command{
			Use:  "make",
			Args: UsageArgs(cobra.NoArgs),
			RunE: func(*cobra.Command, []string) error { return UsageErrorf("--size is required") },
		})
		return NewRoot(streams, group), out
	}
	for _, tc := range []struct {
		args    []string
		command string
		want    string
	}{
		{[]string{"things", "make", "--nope"}, "gatehouse things make", "unknown flag: --nope"},
		{[]string{"things", "make", "x"}, "gatehouse things make", "unknown command \"x\""},
		{[]string{"things", "mkae"}, "gatehouse things", "Did you mean this?\n\tmake"},
		{[]string{"thngs"}, "gatehouse", "Did you mean this?\n\tthings"},
		{[]string{"things", "make"}, "gatehouse things make", "--size is required"},
	} {
		root, out := newTree()
		root.SetArgs(tc.args)
		err := root.Execute()
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Command != tc.command || !strings.Contains(err.Error(), tc.want) || ExitCode(err) != ExitUsage {
			t.Errorf("gatehouse %s: %#v, want a usage error of %q mentioning %q", strings.Join(tc.args, " "), err, tc.command, tc.want)
		}
		if out.String() != "" {
			t.Errorf("gatehouse %s printed %q", strings.Join(tc.args, " "), out)
		}
	}
	root, out := newTree()
	root.SetArgs([]string{"things"})
	if err := root.Execute(); err != nil || !strings.Contains(out.String(), "make") {
		t.Errorf("gatehouse things: %v, help %q", err, out)
	}
}
