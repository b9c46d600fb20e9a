package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestPruneKeepsTheRestVerifiable: retention deletes the old events in
// batches, archives exactly those, and Verify proves the kept part from
// the checkpoint; removing one more event is still caught.
func TestPruneKeepsTheRestVerifiable(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testPrune(t, sqliteTamperDB(t)) })
	t.Run("postgres", func(t *testing.T) { testPrune(t, postgresTamperDB(t)) })
}

func testPrune(t *testing.T, td tamperDB) {
	ctx := context.Background()
	st := td.st
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const total, old = 2600, 2100 // more than two batches go
	var batch [][]byte
	for i := range total {
		ev, _ := json.Marshal(Event{Time: t0.Add(time.Duration(i) * time.Second), Type: TokenIssued, ID: fmt.Sprint(i)})
		batch = append(batch, ev)
		if len(batch) == 256 || i == total-1 {
			if _, err := st.AppendAudit(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = nil
		}
	}
	var archive bytes.Buffer
	n, err := Prune(ctx, st, t0.Add(old*time.Second), &archive)
	if err != nil {
		t.Fatal(err)
	}
	if n != old {
		t.Fatalf("pruned %d, want %d", n, old)
	}
	var lines int
	sc := bufio.NewScanner(&archive)
	for sc.Scan() {
		var l struct {
			Seq int64 `json:"seq"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Seq != int64(lines+1) {
			t.Fatalf("archive line %d: seq %d, %v", lines+1, l.Seq, err)
		}
		lines++
	}
	if lines != old {
		t.Fatalf("archived %d lines, want %d", lines, old)
	}
	checked, err := Verify(ctx, st, nil)
	if err != nil || checked != total-old {
		t.Fatalf("Verify after prune: %d, %v; want %d kept events intact", checked, err, total-old)
	}
	if seq, _, _ := st.AuditCheckpoint(ctx); seq != old {
		t.Fatalf("checkpoint at seq %d, want %d", seq, old)
	}
	// Pruning everything keeps the head record, which appenders chain to.
	if _, err := Prune(ctx, st, t0.Add(time.Hour*24), nil); err != nil {
		t.Fatal(err)
	}
	if checked, err := Verify(ctx, st, nil); err != nil || checked != 1 {
		t.Fatalf("Verify with only the head left: %d, %v", checked, err)
	}
	if _, err := st.AppendAudit(ctx, [][]byte{[]byte(`{"time":"2026-02-01T00:00:00Z","type":"logout"}`)}); err != nil {
		t.Fatal(err)
	}
	// Deleting the first kept event behind the checkpoint's back is caught.
	if _, err := td.db.ExecContext(ctx, "DELETE FROM audit_events WHERE seq = (SELECT MIN(seq) FROM audit_events)"); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, st, nil); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("Verify after deleting the first kept event = %v, want a broken chain", err)
	}
}
