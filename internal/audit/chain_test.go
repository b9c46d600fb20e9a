package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/sqlite"
)

// memChain is an in-memory ChainStore. fail, when set, is asked before
// each append whether it fails; block, when set, is waited on first.
type memChain struct {
	mu      sync.Mutex
	recs    []*storage.AuditRecord
	calls   int
	batches []int
	fail    func(call int) error
	block   chan struct{}
}

func (m *memChain) AppendAudit(_ context.Context, events [][]byte) ([]*storage.AuditRecord, error) {
	if m.block != nil {
		<-m.block
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail != nil {
		if err := m.fail(m.calls); err != nil {
			return nil, err
		}
	}
	prev := storage.AuditGenesisHash
	if n := len(m.recs); n > 0 {
		prev = m.recs[n-1].Hash
	}
	var out []*storage.AuditRecord
	for _, ev := range events {
		var e Event
		if err := json.Unmarshal(ev, &e); err != nil {
			return nil, err
		}
		r := &storage.AuditRecord{Seq: int64(len(m.recs) + 1), Time: e.Time.Truncate(time.Microsecond), Type: e.Type,
			Event: bytes.Clone(ev), PrevHash: prev, Hash: storage.AuditHash(prev, ev)}
		m.recs = append(m.recs, r)
		out = append(out, r)
		prev = r.Hash
	}
	m.batches = append(m.batches, len(events))
	return out, nil
}

func (m *memChain) AuditHead(context.Context) (int64, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.recs) == 0 {
		return 0, storage.AuditGenesisHash, nil
	}
	r := m.recs[len(m.recs)-1]
	return r.Seq, r.Hash, nil
}

