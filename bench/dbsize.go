package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// soakFlatness is the DESIGN.md/issue bound for a soak with audit
// retention: once the retention has filled the table, the SQLite file
// stays within 10% of its size.
const soakFlatness = 0.10

// DBSize is one sample of the SQLite database's size during a run.
type DBSize struct {
	// Minute is when it was taken, in minutes since load began.
	Minute float64 `json:"minute"`
	DBMiB  float64 `json:"db_mib"`
	WALMiB float64 `json:"wal_mib"`
}

// auditRetentionConfig writes a server config file in dir that sets
// audit.retention and returns its path, for GATEHOUSE_CONFIG_FILE.
func auditRetentionConfig(dir string, retention time.Duration) (string, error) {
	path := filepath.Join(dir, "server.yaml")
	body := fmt.Sprintf("# written by go run ./bench --audit-retention\naudit:\n  retention: %s\n", retention)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return "", fmt.Errorf("--audit-retention: %w", err)
	}
	return path, nil
}

// sizeSampler records the size of the SQLite database in dataDir every
// interval until Stop.
type sizeSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	got  []DBSize
}

func sampleDBSize(dataDir string, every time.Duration, logf func(string, ...any)) *sizeSampler {
	s := &sizeSampler{stop: make(chan struct{}), done: make(chan struct{})}
	start := time.Now()
	take := func() {
		db, wal := fileMiB(filepath.Join(dataDir, "gatehouse.db")), fileMiB(filepath.Join(dataDir, "gatehouse.db-wal"))
		m := time.Since(start).Minutes()
		logf("t=%.1fm: SQLite database %.1f MiB, WAL %.1f MiB", m, db, wal)
		s.mu.Lock()
		s.got = append(s.got, DBSize{Minute: m, DBMiB: db, WALMiB: wal})
		s.mu.Unlock()
	}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				take()
				return
			case <-tick.C:
				take()
			}
		}
	}()
	return s
}

// Stop takes a last sample and returns them all.
func (s *sizeSampler) Stop() []DBSize {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

func fileMiB(path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / (1 << 20)
}

// soakTarget judges the samples taken after the table has filled: from
// twice the retention on (the retention, plus the pruning interval and the
// first prune's backlog), database plus WAL stay within soakFlatness of
// their smallest size. ok is false when the run was too short to say.
func soakTarget(sizes []DBSize, retention time.Duration) (t Target, ok bool) {
	from := 2 * retention.Minutes()
	var lo, hi float64
	var n int
	var first, last float64
	for _, s := range sizes {
		if s.Minute < from {
			continue
		}
		v := s.DBMiB + s.WALMiB
		if n == 0 {
			lo, hi, first = v, v, s.Minute
		}
		lo, hi, last = min(lo, v), max(hi, v), s.Minute
		n++
	}
	if n < 2 || lo <= 0 {
		return Target{}, false
	}
	growth := hi/lo - 1
	return Target{
		Name:     fmt.Sprintf("database size with audit.retention %s", retention),
		Target:   fmt.Sprintf("flat within %.0f%%", 100*soakFlatness),
		Measured: fmt.Sprintf("%.1f–%.1f MiB from minute %.0f to %.0f (+%.1f%%)", lo, hi, first, last, 100*growth),
		Pass:     growth <= soakFlatness,
	}, true
}
