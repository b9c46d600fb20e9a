// Command clistart measures how long the gatehouse client commands take to
// start and finish, one process at a time, against a trivial Go program as
// the floor. It is a tool, not a test: it measures, prints, and stops.
//
// It builds the gatehouse binary (CGO_ENABLED=0) unless --binary names
// one, and a hello-world Go binary; then it logs a machine client in with
// the real CLI against a throw-away `gatehouse server` on 127.0.0.1 (file
// credential storage in a temporary GATEHOUSE_CONFIG_DIR), stops the
// server, and runs, --runs times each after --warmup runs:
//
//	hello              the floor: a Go program that prints a line
//	gatehouse version
//	gatehouse token    with the cached, still valid access token (no network)
//
// The runs go in rounds that start every command once, so that background
// load hits all of them alike. For each it prints the median, mean, p10,
// p90 and minimum wall time per process (start to exit, stdout and stderr
// to /dev/null) and the median CPU time (user + system), and then the
// package initialisation cost of `gatehouse version` from
// GODEBUG=inittrace=1: the total and the --top most expensive packages,
// averaged over --runs runs. The DESIGN.md target is `gatehouse token` with
// a cached token in at most 6 ms (median).
//
// Usage:
//
//	go run ./bench/clistart [--runs 100] [--warmup 10] [--top 12] [--binary PATH]
//	                        [--baseline PATH]
//
// --baseline PATH adds `version` and `token` of another build (say, of the
// previous commit) to the same rounds, for a before/after comparison.
//
// Runs are sequential and bounded in number; the server only ever listens
// on 127.0.0.1 and is stopped before the measurements.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// targetToken is DESIGN.md's budget for `gatehouse token` with a cached
// token (median per process).
const targetToken = 6 * time.Millisecond

type options struct {
	Binary   string
	Baseline string
	Runs     int
	Warmup   int
	Top      int
}

