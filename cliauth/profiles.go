package cliauth

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
)

func (a *App) newProfilesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profiles",
		Short: "Manage named profiles",
		Long: `A profile is a named login: which server (issuer) and client it logs in with,
its scopes, and its stored credentials. '{tool} login --profile NAME' creates
one and logs in; 'profiles add' configures one without logging in (or, with
--client-secret-stdin, stores a machine client's secret). The default profile
is used when neither --profile nor ${PREFIX}_PROFILE names one.`,
		Example: `  {tool} profiles list
  {tool} profiles add prod --issuer https://auth.prod.example.com
  {tool} profiles use prod
  printf '%s\n' "$SECRET" | {tool} profiles add ci --issuer https://auth.example.com --client-id ci --client-secret-stdin`,
	}
	group(cmd)
	cmd.AddCommand(a.newProfilesListCmd(), a.newProfilesShowCmd(), a.newProfilesAddCmd(), a.newProfilesUseCmd(), a.newProfilesRemoveCmd())
	return cmd
}

func (a *App) newProfilesListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the profiles",
		Long: `List every profile that is configured or has stored credentials: its issuer
and who is logged in. The default profile is marked with *.`,
		Example: `  {tool} profiles list
  {tool} profiles list --json | jq -r '.[] | select(.logged_in) | .name'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.profilesListRun(cmd.Context(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *App) profilesListRun(ctx context.Context, asJSON bool) error {
	cfg, st, err := a.configAndStore(ctx)
	if err != nil {
		return err
	}
	names, err := a.profileList(ctx, cfg, st)
	if err != nil {
		return err
	}
	list := []profileStatus{}
	inUse := a.profileInUse(cfg)
	for _, n := range names {
		p, err := a.profileStatus(ctx, cfg, st, n)
		if err != nil {
			return err
		}
		p.InUse = n == inUse
		list = append(list, *p)
	}
	if asJSON {
		return writeJSON(a.IO.out(), list)
	}
	if len(list) == 0 {
		fmt.Fprintf(a.IO.errOut(), "No profiles yet; run `%s login --issuer URL`.\n", a.Name)
		return nil
	}
	tw := tabwriter.NewWriter(a.IO.out(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tISSUER\tLOGIN")
	for _, p := range list {
		mark := " "
		if p.Default {
			mark = "*"
		}
		login := "-"
		if p.LoggedIn {
			login = kindLabel(p.Kind)
			if who := firstNonEmpty(p.Username, p.Subject); who != "" {
				login += " " + who
			}
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\n", mark, p.Name, p.Issuer, login)
	}
	return tw.Flush()
}

// profileInUse is the profile whose credentials a command would use now:
// the one --profile, the environment or the default names, unless
// credentials in the environment take precedence (as in resolve); then
// none, "".
func (a *App) profileInUse(cfg *configFile) string {
	name, _ := a.selectProfile(cfg)
	if a.profile.set {
		return name
	}
	for _, e := range []string{envToken, envAPIKey, envClientID} {
		if a.env(e) != "" {
			return ""
		}
	}
	return name
}

func (a *App) newProfilesShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show one profile (default: the one in use)",
		Long: `Show a profile's issuer, client, scopes, who is logged in and when the token
