package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// What each part of the library would drag into a program that does not
// use it: the OS keyring (its D-Bus client), the QR encoder, the CLI kit's
// command framework, the test tooling of this module, and the server.
var (
	keyringModules = []string{"github.com/zalando/go-keyring", "github.com/godbus/dbus", "github.com/danieljoos/wincred"}
	qrModules      = []string{"github.com/boombuler/barcode", "rsc.io/qr"}
	cliModules     = []string{"github.com/spf13/cobra", "go.yaml.in/yaml"}
	testModules    = []string{"github.com/chromedp/", "github.com/alicebob/miniredis", "github.com/vektah/gqlparser", "github.com/coder/websocket"}
	serverPackages = []string{"github.com/gatehouse-auth/gatehouse/internal/"}
)

// TestFootprint checks what `go list` says each program and library
// package links, on Linux (where the keyring is reached over D-Bus): a
// program that only uses client credentials gets neither the keyring nor
// the QR encoder nor test tooling; neither do the library packages a
// service imports; the CLI kit has the keyring and the QR code, but no
// test tooling.
func TestFootprint(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	const mod = "github.com/gatehouse-auth/gatehouse/"
	forbidden := map[string][][]string{
		mod + "examples/clientcredentials": {keyringModules, qrModules, cliModules, testModules, serverPackages},
		mod + "client":                     {keyringModules, qrModules, cliModules, testModules, serverPackages},
		mod + "credstore":                  {keyringModules, qrModules, cliModules, testModules, serverPackages},
		mod + "resource":                   {keyringModules, qrModules, cliModules, testModules, serverPackages},
		mod + "jwt":                        {keyringModules, qrModules, cliModules, testModules, serverPackages},
		mod + "dpop":                       {keyringModules, qrModules, cliModules, testModules, serverPackages},
		mod + "client/qrcode":              {keyringModules, cliModules, testModules, serverPackages},
		mod + "credstore/oskeyring":        {qrModules, cliModules, testModules, serverPackages},
		mod + "cliauth":                    {testModules, serverPackages},
	}
	// Those that must be there, so that a renamed module cannot make the
	// check above pass by matching nothing.
	required := map[string][]string{
		mod + "cliauth":             {"github.com/zalando/go-keyring", "github.com/godbus/dbus", "github.com/boombuler/barcode", "github.com/spf13/cobra"},
		mod + "client/qrcode":       {"github.com/boombuler/barcode"},
		mod + "credstore/oskeyring": {"github.com/godbus/dbus"},
	}
	args := []string{"list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}
	for pkg := range forbidden {
		args = append(args, pkg)
	}
	cmd := exec.Command(goTool, args...)
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	seen := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		seen[pkg] = true
		for _, group := range forbidden[pkg] {
			for _, dep := range deps {
				for _, prefix := range group {
					if strings.HasPrefix(dep, prefix) {
						t.Errorf("%s links %s; it must not link %s", pkg, dep, prefix)
					}
				}
			}
		}
		for _, prefix := range required[pkg] {
			if !hasPrefix(deps, prefix) {
				t.Errorf("%s does not link %s, which it needs (has the module moved? update this test)", pkg, prefix)
			}
		}
	}
	for pkg := range forbidden {
		if !seen[pkg] {
			t.Errorf("go list said nothing about %s", pkg)
		}
	}
}

func hasPrefix(deps []string, prefix string) bool {
	for _, d := range deps {
		if strings.HasPrefix(d, prefix) {
			return true
		}
	}
	return false
}
