package cliauth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// allowTerminal turns terminal sign-in on for the CLI's client.
func (s *testServer) allowTerminal(t *testing.T) {
	t.Helper()
	err := s.Store.UpdateClient(context.Background(), server.CLIClientID, func(c *storage.Client) error {
		c.TerminalLogin = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A change made on the database reaches a running server within its
	// client cache's lifetime (5 s).
	s.Clock.Advance(6 * time.Second)
}

// totpNow is the current code of servertest.TOTPSecret.
func (s *testServer) totpNow(t *testing.T) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(servertest.TOTPSecret, s.Clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLoginTerminal: `login --terminal` with the answers piped in (stdin is
// not a terminal): username, password and, for a user with TOTP, the code.
func TestLoginTerminal(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)

	t.Run("not enabled for the client", func(t *testing.T) {
		c := newCLI(t, srv)
		r := c.fail(cliauth.ExitError, "terminal sign-in is not enabled for client gatehouse-cli", "alice\n"+alicePassword+"\n",
			"login", "--issuer", srv.URL, "--terminal")
		if !strings.Contains(r.err.Error(), "gatehouse clients update gatehouse-cli --terminal-login") {
			t.Errorf("no hint for the admin: %v", r.err)
		}
	})

	srv.allowTerminal(t)

	t.Run("password", func(t *testing.T) {
		c := newCLI(t, srv)
		r := c.ok("alice\n"+alicePassword+"\n", "login", "--issuer", srv.URL, "--terminal")
		if !strings.Contains(r.errOut, "Logged in to "+srv.URL+" as alice") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
		if strings.Contains(r.errOut+r.out, alicePassword) || strings.Contains(r.errOut, "Password:") {
			t.Errorf("password or prompts printed without a terminal:\n%s%s", r.out, r.errOut)
		}
		cred := c.stored("default")
		if cred.Kind != credstore.KindUser || cred.RefreshToken == "" || cred.Username != "alice" {
			t.Fatalf("stored %+v", cred)
		}
		if tok := strings.TrimSpace(c.ok("", "token").out); tok != cred.AccessToken || !srv.active(t, tok) {
			t.Error("token is not the stored, active one")
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		c := newCLI(t, srv)
		c.fail(cliauth.ExitError, "invalid username or password; nothing was stored", "alice\nnot-her-password\n",
			"login", "--issuer", srv.URL, "--terminal")
	})

	t.Run("no answers", func(t *testing.T) {
		c := newCLI(t, srv)
		c.fail(cliauth.ExitUsage, "no password on stdin", "alice\n", "login", "--issuer", srv.URL, "--terminal")
		c.fail(cliauth.ExitUsage, "exclude each other", "", "login", "--issuer", srv.URL, "--terminal", "--device")
	})

	t.Run("with a code", func(t *testing.T) {
		bob := srv.AddUser(t, "bob", "bob-password-1", "viewer")
		srv.EnrolTOTP(t, bob.ID)
		c := newCLI(t, srv)
		c.fail(cliauth.ExitError, "the code was not accepted", "bob\nbob-password-1\n000000\n",
			"login", "--issuer", srv.URL, "--terminal")
		c.fail(cliauth.ExitUsage, "no code on stdin", "bob\nbob-password-1\n", "login", "--issuer", srv.URL, "--terminal")
		r := c.ok("bob\nbob-password-1\n"+srv.totpNow(t)+"\n", "login", "--issuer", srv.URL, "--terminal")
		if !strings.Contains(r.errOut, "as bob") {
			t.Errorf("stderr:\n%s", r.errOut)
		}
		if cred := c.stored("default"); cred.Username != "bob" || cred.RefreshToken == "" {
			t.Fatalf("stored %+v", cred)
		}
	})
}

// TestLoginTerminalPrompts: on a terminal the prompts are written to
// stderr and the password is read without echo (IO.ReadPassword).
func TestLoginTerminalPrompts(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	srv.allowTerminal(t)
	c := newCLI(t, srv)
	c.tty = true
	// The harness's ReadPassword answers with the whole of stdin, trimmed,
	// and the username is the first line of stdin: a user whose name is
	// also its password signs in with one line.
	srv.AddUser(t, "carol-password-1", "carol-password-1", "viewer")
	r := c.ok("carol-password-1\n", "login", "--issuer", srv.URL, "--terminal")
	if !strings.Contains(r.errOut, "Username: ") || !strings.Contains(r.errOut, "Password: ") {
		t.Errorf("no prompts on a terminal:\n%s", r.errOut)
	}
}

// TestLoginTerminalRateLimited: over the server's sign-in limit the CLI
// says how long to wait.
func TestLoginTerminalRateLimited(t *testing.T) {
	t.Parallel()
	srv := &testServer{Server: servertest.Start(t, servertest.WithConfig(func(c *config.Server) {
		c.Limits.LoginPerUser = config.Rate{Requests: 2, Per: config.Duration(time.Minute), Burst: 2}
	}))}
	srv.AddUser(t, "alice", alicePassword, "editor")
	srv.allowTerminal(t)
	c := newCLI(t, srv)
	for range 2 {
		c.fail(cliauth.ExitError, "invalid username or password", "alice\nwrong\n", "login", "--issuer", srv.URL, "--terminal")
	}
	c.fail(cliauth.ExitError, "too many sign-in attempts; wait 30s, then try again", "alice\n"+alicePassword+"\n",
		"login", "--issuer", srv.URL, "--terminal")
}
