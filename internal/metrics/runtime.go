package metrics

import "runtime"

// AddRuntimeMetrics registers the basic Go runtime metrics (goroutines,
// threads, GOMAXPROCS, heap and total memory, GC cycles, go_info) and, on
// Linux, the process metrics (CPU seconds, resident and virtual memory,
// open file descriptors, start time), with the names client_golang's Go
// and process collectors use. Values are read when the metrics are
// written.
//
// The memory figures come from runtime.ReadMemStats, not runtime/metrics,
// whose package initialisation would cost every gatehouse process about
// 0.1 ms.
func (r *Registry) AddRuntimeMetrics() {
	r.NewGaugeFunc("go_goroutines", "Number of goroutines that currently exist.", func() float64 {
		return float64(runtime.NumGoroutine())
	})
	r.NewGaugeFunc("go_threads", "Number of OS threads created.", func() float64 {
		n, _ := runtime.ThreadCreateProfile(nil)
		return float64(n)
	})
	r.NewGaugeFunc("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting.", func() float64 {
		return float64(runtime.GOMAXPROCS(0))
	})
	r.NewGaugeFunc("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and still in use.", func() float64 {
		return float64(memStats().HeapAlloc)
	})
	r.NewGaugeFunc("go_memstats_sys_bytes", "Number of bytes obtained from the system.", func() float64 {
		return float64(memStats().Sys)
	})
	r.NewCounterFunc("go_gc_cycles_total", "Number of completed GC cycles.", func() float64 {
		return float64(memStats().NumGC)
	})
	r.register(&infoMetric{
		name: "go_info", help: "Information about the Go environment.",
		label: "version", value: runtime.Version(),
	})
	addProcessMetrics(r)
}

// memStats reads the runtime's memory statistics. It stops the world for
// a few microseconds, which is fine at scrape frequency.
func memStats() *runtime.MemStats {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return &m
}
