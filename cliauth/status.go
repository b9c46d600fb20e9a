package cliauth

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
)

// statusOptions are the flags of status.
type statusOptions struct {
	json bool
}

func (a *App) newStatusCmd() *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the logins, where they are stored and which one is in use",
		Long: `Show every profile — issuer, client, who is logged in, scopes, when the token
expires — which credentials are in use and why (flag, environment or
profile), where credentials are stored and where that choice came from, and
the environment variables that change any of it. Secrets are masked: only
'{tool} token' prints a token.

It reads local files only and makes no request. It exits with 3 when no
credentials are in use.`,
		Example: `  {tool} status
  {tool} status --json | jq .in_use`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.statusRun(cmd.Context(), &o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// statusJSON is `status --json`.
type statusJSON struct {
	ConfigFile  string          `json:"config_file"`
	InUse       inUseJSON       `json:"in_use"`
	Storage     Storage         `json:"storage"`
	Environment []envJSON       `json:"environment"`
	Profiles    []profileStatus `json:"profiles"`
}

// inUseJSON says which credentials commands use.
type inUseJSON struct {
	Source     string   `json:"source"`
	Profile    string   `json:"profile,omitempty"`
	Kind       string   `json:"kind,omitempty"`
	Issuer     string   `json:"issuer,omitempty"`
	Subject    string   `json:"subject,omitempty"`
	Username   string   `json:"username,omitempty"`
	Overridden []string `json:"overridden,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// envJSON is one environment variable that is set; secrets masked.
type envJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// profileStatus is one profile in status and profiles show.
type profileStatus struct {
	Name         string   `json:"name"`
	Default      bool     `json:"default"`
	InUse        bool     `json:"in_use"`
	Issuer       string   `json:"issuer,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	LoggedIn     bool     `json:"logged_in"`
	Kind         string   `json:"kind,omitempty"`
	Subject      string   `json:"subject,omitempty"`
	Username     string   `json:"username,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	ExpiresAt    string   `json:"expires_at,omitempty"`
	Expired      bool     `json:"expired,omitempty"`
	AccessToken  string   `json:"access_token,omitempty"`
	RefreshToken string   `json:"refresh_token,omitempty"`
	APIKey       string   `json:"api_key,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	// Binding is "dpop" when the login's tokens are bound to a key of
	// this machine (RFC 9449); DPoPJKT is that key's thumbprint.
	Binding string `json:"binding,omitempty"`
	DPoPJKT string `json:"dpop_jkt,omitempty"`

	expiry time.Time
}

// bindingDPoP is profileStatus.Binding of a DPoP-bound login.
const bindingDPoP = "dpop"

// secretEnv are the variables whose values are masked.
var secretEnv = []string{envToken, envAPIKey, envClientSecret}

func (a *App) statusRun(ctx context.Context, o *statusOptions) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, storage, err := a.openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	doc := statusJSON{ConfigFile: cfg.path, Storage: storage, Environment: a.envInForce(), Profiles: []profileStatus{}}
	r, rerr := a.resolve(ctx, cfg)
	if rerr != nil {
		doc.InUse = inUseJSON{Error: rerr.Error()}
	} else {
		doc.InUse = inUseJSON{Source: r.Source, Kind: r.Kind, Issuer: r.Issuer, Subject: r.Subject, Username: r.Username, Overridden: r.Overridden}
		if !r.fromEnv {
			doc.InUse.Profile = r.Profile
		}
	}
	names, err := a.profileList(ctx, cfg, st)
	if err != nil {
		return err
	}
	for _, n := range names {
		p, err := a.profileStatus(ctx, cfg, st, n)
		if err != nil {
			return err
		}
		p.InUse = rerr == nil && !r.fromEnv && r.Profile == n
		doc.Profiles = append(doc.Profiles, *p)
	}
	if o.json {
		if err := writeJSON(a.IO.out(), doc); err != nil {
			return err
		}
	} else {
		a.writeStatus(a.IO.out(), &doc)
	}
	switch {
	case rerr != nil:
		return rerr
	case !r.LoggedIn():
		return a.notLoggedIn(r)
	}
	return nil
}

