package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startDemoApp runs `gatehouse demo-app` on a free loopback port and waits
// until its /healthz answers; it is killed when the test ends.
func startDemoApp(t *testing.T) string {
	t.Helper()
	addr := freeAddr(t)
	var stderr strings.Builder
	cmd := exec.Command(binary, "demo-app", "--addr", addr)
	cmd.Env = baseEnv()
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start gatehouse demo-app: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base := "http://" + addr
	c := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		resp, err := c.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("gatehouse demo-app exited: %v\n%s", err, stderr.String())
		case <-ctx.Done():
			t.Fatalf("gatehouse demo-app did not answer on %s", base)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestDemoAppBehindGateway: `gatehouse demo-app` behind `gatehouse proxy
// --preset demo`, as the README's tour runs it, with browser sign-ins
// (which docs/tour.sh cannot do): a viewer sees herself on / and is kept
// out of /admin, an admin enters it, and identity headers a client sends
// never reach the app.
func TestDemoAppBehindGateway(t *testing.T) {
	t.Parallel()
	app := startDemoApp(t)
	g := spawnCommand(t, "proxy", "/_gatehouse/healthz", freeAddr(t), t.TempDir(), nil,
		"--upstream", app, "--preset", "demo", "--audit-output", "off")
	g.waitHealthy(t)
	gw := &gateway{gatehouse: g}
	veraPass := gw.addUser(t, "vera", "viewer")

	// Anonymous: public health check, a login redirect for a page.
	if p, err := browse(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, http.MethodGet, g.URL+"/", nil); err != nil || p.Status != http.StatusFound || !strings.HasPrefix(p.Location.Path, "/_gatehouse/login") {
		t.Fatalf("anonymous page: %v %v", p, err)
	}
	if resp, err := http.Get(g.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("anonymous /healthz: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	vera := signInAt(t, g.URL, "vera", veraPass)
	p, err := browse(vera, http.MethodGet, g.URL+"/", nil)
	if err != nil || p.Status != http.StatusOK || !strings.Contains(p.Body, "Hello vera (roles viewer; signed in with a browser session).") {
		t.Fatalf("vera's home page: %v %v", p, err)
	}
	if p, err := browse(vera, http.MethodGet, g.URL+"/admin", nil); err != nil || p.Status != http.StatusForbidden {
		t.Errorf("vera at /admin: %v %v; want 403", p, err)
	}

	// A header vera sends claiming to be admin is removed by the gateway.
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/api/me", nil)
	req.Header.Set("X-Gatehouse-User", "admin")
	req.Header.Set("X-Gatehouse-Roles", "admin")
	resp, err := vera.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"user": "vera"`) || !strings.Contains(string(body), `"roles": [
    "viewer"
  ]`) || !strings.Contains(string(body), `"asserted": true`) {
		t.Errorf("/api/me for vera with forged headers = %s", body)
	}

	admin := signInAt(t, g.URL, "admin", adminPassword)
	if p, err := browse(admin, http.MethodGet, g.URL+"/admin", nil); err != nil || p.Status != http.StatusOK || !strings.Contains(p.Body, "Admin area") || !strings.Contains(p.Body, "Hello admin (roles admin;") {
		t.Errorf("admin at /admin: %v %v", p, err)
	}
}

// signInAt signs a new HTTP browser in at the gateway's login page (of its
// embedded server) and returns it.
func signInAt(t *testing.T, gatewayURL, user, pass string) *http.Client {
	t.Helper()
	c := newBrowser(t, gatewayURL)
	p, err := browse(c, http.MethodGet, gatewayURL+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.form(authPrefix + "/login")
	if err != nil {
		t.Fatalf("no login form for %s: %v (%s)", user, err, p)
	}
	if p, err = f.submit(c, url.Values{"username": {user}, "password": {pass}}); err != nil || p.Status != http.StatusOK || p.URL.Path != "/" {
		t.Fatalf("sign-in of %s: %v %v", user, p, err)
	}
	return c
}
