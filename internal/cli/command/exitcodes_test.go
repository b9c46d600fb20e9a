package command

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type codedError struct{}

func (codedError) Error() string { return "not logged in" }
func (codedError) ExitCode() int { return ExitNotLoggedIn }

func TestExitCodeAndPrintError(t *testing.T) {
	t.Parallel()
	usage := &UsageError{Command: "gatehouse clients create", Err: errors.New("bad --grant")}
	cases := []struct {
		err  error
		code int
		out  string
	}{
		{nil, ExitOK, ""},
		{errors.New("database is locked"), ExitError, "gatehouse: database is locked\n"},
		{fmt.Errorf("wrapped: %w", usage), ExitUsage, "gatehouse: wrapped: bad --grant\nRun 'gatehouse clients create --help' for usage.\n"},
		{UsageErrorf("plain"), ExitUsage, "gatehouse: plain\n"},
		{fmt.Errorf("login: %w", codedError{}), ExitNotLoggedIn, "gatehouse: login: not logged in\n"},
	}
	for _, tc := range cases {
		if got := ExitCode(tc.err); got != tc.code {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
		var b strings.Builder
		PrintError(&b, tc.err)
		if b.String() != tc.out {
			t.Errorf("PrintError(%v) = %q, want %q", tc.err, b.String(), tc.out)
		}
	}
}
