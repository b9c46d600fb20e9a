package cliauth

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// loginOptions are the flags of login.
type loginOptions struct {
	issuer            string
	clientID          string
	scopes            []string
	setDefault        bool
	device            bool
	clientCredentials bool
	secretStdin       bool
	withAPIKey        bool
	terminal          bool
	resources         []string
	dpop              bool
	noDPoP            bool
	// elevation names the Elevation this login is for ("" for the
	// profile's everyday login); elevated are the --NAME flags.
	elevation string
	elevated  map[string]*bool
}

func (a *App) newLoginCmd() *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in and store the credentials",
		Long: `Log in to an authorization server and store the result in a profile, so that
every later command is authorized without a token in sight.

The browser opens at the server's sign-in page (authorization code flow with
PKCE, answered on http://127.0.0.1 at a random port or one of the
redirect_ports). Where no browser can open (no display, an SSH session, the
browser setting is "none") and on --device, it signs in with a code instead:
open the printed URL on any device (or scan the QR code) and enter the code.
Without a terminal and without a browser it stops at once and says what to
run instead; --device then prints the URL and code and waits.

--terminal signs in without a browser, by typing the username, the password
(not echoed) and, when the account has one, a code from the authenticator
app. The server refuses it unless an admin enabled terminal sign-in for the
client (` + "`gatehouse clients update CLIENT --terminal-login`" + `): the password
is typed into this program instead of the server's own page, so it is not
phishing-resistant. Prefer the browser or --device where they work. When
stdin is not a terminal, the answers are read from stdin, one a line
(username, password, then the code if asked), without prompts.

--client-credentials logs a machine client in with its secret, read from the
first line of stdin (--client-secret-stdin) or ${PREFIX}_CLIENT_SECRET.
--with-api-key stores an API key read from stdin.

The issuer is checked by discovery before anything is sent to it. The login
goes to the profile named by --profile or ${PREFIX}_PROFILE, else the default
profile; its issuer, client and scopes are remembered for the next login.

Where the server supports DPoP (RFC 9449: its metadata lists
dpop_signing_alg_values_supported with ES256), a user or client-credentials
login is bound to a key pair made for the profile on this machine and kept in
its credential storage: the server accepts its tokens only with a proof signed
by that key, so a refresh or access token copied off this machine (from a
backup, a log, a shell history) is useless without it. With the OS keyring the
key is sealed there like the tokens, and copying ~/.config is not enough; with
the file storage it is in credentials.json (0600): guard that file like an SSH
key. '{tool} api' and the tool's own
requests make the proofs; '{tool} token --output header --url URL' prints
both headers for curl. Tools that only take a bearer token (kubectl,
git) cannot use a bound login: give them a profile logged in with --no-dpop,
which is remembered for the profile's next logins (--dpop binds again).`,
		Example: `  # The first time: name the server
  {tool} login --issuer https://auth.example.com

  # A second server in its own profile, made the default
  {tool} login --profile prod --issuer https://auth.prod.example.com --set-default

  # On a machine without a browser
  {tool} login --device

  # Without a browser or a second device, when the server allows it
  {tool} login --terminal

  # The same from a script (username, password and code on stdin)
  printf '%s\n%s\n%s\n' "$USER_NAME" "$PASSWORD" "$CODE" | {tool} login --terminal

  # CI: a machine client
  printf '%s\n' "$SECRET" | {tool} login --client-credentials --client-id ci --client-secret-stdin

  # A bearer login for kubectl or git, which cannot make DPoP proofs
  {tool} login --profile kube --no-dpop`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.loginRun(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.issuer, "issuer", "", "the authorization server's issuer `URL`")
	f.StringVar(&o.clientID, "client-id", "", "the OAuth client `ID` (default: the profile's, else "+quoteOr(a.DefaultClientID, "none")+")")
	f.StringArrayVar(&o.scopes, "scope", nil, "a `scope` to ask for; repeat it, or separate scopes with spaces (default: the profile's)")
	f.BoolVar(&o.setDefault, "set-default", false, "make the profile the default one")
	f.BoolVar(&o.device, "device", false, "sign in with a code on another device instead of a browser here")
	f.BoolVar(&o.terminal, "terminal", false, "sign in here with username, password and authenticator code (only where the server allows it for the client)")
	f.BoolVar(&o.clientCredentials, "client-credentials", false, "log in as a machine client with its client secret")
	f.BoolVar(&o.secretStdin, "client-secret-stdin", false, "read the client secret from the first line of stdin")
	f.BoolVar(&o.withAPIKey, "with-api-key", false, "store an API key read from stdin")
	f.BoolVar(&o.noDPoP, "no-dpop", false, "do not bind the login to a key of this machine (DPoP): bearer tokens, for tools that cannot make proofs; remembered for the profile")
	f.BoolVar(&o.dpop, "dpop", false, "bind the login to a key of this machine (DPoP), even if the profile's last login used --no-dpop; fails if the server does not support it")
	f.StringArrayVar(&o.resources, "resource", nil, "a resource `URI` (RFC 8707) the tokens are for; repeat for several (default: the profile's, else the server's default audience for the client)")
	o.elevated = map[string]*bool{}
	for _, el := range a.Elevations {
		o.elevated[el.Name] = f.Bool(el.Name, false, fmt.Sprintf("sign in for %s as well, stored apart from the everyday login (scopes %s)", el.Purpose, strings.Join(el.Scopes, " ")))
	}
	return cmd
}

