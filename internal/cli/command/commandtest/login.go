package commandtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// DeviceLogin logs username in with the device flow of the gatehouse-cli
// client, as `gatehouse login --device` does, and returns the token
// response.
func DeviceLogin(t testing.TB, srv *servertest.Server, username string, scopes []string, resources ...string) map[string]any {
	t.Helper()
	post := func(path string, form url.Values) map[string]any {
		t.Helper()
		resp, err := srv.HTTP.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %v %v", path, resp.StatusCode, m, err)
		}
		return m
	}
	da := post(server.PathDeviceAuthorize, url.Values{"client_id": {server.CLIClientID}, "scope": {strings.Join(scopes, " ")}, "resource": resources})
	srv.Approve(t, da["user_code"].(string), username)
	return post(server.PathToken, url.Values{"grant_type": {protocol.GrantDeviceCode},
		"device_code": {da["device_code"].(string)}, "client_id": {server.CLIClientID}})
}

// StoreLogin stores in the credential directory dir (GATEHOUSE_CONFIG_DIR
// with GATEHOUSE_AUTH_STORAGE=file), under slot ("default",
// "default#account", ...), the login of username at srv with scopes and
// resources, as `gatehouse login` would have.
func StoreLogin(t testing.TB, srv *servertest.Server, dir, slot, username string, scopes []string, resources ...string) {
	t.Helper()
	tok := DeviceLogin(t, srv, username, scopes, resources...)
	now := srv.Clock.Now()
	exp, _ := tok["expires_in"].(float64)
	err := credstore.NewFile(dir).Put(context.Background(), slot, &credstore.Credential{
		Kind: credstore.KindUser, Issuer: srv.URL, ClientID: server.CLIClientID, TokenType: "Bearer",
		AccessToken: tok["access_token"].(string), RefreshToken: tok["refresh_token"].(string),
		Expiry: now.Add(time.Duration(exp) * time.Second), Scopes: scopes, Username: username, UpdatedAt: now,
	})
	if err != nil {
		t.Fatal(err)
	}
}
