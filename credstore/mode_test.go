package credstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/oskeyring"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]credstore.Mode{
		"auto": credstore.ModeAuto, "keyring": credstore.ModeKeyring, "file": credstore.ModeFile,
		" KEYRING ": credstore.ModeKeyring, "File": credstore.ModeFile,
	} {
		if got, err := credstore.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "vault", "files", "keychain"} {
		if got, err := credstore.ParseMode(in); err == nil {
			t.Errorf("ParseMode(%q) = %q, want an error", in, got)
		}
	}
}

// resolveCase is one storage setting and what Resolve must make of it.
type resolveCase struct {
	name                string
	flag, env, config   string
	pinned              credstore.Mode
	probeErr            error
	pinErr              error
	wantMode            credstore.Mode
	wantSource          string
	wantProbe, wantPin  bool
	wantWarn            []string // substrings of the one warning; nil: no warning
	wantErr             error
	wantErrText         []string
	wantNoteContains    string
	wantBackendContains string
}

func TestResolve(t *testing.T) {
	unavailable := errors.New("the name org.freedesktop.secrets was not provided by any .service files")
	cases := []resolveCase{
		{name: "default auto, keyring works", wantMode: credstore.ModeKeyring, wantSource: "default",
			wantProbe: true, wantPin: true, wantNoteContains: "keyring works", wantBackendContains: "keyring"},
		{name: "default auto, no keyring", probeErr: unavailable, wantMode: credstore.ModeFile, wantSource: "default",
			wantProbe: true, wantPin: true,
			wantWarn:         []string{"keyring unavailable: ", unavailable.Error(), "; storing credentials in ", credstore.FileName},
			wantNoteContains: "keyring unavailable", wantBackendContains: credstore.FileName},
		{name: "flag beats env and config", flag: "file", env: "keyring", config: "keyring",
			wantMode: credstore.ModeFile, wantSource: "flag"},
		{name: "env beats config", env: "file", config: "keyring", wantMode: credstore.ModeFile,
			wantSource: "env GATEHOUSE_AUTH_STORAGE"},
		{name: "config", config: "keyring", wantMode: credstore.ModeKeyring, wantSource: "config", wantProbe: true},
		{name: "case and spaces", config: " Keyring ", wantMode: credstore.ModeKeyring, wantSource: "config", wantProbe: true},
		{name: "explicit keyring never falls back", config: "keyring", probeErr: unavailable, wantProbe: true,
			wantErr:     credstore.ErrKeyringUnavailable,
			wantErrText: []string{unavailable.Error(), "gatehouse config set storage file", "config"}},
		{name: "explicit keyring from env", env: "keyring", config: "file", probeErr: unavailable, wantProbe: true,
			wantErr:     credstore.ErrKeyringUnavailable,
			wantErrText: []string{"GATEHOUSE_AUTH_STORAGE", "gatehouse config set storage file"}},
		{name: "explicit keyring from flag", flag: "keyring", probeErr: unavailable, wantProbe: true,
			wantErr: credstore.ErrKeyringUnavailable, wantErrText: []string{"flag"}},
		{name: "unknown mode", env: "vault", wantErrText: []string{`"vault"`, "GATEHOUSE_AUTH_STORAGE"}},
		{name: "pinned file", pinned: credstore.ModeFile, wantMode: credstore.ModeFile, wantSource: "auto (pinned)"},
		{name: "pinned keyring, explicit auto", config: "auto", pinned: credstore.ModeKeyring,
			wantMode: credstore.ModeKeyring, wantSource: "auto (pinned)"},
		{name: "pin ignored for explicit file", flag: "file", pinned: credstore.ModeKeyring,
			wantMode: credstore.ModeFile, wantSource: "flag"},
		{name: "bad pin", pinned: "vault", wantErrText: []string{"vault"}},
		{name: "auto from config, pin fails", config: "auto", pinErr: errors.New("read-only config"),
			wantMode: credstore.ModeKeyring, wantSource: "config", wantProbe: true, wantPin: true,
			wantWarn: []string{"read-only config"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runResolveCase(t, tc) })
	}
}

