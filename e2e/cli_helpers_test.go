package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// The client commands driven as a user drives them: the real binary,
// its own configuration directory per test (file storage), and a
// browser that is told the login URL through GATEHOUSE_BROWSER.

// cliUser is a client-side user of the binary: a configuration
// directory and the environment every command gets.
type cliUser struct {
	t   *testing.T
	dir string
	env []string
	// urlFile receives the login URL from the GATEHOUSE_BROWSER helper.
	urlFile string
}

func newCLIUser(t *testing.T) *cliUser {
	t.Helper()
	dir := t.TempDir()
	u := &cliUser{t: t, dir: filepath.Join(dir, "config"), urlFile: filepath.Join(dir, "login-url")}
	// The "browser" hands the URL over to the test, which opens it in
	// Chromium or the HTTP browser; the rename makes the write atomic.
	script := filepath.Join(dir, "browser.sh")
	body := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$1\" > %q.tmp && mv %q.tmp %q\n", u.urlFile, u.urlFile, u.urlFile)
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	u.env = []string{"GATEHOUSE_CONFIG_DIR=" + u.dir, "GATEHOUSE_AUTH_STORAGE=file", "GATEHOUSE_BROWSER=" + script}
	return u
}

// environ is the environment of a command: the test process's without
// GATEHOUSE_*, then u's, then extra (later values win).
func (u *cliUser) environ(extra []string) []string {
	return append(append(baseEnv(), u.env...), extra...)
}

// cliProcess is a running gatehouse client command.
type cliProcess struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr syncBuffer
	done   chan struct{}
	err    error
}

// start runs `gatehouse args...` in the background.
func (u *cliUser) start(extraEnv []string, stdin string, args ...string) *cliProcess {
	u.t.Helper()
	p := &cliProcess{done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Env = u.environ(extraEnv)
	p.cmd.Stdin = strings.NewReader(stdin)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		u.t.Fatalf("start gatehouse %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	u.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for p and returns its exit code, failing after timeout.
func (p *cliProcess) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("gatehouse %s did not finish in %v; stderr:\n%s", strings.Join(p.cmd.Args[1:], " "), timeout, p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("gatehouse %s: %v", strings.Join(p.cmd.Args[1:], " "), p.err)
	}
	return 0
}

// run runs `gatehouse args...` to the end.
func (u *cliUser) run(extraEnv []string, stdin string, args ...string) (stdout, stderr string, code int) {
	u.t.Helper()
	p := u.start(extraEnv, stdin, args...)
	code = p.wait(u.t, time.Minute)
	return p.stdout.String(), p.stderr.String(), code
}

// ok runs a command that must exit 0 and returns its stdout.
func (u *cliUser) ok(extraEnv []string, args ...string) string {
	u.t.Helper()
	out, errOut, code := u.run(extraEnv, "", args...)
	if code != 0 {
		u.t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// loginURL waits for the browser helper to receive the login URL.
func (u *cliUser) loginURL(p *cliProcess) string {
	u.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(u.urlFile); err == nil {
			os.Remove(u.urlFile)
			return strings.TrimSpace(string(b))
		}
		select {
		case <-p.done:
			u.t.Fatalf("login ended before opening the browser: %v\n%s", p.err, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	u.t.Fatalf("the browser was never opened; stderr:\n%s", p.stderr.String())
	return ""
}

// loginWithHTTPBrowser runs `gatehouse login args...` and signs in as user
// with the HTTP browser, which then follows the redirect to the CLI's
// loopback listener as a browser would.
func (u *cliUser) loginWithHTTPBrowser(g *gatehouse, user, pass string, args ...string) string {
	u.t.Helper()
	p := u.start(nil, "", append([]string{"login", "--issuer", g.URL}, args...)...)
	authURL := u.loginURL(p)
	b := newBrowser(u.t, g.URL)
	page, err := browse(b, http.MethodGet, authURL, nil)
	if err != nil {
		u.t.Fatal(err)
	}
	if page, err = submitLogin(b, page, user, pass); err != nil {
		u.t.Fatal(err)
	}
	if page.Location == nil || page.Location.Host == "" || !strings.HasPrefix(page.Location.Host, "127.0.0.1:") {
		u.t.Fatalf("sign-in did not redirect to the loopback listener: %s", page)
	}
	done, err := browse(b, http.MethodGet, page.Location.String(), nil)
	if err != nil || done.Status != http.StatusOK || !strings.Contains(done.Body, "Signed in") {
		u.t.Fatalf("loopback callback: %v %v", err, done)
	}
	if code := p.wait(u.t, 30*time.Second); code != 0 {
		u.t.Fatalf("login: exit %d\n%s", code, p.stderr.String())
	}
	return p.stderr.String()
}

// stored reads a profile's credential from the user's file store.
func (u *cliUser) stored(profile string) *credstore.Credential {
	u.t.Helper()
	c, err := credstore.NewFile(u.dir).Get(context.Background(), profile)
	if err != nil {
		u.t.Fatalf("stored credential of %q: %v", profile, err)
	}
	return c
}

// waitStderr waits until p's stderr matches re and returns the first
// submatch.
func (p *cliProcess) waitStderr(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
			return m[len(m)-1]
		}
		select {
		case <-p.done:
			if m := re.FindStringSubmatch(p.stderr.String()); m != nil {
				return m[len(m)-1]
			}
			t.Fatalf("gatehouse exited (%v) without printing %v:\n%s", p.err, re, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no %v on stderr:\n%s", re, p.stderr.String())
	return ""
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
