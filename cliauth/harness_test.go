package cliauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/zalando/go-keyring"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/internal/apikey"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The whole package runs with go-keyring's in-memory fake instead of the
// OS keyring.
func TestMain(m *testing.M) {
	keyring.MockInit()
	os.Exit(m.Run())
}

// testServer is the real Gatehouse authorization server, on a fake clock
// the CLI shares, with the user alice.
type testServer struct {
	*servertest.Server
	// introspector is a confidential client allowed to introspect.
	introID, introSecret string
}

const (
	adminPassword = servertest.AdminPassword
	alicePassword = "alice-password-1"
)

var serverStart = servertest.StartTime

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{Server: servertest.Start(t)}
	s.AddUser(t, "alice", alicePassword, "editor")
	s.introID = "introspector"
	s.introSecret = s.addClient(t, s.introID, []string{protocol.GrantClientCredentials}, nil)
	return s
}

// addClient registers a confidential client and returns its secret.
func (s *testServer) addClient(t *testing.T, id string, grants, scopes []string) string {
	t.Helper()
	return s.AddClient(t, storage.Client{ID: id, GrantTypes: grants, Scopes: scopes, Roles: []string{"viewer"}})
}

// addAPIKey creates an API key acting as user alice and returns it.
func (s *testServer) addAPIKey(t *testing.T) string {
	t.Helper()
	id, key := apikey.Generate()
	_, sec, _ := apikey.Parse(key)
	err := s.Store.CreateAPIKey(context.Background(), &storage.APIKey{
		ID: id, Name: "test", SecretHash: secret.Hash(sec), UserID: "u-alice", CreatedAt: s.Clock.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// active asks the introspection endpoint whether token is active. A
// refresh token is active there only to its own client, here the public
// CLI client, which cannot introspect: for one (not a JWT) the store is
// asked instead.
func (s *testServer) active(t *testing.T, token string) bool {
	t.Helper()
	if !strings.Contains(token, ".") && !strings.HasPrefix(token, "gatehouse_") {
		ctx := context.Background()
		rt, err := s.Store.GetRefreshToken(ctx, secret.Hash(token))
		if errors.Is(err, storage.ErrNotFound) {
			return false
		}
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.Store.GetGrant(ctx, rt.GrantID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil && !g.Revoked && !rt.Revoked && !rt.Rotated && s.Clock.Now().Before(rt.ExpiresAt)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.introID, s.introSecret)
	resp, err := s.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var in struct {
		Active bool `json:"active"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %d, %v", resp.StatusCode, err)
	}
	return in.Active
}

var hiddenInputRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// browser returns a fake browser opener: it signs in as user on the
// server's login form, over HTTP with a cookie jar, and follows the
// redirect to the CLI's loopback callback — what a person does in a real
// browser. Failures are reported on errc (buffered).
func (s *testServer) browser(user, pass string, errc chan<- error) func(string) error {
	return func(authURL string) error {
		go func() { errc <- s.signIn(authURL, user, pass) }()
		return nil
	}
}

func (s *testServer) signIn(authURL, user, pass string) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	resp, err := c.Get(authURL)
	if err != nil {
		return fmt.Errorf("open the authorization URL: %w", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(page, []byte(`action="/login"`)) {
		return fmt.Errorf("no login form: %d %s", resp.StatusCode, page)
	}
	form := url.Values{"username": {user}, "password": {pass}}
	for _, m := range hiddenInputRe.FindAllSubmatch(page, -1) {
		form.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	resp, err = c.PostForm(s.URL+"/login", form)
	if err != nil {
		return fmt.Errorf("submit the login form: %w", err)
	}
	end, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/callback" || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, end)
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testCLI runs the cliauth commands in-process as the tool "gatehouse".
type testCLI struct {
	t       *testing.T
	srv     *testServer
	dir     string
	env     map[string]string
	tty     bool
	errTTY  bool // stderr is a terminal: progress is animated
	browser func(string) error
	clock   clock.Clock
	store   credstore.Store
	hc      *http.Client
}

// result is one run of a command.
type result struct {
	out, errOut string
	err         error
	code        int
}

// newCLI is a CLI with its own configuration directory, file storage and
// the server's clock and HTTP client.
func newCLI(t *testing.T, srv *testServer) *testCLI {
	dir := t.TempDir()
	c := &testCLI{
		t:   t,
		srv: srv,
		dir: dir,
		env: map[string]string{"GATEHOUSE_CONFIG_DIR": dir, "GATEHOUSE_AUTH_STORAGE": "file"},
	}
	if srv != nil {
		c.clock, c.hc = srv.Clock, srv.HTTP
	}
	return c
}

func (c *testCLI) app(stdin string, out, errOut io.Writer) *cliauth.App {
	return &cliauth.App{
		Name:            "gatehouse",
		EnvPrefix:       "GATEHOUSE",
		DefaultClientID: server.CLIClientID,
		DefaultScopes:   []string{"openid", "profile", "offline_access"},
		IO: cliauth.IO{
			In:       strings.NewReader(stdin),
			Out:      out,
			ErrOut:   errOut,
			IsTTY:    func() bool { return c.tty },
			IsErrTTY: func() bool { return c.errTTY },
			ReadPassword: func(context.Context) (string, error) {
				return strings.TrimSpace(stdin), nil
			},
			Getenv: func(k string) string { return c.env[k] },
		},
		Browser:    c.browser,
		Clock:      c.clock,
		HTTPClient: c.hc,
		Store:      c.store,
	}
}

// start runs `gatehouse args...` in the background; errOut fills as it
// runs.
func (c *testCLI) start(ctx context.Context, stdin string, args ...string) (errOut *syncBuffer, done <-chan result) {
	out := &syncBuffer{}
	errOut = &syncBuffer{}
	ch := make(chan result, 1)
	app := c.app(stdin, out, errOut)
	root := &cobra.Command{Use: "gatehouse", SilenceErrors: true, SilenceUsage: true}
	root.AddCommand(app.Commands()...)
	root.SetArgs(args)
	root.SetOut(out)
	root.SetErr(errOut)
	go func() {
		err := root.ExecuteContext(ctx)
		ch <- result{out: out.String(), errOut: errOut.String(), err: err, code: cliauth.ExitCode(err)}
	}()
	return errOut, ch
}

// run runs `gatehouse args...` with stdin and waits for it.
func (c *testCLI) run(stdin string, args ...string) result {
	c.t.Helper()
	_, done := c.start(context.Background(), stdin, args...)
	select {
	case r := <-done:
		return r
	case <-time.After(30 * time.Second):
		c.t.Fatalf("gatehouse %s did not finish", strings.Join(args, " "))
		return result{}
	}
}

// ok runs a command that must succeed.
func (c *testCLI) ok(stdin string, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.err != nil {
		c.t.Fatalf("gatehouse %s: %v (exit %d)\nstderr:\n%s", strings.Join(args, " "), r.err, r.code, r.errOut)
	}
	return r
}

// fail runs a command that must fail with code and an error mentioning
// want.
func (c *testCLI) fail(code int, want, stdin string, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.err == nil {
		c.t.Fatalf("gatehouse %s succeeded, want exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, r.out, r.errOut)
	}
	if r.code != code {
		c.t.Errorf("gatehouse %s: exit %d, want %d (error: %v)", strings.Join(args, " "), r.code, code, r.err)
	}
	if !strings.Contains(r.err.Error(), want) {
		c.t.Errorf("gatehouse %s: error %q does not mention %q", strings.Join(args, " "), r.err, want)
	}
	return r
}

// fileStore is the CLI's credentials.json store, read directly.
func (c *testCLI) fileStore() *credstore.File { return credstore.NewFile(c.dir) }

// stored reads a profile's stored credential, failing the test if there
// is none.
func (c *testCLI) stored(profile string) *credstore.Credential {
	c.t.Helper()
	cred, err := c.fileStore().Get(context.Background(), profile)
	if err != nil {
		c.t.Fatalf("stored credential of %q: %v", profile, err)
	}
	return cred
}

// loginBrowser logs alice in with the fake browser. A failure of the
// browser side ends the test at once with its cause, rather than leaving
// the login waiting for a callback that never comes.
func (c *testCLI) loginBrowser(args ...string) result {
	c.t.Helper()
	errc := make(chan error, 1)
	c.browser = c.srv.browser("alice", alicePassword, errc)
	defer func() { c.browser = nil }()
	args = append([]string{"login", "--issuer", c.srv.URL}, args...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errOut, done := c.start(ctx, "", args...)
	var r result
	select {
	case r = <-done:
		if err := <-errc; err != nil {
			c.t.Fatalf("browser: %v", err)
		}
	case err := <-errc:
		if err != nil {
			cancel()
			c.t.Fatalf("browser: %v\nlogin stderr:\n%s", err, errOut)
		}
		select {
		case r = <-done:
		case <-time.After(30 * time.Second):
			c.t.Fatalf("gatehouse %s did not finish after the browser signed in:\n%s", strings.Join(args, " "), errOut)
		}
	case <-time.After(30 * time.Second):
		c.t.Fatalf("gatehouse %s did not finish; the browser did not report either:\n%s", strings.Join(args, " "), errOut)
	}
	if r.err != nil {
		c.t.Fatalf("gatehouse %s: %v (exit %d)\nstderr:\n%s", strings.Join(args, " "), r.err, r.code, r.errOut)
	}
	return r
}

// timerClock is the server's fake clock that reports each timer made on
// it, so that a test moves time only while the CLI waits.
type timerClock struct {
	*clocktest.Fake
	made chan time.Duration
}

func (c *timerClock) NewTimer(d time.Duration) clock.Timer {
	t := c.Fake.NewTimer(d)
	c.made <- d
	return t
}

// next returns the duration of the next timer, failing if none comes.
func (c *timerClock) next(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.made:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the CLI made no timer")
	}
	return 0
}

// waitFor waits until buf matches re and returns the first submatch.
func waitFor(t *testing.T, buf *syncBuffer, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(buf.String()); m != nil {
			return m[1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %v in:\n%s", re, buf.String())
	return ""
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update if the change is intended)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// errorsAs is errors.As for a fresh target of type T.
func errorsAs[T error](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}

// authParams are the authorization request parameters behind authURL:
// its query, or for a pushed request (RFC 9126: only client_id and
// request_uri in the URL) the parameters the server stored for it.
func (s *testServer) authParams(t *testing.T, authURL string) url.Values {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	tok, ok := strings.CutPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:")
	if !ok {
		return q
	}
	var params url.Values
	errPeek := errors.New("peek")
	err = s.Store.UpdatePushedRequest(context.Background(), secret.Hash(tok), func(p *storage.PushedRequest) error {
		params = url.Values(p.Params)
		return errPeek
	})
	if !errors.Is(err, errPeek) {
		t.Fatalf("pushed request of %s: %v", authURL, err)
	}
	return params
}
