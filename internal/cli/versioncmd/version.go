// Package versioncmd is `gatehouse version`.
package versioncmd

import (
	"context"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// Options are the options of `gatehouse version`.
type Options struct {
	IO command.IOStreams
	// Version is the release version of the binary.
	Version string
}

// NewCmdVersion is `gatehouse version`; runF, when not nil, runs instead
// of its run function (for tests).
func NewCmdVersion(f *command.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Version: f.Version}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the gatehouse version",
		Long:    "Print the version of this gatehouse binary, the Go version it was built with and its platform.",
		Example: "  gatehouse version",
		Args:    command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(cmd.Context(), opts)
		},
	}
}

func versionRun(_ context.Context, opts *Options) error {
	_, err := fmt.Fprintf(opts.IO.Out, "gatehouse %s (%s, %s/%s)\n", opts.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
