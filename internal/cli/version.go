package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/gatehouse-auth/gatehouse/internal/cli.Version=v1.2.3".
// When empty, the module version recorded in the binary is used.
var Version string

// version returns Version, else the main module's version from the build
// information, else "dev".
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

type versionOptions struct {
	IO command.IOStreams
}

func newVersionCmd(streams command.IOStreams) *cobra.Command {
	opts := &versionOptions{IO: streams}
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the gatehouse version",
		Long:    "Print the version of this gatehouse binary, the Go version it was built with and its platform.",
		Example: "  gatehouse version",
		Args:    command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return versionRun(cmd.Context(), opts)
		},
	}
}

func versionRun(_ context.Context, opts *versionOptions) error {
	_, err := fmt.Fprintf(opts.IO.Out, "gatehouse %s (%s, %s/%s)\n", version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
