package main

import (
	"bufio"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"os"
	"runtime"
	"strings"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	OS        string `json:"os"`
	GoBench   string `json:"go_bench"`
	GoServer  string `json:"go_server,omitempty"`
	Revision  string `json:"revision,omitempty"`
	MemTotalM int64  `json:"mem_total_mb,omitempty"`
	// LoadAvg is /proc/loadavg's 1, 5 and 15 minute load at the start.
	LoadAvg string `json:"load_avg,omitempty"`
}

// describeMachine reads the CPU from /proc/cpuinfo and the Go version and
// VCS revision the server binary was built with.
func describeMachine(bin string) Machine {
	m := Machine{
		CPUs:     runtime.NumCPU(),
		CPUModel: cpuModel(),
		OS:       runtime.GOOS + "/" + runtime.GOARCH,
		GoBench:  runtime.Version(),
	}
	m.LoadAvg = loadAverage()
	if kb, err := readMemTotalKB(); err == nil {
		m.MemTotalM = kb / 1024
	}
	if bi, err := buildinfo.ReadFile(bin); err == nil {
		m.GoServer = bi.GoVersion
		var rev, dirty string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "+dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			m.Revision = rev + dirty
		}
	}
	return m
}

// loadAverage is the 1, 5 and 15 minute load of /proc/loadavg, "" if it
// cannot be read.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(data)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// readMemTotalKB is MemTotal of /proc/meminfo.
func readMemTotalKB() (int64, error) {
	return readKBLine("/proc/meminfo", "MemTotal")
}

// randomToken is n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
