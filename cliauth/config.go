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
  {tool} config get storage`,
	}
	group(cmd)
	keys := cobra.FixedCompletions(settingKeys, cobra.ShellCompDirectiveNoFileComp)
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
			Long:              "Print one setting: " + strings.Join(settingKeys, ", ") + ".",
			Example:           "  {tool} config get storage",
			Args:              exactArgs(1, "one KEY: "+strings.Join(settingKeys, ", ")),
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
			ValidArgsFunction: keys,
			RunE: func(cmd *cobra.Command, args []string) error {
				return a.configSetRun(cmd.Context(), args[0], args[1])
			},
		},
		list,
	)
	return cmd
}

// settings returns the settings of cfg, in settingKeys order.
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

func checkKey(key string) error {
	if !slices.Contains(settingKeys, key) {
		return usageErrorf("unknown setting %q; the settings are %s", key, strings.Join(settingKeys, ", "))
	}
	return nil
}

func (a *App) configGetRun(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.IO.out(), settings(cfg)[key])
	return err
}

func (a *App) configListRun(ctx context.Context, asJSON bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	s := settings(cfg)
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
	for _, k := range settingKeys {
		fmt.Fprintf(w, "%s=%s\n", k, s[k])
	}
	if cfg.PinnedStorage != "" {
		fmt.Fprintf(w, "# credentials are kept in %s storage (pinned_storage)\n", cfg.PinnedStorage)
	}
	return nil
}

func (a *App) configSetRun(ctx context.Context, key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	value = strings.TrimSpace(value)
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