func (m *memChain) ScanAudit(_ context.Context, after int64, fn func(*storage.AuditRecord) error) error {
	m.mu.Lock()
	recs := append([]*storage.AuditRecord(nil), m.recs...)
	m.mu.Unlock()
	for _, r := range recs {
		if r.Seq > after {
			if err := fn(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// chainLine is one JSON line of a Logger with a store.
type chainLine struct {
	Event
	Seq      int64  `json:"seq"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
	raw      []byte
}

func decodeChain(t *testing.T, s string) []chainLine {
	t.Helper()
	var out []chainLine
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var l chainLine
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d %q: %v", len(out)+1, sc.Text(), err)
		}
		l.raw = []byte(sc.Text())
		out = append(out, l)
	}
	return out
}

// hashedEvent removes the chain members from a line, giving the event as
// it was hashed.
func hashedEvent(t *testing.T, line []byte) []byte {
	t.Helper()
	i := bytes.LastIndex(line, []byte(`,"seq":`))
	if i < 0 {
		t.Fatalf("line without seq: %s", line)
	}
	return append(bytes.Clone(line[:i]), '}')
}

func openSQLite(tb testing.TB) (*sqlite.Store, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gatehouse.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, path
}

func TestLoggerWithStoreChainsEveryEvent(t *testing.T) {
	st, _ := openSQLite(t)
	var buf lockedBuffer
	l := NewWithStore(&buf, st, clocktest.New(t0))
	const workers, each = 8, 700 // more than the queue holds
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				l.Log(Event{Type: TokenIssued, ClientID: "c" + strconv.Itoa(w), Details: map[string]string{"i": strconv.Itoa(i)}})
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	lines := decodeChain(t, buf.String())
	if len(lines) != workers*each {
		t.Fatalf("%d lines, want %d", len(lines), workers*each)
	}
	next := map[string]int{}
	prev := storage.AuditGenesisHash
	for i, l := range lines {
		if l.Seq != int64(i+1) || l.PrevHash != prev {
			t.Fatalf("line %d: seq %d prev_hash %s, want seq %d prev_hash %s", i, l.Seq, l.PrevHash, i+1, prev)
		}
		if got := storage.AuditHash(prev, hashedEvent(t, l.raw)); got != l.Hash {
			t.Fatalf("line %d: hash %s does not hash its own event (%s)", i, l.Hash, got)
		}
		if got := l.Details["i"]; got != strconv.Itoa(next[l.ClientID]) {
			t.Fatalf("%s: event %s after %d (lost, duplicated or reordered)", l.ClientID, got, next[l.ClientID]-1)
		}
		next[l.ClientID]++
		prev = l.Hash
	}

	var stored []*storage.AuditRecord
	n, err := Verify(t.Context(), st, func(r *storage.AuditRecord) { stored = append(stored, r) })
	if err != nil || n != workers*each {
		t.Fatalf("Verify = %d, %v; want %d, nil", n, err, workers*each)
	}
	for i, r := range stored {
		if got := RecordLine(r); !bytes.Equal(got, append(bytes.Clone(lines[i].raw), '\n')) {
			t.Fatalf("seq %d: RecordLine\n%s\ndiffers from the logged line\n%s", r.Seq, got, lines[i].raw)
		}
	}
}

func TestLoggerWithStoreOnly(t *testing.T) {
	// audit.output off: no lines, but the trail is kept.
	st := &memChain{}
	l := NewWithStore(nil, st, clocktest.New(t0))
	l.Log(Event{Type: LoginSuccess, UserID: "u1"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Log(Event{Type: Logout, UserID: "u1"}) // after Close: synchronous
	if len(st.recs) != 2 || st.recs[0].Type != LoginSuccess || st.recs[1].Type != Logout {
		t.Errorf("store holds %d records, want login.success and logout", len(st.recs))
	}
}

func TestLogAfterCloseIsChained(t *testing.T) {
	st := &memChain{}
	var buf lockedBuffer
	l := NewWithStore(&buf, st, clocktest.New(t0))
	l.Log(Event{Type: UserCreated})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Log(Event{Type: UserDeleted})
	lines := decodeChain(t, buf.String())
	if len(lines) != 2 || lines[1].Type != UserDeleted || lines[1].Seq != 2 || lines[1].PrevHash != lines[0].Hash {
		t.Errorf("lines %+v, want user.deleted chained after user.created", lines)
	}
}

func TestLogDoesNotWaitForTheStore(t *testing.T) {
	st := &memChain{block: make(chan struct{})}
	l := NewWithStore(io.Discard, st, clocktest.New(t0))
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		for range queueSize {
			l.Log(Event{Type: TokenIssued})
		}
	}()
	select {
	case <-logged:
	case <-time.After(10 * time.Second):
		t.Fatal("Log waited for a stuck database with room in the queue")
	}
	close(st.block)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(st.recs) != queueSize {
		t.Errorf("%d records, want %d", len(st.recs), queueSize)
	}
	for _, n := range st.batches {
		if n > DefaultBatchSize {
			t.Errorf("a batch of %d events, more than %d", n, DefaultBatchSize)
		}
	}
	if len(st.batches) >= queueSize/2 {
		t.Errorf("%d transactions for %d events: not batched", len(st.batches), queueSize)
	}
}

// logBuffer captures slog output.
func logBuffer() (*slog.Logger, *lockedBuffer) {
	var b lockedBuffer
	return slog.New(slog.NewTextHandler(&b, nil)), &b
}

func TestStoreFailureIsRetriedWithoutLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errDown := errors.New("database is down")
		st := &memChain{fail: func(call int) error {
			if call <= 4 {
				return errDown
			}
			return nil
		}}
		log, logs := logBuffer()
		var buf lockedBuffer
		l := NewWithStore(&buf, st, clock.System, WithErrorLog(log))
		for i := range 10 {
			l.Log(Event{Type: LoginFailure, Details: map[string]string{"i": strconv.Itoa(i)}})
		}
		synctest.Wait()
		if buf.String() != "" {
			t.Errorf("lines written before the events were in the database:\n%s", buf.String())
		}
		time.Sleep(time.Minute)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if len(st.recs) != 10 || st.calls < 5 {
			t.Fatalf("%d records after %d calls, want 10 after at least 5", len(st.recs), st.calls)
		}
		for i, r := range st.recs {
			if !strings.Contains(string(r.Event), `"i":"`+strconv.Itoa(i)+`"`) {
				t.Errorf("seq %d holds %s, want event %d", r.Seq, r.Event, i)
			}
		}
		if lines := decodeChain(t, buf.String()); len(lines) != 10 || lines[9].Seq != 10 {
			t.Errorf("%d lines, want 10 chained ones", len(lines))
		}
		if n := strings.Count(logs.String(), "retrying"); n != 4 {
			t.Errorf("%d retry messages, want 4:\n%s", n, logs.String())
		}
		if !strings.Contains(logs.String(), errDown.Error()) {
			t.Errorf("the error log does not name the failure:\n%s", logs.String())
		}
	})
}

func TestCloseGivesUpOnADeadStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &memChain{fail: func(int) error { return errors.New("connection refused") }}
		log, _ := logBuffer()
		var buf lockedBuffer
		l := NewWithStore(&buf, st, clock.System, WithErrorLog(log), WithCloseTimeout(10*time.Second))
		for range 3 {
			l.Log(Event{Type: Logout})
		}
		synctest.Wait()
		start := time.Now()
		err := l.Close()
		if took := time.Since(start); took < 10*time.Second || took > 20*time.Second {
			t.Errorf("Close took %v, want the close timeout (10s) and one backoff at most", took)
		}
		if err == nil || !strings.Contains(err.Error(), "3 events not appended") || !strings.Contains(err.Error(), "connection refused") {
			t.Errorf("Close = %v, want an error counting 3 events", err)
		}
		// The events are not lost: the output has them, without chain members.
		if events := decode(t, buf.String()); len(events) != 3 {
			t.Errorf("%d lines in the output, want 3", len(events))
		}
		// After giving up, Log after Close tries once and does not wait.
		calls := st.calls
		l.Log(Event{Type: Logout})
		if st.calls != calls+1 || len(decode(t, buf.String())) != 4 {
			t.Errorf("Log after a failed Close: %d more calls, output %q", st.calls-calls, buf.String())
		}
	})
}

func TestCloseWithAFullQueueAndADeadStore(t *testing.T) {
	// Senders wait for room in the queue while the writer retries a dead
	// database: Close must still end, within the close timeout.
	st := &memChain{fail: func(int) error { return errors.New("connection refused") }}
	log, _ := logBuffer()
	l := NewWithStore(io.Discard, st, clock.System, WithErrorLog(log), WithCloseTimeout(100*time.Millisecond))
	const n = queueSize + DefaultBatchSize + 50 // more than the queue and one batch
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for range n {
			l.Log(Event{Type: TokenIssued})
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); len(l.queue) < queueSize; {
		if time.Now().After(deadline) {
			t.Fatalf("the queue holds %d events, want it full", len(l.queue))
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	select {
	case err := <-closed:
		<-sent
		if err == nil || !strings.Contains(err.Error(), "events not appended") {
			t.Errorf("Close = %v, want the count of events not appended", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close hangs while senders wait on a full queue and the database is down")
	}
}

func TestRecordLineEscapesTamperedHashes(t *testing.T) {
	r := &storage.AuditRecord{Seq: 7, Event: []byte(`{"type":"x"}`), PrevHash: `"}{`, Hash: "ab"}
	var m map[string]any
	if err := json.Unmarshal(RecordLine(r), &m); err != nil {
		t.Fatalf("RecordLine of a tampered record is not JSON: %v: %s", err, RecordLine(r))
	}
	if m["prev_hash"] != `"}{` || m["seq"] != float64(7) || m["type"] != "x" {
		t.Errorf("decoded %v", m)
	}
}

// BenchmarkLoggerWithStore measures the events per second a Logger gets
// into a SQLite database (and a discarded output) with its default batch
// size, from many goroutines, Close included.
func BenchmarkLoggerWithStore(b *testing.B) {
	st, _ := openSQLite(b)
	e := Event{Type: TokenIssued, Outcome: Success, Actor: "client:svc", ClientID: "svc", IP: "203.0.113.9",
		Details: map[string]string{"grant_type": "client_credentials", "scope": "read write"}}
	l := NewWithStore(io.Discard, st, clock.System)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Log(e)
		}
	})
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	seq, _, err := st.AuditHead(context.Background())
	if err != nil || seq < int64(b.N) {
		b.Fatalf("head at %d (%v) after %d events", seq, err, b.N)
	}
}
