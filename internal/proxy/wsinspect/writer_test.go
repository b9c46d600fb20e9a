package wsinspect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
)

// frame builds one client frame: masked unless mask is nil; rsv ORs RSV
// bits into the first byte.
func frame(fin bool, op int, payload []byte, mask []byte, rsv byte) []byte {
	b0 := byte(op) | rsv
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	var mbit byte
	if mask != nil {
		mbit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, mbit|byte(n))
	case n <= 0xffff:
		out = append(out, mbit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, mbit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask == nil {
		return append(out, payload...)
	}
	out = append(out, mask...)
	for i, b := range payload {
		out = append(out, b^mask[i%4])
	}
	return out
}

var key = []byte{0x37, 0xfa, 0x21, 0x3d}

func text(s string) []byte { return frame(true, OpText, []byte(s), key, 0) }

type message struct {
	op  int
	msg string
}

// recorder is a check that records messages and refuses those containing
// "deny".
type recorder struct{ got []message }

func (r *recorder) check(op int, msg []byte) error {
	r.got = append(r.got, message{op, string(msg)})
	if strings.Contains(string(msg), "deny") {
		return errors.New("contains deny")
	}
	return nil
}

// writeChunks writes stream to w in chunks of the given size (0: at once).
func writeChunks(w *Writer, stream []byte, size int) error {
	if size == 0 {
		_, err := w.Write(stream)
		return err
	}
	for len(stream) > 0 {
		n := min(size, len(stream))
		if k, err := w.Write(stream[:n]); err != nil {
			return err
		} else if k != n {
			return fmt.Errorf("wrote %d of %d bytes without an error", k, n)
		}
		stream = stream[n:]
	}
	return nil
}

var chunkSizes = []int{0, 1, 2, 3, 7, 64}

func TestWriterForwards(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70000)
	frag1 := frame(false, OpText, []byte("{\"type\":"), key, 0)
	frag2 := frame(false, OpContinuation, []byte("\"subscribe\""), []byte{1, 2, 3, 4}, 0)
	frag3 := frame(true, OpContinuation, []byte("}"), key, 0)
	ping := frame(true, OpPing, []byte("hi"), key, 0)
	pong := frame(true, OpPong, nil, key, 0)
	closeFrame := frame(true, OpClose, []byte{0x03, 0xe8}, key, 0)
	empty := frame(true, OpText, nil, key, 0)
	bin := frame(true, OpBinary, []byte{0, 0xff, 0x80}, key, 0)

	tests := []struct {
		name    string
		stream  [][]byte
		want    [][]byte // frames forwarded, in order
		checked []message
	}{
		{"one text", [][]byte{text("hello")}, [][]byte{text("hello")}, []message{{OpText, "hello"}}},
		{"16-bit length", [][]byte{text(long)}, [][]byte{text(long)}, []message{{OpText, long}}},
		{"64-bit length", [][]byte{text(huge)}, [][]byte{text(huge)}, []message{{OpText, huge}}},
		{"empty message", [][]byte{empty}, [][]byte{empty}, []message{{OpText, ""}}},
		{"binary", [][]byte{bin}, [][]byte{bin}, []message{{OpBinary, "\x00\xff\x80"}}},
		{"several messages", [][]byte{text("a"), text("b"), text(long)}, [][]byte{text("a"), text("b"), text(long)},
			[]message{{OpText, "a"}, {OpText, "b"}, {OpText, long}}},
		{"fragmented", [][]byte{frag1, frag2, frag3}, [][]byte{frag1, frag2, frag3}, []message{{OpText, `{"type":"subscribe"}`}}},
		{"ping inside a fragmented message goes first", [][]byte{frag1, ping, frag2, pong, frag3, text("z")},
			[][]byte{ping, pong, frag1, frag2, frag3, text("z")}, []message{{OpText, `{"type":"subscribe"}`}, {OpText, "z"}}},
		{"close", [][]byte{text("a"), closeFrame}, [][]byte{text("a"), closeFrame}, []message{{OpText, "a"}}},
	}
	for _, tt := range tests {
		for _, size := range chunkSizes {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, size), func(t *testing.T) {
				var dst bytes.Buffer
				rec := &recorder{}
				w := NewWriter(&dst, 1<<17, rec.check)
				if err := writeChunks(w, slices.Concat(tt.stream...), size); err != nil {
					t.Fatalf("Write: %v", err)
				}
				if want := slices.Concat(tt.want...); !bytes.Equal(dst.Bytes(), want) {
					t.Errorf("forwarded %d bytes %q…, want %d bytes %q…", dst.Len(), head(dst.Bytes()), len(want), head(want))
				}
				if !slices.Equal(rec.got, tt.checked) {
					t.Errorf("checked %d messages, want %d", len(rec.got), len(tt.checked))
				}
			})
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 40)] }

