package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// GatewayReport is everything one --gateway run measured; --json prints
// it.
type GatewayReport struct {
	Machine     Machine `json:"machine"`
	Concurrency int     `json:"concurrency"`
	Duration    string  `json:"duration"`
	Warmup      string  `json:"warmup"`
	Binary      string  `json:"binary"`
	// Path is the app endpoint every workload requests.
	Path       string `json:"path"`
	GatewayPID int    `json:"gateway_pid"`
	AppPID     int    `json:"app_pid"`
	// BarePID is the bare proxy's (bench/bareproxy), when it ran.
	BarePID int `json:"bare_pid,omitempty"`
	// Memory is the gateway's; PeakKB is the highest of its runs.
	Memory Memory `json:"memory"`
	// Latency are the runs with one worker, Throughput those with
	// Concurrency workers; direct first. For direct, the server CPU
	// and peak RSS are the app's; for the others the proxy's (bare or
	// gateway), and DBCPUPct is the app's CPU.
	Latency     []WorkloadResult `json:"latency"`
	Throughput  []WorkloadResult `json:"throughput"`
	Comparisons []Comparison     `json:"comparisons"`
	Targets     []Target         `json:"targets"`
	// LoadAvgEnd is /proc/loadavg at the end (Machine.LoadAvg at the
	// start).
	LoadAvgEnd string `json:"load_avg_end,omitempty"`
}

// Comparison is one proxied workload against direct requests to the app
// and, for the gateway's, against the bare proxy.
type Comparison struct {
	Name string `json:"name"`
	// AddedP50Ms and AddedP99Ms are the gateway's p50 and p99 minus
	// direct's, with one worker.
	AddedP50Ms float64 `json:"added_p50_ms"`
	AddedP99Ms float64 `json:"added_p99_ms"`
	// ThroughputRatio is the gateway's req/s over direct's, with
	// Concurrency workers.
	ThroughputRatio float64 `json:"throughput_ratio"`
	// AddedOverBareP50Ms and BareRatio are the same against the bare
	// proxy, when it ran (not for bare itself).
	AddedOverBareP50Ms float64 `json:"added_over_bare_p50_ms,omitempty"`
	BareRatio          float64 `json:"bare_ratio,omitempty"`
	// Valid is false when a run it compares had errors or no requests.
	Valid bool `json:"valid"`
}

// DESIGN.md targets of the gateway.
const (
	targetAddedP50Ms      = 0.3
	targetThroughputRatio = 0.6
)

// cachedSessionProof says where the "no database query for a cached
// session" target is proven: the benchmark does not see the queries.
const cachedSessionProof = "a cached-session request makes no session-store or user query: unit test TestCachedSessionDoesNoStoreQuery (internal/proxy)"

// resultNamed is the result called name, or nil.
func resultNamed(results []WorkloadResult, name string) *WorkloadResult {
	for i := range results {
		if results[i].Name == name {
			return &results[i]
		}
	}
	return nil
}

// clean reports whether a run measured something without errors.
func clean(w *WorkloadResult) bool { return w != nil && w.OK > 0 && w.Errors == 0 }

// compareToDirect compares each proxied workload with direct: added
// latency from the runs with one worker, throughput ratio from the runs
// with many; the gateway's also with bare. Workloads without a run in both
// are left out.
func compareToDirect(latency, throughput []WorkloadResult) []Comparison {
	dl, dt := resultNamed(latency, gwDirect), resultNamed(throughput, gwDirect)
	if dl == nil || dt == nil {
		return nil
	}
	bl, bt := resultNamed(latency, gwBare), resultNamed(throughput, gwBare)
	var out []Comparison
	for _, l := range latency {
		t := resultNamed(throughput, l.Name)
		if l.Name == gwDirect || t == nil {
			continue
		}
		c := Comparison{Name: l.Name, AddedP50Ms: diffMs(l.P50Ms, dl.P50Ms), AddedP99Ms: diffMs(l.P99Ms, dl.P99Ms),
			Valid: clean(&l) && clean(t) && clean(dl) && clean(dt)}
		if dt.RPS > 0 {
			c.ThroughputRatio = t.RPS / dt.RPS
		}
		if l.Name != gwBare && bl != nil && bt != nil {
			c.AddedOverBareP50Ms = diffMs(l.P50Ms, bl.P50Ms)
			if bt.RPS > 0 {
				c.BareRatio = t.RPS / bt.RPS
			}
		}
		out = append(out, c)
	}
	return out
}

// diffMs is a - b rounded to the nanosecond, the resolution of the
// measurements, so that 0.4 - 0.1 is 0.3.
func diffMs(a, b float64) float64 { return math.Round((a-b)*1e6) / 1e6 }

