package cliauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/credstore/oskeyring"
)

func TestProfilesCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	if r := c.ok("", "profiles", "list"); !strings.Contains(r.errOut, "No profiles yet; run `gatehouse login --issuer URL`") {
		t.Errorf("empty list: %q", r.errOut)
	}
	c.ok("", "profiles", "add", "prod", "--issuer", "auth.prod.example.com/")
	c.ok("", "profiles", "add", "staging", "--issuer", "https://auth.staging.example.com/realms/x", "--client-id", "tool", "--scope", "openid,offline_access")
	list := c.ok("", "profiles", "list").out
	for _, want := range []string{"* prod     https://auth.prod.example.com              -\n", "  staging  https://auth.staging.example.com/realms/x  -\n"} {
		if !strings.Contains(list, want) {
			t.Errorf("list lacks %q:\n%s", want, list)
		}
	}
	c.ok("", "profiles", "use", "staging")
	if got := strings.TrimSpace(c.ok("", "config", "get", "default_profile").out); got != "staging" {
		t.Errorf("default_profile = %q", got)
	}
	show := c.ok("", "profiles", "show").out // the default one
	for _, want := range []string{"staging (default)", "issuer:   https://auth.staging.example.com/realms/x", "client:   tool", "not logged in: run `gatehouse login`"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	c.ok("", "profiles", "remove", "staging")
	if got := strings.TrimSpace(c.ok("", "config", "get", "default_profile").out); got != "default" {
		t.Errorf("default_profile after removing it = %q", got)
	}
	c.fail(cliauth.ExitUsage, `no profile "staging"`, "", "profiles", "use", "staging")
	c.fail(cliauth.ExitUsage, `no profile "nope"`, "", "profiles", "remove", "nope")
	c.fail(cliauth.ExitUsage, "path separator", "", "profiles", "add", "a/b", "--issuer", "https://x.example")
	c.fail(cliauth.ExitUsage, "--issuer URL is required", "", "profiles", "add", "x")
	c.fail(cliauth.ExitUsage, "needs --client-id", "s\n", "profiles", "add", "x", "--issuer", "https://x.example", "--client-secret-stdin")
	c.fail(cliauth.ExitUsage, `unknown command "frobnicate"`, "", "profiles", "frobnicate")
}

func TestConfigCommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	if got := c.ok("", "config", "list").out; got != "storage=auto\nbrowser=\ndefault_profile=default\nredirect_ports=\n" {
		t.Errorf("defaults:\n%s", got)
	}
	c.ok("", "config", "set", "browser", "firefox --new-window")
	c.ok("", "config", "set", "redirect_ports", "8085, 8086")
	if got := c.ok("", "config", "get", "redirect_ports").out; got != "8085,8086\n" {
		t.Errorf("redirect_ports = %q", got)
	}
	if got := c.ok("", "config", "get", "browser").out; got != "firefox --new-window\n" {
		t.Errorf("browser = %q", got)
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "redirect_ports: [8085, 8086]") {
		t.Errorf("config.yaml:\n%s", data)
	}
	c.ok("", "config", "set", "redirect_ports", "")
	if got := c.ok("", "config", "get", "redirect_ports").out; got != "\n" {
		t.Errorf("reset redirect_ports = %q", got)
	}
	c.fail(cliauth.ExitUsage, `"70000" is not a TCP port`, "", "config", "set", "redirect_ports", "70000")
	c.fail(cliauth.ExitUsage, `unknown setting "colour"`, "", "config", "get", "colour")
	c.fail(cliauth.ExitUsage, "unknown storage mode", "", "config", "set", "storage", "cloud")
	c.fail(cliauth.ExitUsage, `no profile "ghost"`, "", "config", "set", "default_profile", "ghost")

	// Unknown keys in config.yaml are an error, not silently ignored.
	if err := os.WriteFile(filepath.Join(c.dir, "config.yaml"), []byte("storage: file\ncolour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fail(cliauth.ExitUsage, "field colour not found", "", "status")
	if err := os.WriteFile(filepath.Join(c.dir, "config.yaml"), []byte("redirect_ports: [0]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.fail(cliauth.ExitUsage, "redirect_ports: 0 is not a TCP port", "", "token")
}

// The configured redirect port is the loopback listener's.
func TestLoginRedirectPorts(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.ok("", "config", "set", "redirect_ports", strconv.Itoa(port))
	opened := make(chan string, 1)
	errc := make(chan error, 1)
	c.browser = func(authURL string) error {
		opened <- authURL
		go func() { errc <- srv.signIn(authURL, "alice", alicePassword) }()
		return nil
	}
	c.ok("", "login", "--issuer", srv.URL)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	authURL := <-opened
	if got, want := srv.authParams(t, authURL).Get("redirect_uri"), "http://127.0.0.1:"+strconv.Itoa(port)+"/callback"; got != want {
		t.Errorf("the authorization request of %s has redirect_uri %q, want %q", authURL, got, want)
	}
}

// `config set storage` moves the stored logins; nobody logs in again.
// Not parallel: it uses the process-wide keyring fake.
func TestStorageSwitchMigrates(t *testing.T) {
	srv := newTestServer(t)
	c := newCLI(t, srv)
	delete(c.env, "GATEHOUSE_AUTH_STORAGE")
	c.ok("", "config", "set", "storage", "file")
	c.loginBrowser()
	before := c.stored("default")

	r := c.ok("", "config", "set", "storage", "keyring")
	if !strings.Contains(r.errOut, "Moved the login of profile default.") || !strings.Contains(r.errOut, `keyring (service "gatehouse"`) {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	if _, err := c.fileStore().Get(context.Background(), "default"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("the login is still in the file store: %v", err)
	}
	kr := credstore.NewKeyring(oskeyring.Backend{}, "gatehouse", c.dir)
	moved, err := kr.Get(context.Background(), "default")
	if err != nil || moved.RefreshToken != before.RefreshToken {
		t.Fatalf("the login is not in the keyring: %v", err)
	}
	if got := strings.TrimSpace(c.ok("", "token").out); got != before.AccessToken {
		t.Error("token after the move is not the stored one")
	}
	if doc := c.status(); doc.Storage.Mode != "keyring" || doc.Storage.Source != "config" {
		t.Errorf("status storage = %+v", doc.Storage)
	}

	c.ok("", "config", "set", "storage", "file")
	if got := c.stored("default"); got.RefreshToken != before.RefreshToken {
		t.Error("the login did not come back to the file store")
	}

	// SECURITY-CASES 41: an explicit keyring that does not work is an
	// error, never a silent file; nothing moves.
	keyring.MockInitWithError(errors.New("no secret service"))
	defer keyring.MockInit()
	c.fail(cliauth.ExitError, "keyring", "", "config", "set", "storage", "keyring")
	if got := strings.TrimSpace(c.ok("", "config", "get", "storage").out); got != "file" {
		t.Errorf("storage = %q after a failed switch", got)
	}
	c.stored("default")
}

// storage auto probes the keyring at the first login, falls back to a file
// when it does not work, says so, and remembers the choice. Not parallel:
// it changes the process-wide keyring fake.
func TestStorageAuto(t *testing.T) {
	srv := newTestServer(t)

	keyring.MockInitWithError(errors.New("no secret service"))
	c := newCLI(t, srv)
	delete(c.env, "GATEHOUSE_AUTH_STORAGE")
	if doc := c.status(); doc.Storage.Mode != "" {
		t.Errorf("status chose a store before any login: %+v", doc.Storage)
	}
	r := c.loginBrowser()
	keyring.MockInit()
	if !strings.Contains(r.errOut, "keyring unavailable") || !strings.Contains(r.errOut, "storing credentials in "+filepath.Join(c.dir, credstore.FileName)) {
		t.Errorf("no fallback notice:\n%s", r.errOut)
	}
	c.stored("default")
	// The keyring works now, but the choice is pinned: still the file.
	if doc := c.status(); doc.Storage.Mode != "file" || doc.Storage.Source != "auto (pinned)" {
		t.Errorf("storage = %+v", doc.Storage)
	}

	c2 := newCLI(t, srv)
	delete(c2.env, "GATEHOUSE_AUTH_STORAGE")
	// A desktop session: the keyring is reached over its session bus.
	c2.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/bus"
	c2.loginBrowser()
	if doc := c2.status(); doc.Storage.Mode != "keyring" {
		t.Errorf("with a working keyring, auto chose %+v", doc.Storage)
	}
}

// A login stored under GATEHOUSE_AUTH_STORAGE=file is found without the
// variable too: the store it went to is pinned for storage auto.
func TestStoragePinnedByLogin(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	delete(c.env, "GATEHOUSE_AUTH_STORAGE")
	if got := strings.TrimSpace(c.ok("", "token").out); got != c.stored("default").AccessToken {
		t.Error("the login is not found once the variable is gone")
	}
	if doc := c.status(); doc.Storage.Mode != "file" || doc.Storage.Source != "auto (pinned)" {
		t.Errorf("storage = %+v", doc.Storage)
	}
}

// `profiles list --json` marks the profile a command would use now.
func TestProfilesListInUse(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	c.ok("", "profiles", "add", "prod", "--issuer", "https://auth.prod.example.com")
	c.ok("", "profiles", "add", "staging", "--issuer", "https://auth.staging.example.com")
	inUse := func(args ...string) map[string]bool {
		t.Helper()
		var list []struct {
			Name  string `json:"name"`
			InUse bool   `json:"in_use"`
		}
		out := c.ok("", append(args, "profiles", "list", "--json")...).out
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		m := map[string]bool{}
		for _, p := range list {
			m[p.Name] = p.InUse
		}
		return m
	}
	if m := inUse(); !m["prod"] || m["staging"] {
		t.Errorf("default profile prod: %v", m)
	}
	if m := inUse("--profile", "staging"); m["prod"] || !m["staging"] {
		t.Errorf("--profile staging: %v", m)
	}
}

// A busy redirect port is reported as such, with the setting to change,
// not as an unreachable server.
func TestLoginBusyRedirectPort(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	c.ok("", "config", "set", "redirect_ports", port)
	c.browser = func(string) error { return errors.New("the browser must not open") }
	r := c.fail(cliauth.ExitError, "no port of redirect_ports ("+port+") is free", "", "login", "--issuer", srv.URL)
	if msg := r.err.Error(); !strings.Contains(msg, "gatehouse config set redirect_ports") || strings.Contains(msg, "cannot reach") {
		t.Errorf("message: %s", msg)
	}
}

// TestConfigRefresh re-reads the discovery document of the profile in use
// and, with --all, of every profile; a server that cannot be reached is
// reported and fails the command.
func TestConfigRefresh(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.ok("", "profiles", "add", "local", "--issuer", srv.URL)
	c.ok("", "profiles", "use", "local")
	r := c.ok("", "config", "refresh")
	if !strings.Contains(r.out, "local: "+srv.URL+": ok, offers browser login, pushed authorization requests, device login, revocation") {
		t.Errorf("config refresh:\n%s", r.out)
	}

	c.ok("", "profiles", "add", "gone", "--issuer", "http://127.0.0.1:1")
	r = c.fail(cliauth.ExitError, "1 of 2 profiles failed", "", "config", "refresh", "--all", "--json")
	var got []struct {
		Profile string   `json:"profile"`
		OK      bool     `json:"ok"`
		Offers  []string `json:"offers"`
		Error   string   `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("%v: %s", err, r.out)
	}
	if len(got) != 2 || got[0].Profile != "gone" || got[0].OK || !strings.Contains(got[0].Error, "cannot reach") ||
		got[1].Profile != "local" || !got[1].OK || len(got[1].Offers) != 4 {
		t.Errorf("config refresh --all --json: %+v", got)
	}
	c.fail(cliauth.ExitUnreachable, "no server could be reached", "", "config", "refresh", "--profile", "gone")
	c.fail(cliauth.ExitUsage, "not configured", "", "config", "refresh", "--profile", "nope")
}
