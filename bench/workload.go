package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/dpop"
)

// Workload names, as reported.
const (
	wlClientCredentials = "client_credentials"
	// wlClientCredentialsDPoP is client_credentials with a DPoP proof
	// (RFC 9449): one ES256 signature per request at the client (each
	// worker has its own key) and one verification, a replay-cache
	// insertion and a cnf-bound token at the server.
	wlClientCredentialsDPoP = "client_credentials-dpop"
	// wlClientCredentialsDPoPEdDSA is the same with Ed25519 keys (EdDSA
	// proofs), whose signing and verification cost less than ES256's.
	wlClientCredentialsDPoPEdDSA = "client_credentials-dpop-eddsa"
	wlRefresh                    = "refresh"
	wlIntrospect                 = "introspect"
	wlAPIKeyIntrospect           = "apikey-introspect"
)

// workloadAliases maps what --workloads accepts to workload names.
var workloadAliases = map[string]string{
	"cc":                            wlClientCredentials,
	"client_credentials":            wlClientCredentials,
	"cc-dpop":                       wlClientCredentialsDPoP,
	"client_credentials-dpop":       wlClientCredentialsDPoP,
	"cc-dpop-eddsa":                 wlClientCredentialsDPoPEdDSA,
	"client_credentials-dpop-eddsa": wlClientCredentialsDPoPEdDSA,
	"refresh":                       wlRefresh,
	"refresh_token":                 wlRefresh,
	"introspect":                    wlIntrospect,
	"introspection":                 wlIntrospect,
	"apikey-introspect":             wlAPIKeyIntrospect,
	"apikey":                        wlAPIKeyIntrospect,
}

// requestTimeout bounds every request of a workload.
const requestTimeout = 10 * time.Second

// worker is one load generator's request loop state.
type worker interface {
	// do sends one request; nil means a 200 with the expected body.
	do(ctx context.Context, c *http.Client) error
	// recover runs, unmeasured, after a failed request; false means the
	// worker cannot go on (its refresh chain is lost for good).
	recover(ctx context.Context) bool
}

// workload makes the worker of each index.
type workload struct {
	name      string
	newWorker func(i int) worker
}

// statusError is a request that was answered with something else than
// what the workload expects.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, e.body)
}

// post sends a form POST with an Authorization header (and a DPoP
// header when proof is not empty) and returns the body of a 200 answer;
// any other status is a *statusError.
func post(ctx context.Context, c *http.Client, target, auth, form, proof string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", auth)
	if proof != "" {
		req.Header.Set(dpop.Header, proof)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	// Read to the end so that the connection is reused.
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{status: resp.StatusCode, body: snippet(body)}
	}
	return body, nil
}

// fixedWorker sends the same request every time.
type fixedWorker struct {
	target, auth, form string
	// want, when set, must appear in the body of the answer.
	want []byte
}

func (w *fixedWorker) do(ctx context.Context, c *http.Client) error {
	body, err := post(ctx, c, w.target, w.auth, w.form, "")
	if err == nil && w.want != nil && !bytes.Contains(body, w.want) {
		return &statusError{status: http.StatusOK, body: "unexpected answer: " + snippet(body)}
	}
	return err
}

func (w *fixedWorker) recover(context.Context) bool { return true }

// refreshWorker rotates its own refresh-token chain: every request presents
// the token the previous answer returned.
type refreshWorker struct {
	fx    *fixture
	base  string // the replica this worker talks to
	token string
}

