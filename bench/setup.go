package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"time"
)

// Names of what setup registers.
const (
	ccClientID      = "bench-cc"
	rsClientID      = "bench-rs"
	refreshClientID = "bench-refresh"
	benchUser       = "bench"
	benchRedirect   = "https://bench.example/cb"
	benchScope      = "read"
	cliTimeout      = time.Minute
)

// clientCreds are a confidential client's id and secret.
type clientCreds struct {
	ID     string `json:"client_id"`
	Secret string `json:"client_secret"`
}

// basicAuth is the Authorization header value for HTTP Basic client
// authentication; RFC 6749 §2.3.1 form-urlencodes id and secret first.
func (c clientCreds) basicAuth() string {
	raw := url.QueryEscape(c.ID) + ":" + url.QueryEscape(c.Secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// cli runs gatehouse admin commands on the benchmark's database.
type cli struct {
	bin string
	dir string
	st  storageTarget
	env []string
}

// run runs `gatehouse ARGS... --data-dir/--db ...` with stdin and returns
// its stdout.
func (c *cli) run(ctx context.Context, stdin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, append(args, c.st.args()...)...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gatehouse %s: %w\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// createClient runs `gatehouse clients create NAME ARGS... --json`.
func (c *cli) createClient(ctx context.Context, name string, args ...string) (clientCreds, error) {
	out, err := c.run(ctx, "", append([]string{"clients", "create", name}, append(args, "--json")...)...)
	if err != nil {
		return clientCreds{}, err
	}
	var cr clientCreds
	if err := json.Unmarshal(out, &cr); err != nil {
		return clientCreds{}, fmt.Errorf("clients create %s: parse --json output: %w\n%s", name, err, out)
	}
	if cr.ID == "" || cr.Secret == "" {
		return clientCreds{}, fmt.Errorf("clients create %s: no client_id or client_secret in %s", name, out)
	}
	return cr, nil
}

// fixture is what the workloads need: the server, credentials, and for
// refresh a signed-in browser and one refresh token per worker.
type fixture struct {
	base string
	// bases are the servers the workloads' workers take turns on: both
	// replicas with --replicas 2 (setup itself only talks to base).
	bases   []string
	opts    *options
	cc      clientCreds
	rs      clientCreds
	refresh clientCreds
	browser *browser
	// accessToken is a client_credentials JWT for introspection.
	accessToken string
	// apiKey is an API key for introspection.
	apiKey string

	chains []string // initial refresh tokens, one per worker
}

// setup registers the clients and the user with the CLI and gets the
// tokens the selected workloads start from.
func setup(ctx context.Context, bin, dir string, st storageTarget, env []string, base string, opts *options) (*fixture, error) {
	c := &cli{bin: bin, dir: dir, st: st, env: env}
	fx := &fixture{base: base, opts: opts}
	want := func(w string) bool {
		for _, x := range opts.Workloads {
			if x == w {
				return true
			}
		}
		return false
	}
	var err error
	if fx.cc, err = c.createClient(ctx, ccClientID,
		"--grant", "client_credentials", "--scope", benchScope, "--role", "viewer"); err != nil {
		return nil, err
	}
	if want(wlIntrospect) || want(wlAPIKeyIntrospect) {
		if fx.rs, err = c.createClient(ctx, rsClientID, "--grant", "client_credentials"); err != nil {
			return nil, err
		}
	}
	if want(wlAPIKeyIntrospect) {
		if fx.apiKey, err = c.createAPIKey(ctx, "bench", "--role", "viewer", "--scope", benchScope); err != nil {
			return nil, err
		}
		if err := fx.checkAPIKeyIntrospection(ctx); err != nil {
			return nil, err
		}
	}
	if want(wlIntrospect) {
		if fx.accessToken, err = fx.clientCredentialsToken(ctx); err != nil {
			return nil, err
		}
		if err := fx.checkIntrospection(ctx); err != nil {
			return nil, err
		}
	}
	if want(wlRefresh) {
		if fx.refresh, err = c.createClient(ctx, refreshClientID,
			"--grant", "authorization_code", "--grant", "refresh_token",
			"--redirect-uri", benchRedirect, "--scope", benchScope); err != nil {
			return nil, err
		}
		pw := randomToken(18)
		if _, err := c.run(ctx, pw+"\n", "users", "add", benchUser, "--role", "viewer", "--password-stdin"); err != nil {
			return nil, err
		}
		fx.browser = newBrowser(base, benchUser, pw)
		for i := 0; i < opts.Concurrency; i++ {
			rt, err := fx.newRefreshChain(ctx)
			if err != nil {
				return nil, fmt.Errorf("refresh token for worker %d: %w", i, err)
			}
			fx.chains = append(fx.chains, rt)
		}
	}
	return fx, nil
}

// close drops idle connections of the setup clients.
func (fx *fixture) close() {
	if fx.browser != nil {
		fx.browser.client.CloseIdleConnections()
	}
	setupClient.CloseIdleConnections()
}

// newRefreshChain runs the authorization code flow through the login and
// consent pages and returns the first refresh token of a new grant.
func (fx *fixture) newRefreshChain(ctx context.Context) (string, error) {
	code, verifier, err := fx.browser.authorize(ctx, fx.refresh.ID, benchRedirect, benchScope)
	if err != nil {
		return "", err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {benchRedirect},
		"code_verifier": {verifier},
	}
	var tr tokenResponse
	if err := postJSON(ctx, fx.base+"/oauth2/token", fx.refresh.basicAuth(), form, &tr); err != nil {
		return "", fmt.Errorf("redeem code: %w", err)
	}
	if tr.RefreshToken == "" {
		return "", fmt.Errorf("redeem code: the token response has no refresh_token")
	}
	return tr.RefreshToken, nil
}

// clientCredentialsToken gets an access token for bench-cc.
func (fx *fixture) clientCredentialsToken(ctx context.Context) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {benchScope}}
	var tr tokenResponse
	if err := postJSON(ctx, fx.base+"/oauth2/token", fx.cc.basicAuth(), form, &tr); err != nil {
		return "", fmt.Errorf("client_credentials token: %w", err)
	}
	if strings.Count(tr.AccessToken, ".") != 2 {
		return "", fmt.Errorf("client_credentials token: the access token is not a JWT")
	}
	return tr.AccessToken, nil
}

// checkIntrospection makes sure the token to introspect is active, so that
// the workload measures real introspections, not {"active":false}.
func (fx *fixture) checkIntrospection(ctx context.Context) error {
	var ir struct {
		Active   bool   `json:"active"`
		ClientID string `json:"client_id"`
	}
	form := url.Values{"token": {fx.accessToken}, "token_type_hint": {"access_token"}}
	if err := postJSON(ctx, fx.base+"/oauth2/introspect", fx.rs.basicAuth(), form, &ir); err != nil {
		return fmt.Errorf("introspect: %w", err)
	}
	if !ir.Active || ir.ClientID != fx.cc.ID {
		return fmt.Errorf("introspect: token reported inactive or for client %q", ir.ClientID)
	}
	return nil
}

// createAPIKey runs `gatehouse apikeys create NAME ARGS... --json` and
// returns the key.
func (c *cli) createAPIKey(ctx context.Context, name string, args ...string) (string, error) {
	out, err := c.run(ctx, "", append([]string{"apikeys", "create", name}, append(args, "--json")...)...)
	if err != nil {
		return "", err
	}
	var k struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(out, &k); err != nil || !strings.HasPrefix(k.Key, "gatehouse_") {
		return "", fmt.Errorf("apikeys create: no key in the --json output: %v\n%s", err, out)
	}
	return k.Key, nil
}

// checkAPIKeyIntrospection makes sure the API key is active.
func (fx *fixture) checkAPIKeyIntrospection(ctx context.Context) error {
	var ir struct {
		Active    bool   `json:"active"`
		TokenType string `json:"token_type"`
	}
	if err := postJSON(ctx, fx.base+"/oauth2/introspect", fx.rs.basicAuth(), url.Values{"token": {fx.apiKey}}, &ir); err != nil {
		return fmt.Errorf("introspect api key: %w", err)
	}
	if !ir.Active || ir.TokenType != "api_key" {
		return fmt.Errorf("introspect api key: reported inactive or as %q", ir.TokenType)
	}
	return nil
}
