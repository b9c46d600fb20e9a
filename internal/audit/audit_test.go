package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
)

// lockedBuffer is a bytes.Buffer safe to read while the Logger writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)

// decode parses JSON lines strictly: every line one Event, nothing else.
func decode(t *testing.T, s string) []Event {
	t.Helper()
	var out []Event
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var e Event
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("line %d %q: %v", len(out)+1, sc.Text(), err)
		}
		if dec.More() {
			t.Fatalf("line %d holds more than one object: %q", len(out)+1, sc.Text())
		}
		out = append(out, e)
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		t.Fatalf("output does not end with a newline: %q", s)
	}
	return out
}

func TestEveryEventOnceInOrder(t *testing.T) {
	var buf lockedBuffer
	l := New(&buf, clocktest.New(t0))
	const n = 3 * queueSize // more than the queue holds
	for i := range n {
		l.Log(Event{Type: TokenIssued, ClientID: "c", Details: map[string]string{"seq": strconv.Itoa(i)}})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	events := decode(t, buf.String())
	if len(events) != n {
		t.Fatalf("%d events written, want %d", len(events), n)
	}
	for i, e := range events {
		if e.Details["seq"] != strconv.Itoa(i) {
			t.Fatalf("line %d holds event %s", i, e.Details["seq"])
		}
	}
}

func TestConcurrentLog(t *testing.T) {
	var buf lockedBuffer
	l := New(&buf, clocktest.New(t0))
	const workers, each = 16, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				l.Log(Event{Type: LoginFailure, UserID: strconv.Itoa(w), Details: map[string]string{"seq": strconv.Itoa(i)}})
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	next := map[string]int{}
	events := decode(t, buf.String())
	for _, e := range events {
		if got := e.Details["seq"]; got != strconv.Itoa(next[e.UserID]) {
			t.Fatalf("worker %s: event %s after %d (lost, duplicated or reordered)", e.UserID, got, next[e.UserID]-1)
		}
		next[e.UserID]++
	}
	if len(events) != workers*each {
		t.Errorf("%d events, want %d", len(events), workers*each)
	}
}

func TestTimeAndEncoding(t *testing.T) {
	clk := clocktest.New(t0)
	var buf lockedBuffer
	l := New(&buf, clk)
	l.Log(Event{Type: Logout})
	clk.Advance(time.Second)
	l.Log(Event{Type: Logout})
	given := time.Date(2029, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 2*3600))
	l.Log(Event{
		Time: given, Type: LoginFailure, Outcome: Failure, Actor: "user:u1", UserID: "u1",
		Username: "alice", ClientID: "gatehouse-cli", IP: "203.0.113.9",
		Reason: "bad password\n{\"type\":\"login.success\"}", Details: map[string]string{"b": "2", "a": "<1>"},
	})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2030-01-02T03:04:05.0000006Z","type":"logout"}
{"time":"2030-01-02T03:04:06.0000006Z","type":"logout"}
{"time":"2029-05-06T05:08:09Z","type":"login.failure","outcome":"failure","actor":"user:u1","user_id":"u1","username":"alice","client_id":"gatehouse-cli","ip":"203.0.113.9","reason":"bad password\n{\"type\":\"login.success\"}","details":{"a":"\u003c1\u003e","b":"2"}}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	if events := decode(t, buf.String()); len(events) != 3 || !events[2].Time.Equal(given) {
		t.Errorf("decoded %+v", events)
	}
}

// signalWriter reports each Write on a channel.
type signalWriter struct {
	lockedBuffer
	wrote chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	n, err := w.lockedBuffer.Write(p)
	w.wrote <- struct{}{}
	return n, err
}

func TestFlushedWhenIdle(t *testing.T) {
	w := &signalWriter{wrote: make(chan struct{}, 10)}
	l := New(w, clocktest.New(t0))
	defer l.Close()
	l.Log(Event{Type: KeyRotated, Actor: "cli"})
	select {
	case <-w.wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("an event logged on an idle logger was not written before Close")
	}
	if events := decode(t, w.String()); len(events) != 1 || events[0].Type != KeyRotated {
		t.Errorf("written: %q", w.String())
	}
}

// gateWriter blocks every Write until the gate is opened.
type gateWriter struct {
	lockedBuffer
	gate chan struct{}
}

