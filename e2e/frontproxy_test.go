package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/proxytest"
)

// The forward-auth configurations of docs/gateway.md, run by Debian's
// nginx and Caddy (installed by .ci/run): the test reads each snippet from
// the document, changes only the addresses, and checks logins, roles,
// forged identity headers in every spelling, and WebSockets through it
// (SECURITY-CASES 66).

// Addresses the documented snippets use, replaced by the test's.
const (
	docGatewayAddr = "127.0.0.1:4180"
	docAppAddr     = "127.0.0.1:3000"
)

// docSnippet returns the one fenced block of docs/gateway.md whose info
// string is lang.
func docSnippet(t *testing.T, lang string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "docs", "gateway.md"))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), "```"+lang+"\n")
	if len(parts) != 2 {
		t.Fatalf("docs/gateway.md has %d ```%s blocks, want 1", len(parts)-1, lang)
	}
	block, _, ok := strings.Cut(parts[1], "```")
	if !ok {
		t.Fatalf("unterminated ```%s block", lang)
	}
	if !strings.Contains(block, docGatewayAddr) || !strings.Contains(block, docAppAddr) {
		t.Fatalf("the %s snippet no longer uses %s and %s", lang, docGatewayAddr, docAppAddr)
	}
	return block
}

// startNginx runs the documented nginx snippet on frontAddr in front of
// the gateway at gwAddr and the app at appAddr.
func startNginx(t *testing.T, frontAddr, gwAddr, appAddr string) {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if _, err = os.Stat("/usr/sbin/nginx"); err != nil {
			t.Skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
		}
		bin = "/usr/sbin/nginx"
	}
	snippet := docSnippet(t, "nginx")
	if !strings.Contains(snippet, "listen 80;") {
		t.Fatal("the nginx snippet no longer listens on port 80")
	}
	snippet = strings.NewReplacer(docGatewayAddr, gwAddr, docAppAddr, appAddr, "listen 80;", "listen "+frontAddr+";").Replace(snippet)
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
user root;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 256; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, snippet)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	startFront(t, frontAddr, filepath.Join(dir, "error.log"), exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log")))
}

// startCaddy runs the documented Caddyfile like startNginx.
func startCaddy(t *testing.T, frontAddr, gwAddr, appAddr string) {
	t.Helper()
	bin, err := exec.LookPath("caddy")
	if err != nil {
		t.Skip("caddy is not installed (apt-get install caddy; .ci/run installs it)")
	}
	snippet := docSnippet(t, "caddy")
	if !strings.Contains(snippet, "app.example.com {") {
		t.Fatal("the Caddyfile no longer serves app.example.com")
	}
	snippet = strings.NewReplacer(docGatewayAddr, gwAddr, docAppAddr, appAddr, "app.example.com {", "http://"+frontAddr+" {").Replace(snippet)
	dir := t.TempDir()
	conf := "{\n\tadmin off\n\tauto_https off\n}\n" + snippet
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	startFront(t, frontAddr, filepath.Join(dir, "caddy.log"), cmd)
}

