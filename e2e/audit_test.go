package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestAuditOutput: with --audit-output FILE, a failed and a successful
// login are recorded as JSON lines, and the file holds no password, token,
// code or client secret used along the way.
func TestAuditOutput(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	defer cancel()
	file := filepath.Join(t.TempDir(), "audit", "audit.jsonl")
	g := startServer(t, "--audit-output", file)
	p, _ := discover(t, ctx, g)

	wrong := "Wrong-" + rand.Text()
	if err := loginHTTP(newBrowser(t, g.URL), g.URL, "admin", wrong); err == nil {
		t.Fatalf("login with a wrong password succeeded")
	}

	// A successful login that goes on to tokens, and a machine client,
	// so that every kind of secret passes through the server.
	b := newBrowser(t, g.URL)
	cfg := cliConfig(p, "http://"+freeAddr(t)+"/callback")
	ar := newAuthRequest(cfg)
	code := authorizeHTTP(t, b, g, cfg, ar, "admin", adminPassword)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	refreshed, err := cfg.TokenSource(ctx, expired(tok.RefreshToken)).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	id, secret := createClient(t, g, "ci", "--grant", "client_credentials")
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: p.Endpoint().TokenURL}
	machineTok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	idToken, _ := tok.Extra("id_token").(string)
	secrets := map[string]string{
		"admin password":         adminPassword,
		"wrong password":         wrong,
		"authorization code":     code,
		"PKCE verifier":          ar.Verifier,
		"access token":           tok.AccessToken,
		"access token signature": tok.AccessToken[strings.LastIndexByte(tok.AccessToken, '.')+1:],
		"refresh token":          tok.RefreshToken,
		"rotated refresh token":  refreshed.RefreshToken,
		"ID token":               idToken,
		"client secret":          secret,
		"machine access token":   machineTok.AccessToken,
	}
	if u, err := url.Parse(g.URL); err == nil {
		for _, c := range b.Jar.Cookies(u) {
			secrets["cookie "+c.Name] = c.Value
		}
	}

	// Events are written asynchronously; wait for both login events.
	var data []byte
	var types map[string][]map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, types = readAudit(t, file)
		if len(types["login.failure"]) > 0 && len(types["login.success"]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit file lacks login.failure or login.success after 10s:\n%s", tail(string(data), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, ev := range types["login.failure"] {
		if ev["username"] != "admin" || ev["outcome"] != "failure" {
			t.Errorf("login.failure event = %v; want username admin, outcome failure", ev)
		}
	}
	for _, ev := range types["login.success"] {
		if ev["username"] != "admin" || ev["outcome"] != "success" {
			t.Errorf("login.success event = %v; want username admin, outcome success", ev)
		}
	}
	for what, s := range secrets {
		if s == "" {
			t.Errorf("no %s to look for", what)
			continue
		}
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the audit file contains the %s", what)
		}
	}
	if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("audit file mode %v; want no access for group and others", fi.Mode().Perm())
	}
}

// readAudit reads the audit file, checks that every line is a JSON object
// with a time and a type, and groups the events by type.
func readAudit(t *testing.T, file string) ([]byte, map[string][]map[string]any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	types := map[string][]map[string]any{}
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if len(line) == 0 {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(line, &ev); err != nil {
			if i == len(lines)-1 {
				break // a line being written
			}
			t.Fatalf("audit line %d is not JSON: %v: %s", i+1, err, line)
		}
		typ, _ := ev["type"].(string)
		if typ == "" || ev["time"] == nil {
			t.Errorf("audit line %d lacks type or time: %s", i+1, line)
		}
		types[typ] = append(types[typ], ev)
	}
	return data, types
}
