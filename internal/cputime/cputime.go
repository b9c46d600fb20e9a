// Package cputime adds a CPU-time metric to benchmarks: cpu-ns/op, the
// process CPU time per operation. Unlike ns/op it does not count time
// spent waiting for a CPU, so it holds on a shared machine; run with
// -cpu 1 so that it is one operation's cost.
//
//	start := cputime.Process()
//	for b.Loop() { ... }
//	cputime.Report(b, start)
package cputime

import (
	"testing"
	"time"
)

// Report adds the metric cpu-ns/op: the process CPU time per operation
// since start (garbage collection included). It adds nothing where the
// CPU time is unknown (Process returned 0).
func Report(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric(float64(Process()-start)/float64(b.N), "cpu-ns/op")
	}
}
