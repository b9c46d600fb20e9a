package admincmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/cli/adminbackend"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// ClientsUpdateOptions are the streams, the backend and the flag values of `gatehouse clients update`.
type ClientsUpdateOptions struct {
	IO command.IOStreams
	// Backend is the database or the admin API (adminbackend.Run).
	Backend adminbackend.Backend
	Server  string

	ID string
	// Settings are the changes; a nil member stays as it is.
	Settings admin.ClientSettings
	JSON     bool
}

// NewCmdClientsUpdate is `gatehouse clients update`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdClientsUpdate(f *command.Factory, runF func(*ClientsUpdateOptions) error) *cobra.Command {
	opts := &ClientsUpdateOptions{IO: f.IOStreams}
	var requirePAR, dpopRequired, terminalOn, terminalOff bool
	cmd := &cobra.Command{
		Use:   "update ID [--require-par[=false]] [--dpop-required[=false]] [--terminal-login | --no-terminal-login]",
		Short: "Change a client's settings",
		Long: `Change the settings of the client with this ID that can change without
registering it again; the ones you do not name stay as they are.

--require-par makes the server accept only pushed authorization requests
from the client (RFC 9126 PAR): /oauth2/authorize then refuses a request
that was not first POSTed to /oauth2/par. --require-par=false accepts both
again. The server-wide authorize.require_pushed_authorization_requests
setting applies to every client whatever this says.

--dpop-required makes the token endpoint refuse the client's requests
without a DPoP proof (RFC 9449): every access token it gets is then bound
to its key (token_type DPoP), and useless to whoever copies it without the
key. --dpop-required=false lets it get bearer tokens again. Tokens already
issued keep their binding.

--terminal-login lets the client sign users in at a terminal with their
username, password and, when they have one, a code from their authenticator
app: the OAuth password grant (RFC 6749 §4.3) that 'gatehouse login --terminal'
uses. It is off for every client by default, because RFC 9700 §2.4 forbids
the password grant: the password is typed into a program instead of the
server's own page, so the sign-in is not phishing-resistant and cannot use
anything but a password and a code. Turn it on only for a first-party
client of your own (third-party clients are refused), for people who cannot
use a browser or a second device. The server's rate limits, audit events,
MFA and disabled-account rules apply as on the sign-in page.
--no-terminal-login turns it off again.` + adminbackend.DatabaseHelp + adminbackend.TargetHelp,
		Example: `  # Accept only pushed authorization requests from portal
  gatehouse clients update portal --require-par

  # Bind every token of batch to its key, and print the result as JSON
  gatehouse clients update batch --dpop-required --json

  # Let 'gatehouse login --terminal' sign in with the built-in CLI client
  gatehouse clients update gatehouse-cli --terminal-login

  # Turn it off again, over the admin API of a running server
  gatehouse clients update gatehouse-cli --no-terminal-login --server https://auth.example.com`,
		Args: command.UsageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			flags := cmd.Flags()
			if flags.Changed("require-par") {
				opts.Settings.RequirePAR = &requirePAR
			}
			if flags.Changed("dpop-required") {
				opts.Settings.DPoPRequired = &dpopRequired
			}
			switch {
			case terminalOn && terminalOff:
				return command.UsageErrorf("--terminal-login and --no-terminal-login exclude each other")
			case terminalOn:
				opts.Settings.TerminalLogin = new(true)
			case terminalOff:
				opts.Settings.TerminalLogin = new(false)
			}
			if opts.Settings.Empty() {
				return command.UsageErrorf("nothing to change: give --require-par[=false], --dpop-required[=false], --terminal-login or --no-terminal-login")
			}
			if runF != nil {
				return runF(opts)
			}
			return adminbackend.Run(cmd, f, opts.Server, func(ctx context.Context, b adminbackend.Backend) error {
				opts.Backend = b
				return clientsUpdateRun(ctx, opts)
			})
		},
	}
	flags := cmd.Flags()
	flags.BoolVar(&requirePAR, "require-par", false, "accept only pushed authorization requests (RFC 9126 PAR) from the client; =false to accept both")
	flags.BoolVar(&dpopRequired, "dpop-required", false, "refuse the client's token requests without a DPoP proof (RFC 9449); =false to allow bearer tokens again")
	flags.BoolVar(&terminalOn, "terminal-login", false, "allow terminal sign-in (the password grant) for this first-party client")
	flags.BoolVar(&terminalOff, "no-terminal-login", false, "refuse terminal sign-in for this client (the default)")
	flags.BoolVar(&opts.JSON, "json", false, "print the changed client as JSON (as 'clients show --json')")
	adminbackend.AddServerFlag(cmd, &opts.Server)
	return cmd
}

func clientsUpdateRun(ctx context.Context, opts *ClientsUpdateOptions) error {
	c, err := opts.Backend.UpdateClient(ctx, opts.ID, opts.Settings)
	if err != nil {
		return clientError(opts.ID, "update", err)
	}
	return printUpdatedClient(opts, c)
}

// printUpdatedClient says what the named settings of c are now.
func printUpdatedClient(opts *ClientsUpdateOptions, c *storage.Client) error {
	if opts.JSON {
		return writeJSON(opts.IO.Out, toClientJSON(c))
	}
	var lines []string
	if opts.Settings.RequirePAR != nil {
		state := "now accepts authorization requests sent in full or pushed"
		if c.RequirePAR {
			state = "now accepts only pushed authorization requests (PAR)"
		}
		lines = append(lines, state)
	}
	if opts.Settings.DPoPRequired != nil {
		state := "may now get bearer tokens (DPoP is optional)"
		if c.DPoPRequired {
			state = "must now send a DPoP proof with every token request"
		}
		lines = append(lines, state)
	}
	if opts.Settings.TerminalLogin != nil {
		state := "terminal sign-in off"
		if c.TerminalLogin {
			state = fmt.Sprintf("terminal sign-in on: `gatehouse login --terminal --client-id %s` may sign in with a password", c.ID)
		}
		lines = append(lines, state)
	}
	for _, l := range lines {
		if _, err := fmt.Fprintf(opts.IO.Out, "Client %q: %s.\n", c.ID, l); err != nil {
			return err
		}
	}
	return nil
}
