// Command mycli shows a Go command-line tool that embeds Gatehouse's login
// under its own name: `mycli login`, `mycli token`, `mycli status`, ...,
// with MYCLI_* environment variables and ~/.config/mycli, plus one command
// of its own (`mycli whoami`) that calls an API with the stored login.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/cliauth"
)

func main() {
	app := &cliauth.App{
		Name:            "mycli",
		EnvPrefix:       "MYCLI",
		DefaultIssuer:   "http://127.0.0.1:8080", // a local `gatehouse server`
		DefaultClientID: "gatehouse-cli",
		DefaultScopes:   []string{"openid", "profile", "offline_access"},
	}
	root := &cobra.Command{Use: "mycli", Short: "An example tool with a Gatehouse login", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(app.Commands()...)

	whoami := &cobra.Command{
		Use:   "whoami",
		Short: "Ask the server who the stored login is",
		RunE: func(cmd *cobra.Command, _ []string) error {
			hc, res, err := app.Client(cmd.Context())
			if err != nil {
				return err
			}
			resp, err := hc.Get(res.Issuer + "/oauth2/userinfo")
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(cmd.OutOrStdout(), resp.Body)
			return err
		},
	}
	app.AddFlags(whoami)
	root.AddCommand(whoami)

	// Ctrl-C cancels the command's context: a login in progress stops cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := root.ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mycli:", err)
		os.Exit(cliauth.ExitCode(err))
	}
}
