package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// adminPassword is the password GATEHOUSE_ADMIN_PASSWORD gives the admin
// user of every test server.
const adminPassword = "e2e-Admin-pa55word"

// cliClientID is the public client every server creates on first start.
const cliClientID = "gatehouse-cli"

var (
	// binary is the gatehouse binary TestMain builds.
	binary string
	// cliConfigDir is GATEHOUSE_CONFIG_DIR for every command, so that no
	// test reads or writes the real user's configuration.
	cliConfigDir string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	binary = filepath.Join(dir, "gatehouse")
	cliConfigDir = filepath.Join(dir, "config")
	build := exec.Command("go", "build", "-o", binary, "./cmd/gatehouse")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/gatehouse: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// moduleRoot is the directory of the go.mod this package belongs to.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside a module")
	}
	return filepath.Dir(mod), nil
}

// baseEnv is the test process environment without any GATEHOUSE_*
// variable, so that a developer's settings (GATEHOUSE_DB, a token) never
// leak into the server or the CLI under test.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_") {
			env = append(env, kv)
		}
	}
	return append(env, "GATEHOUSE_CONFIG_DIR="+cliConfigDir)
}

// gatehouse is a running `gatehouse server` process.
type gatehouse struct {
	// URL is the issuer and base URL, http://127.0.0.1:PORT.
	URL  string
	Addr string
	// DataDir is the server's --data-dir.
	DataDir string
	// storage are the flags that point admin commands at the server's
	// database.
	storage []string
	// health is the path waitHealthy polls.
	health  string
	cmd     *exec.Cmd
	stdout  string // path of the file that receives the process's stdout
	stderr  string // path of the file that receives its stderr
	done    chan struct{}
	waitErr error // valid once done is closed
}

// startServer starts a server on a free loopback port with a new data
// directory; extraArgs are appended to its command line. The server is
// killed when the test ends.
func startServer(t testing.TB, extraArgs ...string) *gatehouse {
	t.Helper()
	return launch(t, freeAddr(t), t.TempDir(), adminPassword, extraArgs...)
}

// launch starts `gatehouse server --addr addr --data-dir dataDir` with
// GATEHOUSE_ADMIN_PASSWORD set to adminPW and waits until /healthz answers.
func launch(t testing.TB, addr, dataDir, adminPW string, extraArgs ...string) *gatehouse {
	t.Helper()
	g := spawn(t, addr, dataDir, []string{"GATEHOUSE_ADMIN_PASSWORD=" + adminPW}, extraArgs...)
	g.waitHealthy(t)
	return g
}

// spawn starts `gatehouse server --addr addr --data-dir dataDir extraArgs...`
// with env added to the base environment (GATEHOUSE_ADMIN_PASSWORD defaults
// to adminPassword) and returns at once. The server is killed when the test
// ends; its stderr is logged if the test failed.
func spawn(t testing.TB, addr, dataDir string, env []string, extraArgs ...string) *gatehouse {
	t.Helper()
	return spawnCommand(t, "server", "/healthz", addr, dataDir, env, extraArgs...)
}

// spawnCommand starts `gatehouse SUB --addr addr --data-dir dataDir
// extraArgs...` like spawn; health is the path that answers 200 once the
// process is ready.
func spawnCommand(t testing.TB, sub, health, addr, dataDir string, env []string, extraArgs ...string) *gatehouse {
	t.Helper()
	logs := t.TempDir()
	g := &gatehouse{
		health:  health,
		URL:     "http://" + addr,
		Addr:    addr,
		DataDir: dataDir,
		storage: []string{"--data-dir", dataDir},
		stdout:  filepath.Join(logs, "stdout.log"),
		stderr:  filepath.Join(logs, "stderr.log"),
		done:    make(chan struct{}),
	}
	for i, a := range extraArgs {
		if a == "--db" && i+1 < len(extraArgs) {
			g.storage = append(g.storage, "--db", extraArgs[i+1])
		}
	}
	stdout, err := os.Create(g.stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(g.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()

	args := append([]string{sub, "--addr", addr, "--data-dir", dataDir}, extraArgs...)
	g.cmd = exec.Command(binary, args...)
	g.cmd.Env = append(append(baseEnv(), "GATEHOUSE_ADMIN_PASSWORD="+adminPassword), env...)
	g.cmd.Stdout = stdout
	g.cmd.Stderr = stderr
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("start gatehouse %s: %v", sub, err)
	}
	go func() {
		g.waitErr = g.cmd.Wait()
		close(g.done)
	}()
	t.Cleanup(func() {
		g.kill()
		if t.Failed() {
			t.Logf("gatehouse %s %s stderr (tail):\n%s", sub, g.URL, tail(g.stderrText(), 4000))
		}
	})
	return g
}

// waitHealthy polls /healthz until it answers 200, failing the test if
// the process exits first or nothing answers for 20 s.
func (g *gatehouse) waitHealthy(t testing.TB) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-g.done:
			t.Fatalf("gatehouse server exited before it was healthy (%v); stderr:\n%s", g.waitErr, tail(g.stderrText(), 4000))
		default:
		}
		resp, err := c.Get(g.URL + g.health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gatehouse server at %s not healthy after 20s (last: %v); stderr:\n%s", g.URL, err, tail(g.stderrText(), 4000))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// signal sends sig to the server process.
func (g *gatehouse) signal(t testing.TB, sig os.Signal) {
	t.Helper()
	if err := g.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits up to timeout for the process to exit and reports whether it
// did and with which result.
func (g *gatehouse) wait(timeout time.Duration) (exited bool, err error) {
	select {
	case <-g.done:
		return true, g.waitErr
	default:
	}
	select {
	case <-g.done:
		return true, g.waitErr
	case <-time.After(timeout):
		return false, nil
	}
}

// kill ends the process if it still runs and waits for it.
func (g *gatehouse) kill() {
	select {
	case <-g.done:
		return
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	<-g.done
}

func (g *gatehouse) stderrText() string {
	b, _ := os.ReadFile(g.stderr)
	return string(b)
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// freeAddr returns a loopback address with a port that was free a moment
// ago: listen on port 0, note the port, close.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// runCLI runs the gatehouse binary with args and stdin and returns what it
// printed and its exit code. It fails the test only when the binary cannot
// be run at all.
func runCLI(t testing.TB, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = baseEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run gatehouse %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// createClient runs `gatehouse clients create NAME ARGS... --json` on g's
// database and returns the new client's id and secret ("" for a public
// client).
func createClient(t testing.TB, g *gatehouse, name string, args ...string) (id, secret string) {
	t.Helper()
	argv := append([]string{"clients", "create", name}, args...)
	argv = append(argv, "--json")
	argv = append(argv, g.storage...)
	out, errOut, code := runCLI(t, "", argv...)
	if code != 0 {
		t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(argv, " "), code, out, errOut)
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("gatehouse clients create --json: %v\nstdout: %s", err, out)
	}
	if c.ClientID == "" {
		t.Fatalf("gatehouse clients create --json: no client_id in %s", out)
	}
	return c.ClientID, c.ClientSecret
}

// addUser runs `gatehouse users add NAME --role ROLE --password-stdin` on
// g's database.
func addUser(t testing.TB, g *gatehouse, name, role, password string) {
	t.Helper()
	argv := append([]string{"users", "add", name, "--role", role, "--password-stdin"}, g.storage...)
	out, errOut, code := runCLI(t, password+"\n", argv...)
	if code != 0 {
		t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(argv, " "), code, out, errOut)
	}
}
