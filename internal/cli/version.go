package cli

import "runtime/debug"

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
