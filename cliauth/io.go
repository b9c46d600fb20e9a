package cliauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IO is the tool's view of its process: standard streams, terminal and
// environment. Every nil field means the real one (os.Stdin, os.Stdout,
// os.Stderr, terminal checks on them, os.Getenv), so the zero IO is the
// running process and tests set buffers and a fake environment.
type IO struct {
	// In is standard input: secrets with --client-secret-stdin and
	// --with-api-key, answers to prompts.
	In io.Reader
	// Out receives data: tokens, --json documents, tables.
	Out io.Writer
	// ErrOut receives messages for people: progress, notices, prompts,
	// warnings.
	ErrOut io.Writer
	// IsTTY reports whether In is an interactive terminal, so that the
	// tool may prompt and wait for a person.
	IsTTY func() bool
	// IsErrTTY reports whether ErrOut is a terminal, so that progress can
	// be animated.
	IsErrTTY func() bool
	// ReadPassword reads one line from the terminal without echo; it
	// returns ctx.Err() when ctx ends first, with the terminal restored.
	ReadPassword func(ctx context.Context) (string, error)
	// Getenv reads the environment.
	Getenv func(string) string

	// lines buffers In for reading it line by line (prompts, secrets), so
	// that consecutive answers piped in are not lost to a read-ahead.
	lines *bufio.Reader
}

// reader is In behind one shared line buffer.
func (o *IO) reader() *bufio.Reader {
	if o.lines == nil {
		o.lines = bufio.NewReader(o.in())
	}
	return o.lines
}

func (o *IO) in() io.Reader {
	if o.In == nil {
		return os.Stdin
	}
	return o.In
}

func (o *IO) out() io.Writer {
	if o.Out == nil {
		return os.Stdout
	}
	return o.Out
}

func (o *IO) errOut() io.Writer {
	if o.ErrOut == nil {
		return os.Stderr
	}
	return o.ErrOut
}

func (o *IO) getenv(k string) string {
	if o.Getenv == nil {
		return os.Getenv(k)
	}
	return o.Getenv(k)
}

// isTTY reports whether standard input is a terminal.
func (o *IO) isTTY() bool {
	if o.IsTTY != nil {
		return o.IsTTY()
	}
	return isTerminal(o.in())
}

// isErrTTY reports whether the message stream is a terminal.
func (o *IO) isErrTTY() bool {
	if o.IsErrTTY != nil {
		return o.IsErrTTY()
	}
	return isTerminal(o.errOut())
}

// isTerminal reports whether v is an *os.File on a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readLine reads the first line of standard input, without its line end
// and surrounding space. End of input before any character is an error,
// never a wait.
func (o *IO) readLine(what string) (string, error) {
	line, err := o.reader().ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s from stdin: %w", what, err)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return "", fmt.Errorf("no %s on stdin", what)
	}
	return line, nil
}

// readSecret reads a secret: from the terminal without echo after a
// prompt when stdin is one, else the first line of stdin.
func (o *IO) readSecret(ctx context.Context, what string) (string, error) {
	if !o.isTTY() {
		return o.readLine(what)
	}
	fmt.Fprintf(o.errOut(), "Paste the %s and press Enter: ", what)
	s, err := o.readHidden(ctx, what)
	if err != nil {
		return "", err
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", fmt.Errorf("no %s entered", what)
	}
	return s, nil
}

// readHidden reads one line from the terminal without echo: through
// ReadPassword, else from In when it is a terminal file; other input is
// read as a plain line. what names the answer in errors.
func (o *IO) readHidden(ctx context.Context, what string) (string, error) {
	read := o.ReadPassword
	if read == nil {
		f, ok := o.in().(*os.File)
		if !ok {
			return o.readLine(what)
		}
		read = func(ctx context.Context) (string, error) { return ReadTerminalPassword(ctx, int(f.Fd())) }
	}
	s, err := read(ctx)
	fmt.Fprintln(o.errOut())
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	return s, nil
}

// prompt asks a person for one answer. On a terminal it writes label to
// the message stream and reads a line, without echo when hidden. When
// stdin is not a terminal it writes nothing and reads the next line of
// stdin, so that scripts and tests can pipe the answers in, one a line.
// what names the answer in errors.
func (o *IO) prompt(ctx context.Context, label, what string, hidden bool) (string, error) {
	if !o.isTTY() {
		if hidden {
			// A password keeps its spaces; only the line end goes.
			line, err := o.reader().ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return "", fmt.Errorf("read %s from stdin: %w", what, err)
			}
			if line = strings.TrimRight(line, "\r\n"); line == "" {
				return "", fmt.Errorf("no %s on stdin", what)
			}
			return line, nil
		}
		return o.readLine(what)
	}
	fmt.Fprint(o.errOut(), label)
	if !hidden {
		s, err := o.reader().ReadString('\n')
		if s = strings.TrimSpace(s); s == "" {
			if err != nil && !errors.Is(err, io.EOF) {
				return "", fmt.Errorf("read %s: %w", what, err)
			}
			return "", fmt.Errorf("no %s entered", what)
		}
		return s, nil
	}
	s, err := o.readHidden(ctx, what)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", fmt.Errorf("no %s entered", what)
	}
	return s, nil
}

// ReadTerminalPassword reads a line without echo from the terminal fd, for
// secrets typed at a prompt. If ctx ends first (Ctrl-C) it restores the
// terminal, so that echo comes back, and returns ctx.Err(); the blocked read
// is abandoned.
func ReadTerminalPassword(ctx context.Context, fd int) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := term.ReadPassword(fd)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return string(r.b), r.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		return "", ctx.Err()
	}
}
