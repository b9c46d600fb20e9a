package main

import (
	"testing"
	"time"
)

func TestSoakTarget(t *testing.T) {
	at := func(min, db float64) DBSize { return DBSize{Minute: min, DBMiB: db, WALMiB: 4} }
	// The table fills during the first two retentions; only what follows
	// is judged.
	flat := []DBSize{at(1, 10), at(10, 60), at(19, 96), at(20, 100), at(25, 104), at(30, 105)}
	if tg, ok := soakTarget(flat, 10*time.Minute); !ok || !tg.Pass {
		t.Errorf("flat soak judged %+v, %v", tg, ok)
	}
	growing := []DBSize{at(20, 100), at(25, 110), at(30, 120)}
	if tg, ok := soakTarget(growing, 10*time.Minute); !ok || tg.Pass {
		t.Errorf("growing soak judged %+v, %v", tg, ok)
	}
	if _, ok := soakTarget([]DBSize{at(5, 1), at(19, 2), at(20, 3)}, 10*time.Minute); ok {
		t.Error("a run with one sample after the fill was judged")
	}
}
