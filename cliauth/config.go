package cliauth

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/credstore"
)

// Settings of `config get|set|list`.
const (
	keyStorage        = "storage"
	keyBrowser        = "browser"
	keyDefaultProfile = "default_profile"
	keyRedirectPorts  = "redirect_ports"
)

var settingKeys = []string{keyStorage, keyBrowser, keyDefaultProfile, keyRedirectPorts}

// A Setting is a setting of the tool itself, kept in config.yaml with
// cliauth's own and managed by the same `config` commands.
type Setting struct {
	// Name is the key (lower case, digits and '_').
	Name string
	// Help describes it in `config --help`.
	Help string
	// Values, when set, are what shell completion offers for it.
	Values []string
	// Check, when set, refuses a value (an empty value resets and is not
	// checked); its error is shown as it is.
	Check func(string) error
}

// allKeys are cliauth's settings and the tool's.
func (a *App) allKeys() []string {
	keys := slices.Clone(settingKeys)
	for _, s := range a.Settings {
		keys = append(keys, s.Name)
	}
	return keys
}

// toolSetting is the tool's setting called name, or nil.
func (a *App) toolSetting(name string) *Setting {
	for i := range a.Settings {
		if a.Settings[i].Name == name {
			return &a.Settings[i]
		}
	}
	return nil
}

// Setting returns the value of the tool's setting name ("" when unset or
// when config.yaml cannot be read).
func (a *App) Setting(name string) string {
	cfg, err := a.loadConfig()
	if err != nil {
		return ""
	}
	return cfg.Settings[name]
}

// settingValues are the values completion offers for key.
func (a *App) settingValues(key string) []string {
	switch key {
	case keyStorage:
		return []string{string(credstore.ModeAuto), string(credstore.ModeKeyring), string(credstore.ModeFile)}
	case keyBrowser:
		return []string{"none"}
	}
	if s := a.toolSetting(key); s != nil {
		return s.Values
	}
	return nil
}

