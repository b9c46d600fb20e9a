package credstore_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// These tests run this test binary again as child processes (the
// TestHelperProcess pattern of os/exec's own tests): helperEnv names what
// the child does, and the child's TestHelperProcess does it and exits.

const (
	helperEnv    = "GATEHOUSE_CREDSTORE_HELPER"
	helperDirEnv = "GATEHOUSE_CREDSTORE_HELPER_DIR"
	helperArgEnv = "GATEHOUSE_CREDSTORE_HELPER_ARG"
)

// helperCommand returns a command that runs the tests matching run in a
// child process with helperEnv set to mode.
func helperCommand(t *testing.T, run, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// TestHelperProcess is not a test: it is what the child processes run.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" || mode == "real-keyring" {
		return
	}
	dir, arg := os.Getenv(helperDirEnv), os.Getenv(helperArgEnv)
	ctx := context.Background()
	var err error
	switch mode {
	case "put-loop":
		err = helperPutLoop(ctx, dir)
	case "counter":
		n, _ := strconv.Atoi(arg)
		err = helperCounter(ctx, dir, n, os.Getenv("GATEHOUSE_CREDSTORE_NOLOCK") == "1")
	case "puts":
		err = helperPuts(ctx, dir, arg)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// bigCredential is a credential of about 3 × size bytes whose Subject is a
// checksum of its tokens, so a torn or mixed record is detectable.
func bigCredential(i, size int) *credstore.Credential {
	tok := func(kind string) string {
		b := make([]byte, size/2)
		for j := range b {
			b[j] = byte(i*31 + j*7)
		}
		return kind + "-" + strconv.Itoa(i) + "-" + hex.EncodeToString(b)
	}
	c := &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://id.example.com",
		AccessToken:  tok("access"),
		RefreshToken: tok("refresh"),
		IDToken:      tok("id"),
	}
	c.Subject = checksum(c)
	return c
}

func checksum(c *credstore.Credential) string {
	sum := sha256.Sum256([]byte(c.AccessToken + "|" + c.RefreshToken + "|" + c.IDToken))
	return hex.EncodeToString(sum[:])
}

// helperPutLoop writes large credentials to three profiles as fast as it
// can, announcing "ready" after the first write, until it is killed.
func helperPutLoop(ctx context.Context, dir string) error {
	s := credstore.NewFile(dir)
	for i := 0; ; i++ {
		if err := s.Put(ctx, "p"+strconv.Itoa(i%3), bigCredential(i, 8<<10)); err != nil {
			return err
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
}

// helperCounter adds 1 to the counter kept in profile "counter" n times,
// each a read-modify-write under the profile's lock (unless noLock).
func helperCounter(ctx context.Context, dir string, n int, noLock bool) error {
	s := credstore.NewFile(dir)
	for range n {
		unlock := func() {}
		if !noLock {
			var err error
			if unlock, err = s.Lock(ctx, "counter"); err != nil {
				return err
			}
		}
		count := 0
		c, err := s.Get(ctx, "counter")
		switch {
		case err == nil:
			count, _ = strconv.Atoi(c.AccessToken)
		case !errors.Is(err, credstore.ErrNotFound):
			return err
		}
		c = &credstore.Credential{Kind: credstore.KindUser, Issuer: "https://x", AccessToken: strconv.Itoa(count + 1)}
		if err := s.Put(ctx, "counter", c); err != nil {
			return err
		}
		unlock()
	}
	return nil
}

// helperPuts writes 20 profiles named prefix-0 … prefix-19.
func helperPuts(ctx context.Context, dir, prefix string) error {
	s := credstore.NewFile(dir)
	for i := range 20 {
		p := fmt.Sprintf("%s-%d", prefix, i)
		if err := s.Put(ctx, p, sampleCredential(p)); err != nil {
			return err
		}
	}
	return nil
}

// TestFileSurvivesSIGKILL kills a process that is writing large
// credentials at random moments; after every kill the file must parse and
// every record must be whole (SECURITY-CASES 35).
func TestFileSurvivesSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL on Windows")
	}
	dir := privateDir(t)
	path := filepath.Join(dir, credstore.FileName)
	const kills = 20
	for i := range kills {
		cmd := helperCommand(t, "^TestHelperProcess$", "put-loop", helperDirEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("kill %d: helper did not start: %q, %v\n%s", i, line, err, stderr.String())
		}
		// Until the kill, read the file as another process would: it must
		// parse every time, whatever the writer is doing.
		for deadline := time.Now().Add(time.Duration(rand.IntN(30_000)) * time.Microsecond); time.Now().Before(deadline); {
			checkWholeFile(t, path, i, false)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: helper ended with %v, not by SIGKILL\n%s", i, err, stderr.String())
		}
		checkWholeFile(t, path, i, true)
	}

	// The next writer clears the temporary files the killed ones left.
	if err := credstore.NewFile(dir).Put(t.Context(), "p0", bigCredential(0, 1024)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left after a later write: %s", e.Name())
		}
	}
}

