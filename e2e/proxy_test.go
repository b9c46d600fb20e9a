package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"github.com/gatehouse-auth/gatehouse/internal/chromiumtest"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/proxytest"
)

// The gateway end to end: the real binary (`gatehouse proxy`, embedding
// the authorization server) in front of the test app (HTTP, GraphQL,
// WebSocket), browser logins, the Dagster policy for viewers, editors and
// admins, and scripts with API keys and client credentials through
// `gatehouse api`.

const authPrefix = "/_gatehouse/auth"

// gateway is a running `gatehouse proxy` and the app behind it.
type gateway struct {
	*gatehouse
	app *proxytest.App
}

// startGateway starts the test app and `gatehouse proxy --preset dagster`
// in front of it, with a new data directory.
func startGateway(t *testing.T, extraArgs ...string) *gateway {
	t.Helper()
	app := proxytest.NewApp()
	ts := httptest.NewServer(app.Handler())
	t.Cleanup(ts.Close)
	args := append([]string{"--upstream", ts.URL, "--preset", "dagster", "--audit-output", "off"}, extraArgs...)
	g := spawnCommand(t, "proxy", "/_gatehouse/healthz", freeAddr(t), t.TempDir(), nil, args...)
	g.waitHealthy(t)
	return &gateway{gatehouse: g, app: app}
}

// addUser creates a user with a role on the gateway's database.
func (gw *gateway) addUser(t *testing.T, name, role string) string {
	t.Helper()
	pass := "pw-" + name + "-e2e-12345"
	argv := append([]string{"users", "add", name, "--role", role, "--password-stdin"}, gw.storage...)
	if out, errOut, code := runCLI(t, pass+"\n", argv...); code != 0 {
		t.Fatalf("users add %s: exit %d: %s %s", name, code, out, errOut)
	}
	return pass
}

