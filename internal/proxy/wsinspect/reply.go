package wsinspect

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
)

// Refusal is an error a check returns to refuse one message without
// failing the connection: the message is dropped, Reply (a text message,
// such as graphql-transport-ws's "error" for the operation's id) is sent
// to the client between two of the server's messages, and later messages
// are checked as usual. Any other error from a check fails the stream.
type Refusal struct {
	Reply []byte
	Err   error
}

func (r *Refusal) Error() string { return "wsinspect: message refused: " + r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

// replyReader is the server→client side of an inspected connection: it
// passes the server's bytes through and puts the Writer's replies into
// that stream at message boundaries, so a reply never splits one of the
// server's frames or fragmented messages.
type replyReader struct {
	src    io.Reader
	chunks chan []byte
	done   chan struct{} // closed by Close: the pump stops
	srcErr error         // valid once chunks is closed

	mu      sync.Mutex
	replies [][]byte // framed replies waiting for a boundary
	notify  chan struct{}

	// Owned by Read.
	pending []byte // server bytes received, not yet returned
	out     []byte // the reply being returned
	frame   frameTracker
	started bool
}

func newReplyReader(src io.Reader) *replyReader {
	return &replyReader{src: src, chunks: make(chan []byte), done: make(chan struct{}), notify: make(chan struct{}, 1)}
}

// pump reads the server's bytes so that Read can wait for them and for
// replies at once.
func (r *replyReader) pump() {
	defer close(r.chunks)
	for {
		buf := make([]byte, 32<<10)
		n, err := r.src.Read(buf)
		if n > 0 {
			select {
			case r.chunks <- buf[:n]:
			case <-r.done:
				r.srcErr = io.ErrClosedPipe
				return
			}
		}
		if err != nil {
			r.srcErr = err
			return
		}
	}
}

// reply queues a text message to the client.
func (r *replyReader) reply(payload []byte) {
	r.mu.Lock()
	r.replies = append(r.replies, serverTextFrame(payload))
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

func (r *replyReader) nextReply() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.replies) == 0 {
		return nil
	}
	b := r.replies[0]
	r.replies = r.replies[1:]
	return b
}

func (r *replyReader) Read(p []byte) (int, error) {
	if !r.started {
		r.started = true
		go r.pump()
	}
	for {
		if len(r.out) > 0 {
			n := copy(p, r.out)
			r.out = r.out[n:]
			return n, nil
		}
		if r.frame.boundary() {
			if b := r.nextReply(); b != nil {
				r.out = b
				continue
			}
		}
		if len(r.pending) > 0 {
			// Return at most up to the end of the current frame, so that
			// a reply can follow it.
			n := r.frame.advance(r.pending[:min(len(p), len(r.pending))])
			copy(p, r.pending[:n])
			r.pending = r.pending[n:]
			return n, nil
		}
		if r.frame.boundary() {
			select {
			case c, ok := <-r.chunks:
				if !ok {
					return 0, r.srcErr
				}
				r.pending = c
			case <-r.notify:
			}
			continue
		}
		c, ok := <-r.chunks
		if !ok {
			return 0, r.srcErr
		}
		r.pending = c
	}
}

// serverTextFrame frames payload as one unmasked text frame (RFC 6455
// §5.2: a server does not mask).
func serverTextFrame(payload []byte) []byte {
	n := len(payload)
	var hdr []byte
	switch {
	case n < 126:
		hdr = []byte{0x80 | OpText, byte(n)}
	case n <= 0xffff:
		hdr = []byte{0x80 | OpText, 126, 0, 0}
		binary.BigEndian.PutUint16(hdr[2:], uint16(n))
	default:
		hdr = make([]byte, 10)
		hdr[0], hdr[1] = 0x80|OpText, 127
		binary.BigEndian.PutUint64(hdr[2:], uint64(n))
	}
	return append(hdr, payload...)
}

// frameTracker follows the frame boundaries of the server's stream.
type frameTracker struct {
	hdr     [14]byte
	hdrN    int
	hdrLen  int    // 0 until two header bytes are known
	remain  uint64 // payload bytes of the current frame still to come
	inFrame bool   // a payload is being passed
	inMsg   bool   // inside a fragmented data message
	broken  bool   // not a frame stream we understand: no more replies
}

// boundary reports whether a reply may be put into the stream here.
func (f *frameTracker) boundary() bool {
	return !f.broken && !f.inFrame && f.hdrN == 0 && !f.inMsg
}

// advance consumes a prefix of p, at least one byte, ending no later than
// the end of the current frame, and returns its length.
func (f *frameTracker) advance(p []byte) int {
	if f.broken {
		return len(p)
	}
	if f.inFrame {
		n := uint64(len(p))
		if n > f.remain {
			n = f.remain
		}
		f.remain -= n
		if f.remain == 0 {
			f.inFrame = false
		}
		return int(n)
	}
	need := 2
	if f.hdrLen > 0 {
		need = f.hdrLen
	}
	n := copy(f.hdr[f.hdrN:need], p)
	f.hdrN += n
	if f.hdrN < 2 {
		return n
	}
	if f.hdrLen == 0 {
		f.hdrLen = 2
		if f.hdr[1]&0x80 != 0 {
			f.hdrLen += 4
		}
		switch f.hdr[1] & 0x7f {
		case 126:
			f.hdrLen += 2
		case 127:
			f.hdrLen += 8
		}
		if f.hdrN < f.hdrLen {
			return n
		}
	}
	if f.hdrN < f.hdrLen {
		return n
	}
	var length uint64
	switch l := f.hdr[1] & 0x7f; l {
	case 126:
		length = uint64(binary.BigEndian.Uint16(f.hdr[2:4]))
	case 127:
		length = binary.BigEndian.Uint64(f.hdr[2:10])
	default:
		length = uint64(l)
	}
	fin, op := f.hdr[0]&0x80 != 0, int(f.hdr[0]&0x0f)
	switch op {
	case OpText, OpBinary, OpContinuation:
		f.inMsg = !fin
	case OpClose, OpPing, OpPong:
	default:
		f.broken = true
	}
	f.hdrN, f.hdrLen = 0, 0
	f.remain = length
	f.inFrame = length > 0
	return n
}

// replyConn is an upstream connection whose writes go through a Writer
// and whose reads carry the Writer's replies.
type replyConn struct {
	once sync.Once
	r    *replyReader
	w    *Writer
	rwc  io.ReadWriteCloser
}

// Wrap returns rwc (the upstream side of a WebSocket) with the client's
// messages going through a Writer with maxMessage and check, and the
// replies of Refusal errors going back to the client in the server's
// stream. The result exposes no other method of rwc (such as
// io.ReaderFrom), so io.Copy cannot go around the Writer.
//
// With a non-nil budget, the bytes held for the client's messages come
// from it (shared by every connection), and a message that finds no room
// fails the connection with ErrBusy.
func Wrap(rwc io.ReadWriteCloser, maxMessage int64, check func(opcode int, msg []byte) error, budget Budget) io.ReadWriteCloser {
	c := &replyConn{r: newReplyReader(rwc), rwc: rwc}
	c.w = NewWriter(rwc, maxMessage, check)
	c.w.replies = c.r.reply
	if budget != nil {
		c.w.SetBudget(budget)
	}
	return c
}

func (c *replyConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *replyConn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *replyConn) Close() error {
	err := c.rwc.Close() // first: a Write blocked on rwc returns
	c.once.Do(func() {
		close(c.r.done)
		c.w.Release()
	})
	return err
}

// isRefusal tells a Refusal from other check errors.
func isRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}