func main() {
	var o options
	flag.StringVar(&o.Binary, "binary", "", "gatehouse binary to measure (default: build ./cmd/gatehouse)")
	flag.StringVar(&o.Baseline, "baseline", "", "another gatehouse binary (an older build) to measure in the same rounds, for a before/after comparison")
	flag.IntVar(&o.Runs, "runs", 100, "measured runs per command")
	flag.IntVar(&o.Warmup, "warmup", 10, "unmeasured runs per command first")
	flag.IntVar(&o.Top, "top", 12, "packages to list from the init trace")
	flag.Parse()
	if o.Runs < 1 || o.Runs > 10000 || o.Warmup < 0 || o.Warmup > 1000 {
		fmt.Fprintln(os.Stderr, "clistart: --runs must be 1-10000 and --warmup 0-1000")
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "clistart:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	work, err := os.MkdirTemp("", "gatehouse-clistart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	bin := o.Binary
	if bin == "" {
		bin = filepath.Join(work, "gatehouse")
		if err := goBuild(".", bin, "./cmd/gatehouse"); err != nil {
			return err
		}
	}
	hello, err := buildHello(work)
	if err != nil {
		return err
	}

	env := append(os.Environ(),
		"GATEHOUSE_CONFIG_DIR="+filepath.Join(work, "config"),
		"GATEHOUSE_AUTH_STORAGE=file",
	)
	env = slices.DeleteFunc(env, func(kv string) bool {
		// Credentials from the environment would bypass the cache.
		for _, k := range []string{"GATEHOUSE_TOKEN=", "GATEHOUSE_API_KEY=", "GATEHOUSE_CLIENT_ID=", "GATEHOUSE_CLIENT_SECRET=", "GATEHOUSE_PROFILE=", "GATEHOUSE_ISSUER="} {
			if strings.HasPrefix(kv, k) {
				return true
			}
		}
		return false
	})

	cases := []benchCase{
		{"hello (floor)", []string{hello}},
		{"gatehouse version", []string{bin, "version"}},
	}
	if o.Baseline != "" {
		cases = append(cases, benchCase{"baseline version", []string{o.Baseline, "version"}})
	}
	if err := cacheToken(bin, work, env); err != nil {
		fmt.Fprintf(os.Stderr, "clistart: skipping `gatehouse token`: %v\n", err)
	} else {
		cases = append(cases, benchCase{"gatehouse token (cached)", []string{bin, "token"}})
		if o.Baseline != "" {
			cases = append(cases, benchCase{"baseline token (cached)", []string{o.Baseline, "token"}})
		}
	}

	fmt.Printf("CLI start-up: %d rounds after %d warm-up rounds, each round running every command once\n", o.Runs, o.Warmup)
	fmt.Printf("%s/%s, %d CPUs, %s\n\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	samples, err := measure(cases, env, o.Warmup, o.Runs)
	if err != nil {
		return err
	}
	fmt.Printf("%-26s %9s %9s %9s %9s %9s %10s\n", "command", "median", "mean", "p10", "p90", "min", "CPU median")
	var tokenMedian time.Duration
	for i, c := range cases {
		wall, cpu := summarize(samples[i].wall), summarize(samples[i].cpu)
		fmt.Printf("%-26s %9s %9s %9s %9s %9s %10s\n", c.name, ms(wall.median), ms(wall.mean), ms(wall.p10), ms(wall.p90), ms(wall.min), ms(cpu.median))
		if strings.HasPrefix(c.name, "gatehouse token") {
			tokenMedian = wall.median
		}
	}
	if tokenMedian > 0 {
		verdict := "PASS"
		if tokenMedian > targetToken {
			verdict = "MISS"
		}
		fmt.Printf("\ntarget: gatehouse token (cached) median <= %s: %s %s\n", ms(targetToken), ms(tokenMedian), verdict)
	}

	bins := []struct{ name, path string }{{"gatehouse", bin}}
	if o.Baseline != "" {
		bins = append(bins, struct{ name, path string }{"baseline", o.Baseline})
	}
	for _, b := range bins {
		total, top, err := initTrace([]string{b.path, "version"}, env, o.Runs, o.Top)
		if err != nil {
			return err
		}
		fmt.Printf("\npackage initialisation of `%s version` (GODEBUG=inittrace=1, mean of %d runs): %.2f ms\n", b.name, o.Runs, total)
		for _, p := range top {
			fmt.Printf("  %6.3f ms  %s\n", p.ms, p.pkg)
		}
	}
	return nil
}

// benchCase is one command line to time.
type benchCase struct {
	name string
	argv []string
}

// goBuild builds pkg in dir into out with CGO_ENABLED=0.
func goBuild(dir, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// buildHello builds the floor: a Go program that prints one line.
func buildHello(work string) (string, error) {
	dir := filepath.Join(work, "hello")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.22\n",
		"main.go": "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"hello\\n\") }\n",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			return "", err
		}
	}
	out := filepath.Join(work, "hello-bin")
	return out, goBuild(dir, out, ".")
}

var listeningRE = regexp.MustCompile(`Gatehouse listening on (http://127\.0\.0\.1:\d+)`)

// cacheToken starts a server, registers a client_credentials client, logs
// it in with the CLI (storing its token in the file store of env's config
// dir), stops the server and checks that `gatehouse token` then answers
// from the cache.
func cacheToken(bin, work string, env []string) error {
	data := filepath.Join(work, "data")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "server", "--addr", "127.0.0.1:0", "--data-dir", data,
		"--audit-output", "off", "--log-level", "warn")
	srv.Env = append(env, "GATEHOUSE_ADMIN_PASSWORD=clistart-admin-password")
	stderr, err := srv.StderrPipe()
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = srv.Process.Signal(syscall.SIGTERM)
			_ = srv.Wait()
		}
	}
	defer stop()

	issuer := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil && !sent {
				issuer <- m[1]
				sent = true
			}
		}
		if !sent {
			close(issuer)
		}
	}()
	var url string
	select {
	case u, ok := <-issuer:
		if !ok {
			return errors.New("the server exited before listening")
		}
		url = u
	case <-ctx.Done():
		return errors.New("the server did not start")
	}

	out, err := cli(ctx, bin, env, "", "clients", "create", "clistart", "--grant", "client_credentials",
		"--scope", "read", "--json", "--data-dir", data)
	if err != nil {
		return err
	}
	var created struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.ClientSecret == "" {
		return fmt.Errorf("clients create --json printed %q (%v)", out, err)
	}
	if _, err := cli(ctx, bin, env, created.ClientSecret+"\n", "login", "--issuer", url,
		"--client-id", created.ClientID, "--client-credentials", "--client-secret-stdin", "--scope", "read"); err != nil {
		return err
	}
	stop()
	// With the server gone, a token can only come from the cache.
	if out, err := cli(ctx, bin, env, "", "token"); err != nil || len(bytes.TrimSpace(out)) == 0 {
		return fmt.Errorf("gatehouse token after login printed %q: %v", out, err)
	}
	return nil
}