// browserLogin signs a new HTTP browser in through the gateway: a page
// request goes to the login page of the embedded server, the form is
// submitted, and the browser lands back on the page it asked for.
func (gw *gateway) browserLogin(t *testing.T, user, pass string) *http.Client {
	t.Helper()
	c := newBrowser(t, gw.URL)
	p, err := browse(c, http.MethodGet, gw.URL+"/runs/7?tab=logs", nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.form(authPrefix + "/login")
	if err != nil || !f.Fields.Has("password") {
		t.Fatalf("no login form: %v (%s)", err, p)
	}
	p, err = f.submit(c, url.Values{"username": {user}, "password": {pass}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusOK || p.URL.Path != "/runs/7" || p.URL.RawQuery != "tab=logs" || !strings.Contains(p.Body, "Test app") {
		t.Fatalf("after login: %s", p)
	}
	return c
}

// graphql posts a GraphQL document with c and returns the status.
func (gw *gateway) graphql(t *testing.T, c *http.Client, hdr http.Header, query string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/graphql", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

const (
	queryRuns  = `{ runs { id status } }`
	mutLaunch  = `mutation { launchRun(job: "etl") { id } }`
	mutAliased = `mutation { harmless: launchRun(job: "etl") { id } }`
	mutDelete  = `mutation { deleteRun(id: "1") }`
)

func TestGatewayEndToEnd(t *testing.T) {
	t.Parallel()
	gw := startGateway(t)
	vera := gw.addUser(t, "vera", "viewer")
	eddie := gw.addUser(t, "eddie", "editor")
	ada := gw.addUser(t, "ada", "admin")

	// Anonymous: pages go to login, API calls get 401.
	res, err := http.Get(gw.URL + "/graphql")
	if err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous API call: %v %v", res, err)
	}
	res.Body.Close()

	// Viewer: queries yes, mutations (plain or aliased) no.
	vc := gw.browserLogin(t, "vera", vera)
	if got := gw.graphql(t, vc, nil, queryRuns); got != http.StatusOK {
		t.Fatalf("viewer query: %d", got)
	}
	for _, m := range []string{mutLaunch, mutAliased, queryRuns + " " + mutLaunch} {
		if got := gw.graphql(t, vc, nil, m); got != http.StatusForbidden {
			t.Errorf("viewer %s: %d, want 403", m, got)
		}
	}
	if m := gw.app.Mutations(); len(m) != 0 {
		t.Fatalf("viewer mutations reached the app: %v", m)
	}

	// Editor: may launch runs, may not delete them; admin may.
	ec := gw.browserLogin(t, "eddie", eddie)
	if got := gw.graphql(t, ec, nil, mutLaunch); got != http.StatusOK {
		t.Fatalf("editor launch: %d", got)
	}
	if got := gw.graphql(t, ec, nil, mutDelete); got != http.StatusForbidden {
		t.Fatalf("editor delete: %d", got)
	}
	ac := gw.browserLogin(t, "ada", ada)
	if got := gw.graphql(t, ac, nil, mutDelete); got != http.StatusOK {
		t.Fatalf("admin delete: %d", got)
	}
	if m := gw.app.Mutations(); !slices.Equal(m, []string{"launchRun", "deleteRun"}) {
		t.Fatalf("app mutations %v", m)
	}

	// A role change made with the CLI on the database applies to vera's
	// existing session within the audit poll interval.
	gatehouseAdmin(t, gw.gatehouse, "users", "set-role", "vera", "editor")
	deadline := time.Now().Add(10 * time.Second)
	for gw.graphql(t, vc, nil, mutLaunch) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("vera's promotion never reached her session")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Deleting eddie ends his session.
	gatehouseAdmin(t, gw.gatehouse, "users", "delete", "eddie")
	deadline = time.Now().Add(10 * time.Second)
	for gw.graphql(t, ec, nil, queryRuns) != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("eddie's session outlived his account")
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Logout ends the session.
	p, err := browse(ac, http.MethodGet, gw.URL+"/_gatehouse/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.form("/_gatehouse/logout")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.submit(ac, nil); err != nil {
		t.Fatal(err)
	}
	if got := gw.graphql(t, ac, nil, queryRuns); got != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", got)
	}
}

func TestGatewayScriptsWithAPIKeysAndClientCredentials(t *testing.T) {
	t.Parallel()
	gw := startGateway(t)
	gw.addUser(t, "vera", "viewer")
	issuer := gw.URL + authPrefix
	u := newCLIUser(t)

	// An API key acting as the viewer, through `gatehouse api`.
	_, key := createAPIKey(t, gw.gatehouse, "report", "--user", "vera")
	env := []string{"GATEHOUSE_API_KEY=" + key, "GATEHOUSE_ISSUER=" + issuer}
	out := u.ok(env, "api", "-X", "POST", gw.URL+"/graphql", "-H", "Content-Type: application/json",
		"-d", `{"query":"{ runs { id } }"}`)
	if !strings.Contains(out, `"runs"`) {
		t.Fatalf("api with API key: %s", out)
	}
	if _, errOut, code := u.run(env, "", "api", "-X", "POST", gw.URL+"/graphql", "-H", "Content-Type: application/json",
		"-d", `{"query":"`+mutLaunch+`"}`); code == 0 {
		t.Fatalf("viewer key ran a mutation: %s", errOut)
	}

	// A client-credentials client with the editor role: exactly the rights
	// a person with that role has.
	// Its tokens are for the gateway (--audience): a client without that
	// audience gets tokens the gateway refuses, whatever its role.
	outJSON := gatehouseAdmin(t, gw.gatehouse, "clients", "create", "other-app", "--grant", "client_credentials", "--role", "admin", "--json")
	var other struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(outJSON), &other); err != nil {
		t.Fatal(err)
	}
	otherEnv := []string{"GATEHOUSE_CLIENT_ID=" + other.ID, "GATEHOUSE_CLIENT_SECRET=" + other.Secret, "GATEHOUSE_ISSUER=" + issuer}
	if _, errOut, code := u.run(otherEnv, "", "api", gw.URL+"/graphql?query=%7Bruns%7Bid%7D%7D"); code == 0 {
		t.Fatalf("a token for another audience opened the gateway: %s", errOut)
	}
	outJSON = gatehouseAdmin(t, gw.gatehouse, "clients", "create", "ci", "--grant", "client_credentials", "--role", "editor",
		"--audience", gw.URL, "--json")
	var cl struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(outJSON), &cl); err != nil {
		t.Fatal(err)
	}
	ccEnv := []string{"GATEHOUSE_CLIENT_ID=" + cl.ID, "GATEHOUSE_CLIENT_SECRET=" + cl.Secret, "GATEHOUSE_ISSUER=" + issuer}
	out = u.ok(ccEnv, "api", "-X", "POST", gw.URL+"/graphql", "-H", "Content-Type: application/json",
		"-d", fmt.Sprintf(`{"query":%q}`, mutLaunch))
	if !strings.Contains(out, "launchRun") {
		t.Fatalf("editor client launch: %s", out)
	}
	if _, _, code := u.run(ccEnv, "", "api", "-X", "POST", gw.URL+"/graphql", "-H", "Content-Type: application/json",
		"-d", fmt.Sprintf(`{"query":%q}`, mutDelete)); code == 0 {
		t.Fatal("editor client deleted a run")
	}
	if m := gw.app.Mutations(); !slices.Equal(m, []string{"launchRun"}) {
		t.Fatalf("app mutations %v", m)
	}

	// A WebSocket round trip with the API key, and a GraphQL subscription
	// that may not carry a mutation.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	hdr := http.Header{"Authorization": {"Bearer " + key}}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gw.URL, "http")+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("websocket through the gateway: %v", err)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != "hello" {
		t.Fatalf("websocket echo %q %v", msg, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")
	if _, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(gw.URL, "http")+"/ws", nil); err == nil {
		t.Fatal("an anonymous WebSocket was accepted")
	}
	payloads, err := proxytest.GraphQLWS(ctx, "ws"+strings.TrimPrefix(gw.URL, "http")+"/graphql", hdr, `subscription { runEvents }`)
	if err != nil || len(payloads) == 0 {
		t.Fatalf("viewer subscription: %v %v", payloads, err)
	}
	if _, err := proxytest.GraphQLWS(ctx, "ws"+strings.TrimPrefix(gw.URL, "http")+"/graphql", hdr, mutLaunch); err == nil {
		t.Fatal("a viewer's mutation over WebSocket completed")
	}
	if m := gw.app.Mutations(); !slices.Equal(m, []string{"launchRun"}) {
		t.Fatalf("app mutations after WebSocket %v", m)
	}
}