func (a *App) newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and change settings",
		Long: `Settings, kept in config.yaml in the configuration directory:

  storage          where credentials are kept: auto (the OS keyring if it works,
                   else a file; the choice is remembered), keyring or file.
                   Changing it moves the stored credentials; no new login.
                   ${PREFIX}_AUTH_STORAGE overrides it.
  browser          the command that opens the login page (run with the URL), or
                   "none" to always sign in with a code; empty means the system
                   browser. ${PREFIX}_BROWSER overrides it, $BROWSER comes after it.
  default_profile  the profile used without --profile or ${PREFIX}_PROFILE.
  redirect_ports   loopback ports for the browser login, tried in order
                   (comma-separated); empty means a random free port.`,
		Example: `  {tool} config list
  {tool} config set storage file
  {tool} config set browser "firefox --new-window"
  {tool} config set redirect_ports 8085,8086
  {tool} config get storage
  {tool} config refresh --all`,
	}
	for _, s := range a.Settings {
		cmd.Long += fmt.Sprintf("\n  %-16s %s", s.Name, s.Help)
	}
	group(cmd)
	keys := func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return a.allKeys(), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	keyThenValue := func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		switch len(args) {
		case 0:
			return a.allKeys(), cobra.ShellCompDirectiveNoFileComp
		case 1:
			return a.settingValues(args[0]), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Show every setting",
		Long:  "Show every setting as KEY=VALUE, defaults included; see '{tool} config --help'.",
		Example: `  {tool} config list
  {tool} config list --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.configListRun(cmd.Context(), asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(
		&cobra.Command{
			Use:               "get KEY",
			Short:             "Print one setting",
			Long:              "Print one setting: " + strings.Join(a.allKeys(), ", ") + ".",
			Example:           "  {tool} config get storage",
			Args:              exactArgs(1, "one KEY: "+strings.Join(a.allKeys(), ", ")),
			ValidArgsFunction: keys,
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.configGetRun(args[0])
			},
		},
		&cobra.Command{
			Use:   "set KEY VALUE",
			Short: "Change one setting (an empty VALUE resets it)",
			Long: `Change one setting; an empty VALUE resets it to its default. Changing storage
moves the stored credentials to the new store; nobody has to log in again.`,
			Example: `  {tool} config set storage keyring
  {tool} config set browser none
  {tool} config set redirect_ports ""`,
			Args:              exactArgs(2, "KEY and VALUE"),
			ValidArgsFunction: keyThenValue,
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.configSetRun(cmd.Context(), args[0], args[1])
			},
		},
		list,
		a.newConfigRefreshCmd(),
	)
	return cmd
}

// settings returns cliauth's settings of cfg and the tool's.
func (a *App) settings(cfg *configFile) map[string]string {
	m := settings(cfg)
	for _, s := range a.Settings {
		m[s.Name] = cfg.Settings[s.Name]
	}
	return m
}

// settings returns cliauth's settings of cfg.
func settings(cfg *configFile) map[string]string {
	ports := make([]string, len(cfg.RedirectPorts))
	for i, p := range cfg.RedirectPorts {
		ports[i] = strconv.Itoa(p)
	}
	return map[string]string{
		keyStorage:        firstNonEmpty(cfg.Storage, string(credstore.ModeAuto)),
		keyBrowser:        cfg.Browser,
		keyDefaultProfile: cfg.defaultProfile(),
		keyRedirectPorts:  strings.Join(ports, ","),
	}
}

func (a *App) checkKey(key string) error {
	if !slices.Contains(a.allKeys(), key) {
		return usageErrorf("unknown setting %q; the settings are %s", key, strings.Join(a.allKeys(), ", "))
	}
	return nil
}

func (a *App) configGetRun(key string) error {
	if err := a.checkKey(key); err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.IO.out(), a.settings(cfg)[key])
	return err
}

func (a *App) configListRun(ctx context.Context, asJSON bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	s := a.settings(cfg)
	if asJSON {
		doc := map[string]any{}
		for k, v := range s {
			doc[k] = v
		}
		doc[keyRedirectPorts] = append([]int{}, cfg.RedirectPorts...)
		doc["pinned_storage"] = cfg.PinnedStorage
		return writeJSON(a.IO.out(), doc)
	}
	w := a.IO.out()
	for _, k := range a.allKeys() {
		fmt.Fprintf(w, "%s=%s\n", k, s[k])
	}
	if cfg.PinnedStorage != "" {
		fmt.Fprintf(w, "# credentials are kept in %s storage (pinned_storage)\n", cfg.PinnedStorage)
	}
	return nil
}

func (a *App) configSetRun(ctx context.Context, key, value string) error {
	if err := a.checkKey(key); err != nil {
		return err
	}
	value = strings.TrimSpace(value)
	if s := a.toolSetting(key); s != nil {
		return a.setToolSetting(s, value)
	}
	switch key {
	case keyStorage:
		return a.setStorage(ctx, value)
	case keyDefaultProfile:
		if value == "" {
			value = defaultProfileName
		}
		return a.setDefaultProfile(ctx, value)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	switch key {
	case keyBrowser:
		cfg.Browser = value
	case keyRedirectPorts:
		ports, err := parsePorts(value)
		if err != nil {
			return err
		}
		cfg.RedirectPorts = ports
	}
	if err := cfg.save(); err != nil {
		return err
	}
	fmt.Fprintf(a.IO.errOut(), "%s=%s\n", key, settings(cfg)[key])
	return nil
}

// parsePorts reads "8085,8086" (or spaces); "" is none.
func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 || p > 65535 {
			return nil, usageErrorf("redirect_ports: %q is not a TCP port (1-65535)", f)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// setStorage changes the storage setting and moves the stored
// credentials to the new store (credstore.Migrate), so nobody has to log
// in again. Nothing changes if the new store cannot be used or the move
// fails.
func (a *App) setStorage(ctx context.Context, value string) error {
	if a.Store != nil {
		return usageErrorf("%s keeps credentials in its own store; the storage setting does not apply", a.Name)
	}
	if value == "" {
		value = string(credstore.ModeAuto)
	}
	mode, err := credstore.ParseMode(value)
	if err != nil {
		return usageErrorf("storage: %v", err)
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	w := a.IO.errOut()
	if env := a.env(envAuthStorage); env != "" {
		cfg.Storage = string(mode)
		if err := cfg.save(); err != nil {
			return err
		}
		a.warn(fmt.Sprintf("storage=%s is saved, but %s=%s overrides it, so no credentials were moved; unset %[2]s to use the setting", mode, a.envName(envAuthStorage), env))
		return nil
	}
	from, _, err := a.openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	next := *cfg
	next.Storage, next.PinnedStorage = string(mode), ""
	to, info, err := a.resolveStore(ctx, &next, true, false)
	if err != nil {
		return err
	}
	var moved []string
	if from != nil {
		if moved, err = credstore.Migrate(ctx, from, to); err != nil {
			return fmt.Errorf("cliauth: move the credentials (nothing was changed): %w", err)
		}
	}
	if err := next.save(); err != nil {
		return err
	}
	fmt.Fprintf(w, "storage=%s: credentials are kept in %s.\n", mode, info.Backend)
	switch len(moved) {
	case 0:
	case 1:
		fmt.Fprintf(w, "Moved the login of profile %s.\n", moved[0])
	default:
		fmt.Fprintf(w, "Moved the logins of profiles %s.\n", strings.Join(moved, ", "))
	}
	return nil
}

// setToolSetting checks and saves a value of the tool's setting s ("" is
// a reset).
func (a *App) setToolSetting(s *Setting, value string) error {
	if value != "" && s.Check != nil {
		if err := s.Check(value); err != nil {
			return usageErrorf("%s: %v", s.Name, err)
		}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if value == "" {
		delete(cfg.Settings, s.Name)
	} else {
		if cfg.Settings == nil {
			cfg.Settings = map[string]string{}
		}
		cfg.Settings[s.Name] = value
	}
	if err := cfg.save(); err != nil {
		return err
	}
	fmt.Fprintf(a.IO.errOut(), "%s=%s\n", s.Name, value)
	return nil
}