// login flows.
const (
	flowBrowser = iota
	flowDevice
	flowClientCredentials
	flowAPIKey
	flowTerminal
)

func (o *loginOptions) flow() (int, error) {
	n := 0
	flow := flowBrowser
	for _, f := range []struct {
		on   bool
		flow int
	}{{o.device, flowDevice}, {o.clientCredentials, flowClientCredentials}, {o.withAPIKey, flowAPIKey}, {o.terminal, flowTerminal}} {
		if f.on {
			n++
			flow = f.flow
		}
	}
	if n > 1 {
		return 0, usageErrorf("--device, --terminal, --client-credentials and --with-api-key exclude each other")
	}
	if o.secretStdin && flow != flowClientCredentials {
		return 0, usageErrorf("--client-secret-stdin goes with --client-credentials")
	}
	if o.dpop && o.noDPoP {
		return 0, usageErrorf("--dpop and --no-dpop exclude each other")
	}
	if (o.dpop || o.noDPoP) && flow == flowAPIKey {
		return 0, usageErrorf("--with-api-key stores a bearer credential: --dpop and --no-dpop do not apply to it")
	}
	return flow, nil
}

// loginTarget is what a login logs in to and where it stores the result.
type loginTarget struct {
	profile   string
	issuer    string
	clientID  string
	scopes    []string
	resources []string
	secret    string // client secret or API key
	// noDPoP is the profile's remembered --no-dpop (same issuer).
	noDPoP bool
}

