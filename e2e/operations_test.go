package e2e

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestProbes checks the operational endpoints and the listening line.
func TestProbes(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	_, port, _ := net.SplitHostPort(g.Addr)
	if !strings.Contains(g.stderrText(), ":"+port) {
		t.Errorf("stderr does not name the listening address %s:\n%s", g.Addr, tail(g.stderrText(), 2000))
	}
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/healthz", http.StatusOK, ""},
		{"/readyz", http.StatusOK, ""},
		{"/metrics", http.StatusOK, "# TYPE "},
		{"/.well-known/oauth-authorization-server", http.StatusOK, `"issuer"`},
		{"/.well-known/openid-configuration", http.StatusOK, `"issuer"`},
		{"/oauth2/jwks", http.StatusOK, `"keys"`},
		{"/no-such-page", http.StatusNotFound, ""},
	} {
		resp, err := http.Get(g.URL + tc.path)
		if err != nil {
			t.Errorf("GET %s: %v", tc.path, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s = %d %q; want %d containing %q", tc.path, resp.StatusCode, tail(string(b), 300), tc.status, tc.want)
		}
	}

	// RFC 8414 §3.3: the issuer in the metadata is identical to the one
	// the metadata was fetched for (go-oidc checks the OIDC document).
	resp, err := http.Get(g.URL + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md metadata
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil || md.Issuer != g.URL {
		t.Errorf("RFC 8414 metadata issuer = %q (%v), want %q", md.Issuer, err, g.URL)
	}
}

// TestGracefulShutdown: on SIGTERM the server stops accepting connections,
// finishes the request in flight, and exits 0.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	id, secret := createClient(t, g, "ci", "--grant", "client_credentials")

	// A token request whose body arrives in two halves: after the first
	// half the handler is running, waiting for the rest.
	body := url.Values{"grant_type": {"client_credentials"}}.Encode()
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
	conn, err := net.DialTimeout("tcp", g.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	half := len(body) / 2
	if _, err := fmt.Fprintf(conn, "POST /oauth2/token HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		g.Addr, basic, len(body), body[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	g.signal(t, syscall.SIGTERM)

	// New connections are refused while the old request is still open.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", g.Addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("the server still accepts connections 10s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := (&http.Client{Timeout: time.Second}).Get(g.URL + "/healthz"); err == nil {
		t.Errorf("/healthz still answers after SIGTERM")
	}
	if exited, err := g.wait(0); exited {
		t.Fatalf("the server exited (%v) with a request in flight; stderr:\n%s", err, tail(g.stderrText(), 2000))
	}

	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatalf("send the rest of the in-flight request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request got no response: %v", err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || tr.AccessToken == "" {
		t.Errorf("in-flight token request during shutdown: status %d, decode error %v, access token %t; want 200 with a token",
			resp.StatusCode, err, tr.AccessToken != "")
	}

	// The default shutdown timeout is 20s; with nothing left in flight the
	// exit comes at once.
	exited, err := g.wait(25 * time.Second)
	if !exited {
		t.Fatalf("the server has not exited 25s after SIGTERM")
	}
	if err != nil {
		t.Errorf("exit after SIGTERM: %v; want status 0; stderr:\n%s", err, tail(g.stderrText(), 2000))
	}
}

// TestRestartKeepsState: a restart on the same data directory keeps the
// admin user, clients, grants and the signing key, so tokens issued before
// it still verify and refresh after it.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	addr, dir := freeAddr(t), t.TempDir()
	g := launch(t, addr, dir, adminPassword)
	p, _ := discover(t, ctx, g)

	id, secret := createClient(t, g, "ci", "--grant", "client_credentials", "--scope", "read", "--role", "viewer")
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: p.Endpoint().TokenURL}
	machineTok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials before restart: %v", err)
	}
	cfg := cliConfig(p, "http://"+freeAddr(t)+"/callback")
	ar := newAuthRequest(cfg)
	code := authorizeHTTP(t, newBrowser(t, g.URL), g, cfg, ar, "admin", adminPassword)
	userTok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("code exchange before restart: %v", err)
	}
	kid := func(raw string) string {
		h, err := jwtHeader(raw)
		if err != nil {
			t.Fatal(err)
		}
		return h.KeyID
	}

	g.signal(t, syscall.SIGTERM)
	if exited, err := g.wait(25 * time.Second); !exited || err != nil {
		t.Fatalf("stop before restart: exited %t, %v", exited, err)
	}

	// Another GATEHOUSE_ADMIN_PASSWORD must not touch the existing admin.
	g2 := launch(t, addr, dir, "not-the-admin-password-anymore")
	p2, _ := discover(t, ctx, g2)
	if c := verifyAccessToken(t, ctx, p2, g2, machineTok.AccessToken); c.Subject != id {
		t.Errorf("token from before the restart: sub %q, want %q", c.Subject, id)
	}
	verifyAccessToken(t, ctx, p2, g2, userTok.AccessToken)

	again, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials after restart: %v", err)
	}
	if kid(again.AccessToken) != kid(machineTok.AccessToken) {
		t.Errorf("signing key changed across the restart: kid %q, then %q", kid(machineTok.AccessToken), kid(again.AccessToken))
	}
	cfg2 := cliConfig(p2, cfg.RedirectURL)
	if _, err := cfg2.TokenSource(ctx, expired(userTok.RefreshToken)).Token(); err != nil {
		t.Errorf("refresh with a refresh token from before the restart: %v", err)
	}
	if err := loginHTTP(newBrowser(t, g2.URL), g2.URL, "admin", adminPassword); err != nil {
		t.Errorf("admin login with the original password after restart: %v", err)
	}
	if err := loginHTTP(newBrowser(t, g2.URL), g2.URL, "admin", "not-the-admin-password-anymore"); err == nil {
		t.Errorf("a restart with a new GATEHOUSE_ADMIN_PASSWORD changed the existing admin's password")
	}
}
