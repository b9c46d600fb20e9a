package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// docCommand finds "gatehouse WORD..." in docs/cli.md: the command words
// that follow, up to the first flag, placeholder or punctuation.
var docCommand = regexp.MustCompile("(?m)(?:^|[\\s`(|])gatehouse((?: [a-z][a-z0-9-]*)+)")

// TestDocsListEveryCommand compares the command tree (what `gatehouse
// --help` shows, recursively) with docs/cli.md, both ways: every command
// is named there as "gatehouse PATH", and every "gatehouse a b" there that
// goes through a command group names one of its subcommands.
func TestDocsListEveryCommand(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	streams, _, _ := command.NewTestIOStreams("")
	root := NewRootCmd(streams)
	root.InitDefaultCompletionCmd() // cobra adds it only when it runs

	documented := map[string]bool{}
	for _, m := range docCommand.FindAllStringSubmatch(doc, -1) {
		words := strings.Fields(m[1])
		c, rest, err := root.Find(words)
		if err != nil {
			t.Errorf("docs/cli.md names %q: %v", "gatehouse"+m[1], err)
			continue
		}
		// Words left over after a command group are a subcommand that
		// does not exist (a leaf command takes them as arguments).
		if len(rest) > 0 && c.HasAvailableSubCommands() && c.Name() != "help" {
			t.Errorf("docs/cli.md names %q, but %q has no subcommand %q", "gatehouse"+m[1], c.CommandPath(), rest[0])
			continue
		}
		for p := c; p != nil; p = p.Parent() {
			documented[p.CommandPath()] = true
		}
	}
	ownCommands(root, func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root {
			return // hidden
		}
		if !documented[c.CommandPath()] {
			t.Errorf("%q is not in docs/cli.md (name it as `%s ...` in its section)", c.CommandPath(), c.CommandPath())
		}
	})
}
