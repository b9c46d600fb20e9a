package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Time limits of the server's life cycle.
const (
	healthTimeout = 30 * time.Second
	// stopTimeout is how long a SIGTERMed server may drain before it is
	// killed; the server's own default shutdown timeout is 20s.
	stopTimeout = 25 * time.Second
)

// storageTarget is the database the server and the CLI share: SQLite in
// dataDir, or PostgreSQL at dsn (dataDir then only holds the secret key).
type storageTarget struct {
	dataDir string
	dsn     string
}

// args are the flags that select the database.
func (t storageTarget) args() []string {
	a := []string{"--data-dir", t.dataDir}
	if t.dsn != "" {
		a = append(a, "--db", t.dsn)
	}
	return a
}

// buildBinary builds ./cmd/gatehouse of the module the working directory is
// in, without cgo, to out.
func buildBinary(ctx context.Context, out string) error {
	return buildPackage(ctx, out, "./cmd/gatehouse")
}

// buildPackage builds the command pkg (a path relative to the module root)
// without cgo, to out.
func buildPackage(ctx context.Context, out, pkg string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// moduleRoot is the directory of the go.mod governing the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the gatehouse module: run from the repository or pass --binary")
	}
	return filepath.Dir(gomod), nil
}

// freePort asks the kernel for a free port on 127.0.0.1. The port is free
// again when it returns; another process could take it before the server
// does, which startServer reports as a failed start.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// server is a running child process that serves HTTP: `gatehouse server`,
// `gatehouse proxy` or the gateway benchmark's test app.
type server struct {
	cmd     *exec.Cmd
	pid     int
	base    string // http://127.0.0.1:PORT
	health  string // path that answers 200 once it serves
	logPath string
	logFile *os.File
	exited  chan struct{}
	waitErr error
}

// startServer starts the server on a free loopback port and waits until
// /healthz answers.
func startServer(ctx context.Context, bin, dir string, st storageTarget, env []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return startServerAt(ctx, bin, dir, "", "127.0.0.1:"+strconv.Itoa(port), st, env, nil)
}

// startServerAt starts the server on addr with extra flags; a non-empty tag
// names its log files (server-TAG.log, audit-TAG.log) so that replicas
// sharing dir keep theirs apart.
func startServerAt(ctx context.Context, bin, dir, tag, addr string, st storageTarget, env, extra []string) (*server, error) {
	suffix := ""
	if tag != "" {
		suffix = "-" + tag
	}
	args := append([]string{"server", "--addr", addr}, st.args()...)
	args = append(args, "--audit-output", filepath.Join(dir, "audit"+suffix+".log"))
	args = append(args, extra...)
	s, err := spawn(bin, dir, "server"+suffix+".log", args, env, nil)
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s.base, s.health = "http://"+addr, "/healthz"
	if err := s.waitHealthy(ctx); err != nil {
		s.stop()
		return s, err
	}
	return s, nil
}

// spawn starts bin with args in dir, in its own process group, its stderr
// (and its stdout unless stdout is given) appended to dir/logName.
func spawn(bin, dir, logName string, args, env []string, stdout *os.File) (*server, error) {
	logPath := filepath.Join(dir, logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	// Not CommandContext: the process is stopped with SIGTERM by stop,
	// never killed mid-drain by a cancelled context.
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if stdout != nil {
		cmd.Stdout = stdout
	}
	// Its own process group: a Ctrl-C at the terminal reaches only the
	// benchmark, which then stops the process in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	s := &server{cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, logFile: logFile, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	return s, nil
}

// waitHealthy polls the health path until it answers 200, the process
// exits, or healthTimeout passes.
func (s *server) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+s.health, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("server exited during start-up: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("server not healthy after %s: %w", healthTimeout, ctx.Err())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM and waits for the server to exit, killing it after
// stopTimeout.
func (s *server) stop() error {
	defer s.logFile.Close()
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			<-s.exited
			return nil
		}
		return fmt.Errorf("signal server: %w", err)
	}
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-s.exited:
		return nil
	case <-t.C:
		s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("server did not stop within %s; killed", stopTimeout)
	}
}

// logTail is the last n lines of the server's output.
func (s *server) logTail(n int) string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
