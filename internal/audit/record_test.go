package audit

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// TestRecordWaitsForTheCommit: Record returns only once its event is in
// the store (group commit), so no token is acknowledged without its event.
func TestRecordWaitsForTheCommit(t *testing.T) {
	st := &memChain{block: make(chan struct{})}
	l := NewWithStore(nil, st, clock.System)
	defer l.Close()
	res := make(chan error, 1)
	go func() { res <- l.Record(context.Background(), Event{Type: TokenIssued}) }()
	select {
	case err := <-res:
		t.Fatalf("Record returned (%v) before the store committed", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(st.block)
	if err := <-res; err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.recs) != 1 || st.recs[0].Type != TokenIssued {
		t.Fatalf("store holds %d records", len(st.recs))
	}
}

// TestRecordFailsFastWhileTheStoreFails: the first failed append fails its
// waiters at once, later Records fail without waiting, and once the store
// works again the retried batch is in and Record succeeds.
func TestRecordFailsFastWhileTheStoreFails(t *testing.T) {
	down := errors.New("database down")
	broken := make(chan bool, 1)
	broken <- true
	isBroken := func() bool { b := <-broken; broken <- b; return b }
	st := &memChain{fail: func(int) error {
		if isBroken() {
			return down
		}
		return nil
	}}
	l := NewWithStore(nil, st, clock.System, WithErrorLog(discardLog()))
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := l.Record(ctx, Event{Type: TokenIssued}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Record with a failing store = %v, want ErrUnavailable", err)
	}
	if l.Healthy() {
		t.Error("Healthy while appends fail")
	}
	if err := l.Record(ctx, Event{Type: TokenIssued}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("second Record = %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("failing Records took %v", d)
	}
	<-broken
	broken <- false
	deadline := time.Now().Add(10 * time.Second)
	for !l.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("not healthy after the store recovered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.Record(ctx, Event{Type: TokenIssued}); err != nil {
		t.Fatalf("Record after recovery: %v", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.recs) != 2 { // the first (retried in the background) and the last
		t.Errorf("store holds %d records, want 2", len(st.recs))
	}
}

// ackLost commits an append and then reports an error, like a connection
// that broke after COMMIT was sent.
type ackLost struct {
	memChain
	lost int // append calls left to lose the acknowledgement of
}

func (a *ackLost) AppendAudit(ctx context.Context, events [][]byte) ([]*storage.AuditRecord, error) {
	recs, err := a.memChain.AppendAudit(ctx, events)
	if err == nil && a.lost > 0 {
		a.lost--
		return nil, errors.New("connection reset after COMMIT")
	}
	return recs, err
}

// TestAmbiguousCommitIsNotAppendedTwice: a retry after a lost commit
// acknowledgement finds the committed batch instead of appending it again.
func TestAmbiguousCommitIsNotAppendedTwice(t *testing.T) {
	st := &ackLost{lost: 1}
	l := NewWithStore(nil, st, clock.System, WithErrorLog(discardLog()))
	l.Log(Event{Type: TokenIssued})
	l.Log(Event{Type: TokenIssued})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(context.Background(), st, nil); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := len(st.recs); n != 2 {
		t.Fatalf("store holds %d records for 2 events: a retry appended a committed batch again", n)
	}
}

// TestRecordFailOpen: with WithFailOpen, Record neither waits for nor
// reports the store.
func TestRecordFailOpen(t *testing.T) {
	st := &memChain{block: make(chan struct{})}
	l := NewWithStore(nil, st, clock.System, WithFailOpen(true))
	done := make(chan error, 1)
	go func() { done <- l.Record(context.Background(), Event{Type: TokenIssued}) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Record waited for the store with WithFailOpen")
	}
	close(st.block)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestStalledStoreFailsRecordFast: an append that hangs (a stalled
// database) marks the trail failing after the timeout, so later Records
// fail at once instead of each waiting for their own deadline.
func TestStalledStoreFailsRecordFast(t *testing.T) {
	st := &memChain{block: make(chan struct{})}
	l := NewWithStore(nil, st, clock.System, WithTimeout(100*time.Millisecond), WithErrorLog(discardLog()))
	defer func() { close(st.block); l.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := l.Record(ctx, Event{Type: TokenIssued}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Record on a stalled store = %v, want ErrUnavailable", err)
	}
	if l.Healthy() {
		t.Fatal("healthy while the append hangs")
	}
	start := time.Now()
	if err := l.Record(context.Background(), Event{Type: TokenIssued}); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("second Record = %v", err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("second Record took %v, want at once", d)
	}
}
