package resource_test

// This file runs the real Gatehouse server in-process. Only this external
// test package may import internal/: the resource package itself must not
// drag the server into the programs that use it.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// gatehouse is a real server on SQLite behind an httptest listener.
type gatehouse struct{ *servertest.Server }

func startGatehouse(t *testing.T, alg string) *gatehouse {
	t.Helper()
	return &gatehouse{servertest.Start(t, servertest.WithAlgorithm(alg), servertest.WithClock(clocktest.New(t0)))}
}

// addClient registers a confidential client_credentials client and
// returns its secret.
func (g *gatehouse) addClient(t *testing.T, id string, roles ...string) string {
	t.Helper()
	return g.AddClient(t, storage.Client{
		ID: id, GrantTypes: []string{protocol.GrantClientCredentials}, Scopes: []string{"read", "write"}, Roles: roles,
	})
}

// clientCredentials asks the token endpoint for an access token.
func (g *gatehouse) clientCredentials(t *testing.T, id, sec, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {protocol.GrantClientCredentials}, "scope": {scope}}
	req, err := http.NewRequest(http.MethodPost, g.URL+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(sec))
	resp, err := g.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr protocol.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token endpoint: HTTP %d, %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}

func TestInteropWithGatehouseServer(t *testing.T) {
	for _, alg := range []string{resource.ES256, resource.EdDSA} {
		t.Run(alg, func(t *testing.T) {
			g := startGatehouse(t, alg)
			sec := g.addClient(t, "ci", "viewer")
			tok := g.clientCredentials(t, "ci", sec, "read")

			// Endpoints come from the server's discovery document; the
			// resource server introspects as the client "ci".
			v, err := resource.NewVerifier(ctx, resource.Config{
				Issuer: g.URL,
				// The audience a Gatehouse server gives a client's tokens
				// when the client names no resource.
				Audience:      []string{g.URL},
				Clock:         g.Clock,
				HTTPClient:    g.HTTP,
				Introspection: &resource.IntrospectionConfig{ClientID: "ci", ClientSecret: sec},
			})
			if err != nil {
				t.Fatal(err)
			}
			id, err := v.Verify(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			want := &resource.Identity{
				Subject: "ci", ClientID: "ci", Scopes: []string{"read"}, Roles: []string{"viewer"},
				Expiry: g.Clock.Now().Add(time.Duration(config.Default().Tokens.AccessTokenTTL)),
				Method: resource.MethodJWT,
			}
			if diff := cmp.Diff(want, id, cmpopts.IgnoreFields(resource.Identity{}, "TokenID", "Claims")); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
			if id.TokenID == "" {
				t.Error("no token id")
			}

			// An opaque credential the server does not know is inactive.
			if _, err := v.Verify(ctx, "gatehouse_nokey_"+secret.NewToken()); !errors.Is(err, resource.ErrInvalidToken) {
				t.Errorf("unknown opaque token: %v, want ErrInvalidToken", err)
			}

			// Key rotation: the server signs with a new kid; the verifier
			// fetches the JWKS again and accepts it.
			if _, err := g.Keys.Rotate(ctx, 0); err != nil {
				t.Fatal(err)
			}
			g.Clock.Advance(resource.MinJWKSRefetchInterval)
			rotated := g.clientCredentials(t, "ci", sec, "read write")
			if kidOf(t, rotated) == kidOf(t, tok) {
				t.Fatal("the server did not switch keys")
			}
			if id, err := v.Verify(ctx, rotated); err != nil || !id.HasScope("write") {
				t.Fatalf("token from the rotated key: %v, %v", id, err)
			}

			// The token expires at the server's exp.
			g.Clock.Advance(time.Duration(config.Default().Tokens.AccessTokenTTL) + resource.DefaultLeeway)
			if _, err := v.Verify(ctx, rotated); !errors.Is(err, resource.ErrExpiredToken) {
				t.Fatalf("after exp: %v, want ErrExpiredToken", err)
			}
		})
	}
}

func kidOf(t *testing.T, tok string) string {
	t.Helper()
	h, err := enc.DecodeString(tok[:strings.IndexByte(tok, '.')])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct{ Kid string }
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}