func (a *App) loginRun(ctx context.Context, o *loginOptions) error {
	for name, on := range o.elevated {
		if *on {
			if o.elevation != "" {
				return usageErrorf("--%s and --%s exclude each other: log in for one at a time", o.elevation, name)
			}
			o.elevation = name
		}
	}
	flow, err := o.flow()
	if err != nil {
		return err
	}
	var el *Elevation
	if o.elevation != "" {
		if el, err = a.elevation(o.elevation); err != nil {
			return err
		}
		if flow == flowClientCredentials || flow == flowAPIKey {
			return usageErrorf("--%s is a user sign-in (browser, --device or --terminal); client credentials and API keys are given their access on the server", el.Name)
		}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	t, err := a.loginTarget(ctx, cfg, o, flow)
	if err != nil {
		return err
	}

	// Decide on the browser before anything slow: a run that nobody can
	// complete ends now, not after a timeout (no hanging in CI).
	var open func(string) error
	if flow == flowBrowser {
		var why string
		if open, why = a.browserOpener(ctx, cfg); open == nil {
			if !a.IO.isTTY() {
				return a.headlessError(o, t, why)
			}
			fmt.Fprintf(a.IO.errOut(), "No browser can open here (%s); signing in with a code instead.\n", why)
			flow = flowDevice
		}
	}

	st, _, err := a.openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	md, err := client.Discover(ctx, a.authClient(), t.issuer)
	if err != nil {
		return a.explain(err, t.profile, cfg.defaultProfile(), t.issuer)
	}
	// The server's own spelling of the issuer (a bare origin may end in
	// "/", as Hydra's and Auth0's do): tokens are compared with it.
	t.issuer = md.Issuer
	cc := &client.Config{
		Issuer: t.issuer, Metadata: md, ClientID: t.clientID, Scopes: t.scopes, Resources: t.resources,
		HTTPClient: a.authClient(), Clock: a.clock(),
	}
	if flow != flowAPIKey {
		if cc.DPoP, err = a.loginDPoP(o, t, md); err != nil {
			return err
		}
	}
	storeAs := t.profile
	if el != nil {
		// The elevated login: the profile's scopes and the elevation's,
		// for the elevation's resource alone, stored beside the profile.
		cc.Scopes = withScopes(t.scopes, el.Scopes)
		cc.Resources = []string{el.Resource(t.issuer)}
		storeAs = elevatedProfile(t.profile, el.Name)
	}
	var cred *credstore.Credential
	switch flow {
	case flowClientCredentials:
		cc.ClientSecret = t.secret
		cred, err = a.loginClientCredentials(ctx, cc)
	case flowAPIKey:
		cred, err = a.loginAPIKey(ctx, md, t.secret)
	case flowTerminal:
		cred, err = a.loginTerminal(ctx, cc)
	default:
		cred, err = a.loginUser(ctx, cc, cfg, o, t, flow, open)
	}
	if err != nil {
		if cancelled(ctx, err) {
			return &Error{Code: ExitError, Msg: "login cancelled; nothing was stored", Err: err}
		}
		if cc.DPoP == nil && flow != flowAPIKey && errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidDPoPProof}) {
			// A client registered as DPoP-required, and a login that
			// did not bind (--no-dpop, given or remembered).
			return &Error{Code: ExitUsage, Err: err, Msg: fmt.Sprintf(
				"the server requires DPoP for client %q (%v); log in with --dpop to bind the login to this machine's key", t.clientID, err)}
		}
		return a.explain(err, t.profile, cfg.defaultProfile(), t.issuer)
	}

	if cc.DPoP != nil && !cred.Bound() {
		a.warn(fmt.Sprintf("%s answered with bearer tokens although it announces DPoP; the login is stored unbound", t.issuer))
	}
	replaced, _ := getCredential(ctx, st, storeAs)
	if err := st.Put(ctx, storeAs, cred); err != nil {
		return fmt.Errorf("cliauth: store the login: %w", err)
	}
	a.revokeReplaced(ctx, md, replaced, cred)
	if el != nil {
		if prof := cfg.Profiles[t.profile]; prof == nil || prof.Issuer != t.issuer {
			cfg.setProfile(t.profile, profileConfig{Issuer: t.issuer, ClientID: t.clientID, Scopes: t.scopes, Resources: t.resources, NoDPoP: t.noDPoP})
			if err := cfg.save(); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.IO.errOut(), "Signed in to %s %s for %s (profile %s); your everyday login is unchanged.\n", t.issuer, describeLogin(cred), el.Purpose, t.profile)
		a.describeBinding(cred)
		return nil
	}
	p := profileConfig{Issuer: t.issuer, ClientID: t.clientID, Scopes: t.scopes, Resources: t.resources, NoDPoP: t.noDPoP}
	if prev := cfg.Profiles[t.profile]; prev != nil && prev.Issuer == t.issuer {
		p.APIHosts = prev.APIHosts // set by hand, for this issuer: a new login keeps them
	}
	if flow == flowAPIKey {
		p.ClientID, p.Scopes = "", nil
	}
	if o.setDefault || (cfg.DefaultProfile == "" && len(cfg.Profiles) == 0) {
		cfg.DefaultProfile = t.profile
	}
	cfg.setProfile(t.profile, p)
	if err := cfg.save(); err != nil {
		return err
	}
	fmt.Fprintf(a.IO.errOut(), "Logged in to %s %s (profile %s).\n", t.issuer, describeLogin(cred), t.profile)
	a.describeBinding(cred)
	a.shadowWarnings(cfg, t.profile)
	return nil
}