func (w *refreshWorker) do(ctx context.Context, c *http.Client) error {
	form := "grant_type=refresh_token&refresh_token=" + url.QueryEscape(w.token)
	body, err := post(ctx, c, w.base+"/oauth2/token", w.fx.refresh.basicAuth(), form, "")
	if err != nil {
		return err
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil || tr.RefreshToken == "" {
		return &statusError{status: http.StatusOK, body: "no refresh_token in: " + snippet(body)}
	}
	w.token = tr.RefreshToken
	return nil
}

// recover starts a new chain: after a failure the old token may have been
// rotated without the answer arriving, and presenting it again would revoke
// the family as a replay.
func (w *refreshWorker) recover(ctx context.Context) bool {
	tok, err := w.fx.newRefreshChain(ctx)
	if err != nil {
		return false
	}
	w.token = tok
	return true
}

// workload returns the named workload over the fixture. Worker i talks to
// replica i%len(fx.bases) (fx.base alone when bases is unset).
func (fx *fixture) workload(name string) workload {
	bases := fx.bases
	if len(bases) == 0 {
		bases = []string{fx.base}
	}
	per := func(mk func(base string) worker) func(int) worker {
		ws := make([]worker, len(bases))
		for i, b := range bases {
			ws[i] = mk(b)
		}
		return func(i int) worker { return ws[i%len(ws)] }
	}
	switch name {
	case wlClientCredentials:
		return workload{name: name, newWorker: per(func(base string) worker {
			return &fixedWorker{target: base + "/oauth2/token", auth: fx.cc.basicAuth(),
				form: "grant_type=client_credentials&scope=" + benchScope}
		})}
	case wlClientCredentialsDPoP, wlClientCredentialsDPoPEdDSA:
		return workload{name: name, newWorker: func(i int) worker {
			w, err := newDPoPWorker(bases[i%len(bases)], fx.base, fx.cc.basicAuth(), name == wlClientCredentialsDPoPEdDSA)
			if err != nil {
				panic(err) // a P-256 or Ed25519 key always generates
			}
			return w
		}}
	case wlIntrospect:
		return workload{name: name, newWorker: per(func(base string) worker {
			return &fixedWorker{target: base + "/oauth2/introspect", auth: fx.rs.basicAuth(),
				form: url.Values{"token": {fx.accessToken}, "token_type_hint": {"access_token"}}.Encode(),
				want: []byte(`"active":true`)}
		})}
	case wlAPIKeyIntrospect:
		return workload{name: name, newWorker: per(func(base string) worker {
			return &fixedWorker{target: base + "/oauth2/introspect", auth: fx.rs.basicAuth(),
				form: url.Values{"token": {fx.apiKey}}.Encode(), want: []byte(`"active":true`)}
		})}
	case wlRefresh:
		return workload{name: name, newWorker: func(i int) worker {
			return &refreshWorker{fx: fx, base: bases[i%len(bases)], token: fx.chains[i]}
		}}
	}
	panic("unknown workload " + name)
}

// newWorkerClient is an HTTP client with exactly one keep-alive connection,
// counting the connections it opens in dials.
func newWorkerClient(dials *atomic.Int64) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

// workerResult is what one worker measured.
type workerResult struct {
	latencies []time.Duration // of successful requests
	errors    int
	firstErr  error
	lastDone  time.Time
	lost      bool
	// warmErrors and warmErr count and keep the first error of the
	// warm-up.
	warmErrors int
	warmErr    error
}

// cpuSnapshot is the CPU time used so far by the server, the load
// generator, the database server and the whole machine.
type cpuSnapshot struct {
	server, self, db, busy time.Duration
	// redis is redis-server's CPU time, read only with two replicas.
	redis time.Duration
}

func takeCPU(pids []int, dbComm string) cpuSnapshot {
	var c cpuSnapshot
	for _, pid := range pids {
		t, _ := cpuTime(pid)
		c.server += t
	}
	c.self = selfCPUTime()
	if dbComm != "" {
		c.db = commandCPUTime(dbComm)
	}
	if len(pids) > 1 {
		c.redis = commandCPUTime("redis-server")
	}
	c.busy, _ = machineBusy()
	return c
}

// runWorkload runs w with opts.Concurrency workers: a warm-up that is not
// measured, then opts.Duration of measured requests. A request counts when
// it starts inside the measured window; the window closes when the last
// such request has finished.
//
// pids are the servers: one, or both replicas (server CPU is their sum).
func runWorkload(ctx context.Context, w workload, opts *options, pids []int, dbComm string) (WorkloadResult, error) {
	n := opts.Concurrency
	var dials atomic.Int64
	clients := make([]*http.Client, n)
	workers := make([]worker, n)
	for i := range n {
		clients[i] = newWorkerClient(&dials)
		workers[i] = w.newWorker(i)
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()

	from := time.Now().Add(opts.Warmup)
	end := from.Add(opts.Duration)
	rss := sampleRSS(pids[0])
	var rssB *rssSampler
	if len(pids) > 1 {
		rssB = sampleRSS(pids[1])
	}

	// Counters at the start of the measured window.
	var cpu0 cpuSnapshot
	var dials0 int64
	cpuRead := make(chan struct{})
	var perf *perfRecording
	var perfErr error
	cpuTimer := time.AfterFunc(time.Until(from), func() {
		defer close(cpuRead)
		if opts.PerfDir != "" {
			perf, perfErr = startPerf(opts.PerfDir, w.name, pids)
		}
		cpu0 = takeCPU(pids, dbComm)
		dials0 = dials.Load()
	})

	results := make([]workerResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = drive(ctx, workers[i], clients[i], from, end)
		}()
	}
	wg.Wait()
	stopped := time.Now()
	peak := rss.Stop()
	var peakB int64
	if rssB != nil {
		peakB = rssB.Stop()
	}
	if cpuTimer.Stop() {
		// Every worker ended before the measured window began.
		if err := ctx.Err(); err != nil {
			return WorkloadResult{}, err
		}
		for _, r := range results {
			if r.warmErr != nil {
				return WorkloadResult{}, fmt.Errorf("every worker gave up during the warm-up: %w", r.warmErr)
			}
		}
		return WorkloadResult{}, fmt.Errorf("every worker gave up during the warm-up")
	}
	<-cpuRead
	cpu1 := takeCPU(pids, dbComm)
	var profile string
	if perf != nil {
		profile, perfErr = perf.stop()
	}
	if err := ctx.Err(); err != nil {
		return WorkloadResult{}, err
	}
	if perfErr != nil {
		return WorkloadResult{}, perfErr
	}

	res := summarize(w.name, results, from)
	res.PeakRSSKB = peak
	res.PeakRSSKBB = peakB
	res.Connections = int(dials.Load() - dials0)
	res.Profile = profile
	if res.Requests > 0 {
		res.ServerCPUPerRequestUs = float64(cpu1.server-cpu0.server) / float64(time.Microsecond) / float64(res.Requests)
	}
	if window := stopped.Sub(from); window > 0 {
		pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(window) }
		res.ServerCPUPct = pct(cpu1.server - cpu0.server)
		res.BenchCPUPct = pct(cpu1.self - cpu0.self)
		res.DBCPUPct = pct(cpu1.db - cpu0.db)
		res.RedisCPUPct = pct(cpu1.redis - cpu0.redis)
		other := (cpu1.busy - cpu0.busy) - (cpu1.server - cpu0.server) - (cpu1.self - cpu0.self) - (cpu1.db - cpu0.db) - (cpu1.redis - cpu0.redis)
		res.OtherCPUPct = max(0, pct(other))
	}
	return res, nil
}

