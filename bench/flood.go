package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// --gateway-flood: what the gateway costs under requests meant to hurt it
// (SECURITY-CASES 67). It starts the test app and `gatehouse proxy` with
// the gateway benchmark's policy and --body-timeout floodBodyTimeout, and
//
//  1. sends floodRequests anonymous POST /graphql requests of 1 MiB at once,
//     each on its own connection, and measures the time until every one is
//     answered and the gateway's peak RSS (target: < 100 MB, < 1 s);
//  2. opens stalledUploads connections that declare a 1 MiB body and send
//     a few bytes of it, half anonymous and half with a viewer's API key
//     (whose GraphQL body the gateway must read), and measures when each
//     is answered or closed (target: all within the body timeout + 1 s).
const (
	floodRequests    = 48
	floodBodyBytes   = 1 << 20
	stalledUploads   = 200
	floodBodyTimeout = 2 * time.Second
	floodRSSTargetMB = 100
	floodTimeTarget  = time.Second
)

// FloodReport is the result of --gateway-flood.
type FloodReport struct {
	Machine        Machine `json:"machine"`
	IdleRSSMB      float64 `json:"idle_rss_mb"`
	Requests       int     `json:"flood_requests"`
	BodyBytes      int     `json:"flood_body_bytes"`
	Answered       int     `json:"flood_answered"`
	Status         string  `json:"flood_status"`
	FloodSeconds   float64 `json:"flood_seconds"`
	FloodPeakRSSMB float64 `json:"flood_peak_rss_mb"`
	Stalled        int     `json:"stalled_uploads"`
	BodyTimeout    string  `json:"body_timeout"`
	StalledCut     int     `json:"stalled_cut_in_time"`
	StalledMaxSec  float64 `json:"stalled_slowest_cut_seconds"`
	StalledRSSMB   float64 `json:"stalled_peak_rss_mb"`
	Pass           bool    `json:"pass"`
}

func (r *FloodReport) writeTable(w io.Writer) {
	fmt.Fprintf(w, "gateway flood (%s, %d CPUs)\n", r.Machine.CPUModel, r.Machine.CPUs)
	fmt.Fprintf(w, "  idle RSS                         %6.1f MB\n", r.IdleRSSMB)
	fmt.Fprintf(w, "  %d x %d KiB anonymous POST /graphql: answered %d (%s) in %.3f s, peak RSS %.1f MB  [target < %d MB, < %s]\n",
		r.Requests, r.BodyBytes>>10, r.Answered, r.Status, r.FloodSeconds, r.FloodPeakRSSMB, floodRSSTargetMB, floodTimeTarget)
	fmt.Fprintf(w, "  %d stalled uploads, body timeout %s: %d cut in time, slowest %.2f s, peak RSS %.1f MB\n",
		r.Stalled, r.BodyTimeout, r.StalledCut, r.StalledMaxSec, r.StalledRSSMB)
	verdict := "MISS"
	if r.Pass {
		verdict = "PASS"
	}
	fmt.Fprintf(w, "  %s\n", verdict)
}

