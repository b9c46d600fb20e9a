package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Node.js half of the interop suite: openid-client (v6) and
// oauth4webapi (v3), two independent certified OAuth/OIDC client
// libraries, driven by the scripts in interop/ against a real server.
// The scripts print JSON lines; the test answers the ones that need a
// browser (the HTTP browser signs in on the real login page) and asserts
// on the final result.

var (
	nodeOnce sync.Once
	nodeDir  string // the directory of the scripts with node_modules installed
	nodeSkip string // why the Node tests cannot run, if they cannot
)

// nodeSuite installs the suite's npm packages once per test run
// (`npm ci` from the committed package-lock.json) and returns the
// scripts' directory. It skips the test when node or npm is missing or
// the install fails (no registry, for example).
func nodeSuite(t *testing.T) string {
	t.Helper()
	nodeOnce.Do(func() {
		for _, tool := range []string{"node", "npm"} {
			if _, err := exec.LookPath(tool); err != nil {
				nodeSkip = tool + " is not on PATH; skipping the Node.js interop tests (install Node.js 20+ and npm)"
				return
			}
		}
		// openid-client 6 and oauth4webapi 3 need Node.js 20 or later
		// (WebCrypto and fetch as globals).
		out, err := exec.Command("node", "-p", "process.versions.node.split('.')[0]").Output()
		if major, _ := strconv.Atoi(strings.TrimSpace(string(out))); err != nil || major < 20 {
			nodeSkip = fmt.Sprintf("node %s is older than 20 (%v); skipping the Node.js interop tests", strings.TrimSpace(string(out)), err)
			return
		}
		root, err := moduleRoot()
		if err != nil {
			nodeSkip = err.Error()
			return
		}
		dir := filepath.Join(root, "e2e", "interop")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			nodeSkip = fmt.Sprintf("npm ci in %s failed (%v); skipping the Node.js interop tests:\n%s", dir, err, tail(string(out), 2000))
			return
		}
		nodeDir = dir
	})
	if nodeSkip != "" {
		t.Skip(nodeSkip)
	}
	return nodeDir
}

// nodeStep is one line a script prints.
type nodeStep struct {
	Step   string          `json:"step"`
	URL    string          `json:"url"`
	Code   string          `json:"user_code"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// runNode runs `node script mode` in dir with env and decodes its result
// into out. answer is called for each step the script announces; what it
// returns (if not "") is written to the script's stdin.
func runNode(t *testing.T, dir string, env []string, answer func(nodeStep) string, out any, script, mode string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, mode)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node %s %s: %v", script, mode, err)
	}
	var result json.RawMessage
	var lines []string
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		var s nodeStep
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Errorf("node %s %s printed a line that is not JSON: %s", script, mode, sc.Text())
			continue
		}
		switch {
		case s.Error != nil:
			_ = cmd.Wait()
			t.Fatalf("node %s %s failed: %s\nstderr: %s", script, mode, s.Error, stderr.String())
		case s.Result != nil:
			result = s.Result
		case s.Step != "":
			if a := answer(s); a != "" {
				if _, err := io.WriteString(stdin, a+"\n"); err != nil {
					t.Fatalf("answer %s: %v", s.Step, err)
				}
			}
		}
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil || result == nil {
		t.Fatalf("node %s %s: %v\nstdout:\n%s\nstderr:\n%s", script, mode, err, strings.Join(lines, "\n"), stderr.String())
	}
	t.Logf("node %s %s: %s", script, mode, tail(string(result), 1500))
	if err := json.Unmarshal(result, out); err != nil {
		t.Fatalf("decode the result of %s %s: %v\n%s", script, mode, err, result)
	}
}

// authorizeAs returns a step handler that opens the authorization URL in
// the HTTP browser b, signs in as user on the login page if asked, allows
// the consent page if shown, and answers with the URL the server
// redirected to (the client's redirect URI with code, state and iss).
func authorizeAs(t *testing.T, b *http.Client, user, pass string) func(nodeStep) string {
	return func(s nodeStep) string {
		t.Helper()
		if s.Step != "authorize" {
			t.Fatalf("unexpected step %q", s.Step)
		}
		p, err := browse(b, http.MethodGet, s.URL, nil)
		if err != nil {
			t.Fatalf("authorization request: %v", err)
		}
		if p.Location == nil && p.isLoginForm() {
			if p, err = submitLogin(b, p, user, pass); err != nil {
				t.Fatalf("login: %v", err)
			}
		}
		if p.Location == nil {
			consent, err := p.form(mustParse(s.URL).Path)
			if err != nil {
				t.Fatalf("authorization request ended neither at the client nor at a consent form: %v", err)
			}
			if p, err = consent.submit(b, url.Values{"decision": {"allow"}}); err != nil {
				t.Fatalf("consent: %v", err)
			}
		}
		if p.Location == nil {
			t.Fatalf("authorization request did not end in a redirect to the client: got %s", p)
		}
		return p.Location.String()
	}
}

// errorResult is how a script reports a failure it expected.
type errorResult struct {
	Name        string `json:"name"`
	Code        string `json:"code"`
	Message     string `json:"message"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func (e *errorResult) String() string {
	if e == nil {
		return "no error"
	}
	return fmt.Sprintf("%s %s %s %s", e.Name, e.Code, e.Error, e.Message)
}

// scriptEnv is the environment common to the scripts.
func scriptEnv(g *gatehouse, kv ...string) []string {
	return append([]string{"ISSUER=" + g.URL, "NODE_NO_WARNINGS=1"}, kv...)
}
