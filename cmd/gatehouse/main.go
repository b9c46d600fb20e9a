// Command gatehouse is the Gatehouse binary: the authorization server, its
// admin commands, and the client commands (login, logout, token, status,
// profiles, config, api, jwt, credential-helper).
//
// main only builds the command tree (internal/cli), runs it with a context
// that SIGINT and SIGTERM cancel, prints the error once and exits with the
// code internal/cli/command/exitcodes.go defines: 0 success, 1 failure, 2 bad input
// or usage, 3 not logged in, 4 expired and refresh failed, 5 server
// unreachable.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gatehouse-auth/gatehouse/internal/cli"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, restore the default behaviour so that a
	// second Ctrl-C kills a process that is draining or stuck.
	go func() {
		<-ctx.Done()
		stop()
	}()

	streams := command.System()
	root := cli.NewRootCmd(streams)
	err := root.ExecuteContext(ctx)
	command.PrintError(streams.ErrOut, err)
	stop()
	os.Exit(command.ExitCode(err))
}
