package cliauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func TestLogoutRevokes(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	cred := c.stored("default")
	if !srv.active(t, cred.AccessToken) || !srv.active(t, cred.RefreshToken) {
		t.Fatal("the login's tokens are not active before logout")
	}
	r := c.ok("", "logout")
	if !strings.Contains(r.errOut, "Logged out of "+srv.URL+" (profile default): the tokens are revoked and removed from this machine.") {
		t.Errorf("stderr:\n%s", r.errOut)
	}
	if srv.active(t, cred.AccessToken) || srv.active(t, cred.RefreshToken) {
		t.Error("a token is still active after logout")
	}
	if _, err := c.fileStore().Get(context.Background(), "default"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("still stored: %v", err)
	}
	c.fail(cliauth.ExitNotLoggedIn, "not logged in", "", "token")
	if r := c.ok("", "logout"); !strings.Contains(r.errOut, "Not logged in") {
		t.Errorf("second logout: %s", r.errOut)
	}
	// The profile's settings stay for the next login.
	if got := strings.TrimSpace(c.ok("", "profiles", "show", "--json").out); !strings.Contains(got, `"issuer": "`+srv.URL+`"`) {
		t.Errorf("profile settings gone: %s", got)
	}

	// A client-credentials login's token is revoked too.
	sec := srv.addClient(t, "ci-bot", []string{protocol.GrantClientCredentials}, nil)
	c.ok(sec+"\n", "login", "--issuer", srv.URL, "--client-credentials", "--client-id", "ci-bot", "--client-secret-stdin", "--profile", "ci")
	ci := c.stored("ci")
	c.ok("", "logout", "--profile", "ci")
	if srv.active(t, ci.AccessToken) {
		t.Error("the client-credentials token is still active")
	}
}

func TestLogoutServerDown(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	srv.TS.Close()
	r := c.ok("", "logout")
	for _, want := range []string{
		"warning: could not revoke the tokens at " + srv.URL + ": cannot reach",
		"they stay valid until they expire",
		"Removed the credentials of profile default from this machine.",
	} {
		if !strings.Contains(r.errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errOut)
		}
	}
	if _, err := c.fileStore().Get(context.Background(), "default"); !errors.Is(err, credstore.ErrNotFound) {
		t.Errorf("still stored after logout with the server down: %v", err)
	}
}

func TestLogoutPickerAndAll(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	c.loginBrowser("--profile", "b-second")
	c.loginBrowser("--profile", "c-third")
	c.tty = true

	// End of input at the prompt: nothing changes.
	c.fail(cliauth.ExitError, "no profile chosen; nothing was changed", "", "logout")
	// Profiles are listed sorted: b-second, c-third, default.
	r := c.ok("1\n", "logout")
	if !strings.Contains(r.errOut, "Log out of which profile?") || !strings.Contains(r.errOut, "Choice [3]: ") {
		t.Errorf("prompt:\n%s", r.errOut)
	}
	names, _ := c.fileStore().List(context.Background())
	if strings.Join(names, ",") != "c-third,default" {
		t.Errorf("after picking 1: stored %v", names)
	}
	c.ok("", "logout", "--all")
	if names, _ := c.fileStore().List(context.Background()); len(names) != 0 {
		t.Errorf("after --all: stored %v", names)
	}
	c.fail(cliauth.ExitUsage, "exclude each other", "", "logout", "--all", "--profile", "x")
}