// cli runs one gatehouse command and returns its standard output.
func cli(ctx context.Context, bin string, env []string, stdin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("gatehouse %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// samples are the wall and CPU (user + system) times of one command's
// measured runs.
type samples struct{ wall, cpu []time.Duration }

// measure runs warmup+runs rounds, each starting every case once, one
// after the other, so that every command sees the same background load;
// it returns the times of the measured rounds per case. Standard streams
// go to /dev/null and processes are started with os.StartProcess, so
// little but the program itself is timed.
func measure(cases []benchCase, env []string, warmup, runs int) ([]samples, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	attr := &os.ProcAttr{Env: env, Files: []*os.File{null, null, null}}
	out := make([]samples, len(cases))
	for round := range warmup + runs {
		for i, c := range cases {
			start := time.Now()
			p, err := os.StartProcess(c.argv[0], c.argv, attr)
			if err != nil {
				return nil, err
			}
			st, err := p.Wait()
			elapsed := time.Since(start)
			if err != nil {
				return nil, err
			}
			if !st.Success() {
				return nil, fmt.Errorf("%s exited with %v", strings.Join(c.argv, " "), st)
			}
			if round >= warmup {
				out[i].wall = append(out[i].wall, elapsed)
				out[i].cpu = append(out[i].cpu, st.UserTime()+st.SystemTime())
			}
		}
	}
	return out, nil
}

type summary struct{ median, mean, p10, p90, min time.Duration }

func summarize(d []time.Duration) summary {
	s := slices.Clone(d)
	slices.Sort(s)
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	at := func(q float64) time.Duration { return s[int(q*float64(len(s)-1)+0.5)] }
	return summary{median: at(0.5), mean: sum / time.Duration(len(s)), p10: at(0.1), p90: at(0.9), min: s[0]}
}

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms" }

type pkgInit struct {
	pkg string
	ms  float64
}

// initTrace runs argv runs times with GODEBUG=inittrace=1 and returns the
// mean total package initialisation time and the top most expensive
// packages, in milliseconds.
func initTrace(argv, env []string, runs, top int) (float64, []pkgInit, error) {
	sum := map[string]float64{}
	for range runs {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(slices.Clone(env), "GODEBUG=inittrace=1")
		cmd.Stdout = io.Discard
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return 0, nil, fmt.Errorf("inittrace: %w", err)
		}
		// init github.com/x/y @1.2 ms, 0.15 ms clock, 2296 bytes, 26 allocs
		for line := range strings.Lines(stderr.String()) {
			f := strings.Fields(line)
			if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
				continue
			}
			v, err := strconv.ParseFloat(f[4], 64)
			if err != nil {
				continue
			}
			sum[f[1]] += v
		}
	}
	var all []pkgInit
	total := 0.0
	for p, v := range sum {
		all = append(all, pkgInit{p, v / float64(runs)})
		total += v / float64(runs)
	}
	slices.SortFunc(all, func(a, b pkgInit) int {
		if a.ms != b.ms {
			if a.ms > b.ms {
				return -1
			}
			return 1
		}
		return strings.Compare(a.pkg, b.pkg)
	})
	if len(all) > top {
		all = all[:top]
	}
	return total, all, nil
}