// evaluate compares the proxied workloads with direct, and the gateway's
// with the DESIGN.md targets; a target is only met by runs without errors.
func (r *GatewayReport) evaluate() {
	r.Comparisons = compareToDirect(r.Latency, r.Throughput)
	r.Targets = nil
	dl, dt := resultNamed(r.Latency, gwDirect), resultNamed(r.Throughput, gwDirect)
	for _, c := range r.Comparisons {
		if c.Name == gwBare {
			continue // the floor, not the gateway
		}
		l, t := resultNamed(r.Latency, c.Name), resultNamed(r.Throughput, c.Name)
		m := fmt.Sprintf("%+.3f ms (%.3f → %.3f ms)", c.AddedP50Ms, dl.P50Ms, l.P50Ms)
		r.Targets = append(r.Targets, Target{Name: "added latency, p50, 1 worker (" + c.Name + ")",
			Target: fmt.Sprintf("≤ %.1f ms", targetAddedP50Ms), Measured: m + errNote(l, dl),
			Pass: c.Valid && c.AddedP50Ms <= targetAddedP50Ms})
		m = fmt.Sprintf("%.0f%% (%s of %s req/s)", 100*c.ThroughputRatio, thousands(t.RPS), thousands(dt.RPS))
		r.Targets = append(r.Targets, Target{Name: fmt.Sprintf("throughput, %d workers (%s)", r.Concurrency, c.Name),
			Target: fmt.Sprintf("≥ %.0f%% of direct", 100*targetThroughputRatio), Measured: m + errNote(t, dt),
			Pass: c.Valid && c.ThroughputRatio >= targetThroughputRatio})
	}
}

// errNote mentions the errors of the runs a measurement comes from.
func errNote(runs ...*WorkloadResult) string {
	n := 0
	for _, w := range runs {
		n += w.Errors
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d errors)", n)
}

// writeTable prints the report for people.
func (r *GatewayReport) writeTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "\nGatehouse gateway benchmark — GET %s of the test app, directly and through `gatehouse proxy`; %s per run after %s warm-up\n",
		r.Path, r.Duration, r.Warmup)
	m.writeLine(w)
	fmt.Fprintf(w, "gateway: pid %d, %s; app pid %d", r.GatewayPID, r.Binary, r.AppPID)
	if r.BarePID != 0 {
		fmt.Fprintf(w, "; bare proxy (net/http/httputil only) pid %d", r.BarePID)
	}
	fmt.Fprintf(w, "; load generator on the same machine; load average %s at start, %s at end\n", m.LoadAvg, r.LoadAvgEnd)
	fmt.Fprintf(w, "CPU columns are %% of one CPU (%d%% = all); other = the rest of the machine meanwhile\n\n", 100*m.CPUs)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workers\tworkload\trequests\terrors\treq/s\tp50 ms\tp99 ms\tmax ms\tproxy RSS MB\tproxy CPU\tapp CPU\tbench CPU\tother CPU\tnew conns\t")
	for _, run := range []struct {
		workers int
		results []WorkloadResult
	}{{1, r.Latency}, {r.Concurrency, r.Throughput}} {
		for _, x := range run.results {
			rss, gwCPU, appCPU := "-", "-", fmt.Sprintf("%.0f%%", x.ServerCPUPct)
			if x.Name != gwDirect {
				rss = fmt.Sprintf("%.1f", mb(x.PeakRSSKB))
				gwCPU, appCPU = fmt.Sprintf("%.0f%%", x.ServerCPUPct), fmt.Sprintf("%.0f%%", x.DBCPUPct)
			}
			fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\t%.3f\t%.3f\t%.2f\t%s\t%s\t%s\t%.0f%%\t%.0f%%\t%d\t\n",
				run.workers, x.Name, x.Requests, x.Errors, thousands(x.RPS), x.P50Ms, x.P99Ms, x.MaxMs,
				rss, gwCPU, appCPU, x.BenchCPUPct, x.OtherCPUPct, x.Connections)
		}
	}
	tw.Flush()
	writeErrorNotes(w, r.Latency)
	writeErrorNotes(w, r.Throughput)

	if len(r.Comparisons) > 0 {
		fmt.Fprintf(w, "\ncompared with direct:\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "workload\tadded p50 ms (1 worker)\tadded p99 ms (1 worker)\tthroughput vs direct (%d workers)\tadded p50 over bare\tthroughput vs bare\t\n", r.Concurrency)
		for _, c := range r.Comparisons {
			overBare, vsBare := "-", "-"
			if c.BareRatio > 0 {
				overBare, vsBare = fmt.Sprintf("%+.3f", c.AddedOverBareP50Ms), fmt.Sprintf("%.0f%%", 100*c.BareRatio)
			}
			fmt.Fprintf(tw, "%s\t%+.3f\t%+.3f\t%.0f%%\t%s\t%s\t\n", c.Name, c.AddedP50Ms, c.AddedP99Ms, 100*c.ThroughputRatio, overBare, vsBare)
		}
		tw.Flush()
	}

	mem := r.Memory
	fmt.Fprintf(w, "\ngateway RSS: %.1f MB right after start, %.1f MB idle after setup, %.1f MB peak under load, VmHWM %.1f MB (includes the password hashes of start-up and login)\n",
		mb(mem.StartKB), mb(mem.IdleKB), mb(mem.PeakKB), mb(mem.HWMKB))
	writeTargets(w, r.Targets)
	fmt.Fprintf(w, "  %s\n\n", cachedSessionProof)
}