func runResolveCase(t *testing.T, tc resolveCase) {
	dir := filepath.Join(t.TempDir(), "gatehouse")
	probed := false
	var pinned []credstore.Mode
	var w warnings
	store, res, err := credstore.Resolve(t.Context(), credstore.ResolveInput{
		Flag: tc.flag, Env: tc.env, Config: tc.config, Pinned: tc.pinned,
		Dir: dir, Service: testService, Keyring: oskeyring.Backend{},
		Probe: func(ctx context.Context) error { probed = true; return tc.probeErr },
		Warn:  w.add,
		PinAuto: func(m credstore.Mode) error {
			pinned = append(pinned, m)
			return tc.pinErr
		},
	})
	if probed != tc.wantProbe {
		t.Errorf("probed = %v, want %v", probed, tc.wantProbe)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("Resolve created %s; nothing may be written before a Put", dir)
	}
	msgs := w.take()
	if tc.wantWarn == nil && len(msgs) > 0 {
		t.Errorf("warnings = %q, want none", msgs)
	}
	if tc.wantWarn != nil {
		if len(msgs) != 1 || strings.Contains(msgs[0], "\n") {
			t.Fatalf("warnings = %q, want exactly one line", msgs)
		}
		for _, s := range tc.wantWarn {
			if !strings.Contains(msgs[0], s) {
				t.Errorf("warning %q does not contain %q", msgs[0], s)
			}
		}
	}
	if tc.wantErrText != nil || tc.wantErr != nil {
		if err == nil {
			t.Fatalf("Resolve = %s (%+v), want an error", store.Name(), res)
		}
		if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
			t.Errorf("error = %v, want %v", err, tc.wantErr)
		}
		for _, s := range tc.wantErrText {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not contain %q", err, s)
			}
		}
		if len(pinned) > 0 {
			t.Errorf("PinAuto(%q) called on error", pinned)
		}
		return
	}
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if res.Mode != tc.wantMode || res.Source != tc.wantSource {
		t.Errorf("Resolution = %q from %q, want %q from %q", res.Mode, res.Source, tc.wantMode, tc.wantSource)
	}
	if store.Name() != string(tc.wantMode) {
		t.Errorf("store is %q, want %q", store.Name(), tc.wantMode)
	}
	if tc.wantPin && (len(pinned) != 1 || pinned[0] != tc.wantMode) {
		t.Errorf("PinAuto calls = %q, want [%s]", pinned, tc.wantMode)
	}
	if !tc.wantPin && len(pinned) > 0 {
		t.Errorf("PinAuto calls = %q, want none", pinned)
	}
	if !strings.Contains(res.Note, tc.wantNoteContains) {
		t.Errorf("Note = %q, want it to contain %q", res.Note, tc.wantNoteContains)
	}
	if !strings.Contains(res.Backend, tc.wantBackendContains) || !strings.Contains(res.Backend, dir) {
		t.Errorf("Backend = %q, want it to name %q and %s", res.Backend, tc.wantBackendContains, dir)
	}
}

// TestResolveRealProbe checks the default probe (Keyring.Probe) through
// go-keyring's fake: working, then failing.
func TestResolveRealProbe(t *testing.T) {
	keyring.MockInit()
	in := credstore.ResolveInput{Dir: t.TempDir(), Service: testService, Keyring: oskeyring.Backend{}, Getenv: withSessionBus}
	if _, res, err := credstore.Resolve(t.Context(), in); err != nil || res.Mode != credstore.ModeKeyring {
		t.Errorf("auto with a working keyring = %q, %v; want keyring", res.Mode, err)
	}
	keyring.MockInitWithError(errors.New("no secret service"))
	var w warnings
	in.Warn = w.add
	if _, res, err := credstore.Resolve(t.Context(), in); err != nil || res.Mode != credstore.ModeFile {
		t.Errorf("auto with a broken keyring = %q, %v; want file", res.Mode, err)
	}
	if msgs := w.take(); len(msgs) != 1 || !strings.Contains(msgs[0], "no secret service") {
		t.Errorf("warnings = %q, want the fallback notice with the reason", msgs)
	}
	in.Config = "keyring"
	if _, _, err := credstore.Resolve(t.Context(), in); !errors.Is(err, credstore.ErrKeyringUnavailable) {
		t.Errorf("explicit keyring with a broken keyring: error = %v, want ErrKeyringUnavailable", err)
	}
}

