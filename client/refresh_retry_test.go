package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// diesAfterRefresh is a credential store whose process "dies" once the
// server has answered a refresh: writing the answer fails, as it never
// happens after a SIGKILL. Everything written before stays.
type diesAfterRefresh struct {
	credstore.Store
	spent string // the refresh token being spent
}

func (s *diesAfterRefresh) Put(ctx context.Context, profile string, c *credstore.Credential) error {
	if c.RefreshToken != s.spent {
		return errors.New("killed before the answer was stored")
	}
	return s.Store.Put(ctx, profile, c)
}

// storedLogin creates, at the real server rs, a login of the CLI client
// for a new user and stores it as profile "default" in store, with an
// access token that needs refreshing. It returns the refresh token.
func storedLogin(t *testing.T, rs *servertest.Server, store credstore.Store) string {
	t.Helper()
	ctx := context.Background()
	u := rs.AddUser(t, "alice", "correct horse battery")
	now := rs.Clock.Now()
	g := &storage.Grant{ID: "g-alice", ClientID: server.CLIClientID, UserID: u.ID, Scopes: []string{"openid"},
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	if err := rs.Store.CreateGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
	rt := secret.NewToken()
	err := rs.Store.CreateRefreshToken(ctx, &storage.RefreshToken{Hash: secret.Hash(rt), GrantID: g.ID, ClientID: g.ClientID,
		UserID: u.ID, Scopes: g.Scopes, CreatedAt: now, ExpiresAt: g.ExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	err = store.Put(ctx, "default", &credstore.Credential{Kind: credstore.KindUser, Issuer: rs.URL, ClientID: server.CLIClientID,
		TokenType: "Bearer", AccessToken: "expired-access-token", RefreshToken: rt, Expiry: now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestRefreshRetriedAfterLostAnswer: a process dies after the real server
// rotated its refresh token and before the answer was stored. The store
// still holds the spent token, with the idempotency key written before
// the request; the next process's refresh sends that key again, gets the
// same successor, stores it and clears the key. Without the key (the
// control) the same situation loses the login.
func TestRefreshRetriedAfterLostAnswer(t *testing.T) {
	for _, withKey := range []bool{true, false} {
		rs := servertest.Start(t)
		ctx := context.Background()
		mem := credstore.NewMemory()
		spent := storedLogin(t, rs, mem)

		dying := &diesAfterRefresh{Store: mem, spent: spent}
		first, err := client.NewTokenSource(client.TokenSourceOptions{Store: dying, Profile: "default", HTTPClient: rs.HTTP, Clock: rs.Clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := first.Token(); err == nil {
			t.Fatal("the dying process stored its answer")
		}
		stored, err := mem.Get(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		if stored.RefreshToken != spent || stored.PendingRefreshKey == "" {
			t.Fatalf("after the lost answer the store holds refresh token %q (want the spent one) and pending key %q (want one)",
				stored.RefreshToken, stored.PendingRefreshKey)
		}
		if rt, err := rs.Store.GetRefreshToken(ctx, secret.Hash(spent)); err != nil || !rt.Rotated {
			t.Fatalf("the server did not rotate the token: %+v, %v", rt, err)
		}
		if !withKey {
			stored.PendingRefreshKey = "" // as before idempotency keys
			if err := mem.Put(ctx, "default", stored); err != nil {
				t.Fatal(err)
			}
		}

		rs.Clock.Advance(time.Second) // the next run, within the reuse interval
		next, err := client.NewTokenSource(client.TokenSourceOptions{Store: mem, Profile: "default", HTTPClient: rs.HTTP, Clock: rs.Clock})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := next.Token()
		if !withKey {
			if !errors.Is(err, client.ErrLoginExpired) {
				t.Fatalf("without the key: %v, %v; want the login lost (ErrLoginExpired)", tok, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("the retry with the stored key: %v", err)
		}
		stored, err = mem.Get(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		if stored.RefreshToken == spent || stored.PendingRefreshKey != "" || stored.AccessToken != tok.AccessToken {
			t.Fatalf("after the retry: refresh token spent %v, pending key %q, access token stored %v",
				stored.RefreshToken == spent, stored.PendingRefreshKey, stored.AccessToken == tok.AccessToken)
		}
		// The login goes on: the successor refreshes (it was not spent).
		if _, err := next.ForceRefresh(ctx); err != nil {
			t.Fatalf("refresh after the retry: %v", err)
		}
	}
}

// TestRefreshKeyWrittenBeforeSending: the store holds the pending key
// before the request leaves (the write-ahead record); a store that cannot
// be written stops the refresh before anything is spent.
func TestRefreshKeyWrittenBeforeSending(t *testing.T) {
	rs := servertest.Start(t)
	ctx := context.Background()
	mem := credstore.NewMemory()
	spent := storedLogin(t, rs, mem)
	broken := &diesAfterRefresh{Store: mem, spent: "none"} // every write fails
	ts, err := client.NewTokenSource(client.TokenSourceOptions{Store: broken, Profile: "default", HTTPClient: rs.HTTP, Clock: rs.Clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(); err == nil {
		t.Fatal("refreshed although the pending key could not be stored")
	}
	if rt, err := rs.Store.GetRefreshToken(ctx, secret.Hash(spent)); err != nil || rt.Rotated {
		t.Fatalf("the refresh token was spent without a stored key: %+v, %v", rt, err)
	}
}