func (w *gateWriter) Write(p []byte) (int, error) {
	<-w.gate
	return w.lockedBuffer.Write(p)
}

func TestLogBlocksWhenFullAndLosesNothing(t *testing.T) {
	w := &gateWriter{gate: make(chan struct{})}
	l := New(w, clocktest.New(t0))
	// More than the queue, the batch the writer goroutine may have taken
	// from it (up to queueSize lines without a store) and the writer's
	// buffer (lines are longer than 32 bytes) can hold while the writer is
	// stuck. (With only queueSize here the test failed whenever the writer
	// goroutine ran late and took a large batch at once.)
	const n = 2*queueSize + bufferSize/32 + 200
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := range n {
			l.Log(Event{Type: RateLimited, Details: map[string]string{"seq": strconv.Itoa(i)}})
		}
	}()
	select {
	case <-finished:
		t.Fatal("Log returned for every event while the writer was stuck: events were dropped or buffered without bound")
	case <-time.After(100 * time.Millisecond):
	}
	close(w.gate)
	<-finished
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if events := decode(t, w.String()); len(events) != n {
		t.Errorf("%d events written, want %d", len(events), n)
	}
}

func TestLogAfterClose(t *testing.T) {
	var buf lockedBuffer
	l := New(&buf, clocktest.New(t0))
	l.Log(Event{Type: UserCreated})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	l.Log(Event{Type: UserDeleted})
	events := decode(t, buf.String())
	if len(events) != 2 || events[0].Type != UserCreated || events[1].Type != UserDeleted {
		t.Errorf("events %+v, want user.created then user.deleted", events)
	}
}

type failWriter struct{ calls int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.calls++
	return 0, errors.New("disk full")
}

func TestWriteErrorReportedByClose(t *testing.T) {
	w := &failWriter{}
	l := New(w, clocktest.New(t0))
	l.Log(Event{Type: Logout})
	err := l.Close()
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close: %v, want the write error", err)
	}
}

func TestDiscard(t *testing.T) {
	var nilLogger *Logger
	nilLogger.Log(Event{Type: Logout})
	if err := nilLogger.Close(); err != nil {
		t.Error(err)
	}
	off, err := OpenOutput("off")
	if err != nil || off != nil {
		t.Fatalf("OpenOutput(off) = %v, %v; want nil, nil", off, err)
	}
	l := New(off, nil)
	l.Log(Event{Type: Logout})
	if err := l.Close(); err != nil {
		t.Error(err)
	}
}

func TestOpenOutput(t *testing.T) {
	for _, name := range []string{"", "stdout", "stderr"} {
		w, err := OpenOutput(name)
		if err != nil || w == nil {
			t.Fatalf("OpenOutput(%q) = %v, %v", name, w, err)
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close of %q: %v", name, err)
		}
	}
	if _, err := os.Stdout.Stat(); err != nil {
		t.Errorf("closing the stdout output closed os.Stdout: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "logs", "audit")
	path := filepath.Join(dir, "audit.jsonl")
	for i, typ := range []string{LoginSuccess, Logout} {
		w, err := OpenOutput(path)
		if err != nil {
			t.Fatal(err)
		}
		l := New(w, clocktest.New(t0.Add(time.Duration(i)*time.Second)))
		l.Log(Event{Type: typ})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if events := decode(t, string(data)); len(events) != 2 || events[0].Type != LoginSuccess || events[1].Type != Logout {
		t.Errorf("file holds %+v, want both events appended", events)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700 | os.ModeDir} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func BenchmarkLog(b *testing.B) {
	l := New(io.Discard, clock.System)
	defer l.Close()
	e := Event{Type: TokenIssued, Outcome: Success, Actor: "client:svc", ClientID: "svc", IP: "203.0.113.9"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Log(e)
		}
	})
}

func TestObserverSeesEventsSynchronously(t *testing.T) {
	var seen []Event
	l := NewWithStore(nil, nil, nil, WithObserver(func(e Event) { seen = append(seen, e) }))
	l.Log(Event{Type: UserUpdated, UserID: "u1"})
	// The observer ran inside Log: no waiting for a writer goroutine.
	if len(seen) != 1 || seen[0].UserID != "u1" || seen[0].Time.IsZero() {
		t.Fatalf("observer saw %+v", seen)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
