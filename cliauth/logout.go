package cliauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
)

// revokeTimeout bounds discovery and revocation during logout, so that a
// server that does not answer never keeps the local logout from happening.
const revokeTimeout = 15 * time.Second

// logoutOptions are the flags of logout.
type logoutOptions struct {
	all bool
}

func (a *App) newLogoutCmd() *cobra.Command {
	var o logoutOptions
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the stored login and remove it",
		Long: `Revoke the stored login's refresh and access tokens at the server (RFC 7009)
and remove the credentials from this machine. If the server cannot be
reached or refuses, the local credentials are removed anyway and the command
says so: the tokens then stay valid until they expire.

Without --profile or --all it logs out of the profile in use; on a terminal
with several stored logins it asks which. The profile's settings (issuer,
client) stay, so the next '{tool} login' needs no flags.`,
		Example: `  {tool} logout
  {tool} logout --profile prod
  {tool} logout --all`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.logoutRun(cmd.Context(), &o)
		},
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "log out of every profile")
	return cmd
}

func (a *App) logoutRun(ctx context.Context, o *logoutOptions) error {
	if o.all && a.profile.set {
		return usageErrorf("--all and --profile exclude each other")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, _, err := a.openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	stored, err := storedProfiles(ctx, st)
	if err != nil {
		return err
	}
	current, _ := a.selectProfile(cfg)
	var targets []string
	switch {
	case o.all:
		targets = stored
	case a.profile.set:
		targets = []string{a.profile.name}
	case len(stored) > 1 && a.IO.isTTY():
		if targets, err = a.pickProfiles(ctx, st, stored, current); err != nil {
			return err
		}
	default:
		targets = []string{current}
	}
	w := a.IO.errOut()
	if len(targets) == 0 {
		fmt.Fprintln(w, "Not logged in; nothing to do.")
		return nil
	}
	for _, name := range targets {
		if err := a.logoutProfile(ctx, st, name); err != nil {
			return err
		}
	}
	for _, e := range []string{envToken, envAPIKey, envClientID} {
		if a.env(e) != "" {
			fmt.Fprintf(w, "Note: %s is still set and is used before any stored login.\n", a.envName(e))
		}
	}
	return nil
}

// logoutProfile revokes and removes one profile's credentials. The local
// removal happens even when the revocation fails.
func (a *App) logoutProfile(ctx context.Context, st credstore.Store, name string) error {
	w := a.IO.errOut()
	cred, err := getCredential(ctx, st, name)
	if err != nil {
		return err
	}
	if cred == nil {
		fmt.Fprintf(w, "Not logged in (profile %s); nothing to do.\n", name)
		return a.logoutElevated(ctx, st, name)
	}
	revokeErr := a.revokeCredential(ctx, cred)
	if err := st.Delete(ctx, name); err != nil {
		return fmt.Errorf("cliauth: remove the credentials of profile %q: %w", name, err)
	}
	if err := a.logoutElevated(ctx, st, name); err != nil {
		return err
	}
	switch {
	case cred.Kind == credstore.KindAPIKey:
		fmt.Fprintf(w, "Removed the API key %s of profile %s from this machine. The key itself still works until it is revoked on the server.\n", credstore.Mask(cred.APIKey), name)
	case revokeErr != nil:
		a.warn(fmt.Sprintf("could not revoke the tokens at %s: %v; they stay valid until they expire", cred.Issuer, a.explain(revokeErr, "", "", cred.Issuer)))
		fmt.Fprintf(w, "Removed the credentials of profile %s from this machine.\n", name)
	default:
		fmt.Fprintf(w, "Logged out of %s (profile %s): the tokens are revoked and removed from this machine.\n", cred.Issuer, name)
	}
	return nil
}

// revokeCredential revokes a credential's refresh token, then its access
// token. An API key is a server-side object: it is not revoked here.
func (a *App) revokeCredential(ctx context.Context, cred *credstore.Credential) error {
	if cred.Kind == credstore.KindAPIKey || (cred.RefreshToken == "" && cred.AccessToken == "") {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	md, err := client.Discover(ctx, a.authClient(), cred.Issuer)
	if err != nil {
		return err
	}
	if md.RevocationEndpoint == "" {
		return errors.New("the server has no revocation endpoint")
	}
	// RFC 7009 §2.1: revoking the refresh token should end the grant and
	// its access tokens too; the access token is revoked as well for
	// servers that do not.
	var errs []error
	if cred.RefreshToken != "" {
		errs = append(errs, a.revoke(ctx, md, cred.ClientID, cred.ClientSecret, cred.RefreshToken, "refresh_token"))
	}
	if cred.AccessToken != "" {
		errs = append(errs, a.revoke(ctx, md, cred.ClientID, cred.ClientSecret, cred.AccessToken, "access_token"))
	}
	return errors.Join(errs...)
}
