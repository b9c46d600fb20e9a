package credstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Mode is a storage setting: where credentials are kept.
type Mode string

// Storage modes.
const (
	// ModeAuto uses the OS keyring if it works and the file store if not,
	// deciding before anything is written and remembering the decision.
	ModeAuto Mode = "auto"
	// ModeKeyring always uses the OS keyring and fails if it is missing;
	// it never falls back to a file.
	ModeKeyring Mode = "keyring"
	// ModeFile always uses the file store.
	ModeFile Mode = "file"
)

// EnvAuthStorage is the environment variable that sets the storage mode.
const EnvAuthStorage = "GATEHOUSE_AUTH_STORAGE"

// Where a Resolution's mode came from (Resolution.Source).
const (
	SourceFlag    = "flag"
	SourceEnv     = "env " + EnvAuthStorage
	SourceConfig  = "config"
	SourceDefault = "default"
	SourcePinned  = "auto (pinned)"
)

// ErrKeyringUnavailable is returned (wrapped) by Resolve when keyring
// storage was asked for explicitly and the keyring does not work.
var ErrKeyringUnavailable = errors.New("credstore: keyring unavailable")

// ParseMode parses a storage setting: "auto", "keyring" or "file", in any
// case, surrounding spaces ignored.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case ModeAuto, ModeKeyring, ModeFile:
		return m, nil
	}
	return "", fmt.Errorf("credstore: unknown storage mode %q (want auto, keyring or file)", s)
}

// ResolveInput is what Resolve decides from.
type ResolveInput struct {
	// Flag, Env and Config are the storage setting from the command-line
	// flag, GATEHOUSE_AUTH_STORAGE and the config file; "" when unset.
	// The first one set wins; none set means auto.
	Flag, Env, Config string
	// Pinned is the concrete mode (keyring or file) an earlier auto
	// resolution chose and PinAuto persisted; when the setting is auto it
	// is used without probing again. "" when none.
	Pinned Mode
	// Dir is the directory for the file store and the keyring store's
	// encrypted data file.
	Dir string
	// Service is the keyring service name; "" means DefaultService.
	Service string
	// Keyring is where the keyring store keeps its data keys:
	// oskeyring.Backend{} for the OS keyring. Resolve returns an error
	// when it is nil, whatever the setting, so that a program without it
	// fails on its first run rather than when it first meets a keyring
	// setting.
	Keyring KeyringBackend
	// Probe checks the keyring; nil means the real check, Keyring.Probe.
	// Storage auto with the real check first looks for a D-Bus session
	// bus where the keyring needs one (Linux, the BSDs): without one it
	// uses the file store and never probes, since probing would start
	// daemons that outlive the command (see ErrNoSessionBus).
	Probe func(ctx context.Context) error
	// Getenv reads the environment for the session bus check; nil means
	// os.Getenv.
	Getenv func(string) string
	// Warn receives the one-line notice of an auto fallback to the file
	// store, and the stores' own warnings; nil drops them.
	Warn func(msg string)
	// PinAuto persists the concrete mode a fresh auto resolution chose,
	// so later runs pass it back as Pinned; nil to not persist.
	PinAuto func(mode Mode) error
	// Options are passed to the store constructors after WithWarn(Warn).
	Options []Option
}

// Resolution says which store Resolve chose and why, for `status`.
type Resolution struct {
	// Mode is the concrete mode in use: keyring or file.
	Mode Mode
	// Source is where the setting came from: SourceFlag, SourceEnv,
	// SourceConfig, SourceDefault, or SourcePinned when an earlier auto
	// choice was reused.
	Source string
	// Backend describes the store: "file /home/me/.config/gatehouse/credentials.json".
	Backend string
	// Note explains an auto decision ("keyring works", or why not); ""
	// for an explicit setting.
	Note string
}