func TestWriterHoldsMessageUntilComplete(t *testing.T) {
	var dst bytes.Buffer
	rec := &recorder{}
	w := NewWriter(&dst, 1<<10, rec.check)
	f := text(`{"type":"subscribe"}`)
	if _, err := w.Write(f[:len(f)-1]); err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 0 || len(rec.got) != 0 {
		t.Fatalf("forwarded %q and checked %d messages before the message was complete", dst.Bytes(), len(rec.got))
	}
	frag := frame(false, OpText, []byte("mutation"), key, 0)
	w = NewWriter(&dst, 1<<10, rec.check)
	if _, err := w.Write(frag); err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 0 || len(rec.got) != 0 {
		t.Fatalf("forwarded %q and checked %d messages before the last fragment", dst.Bytes(), len(rec.got))
	}
}

func TestWriterRefuses(t *testing.T) {
	const max = 1000
	frag := frame(false, OpText, []byte("part"), key, 0)
	tests := []struct {
		name   string
		stream [][]byte
		ok     int // leading frames forwarded before the error
		want   error
	}{
		{"unmasked", [][]byte{text("a"), frame(true, OpText, []byte("b"), nil, 0)}, 1, ErrProtocol},
		{"RSV1 (compressed)", [][]byte{frame(true, OpText, []byte("b"), key, 0x40)}, 0, ErrProtocol},
		{"RSV3", [][]byte{frame(true, OpText, []byte("b"), key, 0x10)}, 0, ErrProtocol},
		{"reserved data opcode", [][]byte{frame(true, 0x3, []byte("b"), key, 0)}, 0, ErrProtocol},
		{"reserved control opcode", [][]byte{frame(true, 0xB, nil, key, 0)}, 0, ErrProtocol},
		{"continuation without a message", [][]byte{frame(true, OpContinuation, []byte("b"), key, 0)}, 0, ErrProtocol},
		{"new message inside a fragmented one", [][]byte{frag, text("b")}, 0, ErrProtocol},
		{"fragmented ping", [][]byte{frame(false, OpPing, nil, key, 0)}, 0, ErrProtocol},
		{"long ping", [][]byte{frame(true, OpPing, make([]byte, 126), key, 0)}, 0, ErrProtocol},
		{"non-minimal 16-bit length", [][]byte{{0x81, 0x80 | 126, 0, 5, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'}}, 0, ErrProtocol},
		{"non-minimal 64-bit length", [][]byte{{0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 'a', 'b', 'c', 'd', 'e'}}, 0, ErrProtocol},
		{"64-bit length with top bit", [][]byte{{0x81, 0x80 | 127, 0x80, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}}, 0, ErrProtocol},
		{"invalid UTF-8 text", [][]byte{frame(true, OpText, []byte{'a', 0xff}, key, 0)}, 0, ErrProtocol},
		{"data after close", [][]byte{text("a"), frame(true, OpClose, nil, key, 0), text("b")}, 2, ErrProtocol},
		{"oversize frame", [][]byte{text("a"), text(strings.Repeat("x", max+1))}, 1, ErrTooLarge},
		{"oversize over fragments", [][]byte{frame(false, OpText, make([]byte, 600), key, 0), frame(true, OpContinuation, make([]byte, 401), key, 0)}, 0, ErrTooLarge},
		{"too many empty fragments", append([][]byte{frame(false, OpBinary, nil, key, 0)}, slices.Repeat([][]byte{frame(false, OpContinuation, nil, key, 0)}, 1000)...), 0, ErrTooLarge},
		{"denied", [][]byte{text("a"), text("deny me"), text("c")}, 1, ErrDenied},
		{"denied after fragments and a ping", [][]byte{text("a"), frame(false, OpText, []byte("de"), key, 0), frame(true, OpPing, nil, key, 0), frame(true, OpContinuation, []byte("ny"), key, 0)}, 2, ErrDenied},
	}
	for _, tt := range tests {
		for _, size := range chunkSizes {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, size), func(t *testing.T) {
				var dst bytes.Buffer
				rec := &recorder{}
				w := NewWriter(&dst, max, rec.check)
				err := writeChunks(w, slices.Concat(tt.stream...), size)
				if !errors.Is(err, tt.want) {
					t.Fatalf("Write error = %v, want %v", err, tt.want)
				}
				okFrames := tt.stream[:tt.ok]
				if tt.name == "denied after fragments and a ping" {
					okFrames = [][]byte{tt.stream[0], tt.stream[2]}
				}
				if want := slices.Concat(okFrames...); !bytes.Equal(dst.Bytes(), want) {
					t.Errorf("forwarded %q, want %q", head(dst.Bytes()), head(want))
				}
				before := dst.Len()
				if n, err2 := w.Write(text("after")); err2 == nil || n != 0 {
					t.Errorf("Write after an error = %d, %v; want 0 and an error", n, err2)
				}
				if dst.Len() != before {
					t.Error("Write after an error forwarded bytes")
				}
			})
		}
	}
}

func TestWriterRefusesHugeLengthBeforeReading(t *testing.T) {
	var dst bytes.Buffer
	rec := &recorder{}
	w := NewWriter(&dst, 1<<20, rec.check)
	hdr := []byte{0x82, 0x80 | 127}
	hdr = binary.BigEndian.AppendUint64(hdr, 1<<40)
	hdr = append(hdr, key...)
	if _, err := w.Write(hdr); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("header of a 1 TiB frame: err = %v, want ErrTooLarge", err)
	}
	if dst.Len() != 0 || len(rec.got) != 0 {
		t.Error("forwarded or checked something")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriterDestinationError(t *testing.T) {
	rec := &recorder{}
	w := NewWriter(failingWriter{}, 100, rec.check)
	if _, err := w.Write(text("a")); err == nil {
		t.Fatal("no error from a failing destination")
	}
	if _, err := w.Write(text("b")); err == nil {
		t.Fatal("no error after a failing destination")
	}
	if len(rec.got) != 1 {
		t.Errorf("checked %d messages, want 1", len(rec.got))
	}
}

// denyMutations is the check the gateway makes for a viewer on a GraphQL
// WebSocket: every operation of every message, no mutation.
func denyMutations(op int, msg []byte) error {
	if op != OpText {
		return errors.New("binary message")
	}
	ops, err := graphql.FromWSMessage(msg)
	if err != nil {
		return err
	}
	for _, o := range ops {
		if o.Type == graphql.Mutation {
			return errors.New("mutation not allowed")
		}
	}
	return nil
}

// TestWriterSubscriptionCannotCarryMutation is SECURITY-CASES 51 at unit
// level: on a viewer's GraphQL WebSocket a subscription passes and a
// subscribe message carrying a mutation never reaches the upstream, in
// one frame or fragmented around a ping.
func TestWriterSubscriptionCannotCarryMutation(t *testing.T) {
	init := text(`{"type":"connection_init","payload":{}}`)
	sub := text(`{"type":"subscribe","id":"1","payload":{"query":"subscription{runs}"}}`)
	mut := `{"type":"subscribe","id":"2","payload":{"query":"mutation{launchRun}"}}`
	later := text(`{"type":"subscribe","id":"3","payload":{"query":"subscription{runs}"}}`)
	ping := frame(true, OpPing, nil, key, 0)
	tests := []struct {
		name   string
		stream [][]byte
		want   [][]byte
	}{
		{"one frame", [][]byte{init, sub, text(mut), later}, [][]byte{init, sub}},
		{"fragmented", [][]byte{init, sub,
			frame(false, OpText, []byte(mut[:30]), key, 0), ping,
			frame(true, OpContinuation, []byte(mut[30:]), []byte{9, 8, 7, 6}, 0), later}, [][]byte{init, sub, ping}},
		{"legacy start", [][]byte{init, text(`{"type":"start","id":"2","payload":{"query":"subscription { runs } mutation { launchRun }","operationName":"S"}}`), later}, [][]byte{init}},
		{"binary", [][]byte{init, frame(true, OpBinary, []byte(mut), key, 0)}, [][]byte{init}},
	}
	for _, tt := range tests {
		for _, size := range []int{0, 1, 5} {
			t.Run(fmt.Sprintf("%s/chunk%d", tt.name, size), func(t *testing.T) {
				var dst bytes.Buffer
				w := NewWriter(&dst, 1<<16, denyMutations)
				err := writeChunks(w, slices.Concat(tt.stream...), size)
				if !errors.Is(err, ErrDenied) {
					t.Fatalf("err = %v, want ErrDenied", err)
				}
				if want := slices.Concat(tt.want...); !bytes.Equal(dst.Bytes(), want) {
					t.Errorf("forwarded %q, want %q", dst.Bytes(), want)
				}
				if bytes.Contains(dst.Bytes(), []byte("mutation")) {
					t.Error("the mutation reached the upstream")
				}
			})
		}
	}
	var dst bytes.Buffer
	w := NewWriter(&dst, 1<<16, denyMutations)
	if err := writeChunks(w, slices.Concat(init, sub, later), 3); err != nil {
		t.Fatalf("subscriptions refused: %v", err)
	}
	if want := slices.Concat(init, sub, later); !bytes.Equal(dst.Bytes(), want) {
		t.Errorf("subscriptions not forwarded unchanged")
	}
}
