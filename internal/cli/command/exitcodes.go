package command

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/config"
)

// Exit codes of the gatehouse binary. Scripts may rely on them; new codes
// are only ever added.
const (
	// ExitOK: the command did what was asked.
	ExitOK = 0
	// ExitError: the command failed (database unreachable, a conflict,
	// something not found, an internal error).
	ExitError = 1
	// ExitUsage: bad input — an unknown command or flag, a wrong number of
	// arguments, or a flag or argument value that fails validation.
	// Running the same command again cannot succeed; fix the input.
	ExitUsage = 2
	// ExitNotLoggedIn (client commands): no stored credentials for the
	// profile; run `gatehouse login`.
	ExitNotLoggedIn = 3
	// ExitExpired (client commands): the credentials expired and refreshing
	// them failed; log in again.
	ExitExpired = 4
	// ExitUnreachable (client commands): the server or issuer could not be
	// reached.
	ExitUnreachable = 5
)

// ExitCoder is implemented by errors that choose their own exit code; the
// client-side commands use it for ExitNotLoggedIn and the others.
type ExitCoder interface {
	ExitCode() int
}

// UsageError is bad input: ExitCode maps it to ExitUsage.
type UsageError struct {
	// Command is the command path, e.g. "gatehouse clients create"; when
	// set, PrintError points at its --help.
	Command string
	Err     error
}

func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *UsageError) Unwrap() error { return e.Err }

// ExitCode returns ExitUsage.
func (e *UsageError) ExitCode() int { return ExitUsage }

// UsageErrorf returns a *UsageError with a formatted message.
func UsageErrorf(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCode maps the error a command returned to the process exit code:
// ExitOK for nil, the code of the first ExitCoder in the chain, else
// ExitError.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ec ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	// An invalid setting found after loading (GATEHOUSE_SECRET_KEY, the
	// issuer with the bound port) is invalid configuration too.
	var fe *config.FieldError
	if errors.As(err, &fe) {
		return ExitUsage
	}
	return ExitError
}

// PrintError writes err the one way errors are shown: "gatehouse: <message>",
// followed for usage errors by where to find the command's help.
func PrintError(w io.Writer, err error) {
	if err == nil {
		return
	}
	msg := strings.TrimRight(err.Error(), "\n")
	fmt.Fprintf(w, "gatehouse: %s\n", msg)
	var ue *UsageError
	if errors.As(err, &ue) && ue.Command != "" {
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", ue.Command)
	}
}
