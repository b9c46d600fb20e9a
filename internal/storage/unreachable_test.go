package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestUnreachable(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("postgres: get client: %w", err) }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"refused", wrapped(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{"reset", wrapped(syscall.ECONNRESET), true},
		{"broken pipe", wrapped(syscall.EPIPE), true},
		{"closed mid-answer", wrapped(io.ErrUnexpectedEOF), true},
		{"closed before the answer", wrapped(io.EOF), true},
		{"bad connection", wrapped(driver.ErrBadConn), true},
		{"nil", nil, false},
		{"not found", wrapped(ErrNotFound), false},
		{"a query error", wrapped(errors.New(`ERROR: relation "x" does not exist (SQLSTATE 42P01)`)), false},
		{"the caller gave up", wrapped(context.Canceled), false},
	} {
		if got := Unreachable(tc.err); got != tc.want {
			t.Errorf("%s: Unreachable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
