package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func TestInteropClientCredentials(t *testing.T) {
	rs := servertest.Start(t)
	ctx := context.Background()
	sec := rs.AddClient(t, storage.Client{
		ID: "ci-bot", Name: "CI",
		GrantTypes: []string{protocol.GrantClientCredentials}, Scopes: []string{"api:read", "api:write"},
	})
	md, err := client.Discover(ctx, rs.HTTP, rs.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &client.Config{Metadata: md, ClientID: "ci-bot", ClientSecret: sec, Scopes: []string{"api:read"}, HTTPClient: rs.HTTP, Clock: rs.Clock}
	tok, err := cfg.ClientCredentialsToken(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.AccessToken, ".") != 2 || tok.RefreshToken != "" || !tok.Expiry.Equal(rs.Clock.Now().Add(15*time.Minute)) {
		t.Errorf("token = %+v", tok)
	}

	// Stored as a profile, the token source caches the token and fetches
	// a new one with the secret when it runs out.
	store := credstore.NewMemory()
	if err := store.Put(ctx, "ci", cfg.ClientCredential()); err != nil {
		t.Fatal(err)
	}
	ts, err := client.NewTokenSource(client.TokenSourceOptions{Store: store, Profile: "ci", HTTPClient: rs.HTTP, Clock: rs.Clock, Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	first, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := ts.Token(); again.AccessToken != first.AccessToken {
		t.Error("token not cached")
	}
	rs.Clock.Advance(15 * time.Minute)
	next, err := ts.Token()
	if err != nil || next.AccessToken == first.AccessToken {
		t.Errorf("after expiry: %v, same token %v", err, next != nil && next.AccessToken == first.AccessToken)
	}

	// The server's errors arrive as *protocol.Error.
	cfg.ClientSecret = "wrong"
	_, err = cfg.ClientCredentialsToken(ctx)
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != protocol.ErrInvalidClient || pe.Status != http.StatusUnauthorized {
		t.Errorf("wrong secret: err = %v (%+v)", err, pe)
	}
}

func TestInteropDeviceLoginAndRefresh(t *testing.T) {
	rs := servertest.Start(t)
	ctx := context.Background()
	// The fake clock reports each timer the device flow makes, so the
	// test moves time only while the client waits.
	clk := &timerClock{Fake: rs.Clock, made: make(chan time.Duration, 10)}
	cfg := &client.Config{Issuer: rs.URL, ClientID: server.CLIClientID, Scopes: []string{"openid", "profile", "offline_access"}, HTTPClient: rs.HTTP, Clock: clk}

	codes := make(chan string, 1)
	done := make(chan error, 1)
	var tok *oauth2.Token
	go func() {
		var err error
		tok, err = cfg.DeviceLogin(ctx, client.DeviceOptions{Prompt: func(da *oauth2.DeviceAuthResponse) {
			if !strings.HasPrefix(da.VerificationURIComplete, rs.URL+"/device?user_code=") {
				t.Errorf("verification_uri_complete = %q", da.VerificationURIComplete)
			}
			codes <- da.UserCode
		}})
		done <- err
	}()
	userCode := <-codes
	clk.Advance(clk.next(t, done)) // first poll: authorization_pending
	d := clk.next(t, done)         // the client waits again
	rs.Approve(t, userCode, server.AdminUsername)
	clk.Advance(d) // second poll: tokens
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token = %+v", tok)
	}

	cred := cfg.UserCredential(tok)
	if cred.Username != "admin" || cred.Subject == "" || cred.Issuer != rs.URL {
		t.Errorf("credential identity: subject %q, username %q, issuer %q", cred.Subject, cred.Username, cred.Issuer)
	}
	store := credstore.NewMemory()
	if err := store.Put(ctx, "default", cred); err != nil {
		t.Fatal(err)
	}

	// Several "processes" find the access token expired at once; the
	// real server revokes the whole login if its single-use refresh
	// token is presented twice, so every one of them succeeding proves
	// it was spent once.
	rs.Clock.Advance(15 * time.Minute)
	const n = 4
	sources := make([]*client.TokenSource, n)
	for i := range sources {
		ts, err := client.NewTokenSource(client.TokenSourceOptions{Store: store, Profile: "default", HTTPClient: rs.HTTP, Clock: rs.Clock})
		if err != nil {
			t.Fatal(err)
		}
		sources[i] = ts
	}
	var wg sync.WaitGroup
	got := make([]string, n)
	for i, ts := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := ts.Token()
			if err != nil {
				t.Errorf("process %d: %v", i, err)
				return
			}
			got[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	for i := range got {
		if got[i] == "" || got[i] != got[0] || got[i] == tok.AccessToken {
			t.Fatalf("process %d got a different or old token", i)
		}
	}
	stored, err := store.Get(ctx, "default")
	if err != nil || stored.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh token not rotated in the store: %v", err)
	}

	// The login is intact: a forced refresh works, and the token calls
	// the userinfo endpoint through the authorizing transport.
	if _, err := sources[0].ForceRefresh(ctx); err != nil {
		t.Fatalf("force refresh after the concurrent refresh: %v", err)
	}
	hc := client.NewHTTPClient(sources[0], rs.HTTP)
	resp, err := hc.Get(rs.URL + "/oauth2/userinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || resp.StatusCode != http.StatusOK || info["sub"] == nil {
		t.Errorf("userinfo: %d %v %v", resp.StatusCode, info, err)
	}

	// Replaying the spent refresh token (what a double spend would do)
	// revokes the login at the real server; the client then reports an
	// expired login.
	// (After the server's refresh reuse interval: a repeat within it is
	// refused without revoking, so that a lost response costs nothing.)
	rs.Clock.Advance(time.Minute)
	oc := &oauth2.Config{ClientID: server.CLIClientID, Endpoint: oauth2.Endpoint{TokenURL: rs.URL + "/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	_, err = oc.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, rs.HTTP), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if !errors.Is(client.ParseError(err), &protocol.Error{Code: protocol.ErrInvalidGrant}) {
		t.Fatalf("replay: err = %v", err)
	}
	rs.Clock.Advance(15 * time.Minute)
	if _, err := sources[1].Token(); !errors.Is(err, client.ErrLoginExpired) {
		t.Errorf("after the family was revoked: err = %v, want ErrLoginExpired", err)
	}
}

func TestInteropDeviceDenied(t *testing.T) {
	rs := servertest.Start(t)
	ctx := context.Background()
	clk := &timerClock{Fake: rs.Clock, made: make(chan time.Duration, 10)}
	cfg := &client.Config{Issuer: rs.URL, ClientID: server.CLIClientID, HTTPClient: rs.HTTP, Clock: clk}
	da, err := cfg.DeviceAuthorization(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := rs.Store.GetDeviceCodeByUserCode(ctx, secret.NormalizeUserCode(da.UserCode))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.Store.UpdateDeviceCode(ctx, dc.Hash, func(d *storage.DeviceCode) error {
		d.Status = storage.DeviceStatusDenied
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := cfg.DeviceToken(ctx, da); done <- err }()
	clk.Advance(clk.next(t, done))
	if err := <-done; !errors.Is(err, client.ErrDeviceDenied) || !errors.Is(err, &protocol.Error{Code: protocol.ErrAccessDenied}) {
		t.Errorf("err = %v", err)
	}
}

func TestInteropDiscoveryIssuerMismatch(t *testing.T) {
	rs := servertest.Start(t)
	// The same server under another name: its document names its real
	// issuer, which is not the one asked for.
	other := strings.Replace(rs.URL, "127.0.0.1", "localhost", 1)
	if _, err := client.Discover(context.Background(), rs.HTTP, other); !errors.Is(err, client.ErrIssuerMismatch) {
		t.Errorf("err = %v", err)
	}
}

// timerClock reports the duration of each timer made on the fake clock.
type timerClock struct {
	*clocktest.Fake
	made chan time.Duration
}

func (c *timerClock) NewTimer(d time.Duration) clock.Timer {
	t := c.Fake.NewTimer(d)
	c.made <- d
	return t
}

// next returns the duration of the next timer, failing the test if the
// flow ends (done) or stalls instead.
func (c *timerClock) next(t *testing.T, done <-chan error) time.Duration {
	t.Helper()
	select {
	case d := <-c.made:
		return d
	case err := <-done:
		t.Fatalf("device flow ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("device flow stalled")
	}
	return 0
}
