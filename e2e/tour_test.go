package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The README writes the tour's addresses as a person's server, demo app and
// gateway have them; docs/tour.sh has variables holding free ports instead.
var tourAddresses = strings.NewReplacer(
	"http://127.0.0.1:8080", "$ISSUER",
	"127.0.0.1:3000", "$APP_ADDR",
	"127.0.0.1:4180", "$GATEWAY_ADDR",
)

// readmeOnly are README tour commands that docs/tour.sh does its own way,
// with the reason.
var readmeOnly = map[string]string{
	`go build -o bin/gatehouse ./cmd/gatehouse && export PATH="$PWD/bin:$PATH"`: "the script uses $GATEHOUSE_BIN or builds into its temporary directory",
}

// scriptOnly are commands of docs/tour.sh's tour that the README does not
// show as commands, with the reason; the README must still name each one
// (the prose beside the step says what the script does differently).
var scriptOnly = map[string]string{
	"gatehouse clients update gatehouse-cli --terminal-login": "no one can click in a browser: the script signs in with --terminal",
	"APP_ADDR=127.0.0.1:0":     "a free port for the demo app",
	"GATEWAY_ADDR=127.0.0.1:0": "a free port for the gateway",
}

// TestTourMatchesREADME checks that docs/tour.sh runs the README's tour as
// written: every command of the tour's code blocks appears in a line of the
// script's tour, in the same order (the script may add to a line: a
// password on stdin, a flag after the README's, a log file), and every
// command of the script's tour comes from the README.
func TestTourMatchesREADME(t *testing.T) {
	t.Parallel()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join(root, "docs", "tour.sh"))
	if err != nil {
		t.Fatal(err)
	}
	commands, err := readmeTourCommands(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := scriptTourLines(string(script))
	if err != nil {
		t.Fatal(err)
	}
	if len(commands) < 20 {
		t.Fatalf("found %d commands in the README's tour; the extraction is broken:\n%s", len(commands), strings.Join(commands, "\n"))
	}

	used := make([]bool, len(lines))
	next := 0 // the script line after the previous command's
	for _, c := range commands {
		if _, ok := readmeOnly[c]; ok {
			continue
		}
		want := tourAddresses.Replace(c)
		found := -1
		for i := next; i < len(lines); i++ {
			if strings.Contains(lines[i], want) {
				found = i
				break
			}
		}
		if found < 0 {
			if strings.Contains(strings.Join(lines, "\n"), want) {
				t.Errorf("README command %q is in docs/tour.sh, but not after the one before it: keep the README's order", c)
			} else {
				t.Errorf("README command %q is not in docs/tour.sh (as %q); run it in the script's tour, or change the README", c, want)
			}
			continue
		}
		used[found] = true
		next = found
	}
	for c := range readmeOnly {
		if !slices.Contains(commands, c) {
			t.Errorf("readmeOnly names %q, which the README's tour no longer has", c)
		}
	}
	for i, l := range lines {
		if used[i] {
			continue
		}
		if _, ok := scriptOnly[l]; !ok {
			t.Errorf("docs/tour.sh runs %q, which is not a command of the README's tour; show it there too", l)
		}
	}
	// The README's prose, with its line breaks made spaces, must name the
	// script's own gatehouse commands.
	prose := strings.Join(strings.Fields(string(readme)), " ")
	for l := range scriptOnly {
		switch {
		case !slices.Contains(lines, l):
			t.Errorf("scriptOnly names %q, which docs/tour.sh no longer runs", l)
		case strings.HasPrefix(l, "gatehouse ") && !strings.Contains(prose, l):
			t.Errorf("docs/tour.sh runs %q, which the README does not mention; say beside the step what the script does", l)
		}
	}
}

// trailingComment is a comment after a command: two spaces or more, then #.
var trailingComment = regexp.MustCompile(`\s{2,}#.*$`)

// readmeTourCommands returns the commands of the ```sh blocks of the README
// section "A five-minute tour": lines that are not comments (the README's
// answers), without trailing comments or a trailing "&".
func readmeTourCommands(readme string) ([]string, error) {
	start := strings.Index(readme, "\n## A five-minute tour\n")
	if start < 0 {
		return nil, errors.New(`README.md has no section "## A five-minute tour"`)
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var commands []string
	inBlock := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "```sh"):
			inBlock = true
			continue
		case strings.HasPrefix(line, "```"):
			inBlock = false
			continue
		}
		line = strings.TrimSpace(line)
		if !inBlock || line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			return nil, errors.New("README tour line " + line + " continues on the next line: write each command on one line, so that the test can find it in docs/tour.sh")
		}
		line = trailingComment.ReplaceAllString(line, "")
		line = strings.TrimSpace(strings.TrimSuffix(line, "&"))
		commands = append(commands, line)
	}
	return commands, nil
}

// scriptTourLines returns the command lines of docs/tour.sh after the line
// "# ---- The tour": its own helpers (names starting with "_", "step",
// "trap") and comments left out, and "_out=$(COMMAND)" as COMMAND.
func scriptTourLines(script string) ([]string, error) {
	const marker = "\n# ---- The tour"
	start := strings.Index(script, marker)
	if start < 0 {
		return nil, errors.New("docs/tour.sh has no line " + strings.TrimSpace(marker))
	}
	var lines []string
	for _, line := range strings.Split(script[start+len(marker):], "\n")[1:] {
		line = strings.TrimSpace(line)
		if after, ok := strings.CutPrefix(line, "_out=$("); ok {
			line = strings.TrimSuffix(after, ")")
		}
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "_") ||
			strings.HasPrefix(line, "step ") || strings.HasPrefix(line, "trap ") || strings.HasPrefix(line, "printf '\\n====") {
			continue
		}
		lines = append(lines, line)
	}
	return lines, nil
}

// TestTour runs docs/tour.sh with the built binary: the README's tour,
// unattended, against its own server, demo app and gateway on free ports.
func TestTour(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the tour needs %s, which is not installed (.ci/run installs it)", tool)
		}
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "docs", "tour.sh"))
	cmd.Env = append(baseEnv(), "GATEHOUSE_BIN="+binary, "TMPDIR="+t.TempDir())
	cmd.Stdout = &out
	cmd.Stderr = &out
	// Its own process group, so that a timeout stops the servers the script
	// started too, not only bash.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	t.Cleanup(func() {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // anything the script failed to stop
		}
	})
	startedAt := time.Now()
	err = cmd.Run()
	if err != nil {
		t.Fatalf("bash docs/tour.sh: %v after %s; its output:\n%s", err, time.Since(startedAt).Round(time.Millisecond), out.String())
	}
	if !strings.Contains(out.String(), "==== The tour ran as written.") {
		t.Fatalf("bash docs/tour.sh exited 0 without finishing the tour; its output:\n%s", out.String())
	}
	t.Logf("the tour took %s", time.Since(startedAt).Round(time.Millisecond))
}
