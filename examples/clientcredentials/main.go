// Command clientcredentials shows a program that calls an API as itself,
// with the OAuth 2.0 client credentials grant (RFC 6749 §4.4): no user, no
// browser, nothing stored. It needs only package client, and it links only
// what that needs — not the OS keyring's D-Bus client, not the QR encoder,
// not test tooling; footprint_test.go keeps it so.
//
//	ISSUER=https://auth.example.com CLIENT_ID=reports CLIENT_SECRET=... \
//	  clientcredentials https://api.example.com/reports
//
// SCOPE (space-separated) and RESOURCE (the API's audience, RFC 8707) are
// optional. The response body goes to standard output.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"

	"github.com/gatehouse-auth/gatehouse/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientcredentials:", err)
		os.Exit(1)
	}
}

// run calls the API at args[0] with a token from the issuer in the
// environment and copies the response body to out.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: clientcredentials URL (with ISSUER, CLIENT_ID and CLIENT_SECRET set)")
	}
	cfg := &client.Config{
		Issuer:       getenv("ISSUER"),
		ClientID:     getenv("CLIENT_ID"),
		ClientSecret: getenv("CLIENT_SECRET"),
		Scopes:       strings.Fields(getenv("SCOPE")),
	}
	if r := getenv("RESOURCE"); r != "" {
		cfg.Resources = []string{r}
	}
	for name, v := range map[string]string{"ISSUER": cfg.Issuer, "CLIENT_ID": cfg.ClientID, "CLIENT_SECRET": cfg.ClientSecret} {
		if v == "" {
			return fmt.Errorf("%s is not set; set ISSUER, CLIENT_ID and CLIENT_SECRET to the client's registration", name)
		}
	}
	md, err := client.Discover(ctx, nil, cfg.Issuer)
	if err != nil {
		return err
	}
	cfg.Metadata = md

	// The source fetches a token and reuses it until it nearly expires;
	// the HTTP client sends it, and fetches a new one after a 401.
	hc := client.NewHTTPClient(cfg.ClientCredentialsSource(), nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", args[0], resp.Status)
	}
	_, err = io.Copy(out, resp.Body)
	return err
}
