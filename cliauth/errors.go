package cliauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Exit codes of the errors the package returns (Error.ExitCode). They are
// the same numbers the gatehouse binary uses.
const (
	// ExitError: anything else that failed.
	ExitError = 1
	// ExitUsage: bad input (flags, arguments, configuration); running the
	// same command again cannot succeed.
	ExitUsage = 2
	// ExitNotLoggedIn: no credentials for the profile; log in.
	ExitNotLoggedIn = 3
	// ExitExpired: the login expired and refreshing it failed; log in
	// again.
	ExitExpired = 4
	// ExitUnreachable: the authorization server could not be reached.
	ExitUnreachable = 5
)

// Error is an error for the person at the terminal: a message that says
// what to do next, the exit code the tool should end with, and the cause,
// for errors.Is and errors.As.
type Error struct {
	// Code is the exit code (ExitUsage, ExitNotLoggedIn, ...).
	Code int
	// Msg is the message; when empty, Err's message is used.
	Msg string
	// Err is the cause; it may be nil.
	Err error
}

func (e *Error) Error() string {
	if e.Msg != "" || e.Err == nil {
		return e.Msg
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// ExitCode returns Code.
func (e *Error) ExitCode() int { return e.Code }

// ExitCode is the exit code for err: 0 for nil, the ExitCode() of the
// first error in its chain that has that method (an *Error, or a host
// tool's own type), else ExitError.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitError
}

// usageErrorf is bad input.
func usageErrorf(format string, args ...any) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// explain turns an error from the client library into an *Error with the
// right exit code and a message that says what to do next. profile and
// defaultProfile name the login for the hint; issuer the server.
// Errors that are already an *Error, and unknown ones, pass unchanged.
func (a *App) explain(err error, profile, defaultProfile, issuer string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	login := a.loginHint(profile, defaultProfile)
	switch {
	case errors.Is(err, client.ErrNotLoggedIn):
		if profile == "" {
			return &Error{Code: ExitNotLoggedIn, Err: err, Msg: fmt.Sprintf("not logged in; run `%s`", login)}
		}
		return &Error{Code: ExitNotLoggedIn, Err: err, Msg: fmt.Sprintf("not logged in (profile %q); run `%s`", profile, login)}
	case errors.Is(err, client.ErrLoginExpired):
		why := "it cannot be refreshed"
		var pe *protocol.Error
		if errors.As(err, &pe) {
			why = "the server refused to refresh it: " + pe.Error()
		}
		return &Error{Code: ExitExpired, Err: err, Msg: fmt.Sprintf("the login of profile %q has expired and %s; run `%s`", profile, why, login)}
	case errors.Is(err, client.ErrIssuerMismatch):
		return &Error{Code: ExitError, Err: err, Msg: fmt.Sprintf("%v: refused (RFC 8414 §3.3); the issuer URL must be exactly the one the server names", err)}
	case unreachable(err):
		where := issuer
		if where == "" {
			where = "the server"
		}
		return &Error{Code: ExitUnreachable, Err: err, Msg: fmt.Sprintf("cannot reach %s: %v; check the address and your network", where, netCause(err))}
	}
	return err
}

// unreachable reports whether err means the server could not be reached:
// a failed dial or name lookup, or a request that timed out.
func unreachable(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	switch {
	case errors.As(err, &op), errors.As(err, &dns):
		return true
	case errors.As(err, &ue) && ue.Timeout():
		return true
	}
	return false
}

// netCause is the network part of err ("dial tcp 127.0.0.1:1: connect:
// connection refused"), without the library's wrapping.
func netCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		return op
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// cancelled reports whether err is the end of the command's context
// (Ctrl-C).
func cancelled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, ctx.Err())
}
