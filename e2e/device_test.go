package e2e

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestDeviceFlow runs the device authorization grant (RFC 8628) with
// x/oauth2's DeviceAuth and DeviceAccessToken while a user approves, or
// denies, the code in the HTTP browser. The server's polling interval is
// 5 s, so each subtest takes about that long; they run in parallel.
func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	ctx := t.Context()
	p, _ := discover(t, ctx, g)
	cfg := cliConfig(p, "")
	const alicePassword = "alice-Pa55word-e2e"
	addUser(t, g, "alice", "editor", alicePassword)

	t.Run("approve", func(t *testing.T) {
		t.Parallel()
		da := deviceAuth(t, ctx, g, cfg)
		b := newBrowser(t, g.URL)
		tok, err := pollWhileBrowsing(ctx, cfg, da, func() error {
			if err := loginHTTP(b, g.URL, "alice", alicePassword); err != nil {
				return err
			}
			return approveDeviceHTTP(b, g.URL, da.UserCode, "approve")
		})
		if err != nil {
			t.Fatal(err)
		}
		at := verifyAccessToken(t, ctx, p, g, tok.AccessToken)
		if at.ClientID != cliClientID || at.Username != "alice" || !slices.Equal(at.Roles, []string{"editor"}) {
			t.Errorf("access token claims = %+v; want client_id %s, preferred_username alice, roles [editor]", at, cliClientID)
		}
		idt, idc := verifyIDToken(t, ctx, p, tok, cliClientID, "")
		if idt.Subject != at.Subject || idc.Username != "alice" {
			t.Errorf("ID token sub %q, preferred_username %q; want %q, alice", idt.Subject, idc.Username, at.Subject)
		}
		if tok.RefreshToken == "" {
			t.Errorf("no refresh token for scope offline_access")
		}
		// The code is spent: polling again does not issue a second token.
		_, err = cfg.DeviceAccessToken(ctx, &oauth2.DeviceAuthResponse{DeviceCode: da.DeviceCode, Interval: 1, Expiry: time.Now().Add(10 * time.Second)})
		wantOAuthError(t, err, "invalid_grant")
	})

	t.Run("deny", func(t *testing.T) {
		t.Parallel()
		da := deviceAuth(t, ctx, g, cfg)
		b := newBrowser(t, g.URL)
		_, err := pollWhileBrowsing(ctx, cfg, da, func() error {
			if err := loginHTTP(b, g.URL, "admin", adminPassword); err != nil {
				return err
			}
			return approveDeviceHTTP(b, g.URL, da.UserCode, "deny")
		})
		wantOAuthError(t, err, "access_denied")
	})
}

// deviceAuth starts a device authorization with x/oauth2 and checks the
// response.
func deviceAuth(t testing.TB, ctx context.Context, g *gatehouse, cfg *oauth2.Config) *oauth2.DeviceAuthResponse {
	t.Helper()
	da, err := cfg.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("device authorization: %v", err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI != g.URL+"/device" || !da.Expiry.After(time.Now()) {
		t.Fatalf("device authorization response = %+v; want codes, verification_uri %s/device, an expiry", da, g.URL)
	}
	if u, err := url.Parse(da.VerificationURIComplete); err != nil || u.Query().Get("user_code") != da.UserCode {
		t.Errorf("verification_uri_complete = %q; want the user code in it", da.VerificationURIComplete)
	}
	return da
}

// pollWhileBrowsing polls the token endpoint with x/oauth2 while browse
// runs in parallel. A browse failure stops the polling and is returned.
func pollWhileBrowsing(ctx context.Context, cfg *oauth2.Config, da *oauth2.DeviceAuthResponse, browse func() error) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		err := browse()
		if err != nil {
			cancel()
		}
		errc <- err
	}()
	tok, err := cfg.DeviceAccessToken(ctx, da)
	if berr := <-errc; berr != nil {
		return nil, berr
	}
	return tok, err
}
