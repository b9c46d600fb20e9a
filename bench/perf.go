package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// perfFrequency is the sampling rate of --perf-dir recordings, in Hz:
// about one sample per millisecond of CPU, and not a round number, so
// that sampling does not beat with the server's own timers.
const perfFrequency = 999

// perfRecording is `perf record` sampling the server's call stacks
// during one measured window (--perf-dir). Go binaries keep frame
// pointers, so perf walks their stacks without debug information, and
// the profile includes the kernel's share (system calls, page faults).
type perfRecording struct {
	cmd    *exec.Cmd
	path   string
	stderr bytes.Buffer
}

// checkPerf reports whether perf can be run, for --perf-dir.
func checkPerf() error {
	if _, err := exec.LookPath("perf"); err != nil {
		return errors.New("--perf-dir needs Linux perf (perf record) in PATH")
	}
	return nil
}

// startPerf starts recording pids to dir/workload.perf.data.
func startPerf(dir, workload string, pids []int) (*perfRecording, error) {
	ids := make([]string, len(pids))
	for i, p := range pids {
		ids[i] = strconv.Itoa(p)
	}
	p := &perfRecording{path: filepath.Join(dir, workload+".perf.data")}
	p.cmd = exec.Command("perf", "record", "-F", strconv.Itoa(perfFrequency), "-g", "-p", strings.Join(ids, ","), "-o", p.path)
	p.cmd.Stdout, p.cmd.Stderr = &p.stderr, &p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("perf record: %w", err)
	}
	return p, nil
}

// stop ends the recording (perf writes its file on SIGINT) and returns
// the file's path.
func (p *perfRecording) stop() (string, error) {
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil && !interrupted(err) {
			return "", fmt.Errorf("perf record: %w: %s", err, strings.TrimSpace(p.stderr.String()))
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return "", fmt.Errorf("perf record did not stop within 30s: %s", strings.TrimSpace(p.stderr.String()))
	}
	if _, err := os.Stat(p.path); err != nil {
		return "", fmt.Errorf("perf record wrote no file: %s", strings.TrimSpace(p.stderr.String()))
	}
	return p.path, nil
}

// interrupted reports whether err is perf's exit after the SIGINT that
// stops it: killed by the signal, or exit status 130.
func interrupted(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGINT {
		return true
	}
	return ee.ExitCode() == 130
}