// checkWholeFile fails t unless path is missing or a valid version-1
// document whose records all carry a matching checksum; after a kill it
// also reads every profile through a File store, which must not warn.
func checkWholeFile(t *testing.T, path string, kill int, killed bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version  int                              `json:"version"`
		Profiles map[string]*credstore.Credential `json:"profiles"`
	}
	when := fmt.Sprintf("after kill %d", kill)
	if !killed {
		when = fmt.Sprintf("while writer %d runs", kill)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %s does not parse (%d bytes): %v", when, path, len(data), err)
	}
	if doc.Version != 1 || len(doc.Profiles) == 0 {
		t.Fatalf("%s: version %d with %d profiles", when, doc.Version, len(doc.Profiles))
	}
	for name, c := range doc.Profiles {
		if c.Subject != checksum(c) {
			t.Fatalf("%s: profile %s is torn", when, name)
		}
	}
	if !killed {
		return
	}
	var w warnings
	s := credstore.NewFile(filepath.Dir(path), credstore.WithWarn(w.add))
	for name := range doc.Profiles {
		if _, err := s.Get(t.Context(), name); err != nil {
			t.Errorf("after kill %d: Get %s: %v", kill, name, err)
		}
	}
	if msgs := w.take(); len(msgs) > 0 {
		t.Errorf("after kill %d: warnings %q", kill, msgs)
	}
}

// TestFileLockAcrossProcesses runs processes that each increment a counter
// stored in a credential, under the profile's Lock; the final count is
// exact only if the lock excludes other processes (SECURITY-CASES 37).
func TestFileLockAcrossProcesses(t *testing.T) {
	dir := privateDir(t)
	const procs, each = 3, 25
	runHelpers(t, procs, func(i int) *exec.Cmd {
		return helperCommand(t, "^TestHelperProcess$", "counter",
			helperDirEnv+"="+dir, helperArgEnv+"="+strconv.Itoa(each))
	})
	c, err := credstore.NewFile(dir).Get(t.Context(), "counter")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.AccessToken, strconv.Itoa(procs*each); got != want {
		t.Errorf("counter = %s after %d processes × %d locked increments, want %s", got, procs, each, want)
	}
}

// TestFilePutAcrossProcesses runs processes that each write their own
// profiles into the one shared file; none may be lost.
func TestFilePutAcrossProcesses(t *testing.T) {
	dir := privateDir(t)
	const procs = 3
	runHelpers(t, procs, func(i int) *exec.Cmd {
		return helperCommand(t, "^TestHelperProcess$", "puts",
			helperDirEnv+"="+dir, helperArgEnv+"="+fmt.Sprintf("proc%d", i))
	})
	names, err := credstore.NewFile(dir).List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != procs*20 {
		t.Errorf("List has %d profiles after %d processes wrote 20 each: %q", len(names), procs, names)
	}
}

// runHelpers starts n helper processes at once and waits for all.
func runHelpers(t *testing.T, n int, command func(i int) *exec.Cmd) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		cmd := command(i)
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("helper %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
}