// runGatewayFlood runs --gateway-flood.
func runGatewayFlood(ctx context.Context, opts *options, logw io.Writer) (rep *FloodReport, err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(logw, "bench: "+format+"\n", args...) }
	dir, bin, cleanup, err := workspace(ctx, opts, "gatehouse-bench-flood-", logf)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	appBin := filepath.Join(dir, appName)
	logf("building ./internal/proxy/proxytest/testapp")
	if err := buildPackage(ctx, appBin, "./internal/proxy/proxytest/testapp"); err != nil {
		return nil, err
	}
	env := childEnv()
	app, err := startListening(ctx, appBin, dir, "app.log", nil, env)
	if err != nil {
		return nil, err
	}
	defer app.stop()
	st := storageTarget{dataDir: filepath.Join(dir, "data")}
	gw, err := startGateway(ctx, bin, dir, app.base, st, env, "--body-timeout", floodBodyTimeout.String())
	if err != nil {
		if gw != nil {
			logf("gateway log (last lines):\n%s", gw.logTail(40))
		}
		return nil, err
	}
	defer gw.stop()
	fx := &gatewayFixture{app: app.base, gw: gw.base, path: gatewayPath, header: map[string][2]string{}}
	if err := fx.setup(ctx, &cli{bin: bin, dir: dir, st: st, env: env}, []string{gwAPIKey}); err != nil {
		return nil, err
	}
	if err := sleepCtx(ctx, settle); err != nil {
		return nil, err
	}
	rep = &FloodReport{Machine: describeMachine(bin), Requests: floodRequests, BodyBytes: floodBodyBytes,
		Stalled: stalledUploads, BodyTimeout: floodBodyTimeout.String()}
	idle, _ := readStatusKB(gw.pid, "VmRSS")
	rep.IdleRSSMB = mb(idle)
	addr := strings.TrimPrefix(gw.base, "http://")

	logf("flood: %d anonymous POST /graphql of %d bytes at once", floodRequests, floodBodyBytes)
	body := floodBody(floodBodyBytes)
	rss := sampleRSS(gw.pid)
	start := time.Now()
	statuses := make([]int, floodRequests)
	var wg sync.WaitGroup
	for i := range floodRequests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = floodPost(ctx, addr, "", body)
		}()
	}
	wg.Wait()
	rep.FloodSeconds = time.Since(start).Seconds()
	rep.FloodPeakRSSMB = mb(rss.Stop())
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
		if s > 0 {
			rep.Answered++
		}
	}
	rep.Status = fmt.Sprint(counts)

	logf("stalled uploads: %d connections that send 16 bytes of a declared MiB", stalledUploads)
	rss = sampleRSS(gw.pid)
	cut := make([]time.Duration, stalledUploads)
	for i := range stalledUploads {
		auth := ""
		if i%2 == 1 {
			auth = fx.header[gwAPIKey][1]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cut[i] = stalledUpload(ctx, addr, auth, floodBodyTimeout+5*time.Second)
		}()
	}
	wg.Wait()
	rep.StalledRSSMB = mb(rss.Stop())
	for _, d := range cut {
		if d > 0 && d <= floodBodyTimeout+time.Second {
			rep.StalledCut++
		}
		rep.StalledMaxSec = max(rep.StalledMaxSec, d.Seconds())
	}
	rep.Pass = rep.Answered == floodRequests && counts[http.StatusUnauthorized] == floodRequests &&
		rep.FloodPeakRSSMB < floodRSSTargetMB && rep.FloodSeconds < floodTimeTarget.Seconds() &&
		rep.StalledCut == stalledUploads
	return rep, nil
}

// floodBody is a GraphQL request of n bytes whose document is one long
// selection set: costly to parse, were it parsed.
func floodBody(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"query":"{ `)
	for b.Len() < n-8 {
		b.WriteString("a ")
	}
	b.WriteString(`}"}`)
	return []byte(b.String())
}

// floodPost sends POST /graphql with body on a new connection and returns
// the answer's status (0: no answer).
func floodPost(ctx context.Context, addr, auth string, body []byte) int {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n", addr, len(body), authLine(auth))
		conn.Write(body) // may fail once the gateway has answered and closed
	}()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// stalledUpload declares a 1 MiB body, sends 16 bytes of it and returns
// how long the gateway took to answer or close the connection (0: it did
// neither within limit).
func stalledUpload(ctx context.Context, addr, auth string, limit time.Duration) time.Duration {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0
	}
	defer conn.Close()
	start := time.Now()
	conn.SetDeadline(start.Add(limit))
	fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n{\"query\":\"{ a a ", addr, floodBodyBytes, authLine(auth))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return 0
		}
	}
	return time.Since(start)
}

func authLine(auth string) string {
	if auth == "" {
		return ""
	}
	return "Authorization: " + auth + "\r\n"
}
