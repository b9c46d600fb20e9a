package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-auth/gatehouse/internal/chromiumtest"
)

// TestConnectorOIDCChromium: a second `gatehouse server` is the upstream
// OpenID Connect provider of the first. Chromium clicks "Sign in with
// Gatehouse HQ" on the first server's login page (so the page's
// Content-Security-Policy must let the navigation leave for the
// provider), signs in at the second, comes back and is signed in with the
// roles the first server's role rules give: the upstream's admin role
// (its groups claim) becomes editor here.
func TestConnectorOIDCChromium(t *testing.T) {
	t.Parallel()
	ctx := chromiumtest.New(t)

	// The upstream answers on localhost, the server on 127.0.0.1: two
	// hosts, so their cookies stay apart as two real sites' would.
	upAddr := freeAddr(t)
	_, upPort, _ := net.SplitHostPort(upAddr)
	upIssuer := "http://localhost:" + upPort
	upstream := launch(t, upAddr, t.TempDir(), adminPassword, "--issuer", upIssuer)
	addUser(t, upstream, "ada", "admin", "ada-password-1")

	addr := freeAddr(t)
	callback := "http://" + addr + "/login/connector/hq/callback"
	clientID, secret := createClient(t, upstream, "downstream", "--grant", "authorization_code", "--redirect-uri", callback,
		"--scope", "openid", "--scope", "email", "--scope", "profile", "--scope", "groups", "--first-party")

	cfg := filepath.Join(t.TempDir(), "server.yaml")
	yml := fmt.Sprintf(`connectors:
  - id: hq
    type: oidc
    name: Gatehouse HQ
    oidc:
      issuer: %s
      client_id: %s
      client_secret_env: HQ_CLIENT_SECRET
      scopes: [openid, email, profile, groups]
    role_rules:
      - groups: [admin]
        roles: [editor]
`, upIssuer, clientID)
	if err := os.WriteFile(cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := spawn(t, addr, t.TempDir(), []string{"HQ_CLIENT_SECRET=" + secret}, "--config", cfg)
	g.waitHealthy(t)

	button := chromedp.CSS(`a.connector`)
	if err := browserDo(ctx, chromedp.Navigate(g.URL+"/login"), chromedp.WaitVisible(button)); err != nil {
		t.Fatalf("login page: %v (at %s)", err, browserLocation(ctx))
	}
	if err := browserDo(ctx, chromedp.Click(button), chromedp.WaitVisible(chromedp.ID("username"))); err != nil {
		t.Fatalf("click Sign in with Gatehouse HQ: %v (at %s)", err, browserLocation(ctx))
	}
	if loc := browserLocation(ctx); !strings.HasPrefix(loc, upIssuer+"/login") {
		t.Fatalf("the click did not reach the provider's login page: at %s", loc)
	}
	if err := browserLogin(ctx, "ada", "ada-password-1"); err != nil {
		t.Fatalf("sign in at the provider: %v (at %s)", err, browserLocation(ctx))
	}
	var text string
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ctx2, cancel := context.WithTimeout(ctx, 2*time.Second)
		text, _ = chromedp.Run(ctx2, chromedp.Text(chromedp.CSS("main")))
		cancel()
		if strings.Contains(text, "You are signed in as") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(text, "You are signed in as ada") || !strings.HasPrefix(browserLocation(ctx), g.URL+"/login") {
		t.Fatalf("not signed in at the first server: at %s: %q", browserLocation(ctx), text)
	}

	out, errOut, code := runCLI(t, "", append([]string{"users", "show", "ada", "--json"}, g.storage...)...)
	if code != 0 {
		t.Fatalf("users show: %d %s %s", code, out, errOut)
	}
	var u struct {
		Roles     []string `json:"roles"`
		Connector string   `json:"connector"`
		Subject   string   `json:"connector_subject"`
		Groups    []string `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		t.Fatal(err)
	}
	if u.Connector != "hq" || u.Subject == "" || !slices.Equal(u.Roles, []string{"editor"}) || !slices.Contains(u.Groups, "admin") {
		t.Errorf("user at the first server: %+v", u)
	}
}
