// Package wsinspect checks the messages a WebSocket client sends before
// they reach the upstream application.
//
// The gateway forwards WebSocket upgrades with httputil.ReverseProxy,
// which writes the client's bytes into the upstream connection. Writer
// sits in that byte stream: it parses the client's RFC 6455 frames as they
// arrive in chunks of any size, holds each data message back until it is
// complete, hands the unmasked message to a check, and forwards the
// message's original frames only when the check allows it. Once anything
// is refused the stream is dead: nothing more is ever forwarded.
//
// Extensions are not supported: a frame with an RSV bit set is refused, so
// the gateway strips Sec-WebSocket-Extensions from the upgrade request and
// permessage-deflate is never negotiated (a compressed message could not
// be checked without inflating it).
package wsinspect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"unicode/utf8"
)

// Opcodes (RFC 6455 §5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// Errors of Writer.Write; errors.Is finds them through wrapping.
var (
	// ErrDenied: the check refused a message.
	ErrDenied = errors.New("wsinspect: message denied")
	// ErrTooLarge: a message is larger than allowed, or made of so many
	// fragments that its frames are.
	ErrTooLarge = errors.New("wsinspect: message too large")
	// ErrProtocol: the client broke RFC 6455.
	ErrProtocol = errors.New("wsinspect: protocol error")
)

// maxControlPayload is RFC 6455 §5.5: "All control frames MUST have a
// payload length of 125 bytes or less and MUST NOT be fragmented."
const maxControlPayload = 125

// Writer is an io.Writer that checks the client→server frame stream of a
// WebSocket connection and forwards it to dst message by message. Its
// methods are safe for concurrent use, though the stream makes sense only
// from one writer.
type Writer struct {
	dst   io.Writer
	max   int64
	check func(opcode int, msg []byte) error

	mu  sync.Mutex
	err error // sticky: once set, nothing more is forwarded

	// The frame being read.
	hdr     [14]byte
	hdrN    int
	hdrLen  int // 0 until the first two header bytes are checked
	inFrame bool
	fin     bool
	opcode  int
	mask    [4]byte
	remain  uint64 // payload bytes still to come
	read    uint64 // payload bytes read so far

	// The control frame being read: forwarded as soon as it is complete.
	ctrlRaw []byte

	// The data message being read: forwarded when complete and checked.
	inMessage  bool
	msgOpcode  int
	msgRaw     []byte
	msgPayload []byte

	closed bool // a Close frame went through

	// replies receives the Reply of a Refusal (set by Wrap); nil: a
	// Refusal fails the stream like any other check error.
	replies func([]byte)

	// budget, when set, bounds the bytes all Writers sharing it hold for
	// messages being read; held is this Writer's share.
	budget Budget
	held   int64
}

// Budget is a shared bound on the bytes of messages held at once
// (golang.org/x/sync/semaphore.Weighted is one).
type Budget interface {
	TryAcquire(n int64) bool
	Release(n int64)
}

// ErrBusy: the shared budget has no room for a message (Writer.SetBudget).
var ErrBusy = errors.New("wsinspect: too many bytes held for inspection")

// SetBudget makes w take the bytes it holds for a message from b, and
// fail with ErrBusy when b has no room. Call it before the first Write;
// Release gives back what w holds.
func (w *Writer) SetBudget(b Budget) {
	w.mu.Lock()
	w.budget = b
	w.mu.Unlock()
}

// Release gives back to the budget what w holds and stops w: every later
// Write fails. Call it when the connection ends.
func (w *Writer) Release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.releaseLocked()
	if w.err == nil {
		w.err = errors.New("wsinspect: connection ended")
	}
}

func (w *Writer) releaseLocked() {
	if w.budget != nil && w.held > 0 {
		w.budget.Release(w.held)
	}
	w.held = 0
}

