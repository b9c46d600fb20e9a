package client

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"syscall"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Sentinel errors. Check them with errors.Is; every error the package
// returns wraps one of these, a *protocol.Error, or a lower-level cause.
var (
	// ErrIssuerMismatch means a discovery document or an authorization
	// response named another issuer than the one asked for (a mix-up
	// attack, RFC 8414 §3.3 and RFC 9207 §2.4). Nothing is used or stored.
	ErrIssuerMismatch = errors.New("issuer mismatch")

	// ErrLoginExpired means the stored login can no longer be refreshed
	// (the server answered invalid_grant, or there is no refresh token).
	ErrLoginExpired = errors.New("login expired; run `gatehouse login`")

	// ErrNotLoggedIn means the profile has no stored credential.
	ErrNotLoggedIn = errors.New("not logged in; run `gatehouse login`")

	// ErrStateMismatch means the browser callback carried another state
	// than the one sent (RFC 6749 §10.12); the login is abandoned.
	ErrStateMismatch = errors.New("authorization response state does not match the request")

	// ErrMissingCode means the browser callback carried no code.
	ErrMissingCode = errors.New("authorization response has no code")

	// ErrBrowserTimeout means no browser callback arrived in time.
	ErrBrowserTimeout = errors.New("no browser callback")

	// ErrCallbackPortBusy means none of BrowserOptions.Ports could be
	// listened on (each is in use, or not allowed): a local problem, not
	// an unreachable server. The network errors are in the message, not
	// in the chain, so that nobody mistakes them for a failed dial.
	ErrCallbackPortBusy = errors.New("no callback port is free")

	// ErrBrowserUnavailable means the browser could not be opened.
	ErrBrowserUnavailable = errors.New("cannot open a browser; use --device to sign in with a code")

	// ErrDeviceDenied means the user denied a device login (RFC 8628
	// §3.5 access_denied).
	ErrDeviceDenied = errors.New("device login denied")

	// ErrDeviceExpired means the device code expired before the user
	// approved it (RFC 8628 §3.5 expired_token).
	ErrDeviceExpired = errors.New("device code expired before approval; run the login again")
)

// endpointError is an OAuth error response from a token, device
// authorization or other endpoint. It unwraps to both the
// *protocol.Error, so callers match codes with the same type the server
// uses, and the original error, whose chain holds the
// *oauth2.RetrieveError with the HTTP response.
type endpointError struct {
	proto *protocol.Error
	cause error
}

func (e *endpointError) Error() string   { return e.proto.Error() }
func (e *endpointError) Unwrap() []error { return []error{e.proto, e.cause} }

// ParseError converts an *oauth2.RetrieveError in err's chain into an
// error that also unwraps to a *protocol.Error (RFC 6749 §5.2), so that
//
//	errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidGrant})
//
// and errors.As(err, new(*protocol.Error)) work with the same type the
// server uses. Errors without an OAuth error code, and errors that already
// carry a *protocol.Error, are returned unchanged.
func ParseError(err error) error {
	if err == nil {
		return nil
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return err
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode == "" {
		return err
	}
	p := &protocol.Error{Code: re.ErrorCode, Description: re.ErrorDescription, URI: re.ErrorURI}
	if re.Response != nil {
		p.Status = re.Response.StatusCode
	}
	return &endpointError{proto: p, cause: err}
}

// isCode reports whether err carries the OAuth error code.
func isCode(err error, code string) bool {
	return errors.Is(err, &protocol.Error{Code: code})
}

// Unreachable reports whether err means the issuer could not be reached
// or could not answer (a network error, a timeout, an HTTP 5xx, or the
// OAuth codes server_error and temporarily_unavailable), as opposed to an
// answer about the credential itself (invalid_grant, invalid_client, ...),
// which a retry would not change.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Code == protocol.ErrServerError || pe.Code == protocol.ErrTemporarilyUnavailable
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.Response != nil && re.Response.StatusCode >= 500
	}
	var ne net.Error
	var ue *url.Error
	return errors.Is(err, errServerStatus) || errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// errServerStatus marks an HTTP 5xx answer where no OAuth error was given.
var errServerStatus = errors.New("server error status")
