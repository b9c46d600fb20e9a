package command

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"

	"golang.org/x/term"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/clock"
)

// IOStreams is the command tree's view of its process: cliauth.IO (the
// standard streams, the terminal, the environment — the same type the
// login commands of cliauth use, so there is one) and the clock. System
// builds the real one; NewTestIOStreams builds one on buffers so that
// whole commands run in-process in tests.
type IOStreams struct {
	cliauth.IO
	// Clock gives the time for created/updated stamps and audit events.
	Clock clock.Clock
}

// System returns the IOStreams of the running process.
func System() IOStreams {
	fd := int(os.Stdin.Fd())
	return IOStreams{
		IO: cliauth.IO{
			In:       os.Stdin,
			Out:      os.Stdout,
			ErrOut:   os.Stderr,
			IsTTY:    func() bool { return term.IsTerminal(fd) },
			IsErrTTY: func() bool { return term.IsTerminal(int(os.Stderr.Fd())) },
			ReadPassword: func(ctx context.Context) (string, error) {
				return cliauth.ReadTerminalPassword(ctx, fd)
			},
			Getenv: os.Getenv,
		},
		Clock: clock.System,
	}
}

// Buffer is a bytes.Buffer safe for concurrent use, for the output streams
// of NewTestIOStreams (a running server logs from many goroutines).
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Reset empties the buffer.
func (b *Buffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}

// NewTestIOStreams returns IOStreams for tests: In reads stdin, Out and
// ErrOut are the returned buffers, there is no terminal (IsTTY is false and
// ReadPassword fails), the environment is empty and the clock is the
// system clock. Tests change the fields they need, e.g. Getenv.
func NewTestIOStreams(stdin string) (streams IOStreams, out, errOut *Buffer) {
	out, errOut = new(Buffer), new(Buffer)
	streams = IOStreams{
		IO: cliauth.IO{
			In:       bytes.NewBufferString(stdin),
			Out:      out,
			ErrOut:   errOut,
			IsTTY:    func() bool { return false },
			IsErrTTY: func() bool { return false },
			ReadPassword: func(context.Context) (string, error) {
				return "", errors.New("no terminal")
			},
			Getenv: func(string) string { return "" },
		},
		Clock: clock.System,
	}
	return streams, out, errOut
}
