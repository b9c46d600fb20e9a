package cliauth

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// fillHelp puts the tool's name and environment prefix into the help of
// cmd and its subcommands: {tool} and {PREFIX} in Long and Example.
func (a *App) fillHelp(cmd *cobra.Command) {
	prefix := strings.TrimSuffix(a.envName(""), "_")
	r := strings.NewReplacer("{tool}", a.Name, "{PREFIX}", prefix)
	cmd.Long = r.Replace(cmd.Long)
	cmd.Example = r.Replace(cmd.Example)
	for _, c := range cmd.Commands() {
		a.fillHelp(c)
	}
}

// noArgs refuses positional arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// exactArgs wants n positional arguments, named in the usage error.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s wants %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// group makes cmd a command group: it prints its help without a
// subcommand and refuses an unknown one.
func group(cmd *cobra.Command) {
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
			if c.SuggestionsMinimumDistance <= 0 {
				c.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
			}
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				// cobra's "did you mean", which its own Args never reach.
				msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
			}
			return usageErrorf("%s", msg)
		}
		return nil
	}
	cmd.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// writeJSON writes v as indented JSON and a newline: stable output for
// machines.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("cliauth: write JSON: %w", err)
	}
	return nil
}
