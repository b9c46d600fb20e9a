package cliauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/cliauth"
	"github.com/gatehouse-auth/gatehouse/client"
)

// A host tool's own command: App.Client calls an API with the stored
// login, and a 401 makes it refresh once and retry.
func TestClientRefreshesOn401(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	c := newCLI(t, srv)
	c.loginBrowser()
	app := c.app("", &syncBuffer{}, &syncBuffer{})

	userinfo := func() (int, string) {
		t.Helper()
		hc, res, err := app.Client(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.Source != "default profile" || res.Username != "alice" || res.Issuer != srv.URL {
			t.Errorf("Resolved = %+v", res)
		}
		resp, err := hc.Get(res.Issuer + "/oauth2/userinfo")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var info struct {
			Username string `json:"preferred_username"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&info)
		return resp.StatusCode, info.Username
	}
	if status, who := userinfo(); status != http.StatusOK || who != "alice" {
		t.Fatalf("userinfo: %d %q", status, who)
	}

	// The server no longer accepts the stored (unexpired) access token.
	cred := c.stored("default")
	cred.AccessToken = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.not-a-valid-signature"
	if err := c.fileStore().Put(context.Background(), "default", cred); err != nil {
		t.Fatal(err)
	}
	if status, who := userinfo(); status != http.StatusOK || who != "alice" {
		t.Fatalf("after a 401: %d %q; want a refresh and a successful retry", status, who)
	}
	if c.stored("default").AccessToken == cred.AccessToken {
		t.Error("the rejected token is still stored")
	}
}

// The token never follows a redirect to another origin.
func TestClientKeepsTokenOnItsOrigin(t *testing.T) {
	t.Parallel()
	gotAuth := make(chan string, 1)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth <- r.Header.Get("Authorization")
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer env-token" {
			t.Errorf("API got Authorization %q", r.Header.Get("Authorization"))
		}
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	}))
	defer api.Close()

	c := newCLI(t, nil)
	c.env["GATEHOUSE_TOKEN"] = "env-token"
	hc, res, err := c.app("", &syncBuffer{}, &syncBuffer{}).Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != "env GATEHOUSE_TOKEN" || res.Kind != cliauth.KindToken {
		t.Errorf("Resolved = %+v", res)
	}
	resp, err := hc.Get(api.URL + "/things")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d; want the cross-origin redirect returned unfollowed", resp.StatusCode)
	}
	select {
	case a := <-gotAuth:
		t.Errorf("the other origin was called, with Authorization %q", a)
	default:
	}
}

// Not logged in: Client fails at once with the exit code and the hint.
func TestClientNotLoggedIn(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	_, _, err := c.app("", &syncBuffer{}, &syncBuffer{}).Client(context.Background())
	if cliauth.ExitCode(err) != cliauth.ExitNotLoggedIn {
		t.Fatalf("err = %v (exit %d)", err, cliauth.ExitCode(err))
	}
	if e, ok := errorsAs[*cliauth.Error](err); !ok || e.Msg != "not logged in (profile \"default\"); run `gatehouse login`" {
		t.Errorf("err = %#v", err)
	}
	if !errors.Is(err, client.ErrNotLoggedIn) {
		t.Errorf("err does not wrap client.ErrNotLoggedIn: %v", err)
	}
}
