package storage

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
)

// Unreachable reports whether err says the database could not be reached
// or the connection broke (refused, reset, closed mid-answer, timed out),
// as opposed to a query that the database answered with an error. A
// request that failed this way should be answered "try again later"
// (503), not as a bug (500): a cut link fails fast with one of these
// before any deadline passes.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}
