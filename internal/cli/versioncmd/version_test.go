package versioncmd

import (
	"runtime"
	"testing"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

func TestVersionOptions(t *testing.T) {
	t.Parallel()
	streams, _, _ := command.NewTestIOStreams("")
	got, err := commandtest.Parse(t.Context(), &command.Factory{IOStreams: streams, Version: "v1.2.3"}, NewCmdVersion, "version")
	if err != nil || got == nil || got.Version != "v1.2.3" {
		t.Errorf("version: %v, options %+v; want Version v1.2.3 from the factory", err, got)
	}
	if _, err := commandtest.Parse(t.Context(), &command.Factory{IOStreams: streams}, NewCmdVersion, "version", "x"); command.ExitCode(err) != command.ExitUsage {
		t.Errorf("version x: %v, want a usage error", err)
	}
}

func TestVersionPrints(t *testing.T) {
	t.Parallel()
	streams, out, errOut := command.NewTestIOStreams("")
	f := &command.Factory{IOStreams: streams, Version: "v1.2.3"}
	r := commandtest.Run(t.Context(), streams, out, errOut, []*cobra.Command{NewCmdVersion(f, nil)}, "version")
	want := "gatehouse v1.2.3 (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if r.Err != nil || r.Out != want {
		t.Errorf("version: %v %q, want %q", r.Err, r.Out, want)
	}
}