// withSessionBus is an environment with a D-Bus session bus address.
func withSessionBus(k string) string {
	if k == "DBUS_SESSION_BUS_ADDRESS" {
		return "unix:path=/nonexistent/bus"
	}
	return ""
}

// Without a session bus, storage auto does not touch the keyring (which
// would start dbus-daemon and a keyring daemon) and says so once: the
// file store is pinned.
func TestResolveAutoWithoutSessionBus(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		t.Skip("the keyring is not reached over D-Bus here")
	}
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skip("this machine has a session bus socket")
	}
	keyring.MockInitWithError(errors.New("the keyring was touched"))
	defer keyring.MockInit()
	var w warnings
	var pinned []credstore.Mode
	in := credstore.ResolveInput{Dir: t.TempDir(), Service: testService, Keyring: oskeyring.Backend{}, Warn: w.add,
		Getenv:  func(string) string { return "" },
		PinAuto: func(m credstore.Mode) error { pinned = append(pinned, m); return nil }}
	_, res, err := credstore.Resolve(t.Context(), in)
	if err != nil || res.Mode != credstore.ModeFile {
		t.Fatalf("auto without a session bus = %q, %v; want file", res.Mode, err)
	}
	msgs := w.take()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "no D-Bus session bus") || strings.Contains(msgs[0], "touched") {
		t.Errorf("warnings = %q, want one notice naming the missing bus", msgs)
	}
	if len(pinned) != 1 || pinned[0] != credstore.ModeFile {
		t.Errorf("pinned %v, want file once", pinned)
	}
	// With a bus, the keyring is probed as before.
	in.Getenv = withSessionBus
	if _, _, err := credstore.Resolve(t.Context(), in); err != nil || !strings.Contains(strings.Join(w.take(), "\n"), "touched") {
		t.Errorf("with a session bus the keyring was not probed (err %v)", err)
	}
}

func TestResolveNeedsDir(t *testing.T) {
	if _, _, err := credstore.Resolve(t.Context(), credstore.ResolveInput{Flag: "file", Keyring: oskeyring.Backend{}}); err == nil {
		t.Error("Resolve without a directory succeeded")
	}
}

// TestResolveNeedsKeyring checks that a program that does not say which
// keyring to use is told how, whatever the setting, instead of silently
// storing credentials in a file.
func TestResolveNeedsKeyring(t *testing.T) {
	for _, setting := range []string{"file", "keyring", "auto"} {
		_, _, err := credstore.Resolve(t.Context(), credstore.ResolveInput{Flag: setting, Dir: t.TempDir(),
			Probe: func(context.Context) error { return nil }})
		if err == nil || !strings.Contains(err.Error(), "oskeyring.Backend{}") {
			t.Errorf("Resolve of %s without a keyring backend: error = %v, want one that names oskeyring.Backend{}", setting, err)
		}
	}
}

// TestResolveKeepsProbeError checks that the explicit-keyring error still
// unwraps to the probe's cause, e.g. a timeout.
func TestResolveKeepsProbeError(t *testing.T) {
	timeout := fmt.Errorf("credstore: keyring probe: keyring set: no answer within 3s: %w", credstore.ErrKeyringTimeout)
	_, _, err := credstore.Resolve(t.Context(), credstore.ResolveInput{
		Flag: "keyring", Dir: t.TempDir(), Keyring: oskeyring.Backend{},
		Probe: func(context.Context) error { return timeout },
	})
	if !errors.Is(err, credstore.ErrKeyringUnavailable) || !errors.Is(err, credstore.ErrKeyringTimeout) {
		t.Errorf("error = %v, want ErrKeyringUnavailable wrapping ErrKeyringTimeout", err)
	}
	if strings.Contains(err.Error(), "keyring probe") {
		t.Errorf("error %q repeats the probe prefix", err)
	}
}