// loginTarget works out the profile, issuer, client and scopes of a login
// from the flags, the environment, the profile and the tool's defaults,
// and reads the secret the flow needs from stdin or the environment.
func (a *App) loginTarget(ctx context.Context, cfg *configFile, o *loginOptions, flow int) (*loginTarget, error) {
	name, _ := a.selectProfile(cfg)
	if err := validateProfile(name); err != nil {
		return nil, usageErrorf("profile: %v", err)
	}
	t := &loginTarget{profile: name}
	prof := cfg.Profiles[name]
	var err error
	for _, candidate := range []string{o.issuer, a.env(envIssuer), profileIssuer(prof), a.DefaultIssuer} {
		if candidate != "" {
			if t.issuer, err = normalizeIssuer(candidate); err != nil {
				return nil, usageErrorf("%v", err)
			}
			break
		}
	}
	if t.issuer == "" {
		return nil, usageErrorf("no issuer to log in to: pass --issuer URL (the authorization server), or set %s", a.envName(envIssuer))
	}
	// The profile's client and scopes belong to its issuer.
	same := prof != nil && prof.Issuer == t.issuer
	// --no-dpop is remembered until --dpop.
	t.noDPoP = o.noDPoP || (same && prof.NoDPoP && !o.dpop)
	t.scopes = splitScopes(o.scopes)
	switch flow {
	case flowAPIKey:
		if t.secret, err = a.IO.readSecret(ctx, "API key"); err != nil {
			return nil, usageErrorf("--with-api-key: %v; pipe the key in: printf '%%s\\n' \"$KEY\" | %s login --with-api-key", err, a.Name)
		}
		return t, nil
	case flowClientCredentials:
		t.clientID = firstNonEmpty(o.clientID, a.env(envClientID))
		if t.clientID == "" && same {
			t.clientID = prof.ClientID
		}
		if t.clientID == "" {
			return nil, usageErrorf("--client-credentials needs the client: pass --client-id ID or set %s", a.envName(envClientID))
		}
		if o.secretStdin {
			if t.secret, err = a.IO.readSecret(ctx, "client secret"); err != nil {
				return nil, usageErrorf("--client-secret-stdin: %v", err)
			}
		} else if t.secret = a.env(envClientSecret); t.secret == "" {
			return nil, usageErrorf("no client secret: pass --client-secret-stdin and the secret on stdin, or set %s", a.envName(envClientSecret))
		}
		if len(t.scopes) == 0 && same {
			t.scopes = prof.Scopes
		}
		t.resources = o.resources
		if len(t.resources) == 0 && same {
			t.resources = prof.Resources
		}
		return t, nil
	}
	t.clientID = o.clientID
	if t.clientID == "" && same {
		t.clientID = prof.ClientID
	}
	if t.clientID == "" {
		t.clientID = a.DefaultClientID
	}
	if t.clientID == "" {
		return nil, usageErrorf("no client to log in with: pass --client-id ID")
	}
	if len(t.scopes) == 0 && same {
		t.scopes = prof.Scopes
	}
	if len(t.scopes) == 0 {
		t.scopes = append([]string(nil), a.DefaultScopes...)
	}
	t.resources = o.resources
	if len(t.resources) == 0 && same {
		t.resources = prof.Resources
	}
	return t, nil
}

// splitScopes accepts repeated --scope flags and space- or comma-separated
// lists in one.
func splitScopes(in []string) []string {
	var out []string
	for _, s := range in {
		out = append(out, strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })...)
	}
	return out
}

func profileIssuer(p *profileConfig) string {
	if p == nil {
		return ""
	}
	return p.Issuer
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
