package clientcmd

import (
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

// accountCLI runs gatehouse commands on the clock of srv with a config
// directory of its own.
type accountCLI struct {
	t   *testing.T
	srv *servertest.Server
	dir string
}

func newAccountCLI(t *testing.T, srv *servertest.Server) *accountCLI {
	return &accountCLI{t: t, srv: srv, dir: t.TempDir()}
}

// storeLogin stores the login of username in the default profile, as
// `gatehouse login` would have.
func (c *accountCLI) storeLogin(username string) {
	c.t.Helper()
	c.storeLoginAs("default", username, command.LoginScopes)
}

// storeAccountLogin stores the account sign-in of the default profile, as
// `gatehouse login --account` would.
func (c *accountCLI) storeAccountLogin(username string) {
	c.t.Helper()
	c.storeLoginAs("default#account", username, append(slices.Clone(command.LoginScopes), oauth.ScopeAccount), oauth.AccountResource(c.srv.URL))
}

func (c *accountCLI) storeLoginAs(slot, username string, scopes []string, resources ...string) {
	c.t.Helper()
	commandtest.StoreLogin(c.t, c.srv, c.dir, slot, username, scopes, resources...)
}

func (c *accountCLI) run(env map[string]string, stdin string, args ...string) commandtest.Result {
	c.t.Helper()
	return c.runEnv(env, func(*command.Buffer) io.Reader { return strings.NewReader(stdin) }, args...)
}

func (c *accountCLI) runWith(stdin func(out *command.Buffer) io.Reader, args ...string) commandtest.Result {
	c.t.Helper()
	return c.runEnv(nil, stdin, args...)
}

// runEnv runs a command with stdin made from its standard output buffer.
func (c *accountCLI) runEnv(env map[string]string, stdin func(out *command.Buffer) io.Reader, args ...string) commandtest.Result {
	c.t.Helper()
	streams, out, errOut := command.NewTestIOStreams("")
	streams.In = stdin(out)
	streams.Clock = c.srv.Clock
	all := map[string]string{"GATEHOUSE_CONFIG_DIR": c.dir, "GATEHOUSE_AUTH_STORAGE": "file", "GATEHOUSE_ISSUER": c.srv.URL}
	for k, v := range env {
		all[k] = v
	}
	streams.Getenv = func(k string) string { return all[k] }
	return run(streams, out, errOut, args...)
}

var (
	enrollSecretRE = regexp.MustCompile(`Secret: ([A-Z2-7]+)\n`)
	enrollURIRE    = regexp.MustCompile(`URI: +(otpauth://totp/\S+)\n`)
	recoveryRE     = regexp.MustCompile(`(?m)^  ([a-z2-7]{5}-[a-z2-7]{5})$`)
)

func TestAccountMFAEnroll(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t)
	alice := srv.AddUser(t, "alice", "alice-password-1")
	c := newAccountCLI(t, srv)

	// Not logged in.
	r := c.run(nil, "123456\n", "account", "mfa", "enroll")
	if r.Code != command.ExitNotLoggedIn || !strings.Contains(r.Err.Error(), "run `gatehouse login`") {
		t.Fatalf("not logged in: exit %d, %v", r.Code, r.Err)
	}

	c.storeLogin("alice")
	// The everyday login does not open the account API; without a
	// terminal the command says which sign-in to make.
	r = c.run(nil, "123456\n", "account", "mfa", "enroll")
	if r.Code != command.ExitNotLoggedIn || !strings.Contains(r.Err.Error(), "gatehouse login --account") {
		t.Fatalf("without the account sign-in: exit %d, %v", r.Code, r.Err)
	}
	c.storeAccountLogin("alice")
	// A wrong code, then the end of the input: nothing is enrolled.
	r = c.run(nil, "000000\n", "account", "mfa", "enroll")
	m := enrollSecretRE.FindStringSubmatch(r.Out)
	if r.Code != command.ExitError || m == nil || !strings.Contains(r.Out, "█") || !enrollURIRE.MatchString(r.Out) {
		t.Fatalf("wrong code: exit %d %v\n%s", r.Code, r.Err, r.Out)
	}
	if totpCodeAt(t, m[1], srv.Clock.Now()) == "000000" {
		t.Skip("000000 happens to be the code")
	}
	if r = c.run(nil, "", "account", "mfa", "enroll"); r.Code != command.ExitError || !strings.Contains(r.Err.Error(), "no code was entered") {
		t.Fatalf("empty stdin: exit %d %v", r.Code, r.Err)
	}
	if tt, err := srv.Store.GetTOTP(context.Background(), alice.ID); err != nil || tt.Enrolled {
		t.Fatalf("after failed attempts: %+v %v", tt, err)
	}

	// The code of the printed secret enrols: the stdin is read only after
	// the secret was printed, so feed it through a pipe.
	r = c.runWith(func(out *command.Buffer) io.Reader {
		return &codeInput{out: out, now: srv.Clock.Now}
	}, "account", "mfa", "enroll")
	if r.Err != nil {
		t.Fatalf("enroll: %v\n%s\n%s", r.Err, r.Out, r.ErrOut)
	}
	codes := recoveryRE.FindAllStringSubmatch(r.Out, -1)
	if len(codes) != 10 || !strings.Contains(r.ErrOut, "not shown again") {
		t.Fatalf("recovery codes: %d\n%s\n%s", len(codes), r.Out, r.ErrOut)
	}
	tt, err := srv.Store.GetTOTP(context.Background(), alice.ID)
	if err != nil || !tt.Enrolled || len(tt.RecoveryCodes) != 10 {
		t.Fatalf("after enroll: %+v %v", tt, err)
	}

	// Already enrolled: say how to reset.
	r = c.run(nil, "123456\n", "account", "mfa", "enroll")
	if r.Code != command.ExitError || !strings.Contains(r.Err.Error(), "gatehouse users mfa-reset") || !strings.Contains(r.Err.Error(), "/account") {
		t.Errorf("already enrolled: exit %d %v", r.Code, r.Err)
	}

	// An API key is not a login.
	if r := c.run(map[string]string{"GATEHOUSE_API_KEY": "gh_x"}, "", "account", "mfa", "enroll"); r.Code != command.ExitNotLoggedIn {
		t.Errorf("API key: exit %d %v", r.Code, r.Err)
	}
}

// codeInput is stdin that answers with the current code of the secret
// the command printed, as a user reading the output would.
type codeInput struct {
	out  *command.Buffer
	now  func() time.Time
	done bool
}

func (r *codeInput) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	r.done = true
	m := enrollSecretRE.FindStringSubmatch(r.out.String())
	if m == nil {
		return 0, io.EOF
	}
	code, err := totp.GenerateCode(m[1], r.now())
	if err != nil {
		return 0, err
	}
	return copy(p, code+"\n"), nil
}

func totpCodeAt(t *testing.T, sec string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCode(sec, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