// NewWriter returns a Writer that forwards to dst the client frames
// written to it. Control frames (ping, pong, close) are forwarded at once,
// even in the middle of a fragmented message. A data message is buffered
// until its last frame, unmasked and passed to check with its opcode
// (OpText or OpBinary); when check returns nil the message's original
// frame bytes are written to dst. check may keep msg.
//
// A message longer than maxMessage bytes, frames of one message that add
// up to more than 2*maxMessage+1024 bytes, a protocol error (unmasked
// frame, RSV bits, reserved opcode, bad fragmentation, invalid UTF-8 in a
// text message, data after Close) or check's error makes Write return an
// error (wrapping ErrTooLarge, ErrProtocol or ErrDenied), and every later
// Write returns it too without writing anything to dst.
func NewWriter(dst io.Writer, maxMessage int64, check func(opcode int, msg []byte) error) *Writer {
	return &Writer{dst: dst, max: max(maxMessage, 0), check: check}
}

// Write parses p, which may hold any part of the frame stream, and
// forwards what is complete and allowed. It returns len(p) or an error.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for n < len(p) {
		k, err := w.step(p[n:])
		n += k
		if err != nil {
			w.err = err
			w.ctrlRaw, w.msgRaw, w.msgPayload = nil, nil, nil
			w.releaseLocked()
			return n, err
		}
	}
	return n, nil
}

// step consumes at least one byte of p.
func (w *Writer) step(p []byte) (int, error) {
	if w.closed {
		// RFC 6455 §5.5.1: "The application MUST NOT send any more data
		// frames after sending a Close frame."
		return 0, fmt.Errorf("%w: data after a close frame", ErrProtocol)
	}
	if w.inFrame {
		return w.readPayload(p)
	}
	return w.readHeader(p)
}

func (w *Writer) readHeader(p []byte) (int, error) {
	need := 2
	if w.hdrLen > 0 {
		need = w.hdrLen
	}
	n := copy(w.hdr[w.hdrN:need], p)
	w.hdrN += n
	if w.hdrN < 2 {
		return n, nil
	}
	if w.hdrLen == 0 {
		if err := w.checkStart(); err != nil {
			return n, err
		}
		return n, nil
	}
	if w.hdrN < w.hdrLen {
		return n, nil
	}
	return n, w.startFrame()
}

// checkStart checks the first two bytes of a frame header and sets hdrLen.
func (w *Writer) checkStart() error {
	b0, b1 := w.hdr[0], w.hdr[1]
	w.fin = b0&0x80 != 0
	w.opcode = int(b0 & 0x0f)
	if b0&0x70 != 0 {
		// RFC 6455 §5.2: "MUST be 0 unless an extension is negotiated that
		// defines meanings for non-zero values."
		return fmt.Errorf("%w: RSV bits set but no extension was negotiated", ErrProtocol)
	}
	if b1&0x80 == 0 {
		// RFC 6455 §5.1: "The server MUST close the connection upon
		// receiving a frame that is not masked."
		return fmt.Errorf("%w: unmasked client frame", ErrProtocol)
	}
	len7 := int(b1 & 0x7f)
	switch w.opcode {
	case OpClose, OpPing, OpPong:
		if !w.fin || len7 > maxControlPayload {
			return fmt.Errorf("%w: fragmented or long control frame", ErrProtocol)
		}
	case OpText, OpBinary:
		if w.inMessage {
			return fmt.Errorf("%w: new message before the last one ended", ErrProtocol)
		}
	case OpContinuation:
		if !w.inMessage {
			return fmt.Errorf("%w: continuation frame outside a message", ErrProtocol)
		}
	default:
		return fmt.Errorf("%w: reserved opcode %#x", ErrProtocol, w.opcode)
	}
	w.hdrLen = 2 + 4
	switch len7 {
	case 126:
		w.hdrLen += 2
	case 127:
		w.hdrLen += 8
	}
	return nil
}

