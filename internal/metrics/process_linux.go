package metrics

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// userHZ is the kernel's clock tick rate for /proc times (USER_HZ), 100 on
// every Linux platform Go supports; procfs and client_golang assume the
// same.
const userHZ = 100

// addProcessMetrics registers the process_* metrics client_golang's
// process collector exports, read from getrusage and /proc.
func addProcessMetrics(r *Registry) {
	r.NewCounterFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return math.NaN()
		}
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	})
	r.NewGaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.", func() float64 {
		return statm(1)
	})
	r.NewGaugeFunc("process_virtual_memory_bytes", "Virtual memory size in bytes.", func() float64 {
		return statm(0)
	})
	r.NewGaugeFunc("process_open_fds", "Number of open file descriptors.", func() float64 {
		entries, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			return math.NaN()
		}
		return float64(len(entries))
	})
	start := startTime()
	r.NewGaugeFunc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", func() float64 {
		return start
	})
}

// statm returns field i of /proc/self/statm (0 size, 1 resident), in
// bytes.
func statm(i int) float64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return math.NaN()
	}
	fields := strings.Fields(string(data))
	if len(fields) <= i {
		return math.NaN()
	}
	pages, err := strconv.ParseUint(fields[i], 10, 64)
	if err != nil {
		return math.NaN()
	}
	return float64(pages) * float64(os.Getpagesize())
}

// startTime returns when the process started, in seconds since the epoch:
// the boot time from /proc/stat plus field 22 (starttime, in clock ticks
// since boot) of /proc/self/stat.
func startTime() float64 {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return math.NaN()
	}
	// The command name (field 2) may contain spaces; fields after it
	// start past the last ')'.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return math.NaN()
	}
	fields := strings.Fields(string(stat[end+1:]))
	const starttimeField = 22 - 3 // fields[0] is field 3 (state)
	if len(fields) <= starttimeField {
		return math.NaN()
	}
	ticks, err := strconv.ParseUint(fields[starttimeField], 10, 64)
	if err != nil {
		return math.NaN()
	}
	sys, err := os.ReadFile("/proc/stat")
	if err != nil {
		return math.NaN()
	}
	for line := range strings.Lines(string(sys)) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			boot, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return math.NaN()
			}
			return float64(boot) + float64(ticks)/userHZ
		}
	}
	return math.NaN()
}
