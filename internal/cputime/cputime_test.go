package cputime

import (
	"runtime"
	"testing"
)

// TestProcessCountsWork: spinning the CPU moves the process CPU time on.
func TestProcessCountsWork(t *testing.T) {
	start := Process()
	if start == 0 {
		if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
			t.Skip("no CPU time on this system")
		}
		t.Fatal("Process() = 0 on a unix system")
	}
	x := 0
	for Process() == start {
		for i := range 1_000_000 {
			x += i
		}
	}
	if Process() <= start {
		t.Errorf("CPU time went from %v to %v", start, Process())
	}
	_ = x
}
