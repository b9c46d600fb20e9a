package cliauth

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func (a *App) newConfigRefreshCmd() *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "refresh [--all]",
		Short: "Re-read the discovery document of the profile's server",
		Long: `Read the discovery document (RFC 8414, OpenID Connect Discovery) of the
server of the profile in use again — or of every profile with --all — and
say what each server offers now: browser login (pushed, RFC 9126, or not),
device login, revocation. A server that cannot be reached, or whose
document names another issuer, is reported with what to do; the exit
status is then 1 (5 when none could be reached). Nothing is cached between
commands, so every login already reads the current document: this is the
way to check the profiles after a server moved or changed.`,
		Example: `  {tool} config refresh
  {tool} config refresh --all
  {tool} config refresh --all --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.configRefreshRun(cmd.Context(), all, asJSON)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every profile, not only the one in use")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// refreshJSON is one profile's line of `config refresh --json`.
type refreshJSON struct {
	Profile string `json:"profile"`
	Issuer  string `json:"issuer"`
	OK      bool   `json:"ok"`
	// Offers lists what the server's document offers: browser, par,
	// device, revocation.
	Offers []string `json:"offers,omitempty"`
	Error  string   `json:"error,omitempty"`
}

func (a *App) configRefreshRun(ctx context.Context, all, asJSON bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	var names []string
	if all {
		for name := range cfg.Profiles {
			names = append(names, name)
		}
		slices.Sort(names)
		if len(names) == 0 {
			return usageErrorf("no profiles are configured; run `%s login --issuer URL` first", a.Name)
		}
	} else {
		name, source := a.selectProfile(cfg)
		if cfg.Profiles[name] == nil {
			return usageErrorf("profile %q (%s) is not configured; see `%s profiles list`, or use --all", name, source, a.Name)
		}
		names = []string{name}
	}
	results := make([]refreshJSON, 0, len(names))
	failed, unreached := 0, 0
	for _, name := range names {
		p := cfg.Profiles[name]
		r := refreshJSON{Profile: name, Issuer: p.Issuer}
		md, err := client.Discover(ctx, a.authClient(), p.Issuer)
		if err != nil {
			failed++
			err = a.explain(err, name, cfg.defaultProfile(), p.Issuer)
			if ExitCode(err) == ExitUnreachable {
				unreached++
			}
			r.Error = err.Error()
		} else {
			r.OK, r.Offers = true, offers(md)
		}
		results = append(results, r)
	}
	if asJSON {
		if err := writeJSON(a.IO.out(), results); err != nil {
			return err
		}
	} else {
		w := a.IO.out()
		for _, r := range results {
			if r.OK {
				fmt.Fprintf(w, "%s: %s: ok, offers %s\n", r.Profile, r.Issuer, strings.Join(r.Offers, ", "))
			} else {
				fmt.Fprintf(w, "%s: %s: %s\n", r.Profile, r.Issuer, r.Error)
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case unreached == len(names):
		return &Error{Code: ExitUnreachable, Err: fmt.Errorf("no server could be reached"), Msg: "no server could be reached; check the addresses and your network"}
	}
	return &Error{Code: ExitError, Err: fmt.Errorf("%d of %d profiles failed", failed, len(names)),
		Msg: fmt.Sprintf("%d of %d profiles failed; see above", failed, len(names))}
}

// offers names what md offers a CLI.
func offers(md *protocol.Metadata) []string {
	var out []string
	if md.AuthorizationEndpoint != "" {
		out = append(out, "browser login")
	}
	if md.PushedAuthorizationRequestEndpoint != "" {
		out = append(out, "pushed authorization requests")
	}
	if md.DeviceAuthorizationEndpoint != "" {
		out = append(out, "device login")
	}
	if md.RevocationEndpoint != "" {
		out = append(out, "revocation")
	}
	return out
}
