package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ChainStore is the part of storage.Store that holds the hash-chained
// audit trail; every storage backend implements it.
type ChainStore interface {
	// AppendAudit appends events (canonical JSON, in order) in one
	// transaction and returns their records.
	AppendAudit(ctx context.Context, events [][]byte) ([]*storage.AuditRecord, error)
	// AuditHead returns the seq and hash of the last record.
	AuditHead(ctx context.Context) (seq int64, hash string, err error)
	// ScanAudit calls fn for each record after afterSeq, in seq order.
	ScanAudit(ctx context.Context, afterSeq int64, fn func(*storage.AuditRecord) error) error
}

// Defaults of the options of NewWithStore.
const (
	// DefaultBatchSize is the most events appended in one transaction.
	DefaultBatchSize = 256
	// DefaultCloseTimeout is how long Close keeps retrying a failing
	// database before it gives up on the events not yet appended.
	DefaultCloseTimeout = 5 * time.Second
	// DefaultTimeout bounds how long Log waits for room in a full queue
	// while the store is failing.
	DefaultTimeout = 2 * time.Second
)

// Retry policy of a failed append: the wait doubles from minBackoff up to
// maxBackoff; each attempt may take up to appendTimeout.
const (
	minBackoff    = 50 * time.Millisecond
	maxBackoff    = 5 * time.Second
	appendTimeout = 10 * time.Second
)

// Option configures a Logger made by NewWithStore.
type Option func(*Logger)

// WithErrorLog sets where database errors are reported (slog.Default()
// when not set).
func WithErrorLog(log *slog.Logger) Option {
	return func(l *Logger) {
		if log != nil {
			l.log = log
		}
	}
}

// WithBatchSize sets the most events appended in one transaction
// (DefaultBatchSize when not set or n < 1).
func WithBatchSize(n int) Option {
	return func(l *Logger) {
		if n >= 1 {
			l.maxBatch = n
		}
	}
}

// WithCloseTimeout sets how long Close retries a failing database
// (DefaultCloseTimeout when not set).
func WithCloseTimeout(d time.Duration) Option {
	return func(l *Logger) { l.closeTimeout = d }
}

// WithTimeout sets how long Log waits for room in a full queue while the
// store is failing before it drops the event (DefaultTimeout when not set
// or d ≤ 0).
func WithTimeout(d time.Duration) Option {
	return func(l *Logger) {
		if d > 0 {
			l.timeout = d
		}
	}
}

// WithFailOpen makes Record queue its event without waiting for the
// commit, and never fail: tokens keep being issued while the trail is
// down, and their events are lost if the process dies before they are
// appended (or dropped when the queue is full).
func WithFailOpen(open bool) Option {
	return func(l *Logger) { l.failOpen = open }
}

// WithObserver has fn called with every event, synchronously inside Log
// and before the event is queued, so that a component of the same process
// (the gateway's user cache) can react to an admin change at once instead
// of waiting for the chain to be written. fn must be fast and must not call
// Log.
func WithObserver(fn func(Event)) Option {
	return func(l *Logger) {
		if fn != nil {
			l.observers = append(l.observers, fn)
		}
	}
}

// NewWithStore returns a Logger that appends every event to the audit
// trail in st and writes it to w as a JSON line carrying the event's place
// in the chain: the event's members followed by "seq", "prev_hash" and
// "hash". A nil w writes no lines; a nil st makes it New.
//
// Log never waits for the database: the writer goroutine takes whatever is
// queued (up to the batch size) and appends it in one transaction, so the
// rate of events it sustains grows with the load. An event's line is
// written once its batch is in the database. When an append fails the
// goroutine logs the error and retries the same batch with backoff, in
// order, for as long as the Logger is open; meanwhile Log keeps queueing
// and waits only when the queue is full. Close retries for the close
// timeout at most; events it then gives up on are still written to w
// (without chain members) and counted in Close's error.
func NewWithStore(w io.Writer, st ChainStore, clk clock.Clock, opts ...Option) *Logger {
	return newLogger(w, st, clk, opts)
}

