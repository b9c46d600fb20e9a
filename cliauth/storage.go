package cliauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/oskeyring"
)

// Storage says where credentials are kept and why there, for status.
type Storage struct {
	// Mode is keyring or file; "" when App.Store is set, or when nothing
	// has been chosen yet (storage auto before the first login).
	Mode string `json:"mode"`
	// Source is where the setting came from: "flag", "env
	// GATEHOUSE_AUTH_STORAGE", "config", "default", "auto (pinned)", or
	// "program" for App.Store.
	Source string `json:"source"`
	// Backend describes the store ("file /home/me/.config/gatehouse/credentials.json").
	Backend string `json:"backend"`
	// Note explains an automatic choice.
	Note string `json:"note,omitempty"`
}

// openStore returns the credential store the storage setting picks.
//
// With create false (commands that only read) an automatic choice that
// has not been made yet is not made now: the keyring would be probed and
// the choice written, while nothing can be stored there yet. The store is
// then nil, which reads as "nothing stored".
func (a *App) openStore(ctx context.Context, cfg *configFile, create bool) (credstore.Store, Storage, error) {
	if a.Store != nil {
		return a.Store, Storage{Source: "program", Backend: a.Store.Name()}, nil
	}
	return a.resolveStore(ctx, cfg, create, true)
}

// resolveStore is openStore for cfg's storage setting. With create, the
// store chosen is recorded in cfg.PinnedStorage (the store an automatic
// setting uses); an automatic choice made now is also written to
// config.yaml at once when persist is set.
func (a *App) resolveStore(ctx context.Context, cfg *configFile, create, persist bool) (credstore.Store, Storage, error) {
	setting := cfg.Storage
	dir, err := a.configDir()
	if err != nil {
		return nil, Storage{}, err
	}
	envSetting := a.env(envAuthStorage)
	if !create && cfg.PinnedStorage == "" {
		effective, source := setting, credstore.SourceConfig
		if envSetting != "" {
			effective, source = envSetting, credstore.SourceEnv
		}
		if effective == "" {
			source = credstore.SourceDefault
		}
		if m, err := credstore.ParseMode(effective); effective == "" || (err == nil && m == credstore.ModeAuto) {
			return nil, Storage{Source: a.storageSource(source), Note: "not chosen yet: the first login probes the keyring and falls back to a file"}, nil
		}
	}
	st, res, err := credstore.Resolve(ctx, credstore.ResolveInput{
		Env:     envSetting,
		Config:  setting,
		Pinned:  credstore.Mode(cfg.PinnedStorage),
		Dir:     dir,
		Service: a.Name,
		Keyring: oskeyring.Backend{},
		Warn:    a.warn,
		Getenv:  a.IO.getenv,
		PinAuto: func(m credstore.Mode) error {
			cfg.PinnedStorage = string(m)
			if !persist {
				return nil
			}
			return cfg.save()
		},
		Options: []credstore.Option{credstore.WithClock(a.clock())},
	})
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), credstore.EnvAuthStorage, a.envName(envAuthStorage))
		msg = strings.ReplaceAll(msg, "`gatehouse config", "`"+a.Name+" config")
		return nil, Storage{}, &Error{Code: ExitError, Msg: msg, Err: err}
	}
	if create {
		// Remember where credentials go, so that an automatic setting
		// later (from the environment, say) finds them there.
		cfg.PinnedStorage = string(res.Mode)
	}
	return st, Storage{Mode: string(res.Mode), Source: a.storageSource(res.Source), Backend: res.Backend, Note: res.Note}, nil
}

// storageSource names the storage variable with the tool's prefix.
func (a *App) storageSource(s string) string {
	if s == credstore.SourceEnv {
		return "env " + a.envName(envAuthStorage)
	}
	return s
}

// getCredential reads a profile's credential; a nil store or a missing
// credential is (nil, nil).
func getCredential(ctx context.Context, st credstore.Store, profile string) (*credstore.Credential, error) {
	if st == nil {
		return nil, nil
	}
	c, err := st.Get(ctx, profile)
	if errors.Is(err, credstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cliauth: read profile %q: %w", profile, err)
	}
	return c, nil
}

// storedProfiles lists the profiles with a stored credential; a nil store
// has none.
func storedProfiles(ctx context.Context, st credstore.Store) ([]string, error) {
	if st == nil {
		return nil, nil
	}
	names, err := st.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("cliauth: list stored credentials: %w", err)
	}
	// Elevated logins belong to their profile; they are no profiles.
	return slices.DeleteFunc(names, isElevatedSlot), nil
}