// TestGatewayChromium logs in through the gateway in a real browser: the
// redirect to the embedded server's login page, its CSP and cookies, and
// the way back to the page first asked for, with the user menu injected.
func TestGatewayChromium(t *testing.T) {
	t.Parallel()
	ctx := chromiumtest.New(t)
	gw := startGateway(t, "--menu", "--brand-name", "Acme Data")
	pass := gw.addUser(t, "vera", "viewer")
	err := browserDo(ctx,
		chromedp.Navigate(gw.URL+"/runs?tab=1"),
		chromedp.WaitVisible(chromedp.ID("username")),
	)
	if err != nil {
		t.Fatalf("login page: %v (at %s)", err, browserLocation(ctx))
	}
	tctx, tcancel := context.WithTimeout(ctx, 10*time.Second)
	defer tcancel()
	if loginTitle, err := chromedp.Run(tctx, chromedp.Title()); err != nil || !strings.Contains(loginTitle, "Acme Data") {
		t.Errorf("login page title %q (%v): the brand did not reach the embedded server's page", loginTitle, err)
	}
	err = browserDo(ctx,
		chromedp.SendKeys(chromedp.ID("username"), "vera"),
		chromedp.SendKeys(chromedp.ID("password"), pass),
		chromedp.Click(chromedp.CSS(`form[action="`+authPrefix+`/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("gatehouse-menu")),
	)
	if err != nil {
		t.Fatalf("browser login through the gateway: %v (at %s)", err, browserLocation(ctx))
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	title, err := chromedp.Run(rctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	menu, err := chromedp.Run(rctx, chromedp.Text(chromedp.ID("gatehouse-menu")))
	if err != nil {
		t.Fatal(err)
	}
	if loc := browserLocation(ctx); !strings.HasSuffix(loc, "/runs?tab=1") {
		t.Errorf("landed on %s", loc)
	}
	if title != "Test app" || !strings.Contains(menu, "vera") {
		t.Errorf("title %q, menu %q", title, menu)
	}
	// Every control of the menu is at least 24 x 24 px, and the menu
	// collapses to its toggle and opens again.
	eval := func(js string) bool {
		t.Helper()
		ectx, ecancel := context.WithTimeout(ctx, 10*time.Second)
		defer ecancel()
		v, err := chromedp.Run(ectx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Errorf("%s: %v", js, err)
		}
		return v
	}
	toggle := func() {
		t.Helper()
		if err := browserDo(ctx, chromedp.Click(chromedp.CSS(`#gatehouse-menu .gatehouse-menu-toggle`))); err != nil {
			t.Errorf("menu toggle: %v", err)
		}
	}
	big := eval(`[...document.querySelectorAll('#gatehouse-menu button')].every(b => { const r = b.getBoundingClientRect(); return r.width >= 24 && r.height >= 24 })`)
	toggle()
	collapsed := eval(`document.getElementById('gatehouse-menu-body').hidden && document.querySelector('#gatehouse-menu button[type=submit]').getBoundingClientRect().width === 0`)
	toggle()
	opened := eval(`!document.getElementById('gatehouse-menu-body').hidden`)
	if !big || !collapsed || !opened {
		t.Errorf("menu: targets >= 24 px %v, collapses %v, opens again %v", big, collapsed, opened)
	}
	// Sign out with the menu's button: the next page asks for a login.
	err = browserDo(ctx,
		chromedp.Click(chromedp.CSS(`#gatehouse-menu button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/_gatehouse/login"]`)),
		chromedp.Navigate(gw.URL+"/runs"),
		chromedp.WaitVisible(chromedp.ID("username")),
	)
	if err != nil {
		t.Fatalf("sign out: %v (at %s)", err, browserLocation(ctx))
	}
}

// TestGatewayExternalIssuer runs the gateway as an OpenID Connect relying
// party of a separate `gatehouse server`: the browser is sent to the
// server's own login page (another origin), the roles come from the ID
// token, and the server's API keys work through introspection.
func TestGatewayExternalIssuer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	gwAddr := freeAddr(t)
	out := gatehouseAdmin(t, srv, "clients", "create", "dagster", "--grant", "authorization_code",
		"--redirect-uri", "http://"+gwAddr+"/_gatehouse/callback", "--scope", "openid", "--scope", "profile",
		"--first-party", "--json")
	var cl struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &cl); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(t.TempDir(), "client-secret")
	if err := os.WriteFile(secretFile, []byte(cl.Secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pass := "pw-vera-e2e-12345"
	if o, e, code := runCLI(t, pass+"\n", append([]string{"users", "add", "vera", "--role", "viewer", "--password-stdin"}, srv.storage...)...); code != 0 {
		t.Fatalf("users add: %s %s", o, e)
	}

	app := proxytest.NewApp()
	ts := httptest.NewServer(app.Handler())
	t.Cleanup(ts.Close)
	g := spawnCommand(t, "proxy", "/_gatehouse/healthz", gwAddr, t.TempDir(), nil,
		"--upstream", ts.URL, "--preset", "dagster", "--audit-output", "off",
		"--issuer", srv.URL, "--client-id", cl.ID, "--client-secret-file", secretFile,
		"--scope", "openid", "--scope", "profile")
	g.waitHealthy(t)

	// A browser that follows redirects across both origins.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second}
	p, err := browse(c, http.MethodGet, g.URL+"/runs", nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.URL.Host != strings.TrimPrefix(srv.URL, "http://") || !p.isLoginForm() {
		t.Fatalf("not at the issuer's login page: %s", p)
	}
	p, err = submitLogin(c, p, "vera", pass)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != http.StatusOK || p.URL.Host != gwAddr || p.URL.Path != "/runs" {
		t.Fatalf("after login: %s", p)
	}
	gw := &gateway{gatehouse: g, app: app}
	if got := gw.graphql(t, c, nil, queryRuns); got != http.StatusOK {
		t.Fatalf("viewer query: %d", got)
	}
	if got := gw.graphql(t, c, nil, mutLaunch); got != http.StatusForbidden {
		t.Fatalf("viewer mutation: %d", got)
	}
	// An API key of the issuer, checked by introspection with the
	// gateway's client.
	_, key := createAPIKey(t, srv, "report", "--user", "vera")
	hdr := http.Header{"Authorization": {"Bearer " + key}}
	if got := gw.graphql(t, &http.Client{Timeout: 10 * time.Second}, hdr, queryRuns); got != http.StatusOK {
		t.Fatalf("API key query: %d", got)
	}
	if m := app.Mutations(); len(m) != 0 {
		t.Fatalf("mutations reached the app: %v", m)
	}
}

// TestGatewayCLIDeviceLogin: a person logs the CLI in at the gateway's
// embedded issuer with the device flow, approves in the browser session
// they have at the gateway, and uses the app through `gatehouse api`.
func TestGatewayCLIDeviceLogin(t *testing.T) {
	t.Parallel()
	gw := startGateway(t)
	pass := gw.addUser(t, "vera", "viewer")
	issuer := gw.URL + authPrefix
	u := newCLIUser(t)
	p := u.start(nil, "", "login", "--device", "--issuer", issuer)
	code := p.waitStderr(t, regexp.MustCompile(`enter the code: (\S+)`))
	b := gw.browserLogin(t, "vera", pass)
	if err := approveDeviceHTTP(b, issuer, code, "approve"); err != nil {
		t.Fatal(err)
	}
	if exit := p.wait(t, 40*time.Second); exit != 0 {
		t.Fatalf("device login: exit %d\n%s", exit, p.stderr.String())
	}
	out := u.ok(nil, "api", gw.URL+"/graphql?query="+url.QueryEscape(queryRuns))
	if !strings.Contains(out, `"runs"`) {
		t.Fatalf("api through the gateway with the CLI login: %s", out)
	}
	if _, _, code := u.run(nil, "", "api", "-X", "POST", gw.URL+"/graphql", "-H", "Content-Type: application/json",
		"-d", fmt.Sprintf(`{"query":%q}`, mutLaunch)); code == 0 {
		t.Fatal("the viewer's CLI login ran a mutation")
	}
	u.ok(nil, "logout")
}
