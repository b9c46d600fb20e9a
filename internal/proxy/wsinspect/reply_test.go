package wsinspect

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"
)

// readN reads exactly n bytes from r within a second.
func readN(t *testing.T, r io.Reader, n int) []byte {
	t.Helper()
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			b = nil
		}
		got <- b
	}()
	select {
	case b := <-got:
		if b == nil {
			t.Fatal("read failed")
		}
		return b
	case <-time.After(time.Second):
		t.Fatalf("no %d bytes within a second", n)
	}
	return nil
}

// A reply reaches the client while the server is idle, and never in the
// middle of a server frame or of a fragmented server message.
func TestRepliesGoBetweenServerMessages(t *testing.T) {
	pr, pw := io.Pipe()
	r := newReplyReader(pr)
	defer close(r.done)

	r.reply([]byte("r1"))
	if got := readN(t, r, 4); !bytes.Equal(got, serverTextFrame([]byte("r1"))) {
		t.Fatalf("idle reply: %x", got)
	}

	first := []byte{OpText, 2, 'a', 'b'} // not FIN: a fragmented message
	ping := []byte{0x80 | OpPing, 0}
	last := []byte{0x80 | OpContinuation, 2, 'c', 'd'}
	go func() {
		pw.Write(first[:3]) // a frame split across reads
		time.Sleep(20 * time.Millisecond)
		r.reply([]byte("r2"))
		time.Sleep(20 * time.Millisecond)
		pw.Write(first[3:])
		pw.Write(ping)
		time.Sleep(20 * time.Millisecond)
		pw.Write(last)
	}()
	want := append(append(append(append([]byte{}, first...), ping...), last...), serverTextFrame([]byte("r2"))...)
	if got := readN(t, r, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("stream\n got %x\nwant %x", got, want)
	}
}

// A Refusal drops its message and sends the reply; the next message is
// checked and forwarded as usual.
func TestRefusalKeepsTheConnection(t *testing.T) {
	var upstream bytes.Buffer
	rwc := &bufConn{w: &upstream, r: bytes.NewReader(nil)}
	c := Wrap(rwc, 1024, func(_ int, msg []byte) error {
		if bytes.Equal(msg, []byte("no")) {
			return &Refusal{Reply: []byte("refused"), Err: errors.New("no")}
		}
		return nil
	}, nil)
	if _, err := c.Write(maskedText("no")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(maskedText("yes")); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(upstream.Bytes(), maskedText("yes")) {
		t.Fatalf("upstream got %x", upstream.Bytes())
	}
	if got := readN(t, c, 9); !bytes.Equal(got, serverTextFrame([]byte("refused"))) {
		t.Fatalf("reply %x", got)
	}
	c.Close()
}

func maskedText(s string) []byte {
	mask := []byte{1, 2, 3, 4}
	b := []byte{0x80 | OpText, 0x80 | byte(len(s))}
	b = append(b, mask...)
	for i := range len(s) {
		b = append(b, s[i]^mask[i%4])
	}
	return b
}

type bufConn struct {
	w io.Writer
	r io.Reader
}

func (b *bufConn) Read(p []byte) (int, error) {
	time.Sleep(time.Hour) // an idle server
	return 0, io.EOF
}
func (b *bufConn) Write(p []byte) (int, error) { return b.w.Write(p) }
func (b *bufConn) Close() error                { return nil }

// FuzzReplyReader: whatever the server sends, the client receives exactly
// the server's bytes with whole reply frames put between them, and a
// reply is never put inside a frame the tracker understood.
func FuzzReplyReader(f *testing.F) {
	f.Add([]byte{0x81, 2, 'h', 'i', 0x01, 1, 'a', 0x89, 0, 0x80, 1, 'b'}, uint8(3))
	f.Add([]byte{0x82, 126, 0, 200}, uint8(1))
	f.Add([]byte{0x81, 127, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}, uint8(0))
	f.Fuzz(func(t *testing.T, server []byte, every uint8) {
		var f frameTracker
		var out []byte
		reply := serverTextFrame([]byte("R"))
		replies := 0
		for i := 0; i < len(server); {
			if every > 0 && i%int(every) == 0 && f.boundary() {
				out = append(out, reply...)
				replies++
			}
			n := f.advance(server[i:])
			if n < 1 || n > len(server)-i {
				t.Fatalf("advance consumed %d of %d bytes", n, len(server)-i)
			}
			out = append(out, server[i:i+n]...)
			i += n
		}
		if got := bytes.ReplaceAll(out, reply, nil); replies > 0 && !bytes.Contains(server, reply) && !bytes.Equal(got, server) {
			t.Fatalf("server bytes changed: %x -> %x", server, got)
		}
	})
}

// The bytes a Writer holds come from the shared budget and go back to it
// when a message is forwarded, when the stream fails and at Release.
func TestWriterBudget(t *testing.T) {
	b := semaphore.NewWeighted(100)
	var up bytes.Buffer
	w := NewWriter(&up, 1024, func(int, []byte) error { return nil })
	w.SetBudget(b)
	if _, err := w.Write(maskedText("small")); err != nil {
		t.Fatal(err)
	}
	if !b.TryAcquire(100) {
		t.Fatal("a forwarded message kept its share of the budget")
	}
	b.Release(100)
	part := maskedText(strings.Repeat("x", 40))
	if _, err := w.Write(part[:10]); err != nil { // holds 2+4+80 bytes
		t.Fatal(err)
	}
	if b.TryAcquire(20) {
		t.Fatal("the message being read holds no budget")
	}
	w2 := NewWriter(io.Discard, 1024, func(int, []byte) error { return nil })
	w2.SetBudget(b)
	if _, err := w2.Write(maskedText(strings.Repeat("y", 40))); !errors.Is(err, ErrBusy) {
		t.Fatalf("over budget: %v", err)
	}
	w.Release()
	if !b.TryAcquire(100) {
		t.Fatal("Release did not give the budget back")
	}
}
