// Package audit records security events (logins, token issuance and
// refusal, replays, revocations, admin changes) as JSON lines, one object
// per event, and — with a ChainStore — in a hash chain in the database that
// Verify checks for tampering.
//
// A Logger takes events on the request path and writes them from one
// background goroutine, so a handler never waits for disk, a pipe or the
// database unless the writer falls a whole buffer behind. Nothing is
// dropped: when the buffer is full, Log waits.
package audit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// Event is one audit record. Empty fields are left out of the JSON.
type Event struct {
	Time     time.Time         `json:"time"`
	Type     string            `json:"type"`
	Outcome  string            `json:"outcome,omitempty"` // Success or Failure
	Actor    string            `json:"actor,omitempty"`   // who did it: "user:<id>", "client:<id>", "cli" (admin command)
	UserID   string            `json:"user_id,omitempty"`
	Username string            `json:"username,omitempty"`
	ClientID string            `json:"client_id,omitempty"`
	IP       string            `json:"ip,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Details  map[string]string `json:"details,omitempty"`
}

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
)

// Event types.
const (
	LoginSuccess     = "login.success"
	LoginFailure     = "login.failure"
	LoginRateLimited = "login.rate_limited"
	Logout           = "logout"
	TokenIssued      = "token.issued"
	TokenRefused     = "token.refused"
	CodeReplay       = "code.replay"
	RefreshReuse     = "refresh.reuse"
	TokenRevoked     = "token.revoked"
	DeviceApproved   = "device.approved"
	DeviceDenied     = "device.denied"
	ConsentGranted   = "consent.granted"
	ClientCreated    = "client.created"
	ClientUpdated    = "client.updated"
	ClientDeleted    = "client.deleted"
	UserCreated      = "user.created"
	UserUpdated      = "user.updated"
	UserDeleted      = "user.deleted"
	KeyRotated       = "key.rotated"
	RateLimited      = "rate_limited"
)

const (
	queueSize  = 4096     // events buffered between Log and the writer goroutine
	bufferSize = 64 << 10 // bytes buffered before a write to w
)

// Logger writes Events to an io.Writer as JSON lines and, when it has a
// ChainStore (NewWithStore), appends them to the hash-chained audit trail
// in the database. It is safe for concurrent use; events from one goroutine
// appear in the order it logged them. A nil *Logger, or one made with a nil
// writer and no store, discards events.
type Logger struct {
	clk   clock.Clock
	w     io.Writer  // nil: no JSON lines
	st    ChainStore // nil: no database chain
	queue chan []byte
	done  chan struct{} // closed when the writer goroutine has returned

	maxBatch     int
	closeTimeout time.Duration
	observers    []func(Event) // WithObserver
	log          *slog.Logger

	mu          sync.RWMutex // held for reading while sending, for writing by Close
	closed      bool
	closing     chan struct{} // closed first thing by Close
	closingOnce sync.Once

	syncMu sync.Mutex // serialises the synchronous writes after Close
	// Written by the writer goroutine, read after done (or under syncMu).
	err        error // first write error
	dbErr      error // last database error of events given up on
	unrecorded int   // events given up on: written to w (if any) but not in the database
	gaveUp     bool  // the database failed during Close: stop retrying
}

// New returns a Logger writing to w with times from clk (clock.System when
// nil). A nil w discards every event. Call Close to flush.
//
// Log encodes the event on the caller's goroutine and hands it to a
// buffered channel; one goroutine writes the lines through a bufio.Writer
// and flushes whenever the channel is empty, so under load many events go
// out in one write and when idle each event is written at once. If the
// channel is full (the writer is slower than the callers), Log blocks until
// there is room: audit events are never dropped.
func New(w io.Writer, clk clock.Clock) *Logger {
	return newLogger(w, nil, clk, nil)
}

func newLogger(w io.Writer, st ChainStore, clk clock.Clock, opts []Option) *Logger {
	if clk == nil {
		clk = clock.System
	}
	l := &Logger{
		clk: clk, w: w, st: st, done: make(chan struct{}), closing: make(chan struct{}),
		maxBatch: DefaultBatchSize, closeTimeout: DefaultCloseTimeout, log: slog.Default(),
	}
	for _, o := range opts {
		o(l)
	}
	if w == nil && st == nil {
		close(l.done)
		return l
	}
	if st == nil {
		l.maxBatch = queueSize // lines only: write whatever is queued
	}
	l.queue = make(chan []byte, queueSize)
	var bw *bufio.Writer
	if w != nil {
		bw = bufio.NewWriterSize(w, bufferSize)
	}
	go l.run(bw)
	return l
}

// Log records e, setting Time from the clock when it is zero. Times are
// written in UTC. Log returns once the event is queued; see New.
//
// After Close, Log writes the event synchronously, after everything logged
// before Close, so that events from requests still finishing during
// shutdown are kept. Errors after Close are logged, not returned.
func (l *Logger) Log(e Event) {
	if l == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = l.clk.Now()
	}
	e.Time = e.Time.UTC()
	for _, fn := range l.observers {
		fn(e)
	}
	if l.w == nil && l.st == nil {
		return
	}
	ev, err := json.Marshal(e)
	if err != nil {
		return // cannot happen: Event holds only strings and a time
	}

	l.mu.RLock()
	if !l.closed {
		l.queue <- ev
		l.mu.RUnlock()
		return
	}
	l.mu.RUnlock()

	<-l.done // the writer goroutine has flushed everything before Close
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	var bw *bufio.Writer
	if l.w != nil {
		bw = bufio.NewWriterSize(l.w, 1024)
	}
	l.emit(bw, [][]byte{ev})
	if bw != nil {
		_ = bw.Flush()
	}
}

// Close writes out every event logged before it, stops the writer goroutine
// and returns the first error met while writing, or an error counting the
// events that could not be appended to the database (they were still
// written to w). It does not close w. Calling Close more than once is
// harmless.
func (l *Logger) Close() error {
	if l == nil || (l.w == nil && l.st == nil) {
		return nil
	}
	// Tell the writer before waiting for the lock: Log holds the lock for
	// reading while it waits for room in the queue, and a writer retrying a
	// dead database makes room only once it knows to give up.
	l.closingOnce.Do(func() { close(l.closing) })
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.queue)
	}
	l.mu.Unlock()
	<-l.done
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	err := l.err
	if l.unrecorded > 0 {
		err = errors.Join(err, fmt.Errorf("audit: %d events not appended to the database: %w", l.unrecorded, l.dbErr))
	}
	return err
}

// run is the writer goroutine: it takes the queued events in batches of at
// most maxBatch, appends each batch to the store and writes its lines to
// bw, and flushes bw whenever the queue is empty.
func (l *Logger) run(bw *bufio.Writer) {
	defer close(l.done)
	batch := make([][]byte, 0, l.maxBatch)
	for ev := range l.queue {
		batch = append(batch[:0], ev)
	fill:
		for len(batch) < l.maxBatch {
			select {
			case ev, ok := <-l.queue:
				if !ok {
					break fill
				}
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		l.emit(bw, batch)
		if len(l.queue) == 0 {
			l.flush(bw)
		}
	}
	l.flush(bw)
}

// emit appends batch to the store (when there is one) and writes its lines
// to bw (when there is one). Lines of recorded events carry seq, prev_hash
// and hash.
func (l *Logger) emit(bw *bufio.Writer, batch [][]byte) {
	var recs []*storage.AuditRecord
	if l.st != nil {
		recs = l.record(batch)
	}
	if bw == nil {
		return
	}
	var line []byte
	for i, ev := range batch {
		if recs != nil {
			line = appendLine(line[:0], ev, recs[i])
		} else {
			line = append(append(line[:0], ev...), '\n')
		}
		if _, err := bw.Write(line); err != nil {
			l.fail(bw, err)
		}
	}
}

func (l *Logger) flush(bw *bufio.Writer) {
	if bw == nil {
		return
	}
	if err := bw.Flush(); err != nil {
		l.fail(bw, err)
	}
}

// fail notes a write error. A bufio.Writer keeps failing after one error;
// it starts afresh so that a transient failure (a full disk) loses only
// what was buffered.
func (l *Logger) fail(bw *bufio.Writer, err error) {
	if l.err == nil {
		l.err = fmt.Errorf("audit: write: %w", err)
	}
	bw.Reset(l.w)
}
