package servercmd

import (
	"runtime/debug"
	"testing"
)

func TestTuneServerGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	tuneServerGC(func(k string) string {
		if k == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set the server changed the GC percent to %d", got)
	}
	tuneServerGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != serverGCPercent {
		t.Errorf("without GOGC the GC percent is %d, want %d", got, serverGCPercent)
	}
}
