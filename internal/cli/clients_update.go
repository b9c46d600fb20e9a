package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/clientreg"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

type clientsUpdateOptions struct {
	IO    IOStreams
	Admin *adminEnv
	// API, when set, is used instead of Admin (the admin API).
	API    *adminAPI
	Server string

	ID string
	// TerminalLogin is the new terminal sign-in setting; nil leaves it.
	TerminalLogin *bool
	JSON          bool
}

func newClientsUpdateCmd(streams IOStreams) *cobra.Command {
	opts := &clientsUpdateOptions{IO: streams}
	var on, off bool
	cmd := &cobra.Command{
		Use:   "update ID (--terminal-login | --no-terminal-login)",
		Short: "Change a client's settings",
		Long: `Change settings of the client with this ID.

--terminal-login lets the client sign users in at a terminal with their
username, password and, when they have one, a code from their authenticator
app: the OAuth password grant (RFC 6749 §4.3) that '` + "gatehouse login --terminal" + `'
uses. It is off for every client by default, because RFC 9700 §2.4 forbids
the password grant: the password is typed into a program instead of the
server's own page, so the sign-in is not phishing-resistant and cannot use
anything but a password and a code. Turn it on only for a first-party
client of your own (third-party clients are refused), for people who cannot
use a browser or a second device. The server's rate limits, audit events,
MFA and disabled-account rules apply as on the sign-in page.
--no-terminal-login turns it off again.` + adminCommandLong + adminAPILong,
		Example: `  # Let 'gatehouse login --terminal' sign in with the built-in CLI client
  gatehouse clients update gatehouse-cli --terminal-login

  # Turn it off again
  gatehouse clients update gatehouse-cli --no-terminal-login

  # Over the admin API of a running server
  gatehouse clients update gatehouse-cli --terminal-login --server https://auth.example.com`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			switch {
			case on && off:
				return usageErrorf("--terminal-login and --no-terminal-login exclude each other")
			case on:
				opts.TerminalLogin = new(true)
			case off:
				opts.TerminalLogin = new(false)
			default:
				return usageErrorf("nothing to change: give --terminal-login or --no-terminal-login")
			}
			return runAdminOrAPI(cmd, streams, opts.Server, func(ctx context.Context, api *adminAPI, env *adminEnv) error {
				opts.API, opts.Admin = api, env
				return clientsUpdateRun(ctx, opts)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&on, "terminal-login", false, "allow terminal sign-in (the password grant) for this first-party client")
	f.BoolVar(&off, "no-terminal-login", false, "refuse terminal sign-in for this client (the default)")
	f.BoolVar(&opts.JSON, "json", false, "print the updated client as JSON")
	addServerFlag(cmd, &opts.Server)
	return cmd
}

func clientsUpdateRun(ctx context.Context, opts *clientsUpdateOptions) error {
	if opts.API != nil {
		c, err := opts.API.updateClient(ctx, opts.ID, map[string]any{"terminal_login": *opts.TerminalLogin})
		if apiStatus(err, http.StatusBadRequest) {
			return usageErrorf("client %q: %v", opts.ID, err)
		}
		if err != nil {
			return apiClientError(opts.ID, err)
		}
		return printUpdatedClient(opts, c)
	}
	env := opts.Admin
	c, ev, changed, err := server.SetClientTerminalLogin(ctx, env.Store, env.now(), opts.ID, *opts.TerminalLogin)
	switch {
	case errors.Is(err, server.ErrClientNotFound):
		return fmt.Errorf("client %q not found; see 'gatehouse clients list'", opts.ID)
	case errors.Is(err, clientreg.ErrTerminalLoginThirdParty):
		return usageErrorf("client %q: %v", opts.ID, err)
	case err != nil:
		return fmt.Errorf("update client %q: %w", opts.ID, err)
	}
	if changed {
		env.log(ev)
	}
	return printUpdatedClient(opts, c)
}

func printUpdatedClient(opts *clientsUpdateOptions, c *storage.Client) error {
	if opts.JSON {
		return writeJSON(opts.IO.Out, toClientJSON(c))
	}
	state := "off"
	if c.TerminalLogin {
		state = fmt.Sprintf("on: `gatehouse login --terminal --client-id %s` may sign in with a password", c.ID)
	}
	_, err := fmt.Fprintf(opts.IO.Out, "Client %q: terminal sign-in %s.\n", c.ID, state)
	return err
}