// profileList is every profile that is configured or has a stored
// credential, sorted.
func (a *App) profileList(ctx context.Context, cfg *configFile, st credstore.Store) ([]string, error) {
	stored, err := storedProfiles(ctx, st)
	if err != nil {
		return nil, err
	}
	names := append(cfg.profileNames(), stored...)
	slices.Sort(names)
	return slices.Compact(names), nil
}

// profileStatus describes one profile, secrets masked.
func (a *App) profileStatus(ctx context.Context, cfg *configFile, st credstore.Store, name string) (*profileStatus, error) {
	p := &profileStatus{Name: name, Default: name == cfg.defaultProfile()}
	if pc := cfg.Profiles[name]; pc != nil {
		p.Issuer, p.ClientID, p.Scopes = pc.Issuer, pc.ClientID, slices.Clone(pc.Scopes)
	}
	c, err := getCredential(ctx, st, name)
	if err != nil || c == nil {
		return p, err
	}
	r := c.Redacted()
	p.LoggedIn = true
	p.Kind = firstNonEmpty(r.Kind, credstore.KindUser)
	p.Issuer = firstNonEmpty(r.Issuer, p.Issuer)
	p.ClientID = firstNonEmpty(r.ClientID, p.ClientID)
	if len(r.Scopes) > 0 {
		p.Scopes = r.Scopes
	}
	p.Subject, p.Username = r.Subject, r.Username
	p.AccessToken, p.RefreshToken, p.APIKey, p.ClientSecret = r.AccessToken, r.RefreshToken, r.APIKey, r.ClientSecret
	if c.Bound() {
		p.Binding = bindingDPoP
		if d, err := client.LoadDPoPKey(c.DPoPKey, nil); err == nil {
			p.DPoPJKT = d.Thumbprint()
		} else {
			p.DPoPJKT = "unreadable key: log in again"
		}
	}
	if !c.Expiry.IsZero() {
		p.expiry = c.Expiry
		p.ExpiresAt = c.Expiry.UTC().Format(time.RFC3339)
		p.Expired = !a.clock().Now().Before(c.Expiry)
	}
	return p, nil
}

// envInForce lists the tool's variables that are set, secrets masked.
func (a *App) envInForce() []envJSON {
	out := []envJSON{}
	for _, e := range []string{envToken, envAPIKey, envClientID, envClientSecret, envIssuer, envProfile, envAuthStorage, envConfigDir, envBrowser} {
		v := a.env(e)
		if v == "" {
			continue
		}
		if slices.Contains(secretEnv, e) {
			v = credstore.Mask(v)
		}
		out = append(out, envJSON{Name: a.envName(e), Value: v})
	}
	return out
}

