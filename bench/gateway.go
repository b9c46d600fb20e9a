package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Workloads of --gateway. Every one requests gatewayPath of the test app:
// directly, through the bare reverse proxy of bench/bareproxy, or through
// the gateway with one kind of credential.
const (
	gwDirect  = "direct"
	gwBare    = "bare"
	gwSession = "session"
	gwAPIKey  = "apikey"
	gwJWT     = "jwt"
)

// gatewayAliases maps what --workloads accepts with --gateway to workload
// names; direct always runs, as the baseline.
var gatewayAliases = map[string]string{
	"direct":  gwDirect,
	"bare":    gwBare,
	"session": gwSession,
	"cookie":  gwSession,
	"apikey":  gwAPIKey,
	"api-key": gwAPIKey,
	"jwt":     gwJWT,
}

// gatewayDefaultDuration is --duration with --gateway unless given: two
// runs per workload keep the whole benchmark at about a minute and a half.
const gatewayDefaultDuration = 5 * time.Second

const (
	// gatewayPath is the endpoint of the test app every workload asks for
	// unless --gateway-path names another: the cheapest one, it answers
	// {"status":200}.
	gatewayPath = "/status/200"
	// gatewayLoginPage is the page the browser login starts from and
	// comes back to.
	gatewayLoginPage = "/bench/page"
	// appName is the test app's binary and so its command name in /proc,
	// by which its CPU time is found while a proxy is measured.
	appName = "gh-bench-app"
	// bareName is the bare proxy's binary.
	bareName = "gh-bench-bare"
	// appHeader is set by the test app on every answer: a 200 without it
	// came from the gateway, not the application.
	appHeader = "X-Test-App"
	// gatewayCookie is the gateway's session cookie on an http public URL.
	gatewayCookie = "gatehouse_proxy"
	// jwtClientID is the client_credentials client whose JWTs the jwt
	// workload presents.
	jwtClientID = "benchci"
)

// gatewayPolicy lets viewers read everything and nothing else.
const gatewayPolicy = `version: 1
graphql:
  paths: ["/graphql"]
rules:
  - name: bench viewers query
    roles: [viewer]
    paths: ["/graphql"]
    graphql: {types: [query]}
  - name: bench viewers read
    roles: [viewer]
    methods: [GET, HEAD]
`

// gatewayFixture is what the gateway workloads send.
type gatewayFixture struct {
	app, gw, bare string // base URLs
	path          string // what every workload GETs
	// header is the credential header of each gateway workload.
	header map[string][2]string
}