// record appends batch to the store, retrying as NewWithStore describes,
// and calls notify once: with nil when the batch is in the database, with
// ErrUnavailable when the first attempt failed (the callers waiting in
// Record fail fast while the writer keeps retrying). It returns nil when
// it gave up.
//
// An append whose commit was not acknowledged (the connection broke after
// COMMIT was sent) may have committed after all. Before each retry the
// writer therefore looks for the batch's first event, which carries a
// random id, among the records after the head it last saw; if it is there
// the batch is taken as appended, so a retry never appends it twice.
func (l *Logger) record(batch [][]byte, notify func(error)) []*storage.AuditRecord {
	backoff := minBackoff
	closing := l.closing
	var giveUp <-chan time.Time
	if l.lastSeq < 0 {
		ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
		if seq, _, err := l.st.AuditHead(ctx); err == nil {
			l.lastSeq = seq
		}
		cancel()
	}
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
		var recs []*storage.AuditRecord
		var err error
		if attempt > 1 {
			recs, err = l.committed(ctx, batch)
		}
		if err == nil && recs == nil {
			recs, err = l.appendWatched(ctx, batch)
		}
		cancel()
		if err == nil && len(recs) == len(batch) {
			if attempt > 1 {
				l.log.Info("audit: appending to the database works again", "attempts", attempt)
			}
			l.lastSeq = recs[len(recs)-1].Seq
			l.failing.Store(false)
			notify(nil)
			return recs
		}
		if err == nil {
			err = errShortAppend
		}
		l.failing.Store(true)
		notify(fmt.Errorf("%w: %w", ErrUnavailable, err))
		if l.gaveUp {
			l.abandon(batch, err)
			return nil
		}
		l.log.Error("audit: appending events to the database failed; retrying",
			"events", len(batch), "attempt", attempt, "retry_in", backoff, "err", err)
		wait := l.clk.After(backoff)
	waiting:
		for {
			select {
			case <-wait:
				break waiting
			case <-closing:
				closing = nil
				giveUp = l.clk.After(l.closeTimeout)
			case <-giveUp:
				l.gaveUp = true
				l.abandon(batch, err)
				return nil
			}
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// appendWatched appends batch; if that takes longer than the timeout
// (a stalled database), the logger is marked failing meanwhile, so that
// Record and Log stop waiting for a writer that is stuck.
func (l *Logger) appendWatched(ctx context.Context, batch [][]byte) ([]*storage.AuditRecord, error) {
	// A watchdog over real I/O: it runs on the system clock, not the
	// logger's (a test's fake clock jumping ahead is no stalled database).
	stuck := clock.System.NewTimer(l.timeout)
	done := make(chan struct{})
	go func() {
		select {
		case <-stuck.C():
			l.failing.Store(true)
		case <-done:
		}
	}()
	recs, err := l.st.AppendAudit(ctx, batch)
	close(done)
	stuck.Stop()
	return recs, err
}

// lookBack is how many records committed looks at when the head before the
// first attempt is unknown.
const lookBack = 10000

// errFound stops a scan.
var errFound = errors.New("found")

// committed returns the records of batch if an earlier attempt committed
// it after all, nil if it did not; an error when it cannot tell.
func (l *Logger) committed(ctx context.Context, batch [][]byte) ([]*storage.AuditRecord, error) {
	if l.lastSeq < 0 {
		seq, _, err := l.st.AuditHead(ctx)
		if err != nil {
			return nil, err
		}
		// The head was unreadable before the first attempt (the
		// database failed from the start): look back a bounded window.
		l.lastSeq = max(seq-lookBack, 0)
	}
	var recs []*storage.AuditRecord
	err := l.st.ScanAudit(ctx, l.lastSeq, func(r *storage.AuditRecord) error {
		if len(recs) == 0 && !bytes.Equal(r.Event, batch[0]) {
			return nil
		}
		recs = append(recs, r)
		if len(recs) == len(batch) {
			return errFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, nil
	}
	for i, r := range recs {
		if i >= len(batch) || !bytes.Equal(r.Event, batch[i]) {
			return nil, fmt.Errorf("audit: batch found only in part at seq %d", recs[0].Seq)
		}
	}
	if len(recs) != len(batch) {
		return nil, fmt.Errorf("audit: batch found only in part at seq %d", recs[0].Seq)
	}
	return recs, nil
}

// abandon notes that batch will not reach the database.
func (l *Logger) abandon(batch [][]byte, err error) {
	l.unrecorded += len(batch)
	l.dbErr = err
	l.log.Error("audit: giving up appending events to the database; they are only in the audit output",
		"events", len(batch), "err", err)
}

// errShortAppend is a store that returned fewer records than events.
var errShortAppend = errors.New("audit: the store returned fewer records than it was given events")

// appendLine appends to dst the JSON line of event ev recorded as r: ev's
// members, then "seq", "prev_hash" and "hash", then a newline. Removing
// those three last members gives back the hashed event exactly.
func appendLine(dst, ev []byte, r *storage.AuditRecord) []byte {
	if len(ev) < 2 || ev[len(ev)-1] != '}' {
		return append(append(dst, ev...), '\n') // not an object: cannot happen
	}
	dst = append(dst, ev[:len(ev)-1]...)
	if len(ev) > 2 {
		dst = append(dst, ',')
	}
	dst = append(dst, `"seq":`...)
	dst = strconv.AppendInt(dst, r.Seq, 10)
	dst = append(dst, `,"prev_hash":`...)
	dst = appendString(dst, r.PrevHash)
	dst = append(dst, `,"hash":`...)
	dst = appendString(dst, r.Hash)
	return append(dst, "}\n"...)
}

// appendString appends s as a JSON string: hashes as they are, anything
// else (a tampered row) escaped.
func appendString(dst []byte, s string) []byte {
	for i := range len(s) {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// RecordLine returns the JSON line of a stored record, newline included,
// exactly as a Logger with a store writes it.
func RecordLine(r *storage.AuditRecord) []byte {
	return appendLine(nil, r.Event, r)
}
