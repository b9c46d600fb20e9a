package cliauth

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/credstore"
)

// authTimeout bounds each request to the authorization server (discovery,
// token, revocation, userinfo) when App.HTTPClient is nil.
const authTimeout = time.Minute

// App is one command-line tool's login: its name, where it keeps its files,
// which server and client it logs in with, and the seams tests replace.
// Only Name is required. An App serves one run of the command tree; build
// a new one for each.
type App struct {
	// Name is the tool's command name ("gatehouse", "mycli"): it names the
	// configuration directory and the keyring service, and appears in
	// every hint ("run `mycli login`").
	Name string
	// EnvPrefix prefixes the environment variables (EnvPrefix_TOKEN, ...);
	// empty means Name in upper case with every other character than A-Z
	// and 0-9 turned into "_".
	EnvPrefix string
	// ConfigDir holds config.yaml and the stored credentials; empty means
	// $EnvPrefix_CONFIG_DIR, else $XDG_CONFIG_HOME/Name, else
	// ~/.config/Name.
	ConfigDir string
	// DefaultIssuer is the issuer a login uses when neither --issuer,
	// EnvPrefix_ISSUER nor the profile names one; empty means one of those
	// is required.
	DefaultIssuer string
	// DefaultClientID is the public client a login uses without
	// --client-id ("gatehouse-cli" for a Gatehouse server).
	DefaultClientID string
	// DefaultScopes are requested by a user login without --scope.
	DefaultScopes []string
	// Elevations are the stronger sign-ins some commands of the tool need
	// (see Elevation); login gets a --NAME flag for each.
	Elevations []Elevation

	// IO is the process's streams and environment; its zero value is the
	// real one.
	IO IO
	// Browser opens a URL in the user's browser. Nil means the browser
	// setting or EnvPrefix_BROWSER / BROWSER (a command run with the URL),
	// else the system browser when one can open (a display, not over SSH).
	Browser func(url string) error
	// Clock tells the time; nil means clock.System.
	Clock clock.Clock
	// HTTPClient makes the requests to the authorization server, and is
	// the base of the client Client returns; nil means a client with a
	// one-minute timeout for the server and no timeout for Client.
	HTTPClient *http.Client
	// Store, when set, keeps the credentials instead of the store the
	// storage setting picks: for tests, or a tool that must not persist
	// them (credstore.NewMemory()).
	Store credstore.Store

	profile profileFlag   // --profile
	debug   bool          // --debug
	in      *bufio.Reader // stdin, shared by prompts
}

// profileFlag is the value of --profile, remembering whether it was given.
type profileFlag struct {
	name string
	set  bool
}

func (p *profileFlag) String() string { return p.name }
func (p *profileFlag) Type() string   { return "NAME" }
func (p *profileFlag) Set(s string) error {
	if err := validateProfile(s); err != nil {
		return err
	}
	p.name, p.set = s, true
	return nil
}

// Commands returns the login, logout, token, status, profiles and config
// commands, each with the --profile/-p and --debug flags, for the tool's
// root command.
func (a *App) Commands() []*cobra.Command {
	cmds := []*cobra.Command{
		a.newLoginCmd(),
		a.newLogoutCmd(),
		a.newTokenCmd(),
		a.newStatusCmd(),
		a.newProfilesCmd(),
		a.newConfigCmd(),
	}
	for _, c := range cmds {
		a.fillHelp(c)
		a.AddFlags(c)
	}
	return cmds
}

// AddFlags adds the persistent flags --profile/-p NAME and --debug to cmd,
// bound to a. Commands does it for its own commands; call it for the
// tool's commands that use Client or TokenSource.
func (a *App) AddFlags(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	if fs.Lookup("profile") == nil {
		fs.VarP(&a.profile, "profile", "p", "use the profile `NAME` (default: $"+a.envName(envProfile)+", else the default profile)")
	}
	if fs.Lookup("debug") == nil {
		fs.BoolVar(&a.debug, "debug", false, "log each request to the server on stderr (never a secret)")
	}
}

// Environment variable suffixes; see envName.
const (
	envToken        = "TOKEN"
	envAPIKey       = "API_KEY"
	envClientID     = "CLIENT_ID"
	envClientSecret = "CLIENT_SECRET"
	envIssuer       = "ISSUER"
	envProfile      = "PROFILE"
	envConfigDir    = "CONFIG_DIR"
	envAuthStorage  = "AUTH_STORAGE"
	envBrowser      = "BROWSER"
)

// envName is the full name of one of the tool's variables: "GATEHOUSE_TOKEN".
func (a *App) envName(suffix string) string {
	prefix := a.EnvPrefix
	if prefix == "" {
		prefix = strings.Map(func(r rune) rune {
			switch {
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			}
			return '_'
		}, a.Name)
	}
	return prefix + "_" + suffix
}

// env reads one of the tool's variables, surrounding space removed.
func (a *App) env(suffix string) string {
	return strings.TrimSpace(a.IO.getenv(a.envName(suffix)))
}

// configDir is where config.yaml and the credentials live.
func (a *App) configDir() (string, error) {
	if a.ConfigDir != "" {
		return a.ConfigDir, nil
	}
	if d := a.env(envConfigDir); d != "" {
		return d, nil
	}
	if x := a.IO.getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, a.Name), nil
	}
	home := a.IO.getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cliauth: no configuration directory: set %s: %w", a.envName(envConfigDir), err)
		}
		home = h
	}
	return filepath.Join(home, ".config", a.Name), nil
}

func (a *App) clock() clock.Clock {
	if a.Clock == nil {
		return clock.System
	}
	return a.Clock
}

// authClient is the HTTP client for the authorization server.
func (a *App) authClient() *http.Client {
	base := a.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: authTimeout}
	}
	return a.debugClient(base)
}

// warn prints a one-line warning on stderr.
func (a *App) warn(msg string) {
	fmt.Fprintf(a.IO.errOut(), "warning: %s\n", msg)
}

// loginHint is the command that logs in to profile: "gatehouse login" or
// "gatehouse login --profile prod".
func (a *App) loginHint(profile, defaultProfile string) string {
	if profile == "" || profile == defaultProfile || (defaultProfile == "" && profile == defaultProfileName) {
		return a.Name + " login"
	}
	return a.Name + " login --profile " + shellQuote(profile)
}

// shellQuote quotes s for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@+=,", r))
	}) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