// Resolve picks the credential store from the storage setting, highest
// precedence first: flag, GATEHOUSE_AUTH_STORAGE, config, default (auto).
//
//   - file: the File store in Dir.
//   - keyring: the Keyring store, after probing it. If the probe fails,
//     Resolve returns an error wrapping ErrKeyringUnavailable that names
//     the problem and how to switch to file storage; it never falls back.
//   - auto: the pinned choice if there is one; else probe the keyring (on
//     Linux and the BSDs only if a D-Bus session bus is there: without
//     one it is not touched, see ErrNoSessionBus) and
//     use it if it works, or fall back to the file store — before anything
//     is written — saying so through Warn ("keyring unavailable: <reason>;
//     storing credentials in <file>"). The choice is passed to PinAuto so
//     later runs do not probe again; a PinAuto error is only a warning.
//
// An unknown mode is an error.
func Resolve(ctx context.Context, r ResolveInput) (Store, Resolution, error) {
	warn := r.Warn
	if warn == nil {
		warn = func(string) {}
	}
	if r.Dir == "" {
		return nil, Resolution{}, errors.New("credstore: resolve: no credentials directory")
	}
	if r.Keyring == nil {
		return nil, Resolution{}, errors.New("credstore: resolve: no keyring backend: " +
			"set ResolveInput.Keyring to oskeyring.Backend{} (package credstore/oskeyring) for the OS keyring")
	}
	setting, source := string(ModeAuto), SourceDefault
	for _, s := range []struct{ value, source string }{
		{r.Flag, SourceFlag}, {r.Env, SourceEnv}, {r.Config, SourceConfig},
	} {
		if strings.TrimSpace(s.value) != "" {
			setting, source = s.value, s.source
			break
		}
	}
	mode, err := ParseMode(setting)
	if err != nil {
		return nil, Resolution{}, fmt.Errorf("%w (from %s)", err, source)
	}

	opts := append([]Option{WithWarn(warn)}, r.Options...)
	kr := NewKeyring(r.Keyring, r.Service, r.Dir, opts...)
	file := NewFile(r.Dir, opts...)
	probe := r.Probe
	autoProbe := probe
	if probe == nil {
		probe = kr.Probe
		getenv := r.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		autoProbe = func(ctx context.Context) error {
			if err := sessionBus(runtime.GOOS, os.Getuid(), getenv, socketExists); err != nil {
				return err
			}
			return kr.Probe(ctx)
		}
	}
	useFile := func(res Resolution) (Store, Resolution, error) {
		res.Mode, res.Backend = ModeFile, "file "+file.Path()
		return file, res, nil
	}
	useKeyring := func(res Resolution) (Store, Resolution, error) {
		res.Mode = ModeKeyring
		res.Backend = fmt.Sprintf("keyring (service %q; encrypted data in %s)", kr.Service(), kr.Path())
		return kr, res, nil
	}

	switch mode {
	case ModeFile:
		return useFile(Resolution{Source: source})
	case ModeKeyring:
		if err := probe(ctx); err != nil {
			return nil, Resolution{}, fmt.Errorf("%w: keyring storage was chosen by %s but the keyring does not work: %w; "+
				"to store credentials in %s instead, run `gatehouse config set storage file`%s",
				ErrKeyringUnavailable, source, probeFailure{err}, file.Path(), envAdvice(source))
		}
		return useKeyring(Resolution{Source: source})
	}

	// auto
	if r.Pinned != "" {
		pinned, err := ParseMode(string(r.Pinned))
		if err != nil || pinned == ModeAuto {
			return nil, Resolution{}, fmt.Errorf("credstore: pinned storage mode %q: want keyring or file", r.Pinned)
		}
		res := Resolution{Source: SourcePinned, Note: "chosen by an earlier auto probe; set storage to keyring or file to change it"}
		if pinned == ModeKeyring {
			return useKeyring(res)
		}
		return useFile(res)
	}
	var (
		st  Store
		res Resolution
	)
	if perr := autoProbe(ctx); perr != nil {
		note := fmt.Sprintf("keyring unavailable: %v; storing credentials in %s", probeFailure{perr}, file.Path())
		warn(note)
		st, res, _ = useFile(Resolution{Source: source, Note: note})
	} else {
		st, res, _ = useKeyring(Resolution{Source: source, Note: "keyring works"})
	}
	if r.PinAuto != nil {
		if err := r.PinAuto(res.Mode); err != nil {
			warn(fmt.Sprintf("credstore: could not remember the storage choice %q (the keyring will be probed again next time): %v", res.Mode, err))
		}
	}
	return st, res, nil
}

// envAdvice adds what to do when the setting came from the environment,
// which overrides the config file.
func envAdvice(source string) string {
	switch source {
	case SourceEnv:
		return " and unset " + EnvAuthStorage + " (or set it to file)"
	case SourceFlag:
		return ", or pass file to the storage flag"
	}
	return ""
}

// probeFailure shows a probe error without Keyring.Probe's own prefix,
// which the surrounding message already says, and still unwraps to it.
type probeFailure struct{ err error }

func (p probeFailure) Error() string { return strings.TrimPrefix(p.err.Error(), probePrefix) }
func (p probeFailure) Unwrap() error { return p.err }