// drive is one worker's loop: requests back to back until end, measured
// from from on.
func drive(ctx context.Context, wk worker, c *http.Client, from, end time.Time) workerResult {
	r := workerResult{latencies: make([]time.Duration, 0, 1<<14)}
	for {
		t := time.Now()
		if !t.Before(end) || ctx.Err() != nil {
			return r
		}
		err := wk.do(ctx, c)
		done := time.Now()
		switch {
		case t.Before(from) && err != nil:
			r.warmErrors++
			if r.warmErr == nil {
				r.warmErr = err
			}
		case t.Before(from):
		case err != nil:
			r.lastDone = done
			r.errors++
			if r.firstErr == nil {
				r.firstErr = err
			}
		default:
			r.lastDone = done
			r.latencies = append(r.latencies, done.Sub(t))
		}
		if err != nil && !wk.recover(ctx) {
			r.lost = true
			return r
		}
	}
}

// summarize merges the workers' measurements. The measured window runs
// from from until the last measured request finished.
func summarize(name string, results []workerResult, from time.Time) WorkloadResult {
	res := WorkloadResult{Name: name}
	var all []time.Duration
	last := from
	for _, r := range results {
		all = append(all, r.latencies...)
		res.Errors += r.errors
		res.WarmupErrors += r.warmErrors
		if r.firstErr != nil && res.FirstError == "" {
			res.FirstError = r.firstErr.Error()
		}
		if r.lastDone.After(last) {
			last = r.lastDone
		}
		if r.lost {
			res.LostWorkers++
		}
	}
	res.OK = len(all)
	res.Requests = res.OK + res.Errors
	if elapsed := last.Sub(from); elapsed > 0 {
		res.Seconds = elapsed.Seconds()
		res.RPS = float64(res.OK) / elapsed.Seconds()
	}
	if len(all) > 0 {
		slices.Sort(all)
		res.P50Ms = ms(percentile(all, 0.50))
		res.P99Ms = ms(percentile(all, 0.99))
		res.MaxMs = ms(all[len(all)-1])
		var sum time.Duration
		for _, d := range all {
			sum += d
		}
		res.MeanMs = ms(sum / time.Duration(len(all)))
	}
	return res
}

// percentile is the nearest-rank p-quantile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(float64(len(sorted))*p)) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// dpopWorker asks for DPoP-bound client_credentials tokens: a new proof,
// signed with the worker's own key, for every request. Proofs name the
// issuer's token endpoint (htu), whichever replica they are sent to.
type dpopWorker struct {
	target, htu, auth, form string
	signer                  *dpop.Signer
}

func newDPoPWorker(base, issuer, auth string, eddsa bool) (*dpopWorker, error) {
	var k crypto.Signer
	var err error
	if eddsa {
		_, k, err = ed25519.GenerateKey(rand.Reader)
	} else {
		k, err = dpop.NewKey()
	}
	if err != nil {
		return nil, err
	}
	s, err := dpop.NewSigner(k)
	if err != nil {
		return nil, err
	}
	return &dpopWorker{target: base + "/oauth2/token", htu: issuer + "/oauth2/token", auth: auth,
		form: "grant_type=client_credentials&scope=" + benchScope, signer: s}, nil
}

func (w *dpopWorker) do(ctx context.Context, c *http.Client) error {
	proof, err := w.signer.Proof(http.MethodPost, w.htu, "", "")
	if err != nil {
		return err
	}
	body, err := post(ctx, c, w.target, w.auth, w.form, proof)
	if err != nil {
		return err
	}
	if !bytes.Contains(body, []byte(`"token_type":"DPoP"`)) {
		return &statusError{status: http.StatusOK, body: "not a DPoP-bound token: " + snippet(body)}
	}
	return nil
}

func (w *dpopWorker) recover(context.Context) bool { return true }