// startFrame reads the length and mask of a complete header.
func (w *Writer) startFrame() error {
	var length uint64
	switch len7 := uint64(w.hdr[1] & 0x7f); len7 {
	case 126:
		length = uint64(binary.BigEndian.Uint16(w.hdr[2:4]))
		if length < 126 {
			return fmt.Errorf("%w: length not minimally encoded", ErrProtocol)
		}
	case 127:
		length = binary.BigEndian.Uint64(w.hdr[2:10])
		if length>>63 != 0 {
			// RFC 6455 §5.2: "the most significant bit MUST be 0".
			return fmt.Errorf("%w: 64-bit length with its top bit set", ErrProtocol)
		}
		if length <= 0xffff {
			return fmt.Errorf("%w: length not minimally encoded", ErrProtocol)
		}
	default:
		length = len7
	}
	copy(w.mask[:], w.hdr[w.hdrLen-4:w.hdrLen])
	header := w.hdr[:w.hdrLen]
	if w.opcode >= OpClose {
		w.ctrlRaw = append(w.ctrlRaw[:0], header...)
	} else {
		if length > uint64(w.max)-uint64(len(w.msgPayload)) {
			return fmt.Errorf("%w: over %d bytes", ErrTooLarge, w.max)
		}
		if uint64(len(w.msgRaw))+uint64(len(header))+length > 2*uint64(w.max)+1024 {
			return fmt.Errorf("%w: too many fragments", ErrTooLarge)
		}
		if w.budget != nil {
			// The frame's raw bytes and its unmasked payload.
			need := int64(len(header)) + 2*int64(length)
			if !w.budget.TryAcquire(need) {
				return ErrBusy
			}
			w.held += need
		}
		if w.opcode != OpContinuation {
			w.inMessage = true
			w.msgOpcode = w.opcode
		}
		w.msgRaw = append(w.msgRaw, header...)
	}
	w.inFrame = true
	w.remain = length
	w.read = 0
	w.hdrN, w.hdrLen = 0, 0
	if length == 0 {
		return w.endFrame()
	}
	return nil
}

func (w *Writer) readPayload(p []byte) (int, error) {
	n := len(p)
	if uint64(n) > w.remain {
		n = int(w.remain)
	}
	chunk := p[:n]
	if w.opcode >= OpClose {
		w.ctrlRaw = append(w.ctrlRaw, chunk...)
	} else {
		w.msgRaw = append(w.msgRaw, chunk...)
		for i, b := range chunk {
			w.msgPayload = append(w.msgPayload, b^w.mask[(w.read+uint64(i))%4])
		}
	}
	w.read += uint64(n)
	w.remain -= uint64(n)
	if w.remain > 0 {
		return n, nil
	}
	return n, w.endFrame()
}

// endFrame handles a frame whose payload has all arrived.
func (w *Writer) endFrame() error {
	w.inFrame = false
	if w.opcode >= OpClose {
		if err := w.forward(w.ctrlRaw); err != nil {
			return err
		}
		w.closed = w.opcode == OpClose
		return nil
	}
	if !w.fin {
		return nil
	}
	raw, msg, op := w.msgRaw, w.msgPayload, w.msgOpcode
	w.msgRaw, w.msgPayload, w.inMessage = nil, nil, false
	defer w.releaseLocked() // the message is forwarded or dropped below
	if op == OpText && !utf8.Valid(msg) {
		// RFC 6455 §8.1: invalid UTF-8 in a text message "MUST _Fail the
		// WebSocket Connection_".
		return fmt.Errorf("%w: text message is not UTF-8", ErrProtocol)
	}
	if msg == nil {
		msg = []byte{}
	}
	if err := w.check(op, msg); err != nil {
		if ref, ok := isRefusal(err); ok && w.replies != nil {
			// This message is dropped; the client hears why and the
			// connection carries on.
			w.replies(ref.Reply)
			return nil
		}
		return fmt.Errorf("%w: %w", ErrDenied, err)
	}
	return w.forward(raw)
}

func (w *Writer) forward(b []byte) error {
	if _, err := w.dst.Write(b); err != nil {
		return fmt.Errorf("wsinspect: write: %w", err)
	}
	return nil
}

// conn is an upstream connection whose writes go through a Writer.
type conn struct {
	rwc io.ReadWriteCloser
	w   *Writer
}

// WrapConn returns rwc with Write going through w (which should write to
// rwc) and Read and Close passing through. The result exposes no other
// method of rwc (such as io.ReaderFrom), so io.Copy cannot go around w.
func WrapConn(rwc io.ReadWriteCloser, w *Writer) io.ReadWriteCloser {
	return &conn{rwc: rwc, w: w}
}

func (c *conn) Read(p []byte) (int, error)  { return c.rwc.Read(p) }
func (c *conn) Write(p []byte) (int, error) { return c.w.Write(p) }
func (c *conn) Close() error                { return c.rwc.Close() }
