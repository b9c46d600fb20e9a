package cliauth

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
)

// Kinds of credentials in force (Resolved.Kind), besides the credstore
// kinds user, client_credentials and api_key.
const (
	// KindToken is a bearer token from the environment (EnvPrefix_TOKEN).
	KindToken = "token"
)

// sourceDefaultProfile is Resolved.Source for the default profile.
const sourceDefaultProfile = "default profile"

// Resolved says which credentials are in force and where they come from.
type Resolved struct {
	// Source is where they come from, highest precedence first: "flag
	// --profile", "env GATEHOUSE_TOKEN", "env GATEHOUSE_API_KEY", "env
	// GATEHOUSE_CLIENT_ID", "env GATEHOUSE_PROFILE" or "default profile"
	// (with the tool's own prefix).
	Source string `json:"source"`
	// Profile is the profile whose stored login is used; for the
	// environment sources it is the profile that would be used otherwise.
	Profile string `json:"profile"`
	// Kind is user, client_credentials, api_key (credstore's kinds) or
	// token (KindToken); "" when the profile has no stored credential.
	Kind string `json:"kind,omitempty"`
	// Issuer is the authorization server. Relative URLs of the tool's
	// requests resolve against it.
	Issuer   string `json:"issuer,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	// APIHosts are the profile's api_hosts: hosts besides the issuer's
	// origin that the tool may send the token to.
	APIHosts []string `json:"api_hosts,omitempty"`
	// Subject and Username say who is logged in, when known.
	Subject  string   `json:"subject,omitempty"`
	Username string   `json:"username,omitempty"`
	Scopes   []string `json:"scopes,omitempty"`
	// Storage is where the profile's credentials are kept.
	Storage Storage `json:"storage"`
	// Overridden lists the lower-precedence sources that are also
	// present and not used ("env GATEHOUSE_PROFILE", "profile default").
	Overridden []string `json:"overridden,omitempty"`

	fromEnv bool
	secret  string // the token, key or client secret from the environment
	store   credstore.Store
	cred    *credstore.Credential
	cfg     *configFile
}

// LoggedIn reports whether there are credentials to use.
func (r *Resolved) LoggedIn() bool { return r.Kind != "" }

// Resolve finds the credentials in force without using them: it reads
// the environment, config.yaml and the stored credential, and makes no
// request.
func (a *App) Resolve(ctx context.Context) (*Resolved, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	return a.resolve(ctx, cfg)
}

func (a *App) resolve(ctx context.Context, cfg *configFile) (*Resolved, error) {
	profile, profileSource := a.selectProfile(cfg)
	r := &Resolved{Profile: profile, cfg: cfg}
	// The environment's credentials, highest precedence first.
	type envCred struct{ name, kind string }
	var present []envCred
	for _, e := range []envCred{{envToken, KindToken}, {envAPIKey, credstore.KindAPIKey}, {envClientID, credstore.KindClientCredentials}} {
		if a.env(e.name) != "" {
			present = append(present, e)
		}
	}
	if a.profile.set || len(present) == 0 {
		r.Source = profileSource
		if err := a.resolveProfile(ctx, r); err != nil {
			return nil, err
		}
		for _, e := range present {
			r.Overridden = append(r.Overridden, "env "+a.envName(e.name))
		}
		return r, nil
	}

	r.fromEnv = true
	r.Source, r.Kind = "env "+a.envName(present[0].name), present[0].kind
	for _, e := range present[1:] {
		r.Overridden = append(r.Overridden, "env "+a.envName(e.name))
	}
	r.Overridden = append(r.Overridden, profileSource)
	// The profile that would be used otherwise supplies the issuer.
	p := cfg.Profiles[profile]
	r.Issuer = a.env(envIssuer)
	if r.Issuer == "" && p != nil {
		// Its api_hosts go with its issuer, never with another one.
		r.Issuer, r.APIHosts = p.Issuer, slices.Clone(p.APIHosts)
	}
	if r.Issuer == "" {
		r.Issuer = a.DefaultIssuer
	}
	switch r.Kind {
	case KindToken:
		r.secret = a.env(envToken)
	case credstore.KindAPIKey:
		r.secret = a.env(envAPIKey)
	case credstore.KindClientCredentials:
		r.ClientID = a.env(envClientID)
		r.secret = a.env(envClientSecret)
		if r.secret == "" {
			return nil, usageErrorf("%s is set but %s is empty; set both for client credentials, or unset %[1]s",
				a.envName(envClientID), a.envName(envClientSecret))
		}
		if r.Issuer == "" {
			return nil, usageErrorf("%s is set but no issuer is known; set %s to the authorization server's URL",
				a.envName(envClientID), a.envName(envIssuer))
		}
		r.Subject = r.ClientID
	}
	return r, nil
}

// selectProfile is the profile named by --profile, else EnvPrefix_PROFILE,
// else the default one, and the Source that names the choice.
func (a *App) selectProfile(cfg *configFile) (name, source string) {
	if a.profile.set {
		return a.profile.name, "flag --profile"
	}
	if p := a.env(envProfile); p != "" {
		return p, "env " + a.envName(envProfile)
	}
	return cfg.defaultProfile(), sourceDefaultProfile
}

// resolveProfile fills r from the profile's configuration and stored
// credential.
func (a *App) resolveProfile(ctx context.Context, r *Resolved) error {
	if err := validateProfile(r.Profile); err != nil {
		return usageErrorf("profile: %v", err)
	}
	st, info, err := a.openStore(ctx, r.cfg, false)
	if err != nil {
		return err
	}
	r.store, r.Storage = st, info
	if p := r.cfg.Profiles[r.Profile]; p != nil {
		r.Issuer, r.ClientID, r.Scopes = p.Issuer, p.ClientID, slices.Clone(p.Scopes)
		r.APIHosts = slices.Clone(p.APIHosts)
	}
	cred, err := getCredential(ctx, st, r.Profile)
	if err != nil {
		return err
	}
	if cred == nil {
		return nil
	}
	r.cred = cred
	r.Kind = cred.Kind
	if r.Kind == "" {
		r.Kind = credstore.KindUser
	}
	if cred.Issuer != "" {
		r.Issuer = cred.Issuer
	}
	if cred.ClientID != "" {
		r.ClientID = cred.ClientID
	}
	if len(cred.Scopes) > 0 {
		r.Scopes = slices.Clone(cred.Scopes)
	}
	r.Subject, r.Username = cred.Subject, cred.Username
	if r.Kind == credstore.KindClientCredentials && r.Subject == "" {
		r.Subject = r.ClientID
	}
	return nil
}

// notLoggedIn is the error for r without credentials.
func (a *App) notLoggedIn(r *Resolved) error {
	return a.explain(fmt.Errorf("cliauth: profile %q: %w", r.Profile, client.ErrNotLoggedIn), r.Profile, r.cfg.defaultProfile(), r.Issuer)
}

// TokenSource returns a token source for the credentials in force, and
// what they are. It fails at once, with ExitNotLoggedIn, when there are
// none. The source refreshes a stored login when it needs to (once across
// processes), replaces a token the server rejected (client.Invalidator,
// which client.Transport uses), and returns errors as *Error with the
// exit code and the next step.
func (a *App) TokenSource(ctx context.Context) (oauth2.TokenSource, *Resolved, error) {
	r, err := a.Resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	s, err := a.source(r)
	if err != nil {
		return nil, nil, err
	}
	return s, r, nil
}

// Client returns an *http.Client whose requests carry the credentials in
// force (see TokenSource): a 401 answer makes it refresh once and retry.
// It is App.HTTPClient (or a client without timeout) with an authorizing
// transport, and it does not follow a redirect to another origin (scheme,
// host and port), so that the token never goes anywhere else: that
// redirect comes back as the response.
func (a *App) Client(ctx context.Context) (*http.Client, *Resolved, error) {
	ts, r, err := a.TokenSource(ctx)
	if err != nil {
		return nil, nil, err
	}
	return a.authorizedClient(ts), r, nil
}

// authorizedClient is an *http.Client whose requests carry ts's tokens and
// that follows no redirect to another origin (see Client).
func (a *App) authorizedClient(ts oauth2.TokenSource) *http.Client {
	base := a.HTTPClient
	if base == nil {
		base = &http.Client{}
	}
	hc := client.NewHTTPClient(ts, a.debugClient(base))
	next := base.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if req.URL.Scheme != first.Scheme || !strings.EqualFold(req.URL.Host, first.Host) {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return fmt.Errorf("stopped after 10 redirects")
		}
		return nil
	}
	return hc
}

// source builds the token source of r.
func (a *App) source(r *Resolved) (*source, error) {
	s := &source{app: a, res: r}
	switch {
	case r.Kind == "":
		return nil, a.notLoggedIn(r)
	case r.Kind == KindToken:
		s.ts = client.StaticToken(r.secret)
	case r.Kind == credstore.KindAPIKey && r.fromEnv:
		s.ts = client.APIKey(r.secret)
	case r.Kind == credstore.KindClientCredentials && r.fromEnv:
		cc := &client.Config{Issuer: r.Issuer, ClientID: r.ClientID, ClientSecret: r.secret, HTTPClient: a.authClient(), Clock: a.clock()}
		s.ts = cc.ClientCredentialsSource()
	default:
		ts, err := client.NewTokenSource(client.TokenSourceOptions{
			Store:      r.store,
			Profile:    r.Profile,
			HTTPClient: a.authClient(),
			Clock:      a.clock(),
			Logger:     a.logger(),
			// The issuer is unreachable but the cached token still
			// works: use it, say so once, and what to do if it lasts.
			Warn: func(err error, until time.Time) {
				a.warn(fmt.Sprintf("cannot reach %s to refresh the token (%v); using the cached token, valid until %s. If this persists, check the network or run `%s`",
					r.Issuer, err, until.UTC().Format(time.RFC3339), a.loginHint(r.Profile, r.cfg.defaultProfile())))
			},
		})
		if err != nil {
			return nil, err
		}
		s.stored = ts
		s.ts = ts
	}
	return s, nil
}

// source is the token source TokenSource returns: the library's source
// for r, with errors explained.
type source struct {
	app    *App
	res    *Resolved
	ts     oauth2.TokenSource
	stored *client.TokenSource // for a stored login
}

var _ client.Invalidator = (*source)(nil)

// Token implements oauth2.TokenSource.
func (s *source) Token() (*oauth2.Token, error) { return s.TokenContext(context.Background()) }

// TokenContext returns a token valid for at least client.DefaultMinTTL.
func (s *source) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return s.withMinTTL(ctx, client.DefaultMinTTL)
}

// withMinTTL returns a token valid for more than minTTL where the source
// can renew it, refreshing first if needed.
func (s *source) withMinTTL(ctx context.Context, minTTL time.Duration) (*oauth2.Token, error) {
	if s.stored != nil {
		return s.wrap(s.stored.TokenWithMinTTL(ctx, minTTL))
	}
	if cs, ok := s.ts.(interface {
		TokenContext(context.Context) (*oauth2.Token, error)
	}); ok {
		return s.wrap(cs.TokenContext(ctx))
	}
	return s.wrap(s.ts.Token())
}

// forceRefresh renews the token even if it is still valid, adopting one a
// peer process obtained meanwhile (client.TokenSource.ForceRefresh).
// Environment credentials have nothing stored to renew: a bearer token or
// API key comes back as it is; client credentials fetch a new token
// anyway, since nothing is cached across processes.
func (s *source) forceRefresh(ctx context.Context) (*oauth2.Token, error) {
	if s.stored != nil {
		return s.wrap(s.stored.ForceRefresh(ctx))
	}
	return s.withMinTTL(ctx, client.DefaultMinTTL)
}

// Invalidate implements client.Invalidator.
func (s *source) Invalidate(ctx context.Context, rejected string) (*oauth2.Token, error) {
	if inv, ok := s.ts.(client.Invalidator); ok {
		return s.wrap(inv.Invalidate(ctx, rejected))
	}
	return s.wrap(s.ts.Token())
}

func (s *source) wrap(tok *oauth2.Token, err error) (*oauth2.Token, error) {
	if err != nil {
		profile := s.res.Profile
		if s.res.fromEnv {
			profile = ""
		}
		return nil, s.app.explain(err, profile, s.res.cfg.defaultProfile(), s.res.Issuer)
	}
	return tok, nil
}