// writeStatus prints the status for people.
func (a *App) writeStatus(w io.Writer, doc *statusJSON) {
	in := doc.InUse
	switch {
	case in.Error != "":
		fmt.Fprintf(w, "In use: nothing usable: %s\n", in.Error)
	case in.Kind == "":
		fmt.Fprintf(w, "In use: profile %s (%s), not logged in\n", in.Profile, in.Source)
	case in.Profile != "":
		fmt.Fprintf(w, "In use: profile %s (%s)\n", in.Profile, in.Source)
	default:
		who := firstNonEmpty(in.Username, in.Subject)
		if who != "" {
			who = " as " + who
		}
		fmt.Fprintf(w, "In use: %s from %s%s%s\n", kindLabel(in.Kind), in.Source, atIssuer(in.Issuer), who)
	}
	if len(in.Overridden) > 0 {
		fmt.Fprintf(w, "        (overriding %s)\n", strings.Join(in.Overridden, ", "))
	}

	fmt.Fprintf(w, "\nProfiles (%s):\n", doc.ConfigFile)
	if len(doc.Profiles) == 0 {
		fmt.Fprintf(w, "  none yet; run `%s login --issuer URL`\n", a.Name)
	}
	for i := range doc.Profiles {
		a.writeProfile(w, &doc.Profiles[i])
	}

	s := doc.Storage
	fmt.Fprintf(w, "\nStorage: ")
	switch {
	case s.Backend != "":
		fmt.Fprintf(w, "%s (from %s)\n", s.Backend, s.Source)
	default:
		fmt.Fprintf(w, "auto (from %s)\n", s.Source)
	}
	if s.Note != "" {
		fmt.Fprintf(w, "         %s\n", s.Note)
	}
	if len(doc.Environment) > 0 {
		fmt.Fprintln(w, "\nEnvironment:")
		for _, e := range doc.Environment {
			fmt.Fprintf(w, "  %s=%s\n", e.Name, e.Value)
		}
	}
}

// writeProfile prints one profile's block.
func (a *App) writeProfile(w io.Writer, p *profileStatus) {
	var tags []string
	if p.Default {
		tags = append(tags, "default")
	}
	if p.InUse {
		tags = append(tags, "in use")
	}
	head := "  " + p.Name
	if len(tags) > 0 {
		head += " (" + strings.Join(tags, ", ") + ")"
	}
	fmt.Fprintln(w, head)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "    %-9s %s\n", k+":", v)
		}
	}
	line("issuer", p.Issuer)
	line("client", p.ClientID)
	if !p.LoggedIn {
		fmt.Fprintf(w, "    not logged in: run `%s`\n", a.profileLoginHint(p))
		return
	}
	who := p.Username
	if p.Subject != "" && p.Subject != p.Username {
		if who != "" {
			who += " (subject " + p.Subject + ")"
		} else {
			who = p.Subject
		}
	}
	login := kindLabel(p.Kind)
	if who != "" {
		login += ", " + who
	}
	line("login", login)
	if p.Binding == bindingDPoP {
		line("binding", boundLabel+", jkt "+p.DPoPJKT)
	}
	line("scopes", strings.Join(p.Scopes, " "))
	if p.APIKey != "" {
		line("api key", p.APIKey)
	}
	if p.ClientSecret != "" {
		line("secret", p.ClientSecret)
	}
	if p.AccessToken != "" {
		tok := p.AccessToken
		switch {
		case p.ExpiresAt == "":
		case p.Expired:
			tok += fmt.Sprintf(", expired %s (%s ago)", p.ExpiresAt, roundDuration(a.clock().Now().Sub(p.expiry)))
		default:
			tok += fmt.Sprintf(", expires %s (in %s)", p.ExpiresAt, roundDuration(p.expiry.Sub(a.clock().Now())))
		}
		line("token", tok)
	}
	if p.RefreshToken != "" {
		line("refresh", p.RefreshToken+" (used when the token expires)")
	} else if p.Kind == credstore.KindUser && p.Expired {
		line("refresh", fmt.Sprintf("none: run `%s`", a.profileLoginHint(p)))
	}
}

// profileLoginHint is the command that logs in to p.
func (a *App) profileLoginHint(p *profileStatus) string {
	if p.Default {
		return a.Name + " login"
	}
	return a.Name + " login --profile " + shellQuote(p.Name)
}

// kindLabel names a kind of credential for people.
func kindLabel(kind string) string {
	switch kind {
	case credstore.KindClientCredentials:
		return "client credentials"
	case credstore.KindAPIKey:
		return "API key"
	case KindToken:
		return "bearer token"
	}
	return "user"
}

func atIssuer(issuer string) string {
	if issuer == "" {
		return ""
	}
	return " for " + issuer
}

// roundDuration shows d to the second, or the minute above an hour.
func roundDuration(d time.Duration) string {
	if d > time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}
