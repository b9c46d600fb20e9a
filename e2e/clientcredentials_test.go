package e2e

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	checkClientCredentials(t, g)
}

// checkClientCredentials gets a token for a machine client with
// x/oauth2/clientcredentials, verifies it with go-oidc, and checks the
// errors for a wrong secret, an unknown client and a scope the client may
// not ask for.
func checkClientCredentials(t *testing.T, g *gatehouse) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, m := discover(t, ctx, g)
	id, secret := createClient(t, g, "ci", "--grant", "client_credentials", "--scope", "read", "--role", "viewer")
	if secret == "" {
		t.Fatalf("clients create for a confidential client printed no client_secret")
	}
	cfg := clientcredentials.Config{
		ClientID:     id,
		ClientSecret: secret,
		TokenURL:     p.Endpoint().TokenURL,
		Scopes:       []string{"read"},
	}
	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials grant: %v", err)
	}
	if tok.Type() != "Bearer" || tok.RefreshToken != "" || !tok.Expiry.After(time.Now()) {
		t.Errorf("token = type %q, refresh token %q, expiry %v; want Bearer, none (RFC 6749 §4.4.3), in the future",
			tok.Type(), tok.RefreshToken, tok.Expiry)
	}

	c := verifyAccessToken(t, ctx, p, g, tok.AccessToken)
	if c.Subject != id || c.ClientID != id || c.Scope != "read" || !slices.Equal(c.Roles, []string{"viewer"}) {
		t.Errorf("access token claims = %+v; want sub = client_id = %s, scope read, roles [viewer]", c, id)
	}

	// A resource server verifying offline must refuse the same token with
	// its claims changed.
	forged := payload(t, tok.AccessToken)
	forged["roles"] = []string{"admin"}
	if _, err := p.VerifierContext(ctx, &oidc.Config{ClientID: id}).Verify(ctx, withPayload(t, tok.AccessToken, forged)); err == nil {
		t.Errorf("go-oidc accepted an access token whose roles were changed after signing")
	}

	// The client may introspect its own token.
	in := introspect(t, ctx, m, id, secret, tok.AccessToken)
	if !in.Active || in.ClientID != id || !slices.Contains(in.Roles, "viewer") {
		t.Errorf("introspection = %+v; want active, client_id %s, roles [viewer]", in, id)
	}

	// Errors reach x/oauth2 as RFC 6749 §5.2 error codes.
	bad := cfg
	bad.ClientSecret = secret + "x"
	_, err = bad.Token(ctx)
	wantOAuthError(t, err, "invalid_client")

	unknown := cfg
	unknown.ClientID = "no-such-client"
	_, err = unknown.Token(ctx)
	wantOAuthError(t, err, "invalid_client")

	wide := cfg
	wide.Scopes = []string{"read", "write"}
	_, err = wide.Token(ctx)
	wantOAuthError(t, err, "invalid_scope")
}

// TestResourceIndicatorsWithXOAuth2: x/oauth2 asks for an audience with
// the resource parameter (RFC 8707) and go-oidc verifies the token as the
// resource server it is for; another resource server refuses it, and a
// resource the client is not registered for is invalid_target.
func TestResourceIndicatorsWithXOAuth2(t *testing.T) {
	t.Parallel()
	g := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, _ := discover(t, ctx, g)
	id, secret := createClient(t, g, "reporter", "--grant", "client_credentials", "--role", "viewer",
		"--audience", "https://a.example", "--audience", "https://b.example")
	token := func(resource ...string) (*oauth2.Token, error) {
		cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: p.Endpoint().TokenURL,
			EndpointParams: url.Values{"resource": resource}, AuthStyle: oauth2.AuthStyleInHeader}
		return cfg.Token(ctx)
	}
	tok, err := token("https://b.example")
	if err != nil {
		t.Fatalf("client credentials with resource: %v", err)
	}
	if _, err := p.VerifierContext(ctx, &oidc.Config{ClientID: "https://b.example"}).Verify(ctx, tok.AccessToken); err != nil {
		t.Errorf("the resource server it is for refuses the token: %v", err)
	}
	if _, err := p.VerifierContext(ctx, &oidc.Config{ClientID: "https://a.example"}).Verify(ctx, tok.AccessToken); err == nil {
		t.Errorf("another resource server accepts the token")
	}
	if aud := payload(t, tok.AccessToken)["aud"]; len(toStrings(aud)) != 1 {
		t.Errorf("aud = %v, want only https://b.example", aud)
	}
	// Without resource: every registered audience.
	tok, err = token()
	if err != nil {
		t.Fatal(err)
	}
	if aud := toStrings(payload(t, tok.AccessToken)["aud"]); !slices.Equal(aud, []string{"https://a.example", "https://b.example"}) {
		t.Errorf("default aud = %v", aud)
	}
	_, err = token("https://c.example")
	wantOAuthError(t, err, "invalid_target")
	_, err = token(g.URL + "/admin")
	wantOAuthError(t, err, "invalid_target")
}