expires. Secrets are masked.`,
		Example: `  {tool} profiles show
  {tool} profiles show prod --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("%s wants at most one profile name", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			return a.profilesShowRun(cmd.Context(), name, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *App) profilesShowRun(ctx context.Context, name string, asJSON bool) error {
	cfg, st, err := a.configAndStore(ctx)
	if err != nil {
		return err
	}
	if name == "" {
		name, _ = a.selectProfile(cfg)
	}
	p, err := a.profileStatus(ctx, cfg, st, name)
	if err != nil {
		return err
	}
	if cfg.Profiles[name] == nil && !p.LoggedIn {
		return usageErrorf("no profile %q; see `%s profiles list`", name, a.Name)
	}
	if asJSON {
		return writeJSON(a.IO.out(), p)
	}
	a.writeProfile(a.IO.out(), p)
	return nil
}

// profilesAddOptions are the flags of profiles add.
type profilesAddOptions struct {
	issuer      string
	clientID    string
	scopes      []string
	secretStdin bool
}

func (a *App) newProfilesAddCmd() *cobra.Command {
	var o profilesAddOptions
	cmd := &cobra.Command{
		Use:   "add NAME --issuer URL [--client-id ID] [--client-secret-stdin] [--scope S]...",
		Short: "Add or change a profile without logging in",
		Long: `Configure a profile: its issuer, client and scopes. No request is made; the
next 'login --profile NAME' uses them.

With --client-secret-stdin the profile is a machine client (client
credentials): the secret, read from the first line of stdin, is stored with
the other credentials, and tokens are fetched with it when needed.`,
		Example: `  {tool} profiles add prod --issuer https://auth.prod.example.com --scope openid --scope offline_access
  printf '%s\n' "$SECRET" | {tool} profiles add ci --issuer https://auth.example.com --client-id ci --client-secret-stdin`,
		Args: exactArgs(1, "one profile NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.profilesAddRun(cmd.Context(), args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "the authorization server's issuer `URL` (required)")
	f.StringVar(&o.clientID, "client-id", "", "the OAuth client `ID` (default "+quoteOr(a.DefaultClientID, "none")+")")
	f.StringArrayVar(&o.scopes, "scope", nil, "a `scope` to ask for; repeat it")
	f.BoolVar(&o.secretStdin, "client-secret-stdin", false, "store a client secret read from stdin (client credentials)")
	return cmd
}

func (a *App) profilesAddRun(ctx context.Context, name string, o *profilesAddOptions) error {
	if err := validateProfile(name); err != nil {
		return usageErrorf("%v", err)
	}
	issuer, err := normalizeIssuer(o.issuer)
	if err != nil {
		return usageErrorf("--issuer: %v", err)
	}
	if issuer == "" {
		return usageErrorf("--issuer URL is required")
	}
	clientID := firstNonEmpty(o.clientID, a.DefaultClientID)
	if o.secretStdin && o.clientID == "" {
		return usageErrorf("--client-secret-stdin needs --client-id: the machine client's id")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	p := profileConfig{Issuer: issuer, ClientID: clientID, Scopes: splitScopes(o.scopes)}
	if o.secretStdin {
		secret, err := a.IO.readSecret(ctx, "client secret")
		if err != nil {
			return usageErrorf("--client-secret-stdin: %v", err)
		}
		st, _, err := a.openStore(ctx, cfg, true)
		if err != nil {
			return err
		}
		cc := &client.Config{Issuer: issuer, ClientID: clientID, ClientSecret: secret, Scopes: p.Scopes, Clock: a.clock()}
		if err := st.Put(ctx, name, cc.ClientCredential()); err != nil {
			return fmt.Errorf("cliauth: store the client secret: %w", err)
		}
	}
	_, existed := cfg.Profiles[name]
	cfg.setProfile(name, p)
	if cfg.DefaultProfile == "" && len(cfg.Profiles) == 1 {
		cfg.DefaultProfile = name
	}
	if err := cfg.save(); err != nil {
		return err
	}
	verb := "Added"
	if existed {
		verb = "Updated"
	}
	fmt.Fprintf(a.IO.errOut(), "%s profile %s (%s).\n", verb, name, issuer)
	if !o.secretStdin {
		fmt.Fprintf(a.IO.errOut(), "Log in with `%s login --profile %s`.\n", a.Name, shellQuote(name))
	}
	return nil
}

func (a *App) newProfilesUseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make a profile the default",
		Long: `Make NAME the default profile: the one used without --profile or
${PREFIX}_PROFILE.`,
		Example: `  {tool} profiles use prod`,
		Args:    exactArgs(1, "one profile NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.setDefaultProfile(cmd.Context(), args[0])
		},
	}
}

// setDefaultProfile makes name the default profile; it must exist.
func (a *App) setDefaultProfile(ctx context.Context, name string) error {
	cfg, st, err := a.configAndStore(ctx)
	if err != nil {
		return err
	}
	if cfg.Profiles[name] == nil {
		if c, err := getCredential(ctx, st, name); err != nil || c == nil {
			return usageErrorf("no profile %q; see `%s profiles list`, or create it with `%s login --profile %s`", name, a.Name, a.Name, shellQuote(name))
		}
	}
	cfg.DefaultProfile = name
	if err := cfg.save(); err != nil {
		return err
	}
	fmt.Fprintf(a.IO.errOut(), "Default profile: %s.\n", name)
	if p := a.env(envProfile); p != "" && p != name {
		a.warn(fmt.Sprintf("%s=%s is set and selects that profile instead", a.envName(envProfile), p))
	}
	return nil
}

func (a *App) newProfilesRemoveCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "remove NAME",
		Aliases: []string{"rm"},
		Short:   "Remove a profile and its stored credentials",
		Long: `Remove a profile's settings and its stored credentials from this machine. The
tokens are not revoked: run 'logout --profile NAME' first for that.`,
		Example: `  {tool} logout --profile old && {tool} profiles remove old`,
		Args:    exactArgs(1, "one profile NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.profilesRemoveRun(cmd.Context(), args[0])
		},
	}
}

func (a *App) profilesRemoveRun(ctx context.Context, name string) error {
	cfg, st, err := a.configAndStore(ctx)
	if err != nil {
		return err
	}
	cred, err := getCredential(ctx, st, name)
	if err != nil {
		return err
	}
	if cfg.Profiles[name] == nil && cred == nil {
		return usageErrorf("no profile %q; see `%s profiles list`", name, a.Name)
	}
	if cred != nil {
		if err := st.Delete(ctx, name); err != nil {
			return fmt.Errorf("cliauth: remove the credentials of profile %q: %w", name, err)
		}
	}
	delete(cfg.Profiles, name)
	if cfg.DefaultProfile == name {
		cfg.DefaultProfile = ""
	}
	if err := cfg.save(); err != nil {
		return err
	}
	fmt.Fprintf(a.IO.errOut(), "Removed profile %s.\n", name)
	if cred != nil && cred.Kind != credstore.KindAPIKey {
		fmt.Fprintln(a.IO.errOut(), "Its tokens were not revoked; they stay valid until they expire.")
	}
	return nil
}

// configAndStore loads the configuration and opens the store for
// reading.
func (a *App) configAndStore(ctx context.Context) (*configFile, credstore.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	st, _, err := a.openStore(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}