// startFront starts a front proxy's command, logging to logPath, and waits
// until it accepts connections on addr.
func startFront(t *testing.T, addr, logPath string, cmd *exec.Cmd) {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s log (tail):\n%s", filepath.Base(cmd.Path), tail(string(b), 3000))
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("%s did not listen on %s: %s", cmd.Path, addr, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestForwardAuthBehindNginx(t *testing.T) {
	t.Parallel()
	testFrontProxy(t, startNginx)
}

func TestForwardAuthBehindCaddy(t *testing.T) {
	t.Parallel()
	testFrontProxy(t, startCaddy)
}

// forgedHeaders are identity headers a client sends, in several spellings
// (names as written on the wire).
var forgedHeaders = []string{
	"X-Forwarded-User", "x-forwarded-user", "X-Forwarded-Email", "X_Forwarded_User", "Remote-User", "remote-user",
	"X-Remote-User", "X-WEBAUTH-USER", "X-Auth-Request-User", "X-Auth-Request-Email", "X-Gatehouse-User",
	"X-GATEHOUSE-USER-ID", "x-gatehouse-roles", "X-Gatehouse-Email", "X-Gatehouse-Auth", "X-Gatehouse-Assertion",
	"X_Gatehouse_User", "X-User", "X-Roles",
}

func testFrontProxy(t *testing.T, start func(t *testing.T, frontAddr, gwAddr, appAddr string)) {
	app := proxytest.NewApp()
	app.AnyCaseGraphQL = true
	var seen atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		app.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	frontAddr, gwAddr := freeAddr(t), freeAddr(t)
	start(t, frontAddr, gwAddr, strings.TrimPrefix(ts.URL, "http://"))
	g := spawnCommand(t, "proxy", "/_gatehouse/healthz", gwAddr, t.TempDir(), nil,
		"--upstream", ts.URL, "--preset", "dagster", "--audit-output", "off",
		"--trusted-proxy", "127.0.0.1/32", "--public-url", "http://"+frontAddr)
	g.waitHealthy(t)
	front := *g
	front.URL = "http://" + frontAddr
	gw := &gateway{gatehouse: &front, app: app}
	vera := gw.addUser(t, "vera", "viewer")
	eddie := gw.addUser(t, "eddie", "editor")

	// Anonymous: a page goes to the login page, an API call gets 401.
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, front.URL+"/runs?x=1&y=2", nil)
	req.Header.Set("Accept", "text/html")
	res, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || !strings.Contains(loc, "/_gatehouse/login?rd=%2Fruns%3Fx%3D1%26y%3D2") {
		t.Fatalf("anonymous page: %d %q", res.StatusCode, loc)
	}
	res, err = plain.Get(front.URL + "/runs")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous API call: %d", res.StatusCode)
	}
	if n := seen.Load(); n != 0 {
		t.Fatalf("%d anonymous requests reached the app", n)
	}

	// Logins through the front proxy.
	vc := gw.browserLogin(t, "vera", vera)
	ec := gw.browserLogin(t, "eddie", eddie)

	// Forged identity headers never reach the app; the gateway's do.
	req, _ = http.NewRequest(http.MethodGet, front.URL+"/echo", nil)
	for _, name := range forgedHeaders {
		req.Header[name] = []string{"forged-admin", "forged-again"}
	}
	if strings.Contains(t.Name(), "Caddy") {
		// Caddy removes every X-Gatehouse-* header; nginx can only set the
		// ones the gateway names (docs/gateway.md, threat model).
		req.Header["X-Gatehouse-Anything"] = []string{"forged"}
	}
	req.Header.Set("Cookie", "app_pref=dark")
	res, err = vc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e proxytest.Echo
	err = json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("echo: %d %v", res.StatusCode, err)
	}
	for name, vs := range e.Headers {
		for _, v := range vs {
			if strings.Contains(v, "forged") {
				t.Errorf("forged header reached the app: %s: %s", name, v)
			}
		}
	}
	one := func(name string) string { return strings.Join(e.Header(name), "|") }
	if one("X-Gatehouse-User") != "vera" || one("X-Forwarded-User") != "vera" || one("X-Gatehouse-Roles") != "viewer" || one("X-Gatehouse-Assertion") == "" {
		t.Errorf("identity headers at the app: %v", e.Headers)
	}
	if e.Cookies["app_pref"] != "dark" {
		t.Errorf("the app's own cookie did not reach it: %v", e.Cookies)
	}
	for name := range e.Cookies {
		if strings.Contains(name, "gatehouse") {
			t.Errorf("cookie %s reached the app", name)
		}
	}

	// Roles: GraphQL goes through the gateway, which reads every operation.
	if got := gw.graphql(t, vc, nil, queryRuns); got != http.StatusOK {
		t.Fatalf("viewer query: %d", got)
	}
	for _, m := range []string{mutLaunch, mutAliased, mutDelete} {
		if got := gw.graphql(t, vc, nil, m); got != http.StatusForbidden {
			t.Errorf("viewer %s: %d", m, got)
		}
	}
	if got := gw.graphql(t, ec, nil, mutLaunch); got != http.StatusOK {
		t.Fatalf("editor launch: %d", got)
	}
	if got := gw.graphql(t, ec, nil, mutDelete); got != http.StatusForbidden {
		t.Fatalf("editor delete: %d", got)
	}
	// The viewer's POST elsewhere is judged by the verify endpoint.
	res, err = vc.Post(front.URL+"/report_asset_materialization/x", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer POST through forward-auth: %d", res.StatusCode)
	}

	// WebSockets: GraphQL subscriptions work for the viewer and cannot
	// carry a mutation, on the documented path and on spellings the front
	// proxy routes to forward-auth instead.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wsBase := "ws://" + frontAddr
	hdr := http.Header{"Cookie": {cookieHeader(vc, front.URL)}}
	if p, err := proxytest.GraphQLWS(ctx, wsBase+"/graphql", hdr, `subscription { runEvents }`); err != nil || len(p) == 0 {
		t.Fatalf("viewer subscription: %v %v", p, err)
	}
	for _, path := range []string{"/graphql", "/GraphQL", "/graphql/", "/%67raphql"} {
		if _, err := proxytest.GraphQLWS(ctx, wsBase+path, hdr, mutDelete); err == nil {
			t.Errorf("viewer mutation over a WebSocket at %s was not refused", path)
		}
	}
	// Other WebSockets of the app are judged at the upgrade.
	ws, _, err := websocket.Dial(ctx, wsBase+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("websocket through the front proxy: %v", err)
	}
	if err := ws.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != "hello" {
		t.Fatalf("websocket echo %q %v", msg, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")
	if _, _, err := websocket.Dial(ctx, wsBase+"/ws", nil); err == nil {
		t.Fatal("an anonymous WebSocket was accepted")
	}
	if m := app.Mutations(); !slices.Equal(m, []string{"launchRun"}) {
		t.Fatalf("app mutations %v, want only the editor's launchRun", m)
	}
}

// cookieHeader is the Cookie header c's jar sends to base.
func cookieHeader(c *http.Client, base string) string {
	u, _ := url.Parse(base)
	var parts []string
	for _, ck := range c.Jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}