// runGateway benchmarks `gatehouse proxy` in front of the test app: build,
// start both, create the credentials, and run every workload at
// concurrency 1 (latency) and at opts.Concurrency (throughput). The report
// is returned even when a later step fails, with what was measured.
func runGateway(ctx context.Context, opts *options, logw io.Writer) (rep *GatewayReport, err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "bench: "+format+"\n", args...) }

	dir, bin, cleanup, err := workspace(ctx, opts, "gatehouse-bench-gateway-", logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	appBin := filepath.Join(dir, appName)
	logf("building ./internal/proxy/proxytest/testapp")
	if err := buildPackage(ctx, appBin, "./internal/proxy/proxytest/testapp"); err != nil {
		return nil, err
	}

	rep = &GatewayReport{
		Machine:     describeMachine(bin),
		Concurrency: opts.Concurrency,
		Duration:    opts.Duration.String(),
		Warmup:      opts.Warmup.String(),
		Binary:      bin,
		Path:        opts.GatewayPath,
	}
	env := childEnv()

	logf("starting the test app")
	app, err := startListening(ctx, appBin, dir, "app.log", nil, env)
	if err != nil {
		if app != nil {
			logf("app log (last lines):\n%s", app.logTail(40))
		}
		return nil, err
	}
	defer func() {
		if serr := app.stop(); serr != nil {
			logf("stop app: %v", serr)
		}
	}()
	rep.AppPID = app.pid

	var bare *server
	if slices.Contains(opts.Workloads, gwBare) {
		bareBin := filepath.Join(dir, bareName)
		logf("building ./bench/bareproxy")
		if err := buildPackage(ctx, bareBin, "./bench/bareproxy"); err != nil {
			return nil, err
		}
		if bare, err = startListening(ctx, bareBin, dir, "bare.log", []string{"--upstream", app.base}, env); err != nil {
			if bare != nil {
				logf("bare proxy log (last lines):\n%s", bare.logTail(40))
			}
			return nil, err
		}
		defer func() {
			if serr := bare.stop(); serr != nil {
				logf("stop bare proxy: %v", serr)
			}
		}()
		rep.BarePID = bare.pid
	}

	st := storageTarget{dataDir: filepath.Join(dir, "data")}
	logf("starting gatehouse proxy in front of %s", app.base)
	gw, err := startGateway(ctx, bin, dir, app.base, st, env)
	if err != nil {
		if gw != nil {
			logf("gateway log (last lines):\n%s", gw.logTail(40))
		}
		return nil, err
	}
	// Deferred after the app's stop, so it runs first.
	defer func() {
		rep.Memory.HWMKB, _ = readStatusKB(gw.pid, "VmHWM")
		for _, w := range append(rep.Latency, rep.Throughput...) {
			if w.Name != gwDirect && w.Name != gwBare { // the app's and the bare proxy's
				rep.Memory.PeakKB = max(rep.Memory.PeakKB, w.PeakRSSKB)
			}
		}
		rep.LoadAvgEnd = loadAverage()
		rep.evaluate()
		if serr := gw.stop(); serr != nil {
			logf("stop gateway: %v", serr)
		}
		if err != nil {
			logf("gateway log (last lines):\n%s", gw.logTail(40))
		}
	}()
	rep.GatewayPID = gw.pid
	rep.Memory.StartKB, _ = readStatusKB(gw.pid, "VmRSS")
	logf("gateway pid %d on %s, app pid %d on %s", gw.pid, gw.base, app.pid, app.base)

	logf("creating the user, API key and client with the CLI; signing in through the gateway")
	fx := &gatewayFixture{app: app.base, gw: gw.base, path: opts.GatewayPath, header: map[string][2]string{}}
	if bare != nil {
		fx.bare = bare.base
	}
	if err := fx.setup(ctx, &cli{bin: bin, dir: dir, st: st, env: env}, opts.Workloads); err != nil {
		return rep, err
	}
	// The login's password hash is handed back to the OS a second after.
	if err := sleepCtx(ctx, settle); err != nil {
		return rep, err
	}
	rep.Memory.IdleKB, _ = readStatusKB(gw.pid, "VmRSS")

	names := append([]string{gwDirect}, opts.Workloads...)
	latencyOpts := *opts
	latencyOpts.Concurrency = 1
	for _, run := range []struct {
		o   *options
		out *[]WorkloadResult
	}{{&latencyOpts, &rep.Latency}, {opts, &rep.Throughput}} {
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			pids, other := []int{gw.pid}, appName
			switch name {
			case gwDirect:
				pids, other = []int{app.pid}, ""
			case gwBare:
				pids = []int{bare.pid}
			}
			logf("running %s: %d workers, %s warm-up + %s", name, run.o.Concurrency, run.o.Warmup, run.o.Duration)
			res, err := runWorkload(ctx, fx.workload(name), run.o, pids, other)
			if err != nil {
				return rep, fmt.Errorf("%s at concurrency %d: %w", name, run.o.Concurrency, err)
			}
			*run.out = append(*run.out, res)
		}
	}
	return rep, nil
}

// startListening starts the test app or the bare proxy (bin with args)
// on a port of its choosing, which it prints as "listening on ADDR", and
// waits until it answers /healthz (the bare proxy forwards it to the app).
func startListening(ctx context.Context, bin, dir, logName string, args, env []string) (*server, error) {
	name := filepath.Base(bin)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s, err := spawn(bin, dir, logName, append([]string{"--addr", "127.0.0.1:0"}, args...), env, w)
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	lines := make(chan string, 1)
	go func() {
		defer r.Close()
		br := bufio.NewReader(r)
		line, _ := br.ReadString('\n')
		lines <- line
		io.Copy(s.logFile, br) // the rest of its output, until it exits
	}()
	t := time.NewTimer(healthTimeout)
	defer t.Stop()
	var line string
	select {
	case line = <-lines:
	case <-t.C:
	case <-ctx.Done():
	}
	addr, ok := listenAddr(line)
	if !ok {
		s.stop()
		return s, fmt.Errorf("start %s: expected \"listening on ADDR\", got %q", name, strings.TrimSpace(line))
	}
	s.base, s.health = "http://"+addr, "/healthz"
	if err := s.waitHealthy(ctx); err != nil {
		s.stop()
		return s, err
	}
	return s, nil
}

// listenAddr reads the first line of the test app or the bare proxy, "listening on HOST:PORT",
// and accepts only a loopback address with a port.
func listenAddr(line string) (string, bool) {
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		return "", false
	}
	host, port, ok := strings.Cut(addr, ":")
	if !ok || host != "127.0.0.1" {
		return "", false
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", false
	}
	return addr, true
}

