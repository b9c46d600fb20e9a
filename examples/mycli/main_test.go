package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The example builds, and its help lists the commands it embeds.
func TestHelpListsLoginCommands(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "mycli")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatalf("mycli --help: %v", err)
	}
	for _, name := range []string{"login", "logout", "token", "status", "profiles", "config", "whoami"} {
		if !strings.Contains(string(out), "\n  "+name+" ") {
			t.Errorf("mycli --help lacks %s:\n%s", name, out)
		}
	}
	// Its own name, environment and directory, not gatehouse's.
	cmd := exec.Command(bin, "status")
	cmd.Env = []string{"MYCLI_CONFIG_DIR=" + t.TempDir(), "HOME=" + t.TempDir()}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("mycli status without a login: %v, want exit 3", err)
	}
	if !strings.Contains(stderr.String(), "mycli: not logged in (profile \"default\"); run `mycli login`") {
		t.Errorf("stderr: %s", stderr.String())
	}
}
