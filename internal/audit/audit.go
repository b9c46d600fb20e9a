// Package audit records security events (logins, token issuance and
// refusal, replays, revocations, admin changes) as JSON lines, one object
// per event.
//
// A Logger takes events on the request path and writes them from one
// background goroutine, so a handler never waits for disk or a pipe unless
// the writer falls a whole buffer behind. Nothing is dropped: when the
// buffer is full, Log waits.
package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
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

// Logger writes Events to an io.Writer as JSON lines. It is safe for
// concurrent use; events from one goroutine appear in the order it logged
// them. A nil *Logger, or one made with a nil writer, discards events.
type Logger struct {
	clk   clock.Clock
	w     io.Writer
	queue chan []byte
	done  chan struct{} // closed when the writer goroutine has returned

	mu     sync.RWMutex // held for reading while sending, for writing by Close
	closed bool

	syncMu sync.Mutex // serialises the synchronous writes after Close
	err    error      // first write error; written by the writer goroutine, read after done
}

// New returns a Logger writing to w with times from clk (clock.System when
// nil). A nil w discards every event. Call Close to flush.
//
// Log encodes the event on the caller's goroutine and hands the line to a
// buffered channel; one goroutine writes the lines through a bufio.Writer
// and flushes whenever the channel is empty, so under load many events go
// out in one write and when idle each event is written at once. If the
// channel is full (the writer is slower than the callers), Log blocks until
// there is room: audit events are never dropped.
func New(w io.Writer, clk clock.Clock) *Logger {
	if clk == nil {
		clk = clock.System
	}
	l := &Logger{clk: clk, w: w, done: make(chan struct{})}
	if w == nil {
		close(l.done)
		return l
	}
	l.queue = make(chan []byte, queueSize)
	go l.run(bufio.NewWriterSize(w, bufferSize))
	return l
}

// Log records e, setting Time from the clock when it is zero. Times are
// written in UTC. Log returns once the event is queued; see New.
//
// After Close, Log writes the event to w synchronously, after everything
// logged before Close, so that events from requests still finishing during
// shutdown are kept. Write errors after Close are ignored.
func (l *Logger) Log(e Event) {
	if l == nil || l.w == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = l.clk.Now()
	}
	e.Time = e.Time.UTC()
	line, err := json.Marshal(e)
	if err != nil {
		return // cannot happen: Event holds only strings and a time
	}
	line = append(line, '\n')

	l.mu.RLock()
	if !l.closed {
		l.queue <- line
		l.mu.RUnlock()
		return
	}
	l.mu.RUnlock()

	<-l.done // the writer goroutine has flushed everything before Close
	l.syncMu.Lock()
	_, _ = l.w.Write(line)
	l.syncMu.Unlock()
}

// Close writes out every event logged before it, stops the writer goroutine
// and returns the first error met while writing. It does not close w.
// Calling Close more than once is harmless.
func (l *Logger) Close() error {
	if l == nil || l.w == nil {
		return nil
	}
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.queue)
	}
	l.mu.Unlock()
	<-l.done
	return l.err
}

// run is the writer goroutine: it drains the queue into bw and flushes
// whenever the queue is empty.
func (l *Logger) run(bw *bufio.Writer) {
	defer close(l.done)
	// A bufio.Writer keeps failing after one error; start it afresh so
	// that a transient failure (a full disk) loses only what was buffered.
	fail := func(err error) {
		if l.err == nil {
			l.err = fmt.Errorf("audit: write: %w", err)
		}
		bw.Reset(l.w)
	}
	write := func(line []byte) {
		if _, err := bw.Write(line); err != nil {
			fail(err)
		}
	}
	flush := func() {
		if err := bw.Flush(); err != nil {
			fail(err)
		}
	}
	for line := range l.queue {
		write(line)
	drain:
		for {
			select {
			case line, ok := <-l.queue:
				if !ok {
					break drain
				}
				write(line)
			default:
				break drain
			}
		}
		flush()
	}
	flush()
}