// startGateway writes the policy and starts `gatehouse proxy` on a free
// loopback port in front of upstream, with the embedded server on st.
func startGateway(ctx context.Context, bin, dir, upstream string, st storageTarget, env []string, extra ...string) (*server, error) {
	policyFile := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policyFile, []byte(gatewayPolicy), 0o600); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"proxy", "--upstream", upstream, "--addr", addr, "--policy", policyFile,
		"--audit-output", "off"}, st.args()...)
	args = append(args, extra...)
	s, err := spawn(bin, dir, "gateway.log", args, env, nil)
	if err != nil {
		return nil, fmt.Errorf("start gateway: %w", err)
	}
	s.base, s.health = "http://"+addr, "/_gatehouse/healthz"
	if err := s.waitHealthy(ctx); err != nil {
		s.stop()
		return s, err
	}
	return s, nil
}

// setup creates the viewer "bench", signs it in through the gateway for a
// session cookie, and creates an API key acting as it and a
// client_credentials client with the viewer role for a JWT, as workloads
// need them. Every workload's request is tried once.
func (fx *gatewayFixture) setup(ctx context.Context, c *cli, workloads []string) error {
	gw := fx.gw
	pw := randomToken(18)
	if _, err := c.run(ctx, pw+"\n", "users", "add", benchUser, "--role", "viewer", "--password-stdin"); err != nil {
		return err
	}
	for _, name := range workloads {
		switch name {
		case gwSession:
			cookie, err := gatewaySession(ctx, gw, benchUser, pw)
			if err != nil {
				return fmt.Errorf("sign in through the gateway: %w", err)
			}
			fx.header[name] = [2]string{"Cookie", gatewayCookie + "=" + cookie}
		case gwAPIKey:
			key, err := c.createAPIKey(ctx, "bench", "--user", benchUser)
			if err != nil {
				return err
			}
			fx.header[name] = [2]string{"Authorization", "Bearer " + key}
		case gwJWT:
			cl, err := c.createClient(ctx, jwtClientID, "--grant", "client_credentials", "--role", "viewer")
			if err != nil {
				return err
			}
			var tr tokenResponse
			form := url.Values{"grant_type": {"client_credentials"}}
			if err := postJSON(ctx, gw+"/_gatehouse/auth/oauth2/token", cl.basicAuth(), form, &tr); err != nil {
				return fmt.Errorf("client_credentials token: %w", err)
			}
			if strings.Count(tr.AccessToken, ".") != 2 {
				return fmt.Errorf("client_credentials token: the access token is not a JWT")
			}
			fx.header[name] = [2]string{"Authorization", "Bearer " + tr.AccessToken}
		}
	}
	for _, name := range append([]string{gwDirect}, workloads...) {
		w := fx.workload(name).newWorker(0)
		if err := w.do(ctx, setupClient); err != nil {
			return fmt.Errorf("%s: first request: %w", name, err)
		}
	}
	setupClient.CloseIdleConnections()
	return nil
}

// gatewaySession signs user in the way a browser does — a page request,
// the embedded server's login form, the callback — and returns the
// gateway's session cookie.
func gatewaySession(ctx context.Context, gw, user, password string) (string, error) {
	b := newBrowser(gw, user, password)
	defer b.client.CloseIdleConnections()
	start := b.base.ResolveReference(&url.URL{Path: gatewayLoginPage})
	if _, err := b.walk(ctx, start, func(u *url.URL, redirect bool) bool {
		return !redirect && u.Path == gatewayLoginPage
	}); err != nil {
		return "", err
	}
	for _, ck := range b.client.Jar.Cookies(b.base) {
		if ck.Name == gatewayCookie {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("back at %s without a %s cookie", gatewayLoginPage, gatewayCookie)
}

// workload returns the named workload: GET fx.path of the app, or of
// the gateway with the workload's credential.
func (fx *gatewayFixture) workload(name string) workload {
	w := &getWorker{target: fx.gw + fx.path, header: fx.header[name]}
	switch name {
	case gwDirect:
		w.target = fx.app + fx.path
	case gwBare:
		w.target = fx.bare + fx.path
	}
	return workload{name: name, newWorker: func(int) worker { return w }}
}

// getWorker sends the same GET every time and expects the app's 200.
type getWorker struct {
	target string
	// header is a header name and value to send, if any.
	header [2]string
}

func (w *getWorker) do(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.target, nil)
	if err != nil {
		return err
	}
	if w.header[0] != "" {
		req.Header.Set(w.header[0], w.header[1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// Read to the end so that the connection is reused.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &statusError{status: resp.StatusCode, body: snippet(body)}
	}
	if resp.Header.Get(appHeader) == "" {
		return &statusError{status: resp.StatusCode, body: "answered by the gateway, not the app: " + snippet(body)}
	}
	return nil
}

func (w *getWorker) recover(context.Context) bool { return true }
