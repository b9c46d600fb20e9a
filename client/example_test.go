package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/client"
	"github.com/gatehouse-auth/gatehouse/client/qrcode"
	"github.com/gatehouse-auth/gatehouse/credstore"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// metadataServer serves a discovery document naming issuer (the server's
// own URL when empty).
func metadataServer(issuer string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-authorization-server" {
			http.NotFound(w, r)
			return
		}
		iss := issuer
		if iss == "" {
			iss = srv.URL
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(protocol.Metadata{
			Issuer:                      iss,
			AuthorizationEndpoint:       srv.URL + "/oauth2/authorize",
			TokenEndpoint:               srv.URL + "/oauth2/token",
			DeviceAuthorizationEndpoint: srv.URL + "/oauth2/device_authorization",
		})
	}))
	return srv
}

func ExampleDiscover() {
	srv := metadataServer("")
	defer srv.Close()

	md, err := client.Discover(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		log.Fatal(err)
	}
	ep := client.Endpoint(md)
	fmt.Println(md.Issuer == srv.URL)
	fmt.Println(ep.TokenURL[len(srv.URL):], ep.DeviceAuthURL[len(srv.URL):])
	// Output:
	// true
	// /oauth2/token /oauth2/device_authorization
}

// A discovery document that names another issuer is refused (RFC 8414
// §3.3), so a mix-up attacker cannot redirect the client's tokens.
func ExampleDiscover_issuerMismatch() {
	srv := metadataServer("https://attacker.example")
	defer srv.Close()

	_, err := client.Discover(context.Background(), srv.Client(), srv.URL)
	fmt.Println(errors.Is(err, client.ErrIssuerMismatch))
	// Output: true
}

// A CLI's login command: the browser when one can open, else the device
// flow; then the result goes to the credential store.
func ExampleConfig_BrowserLogin() {
	ctx := context.Background()
	cfg := &client.Config{
		Issuer:   "https://auth.example.com",
		ClientID: "gatehouse-cli",
		Scopes:   []string{"openid", "profile", "offline_access"},
	}
	tok, err := cfg.BrowserLogin(ctx, client.BrowserOptions{
		ShowURL: func(u string) { fmt.Fprintln(os.Stderr, "Opening", u) },
	})
	if errors.Is(err, client.ErrBrowserUnavailable) {
		tok, err = cfg.DeviceLogin(ctx, client.DeviceOptions{Prompt: qrcode.DevicePrompt(os.Stderr)})
	}
	if err != nil {
		log.Fatal(err)
	}
	store := credstore.NewMemory()
	if err := store.Put(ctx, "default", cfg.UserCredential(tok)); err != nil {
		log.Fatal(err)
	}
}

// The token source serves the stored token while it is fresh; the HTTP
// client puts it in the Authorization header.
func ExampleNewTokenSource() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()

	ctx := context.Background()
	store := credstore.NewMemory()
	store.Put(ctx, "default", &credstore.Credential{
		Kind:         credstore.KindUser,
		Issuer:       "https://auth.example.com",
		ClientID:     "gatehouse-cli",
		AccessToken:  "eyJhbGciOi.example.token",
		RefreshToken: "refresh-token",
		Expiry:       time.Now().Add(time.Hour),
	})
	ts, err := client.NewTokenSource(client.TokenSourceOptions{Store: store, Profile: "default"})
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.NewHTTPClient(ts, nil).Get(api.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: Bearer eyJhbGciOi.example.token
}

func ExampleAPIKey() {
	tok, _ := client.APIKey("ghk_example").Token()
	fmt.Println(tok.Type(), tok.AccessToken, tok.Expiry.IsZero())
	// Output: Bearer ghk_example true
}

// Token endpoint errors carry the same *protocol.Error the server uses.
func ExampleParseError() {
	var err error = &oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "refresh token reused"}
	err = client.ParseError(err)

	var pe *protocol.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.Code, "-", pe.Description)
	}
	fmt.Println(errors.Is(err, &protocol.Error{Code: protocol.ErrInvalidGrant}))
	// Output:
	// invalid_grant - refresh token reused
	// true
}
