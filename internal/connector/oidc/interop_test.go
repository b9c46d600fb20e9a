package oidc_test

import (
	"context"
	"errors"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/oidc"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The real Gatehouse authorization server, in-process, as the upstream
// provider: a confidential client registered with the callback of a
// downstream Gatehouse, a person signing in on its login form (over HTTP
// with a cookie jar), and the connector's Exchange.

const downstreamCallback = "https://downstream.example/login/connector/corp/callback"

// upstream starts a Gatehouse with the user ada and a client for the
// downstream connector, and returns it with the client secret.
func upstream(t *testing.T) (*servertest.Server, string) {
	t.Helper()
	up := servertest.Start(t)
	secret := up.AddClient(t, storage.Client{
		ID: "downstream", RedirectURIs: []string{downstreamCallback},
		GrantTypes: []string{protocol.GrantAuthorizationCode},
		Scopes:     []string{"openid", "email", "profile", "groups"},
		FirstParty: true,
	})
	u := up.AddUser(t, "ada", "ada-password-1", "viewer")
	err := up.Store.UpdateUser(context.Background(), u.ID, func(u *storage.User) error {
		u.Email, u.EmailVerified, u.Name = "ada@example.com", true, "Ada Lovelace"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return up, secret
}

// paths records the paths the connector requests.
type paths struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen []string
}

func (p *paths) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.seen = append(p.seen, r.URL.Path)
	p.mu.Unlock()
	return p.next.RoundTrip(r)
}

func (p *paths) has(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.seen, path)
}

func newConnector(t *testing.T, up *servertest.Server, secret string, change func(*oidc.Config)) (*oidc.Connector, *paths) {
	t.Helper()
	t.Setenv("UPSTREAM_CLIENT_SECRET", secret)
	cfg := oidc.Config{
		Issuer: up.URL, ClientID: "downstream", ClientSecretEnv: "UPSTREAM_CLIENT_SECRET",
		Scopes: []string{"openid", "email", "profile", "groups"}, AllowedEmailDomains: []string{"example.com"},
	}
	if change != nil {
		change(&cfg)
	}
	rec := &paths{next: up.HTTP.Transport}
	c, err := oidc.New("corp", "Corp Gatehouse", cfg, oidc.WithHTTPClient(&http.Client{Transport: rec}), oidc.WithClock(up.Clock))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// signIn opens authURL in a cookie-jar "browser", fills in the upstream's
// login form, and returns the query the upstream redirects back to the
// downstream callback with.
func signIn(t *testing.T, up *servertest.Server, authURL, user, pass string) url.Values {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	upURL, _ := url.Parse(up.URL)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: up.HTTP.Transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != upURL.Host {
				return http.ErrUseLastResponse // the downstream callback: stop there
			}
			return nil
		}}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `name="password"`) {
		t.Fatalf("no login form at %s: %d %s", resp.Request.URL, resp.StatusCode, page)
	}
	form := url.Values{"username": {user}, "password": {pass}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	resp, err = c.PostForm(up.URL+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), downstreamCallback+"?") {
		t.Fatalf("the upstream did not send the browser back: %d at %s: %s", resp.StatusCode, resp.Request.URL, body)
	}
	return loc.Query()
}

func pending(t *testing.T) connector.Pending {
	t.Helper()
	r := func() string {
		s, err := jwt.RandomID()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return connector.Pending{State: r(), Nonce: r(), CodeVerifier: r() + r(), RedirectURI: downstreamCallback}
}

func TestGatehouseAsUpstream(t *testing.T) {
	up, secret := upstream(t)
	ctx := context.Background()

	t.Run("sign-in", func(t *testing.T) {
		c, rec := newConnector(t, up, secret, nil)
		p := pending(t)
		authURL, err := c.AuthCodeURL(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		q := signIn(t, up, authURL, "ada", "ada-password-1")
		if q.Get("iss") != up.URL {
			t.Errorf("the upstream sent iss %q (it advertises RFC 9207)", q.Get("iss"))
		}
		id, err := c.Exchange(ctx, q, p)
		if err != nil {
			t.Fatal(err)
		}
		if id.Subject != "u-ada" || id.Username != "ada" || id.Email != "ada@example.com" || !id.EmailVerified ||
			id.Name != "Ada Lovelace" || !slices.Equal(id.Groups, []string{"viewer"}) {
			t.Errorf("identity = %+v", *id)
		}
		if rec.has("/oauth2/userinfo") {
			t.Error("userinfo was read though the ID token had every claim")
		}
	})

	t.Run("userinfo for what the ID token lacks", func(t *testing.T) {
		// Without the profile scope the ID token has no name, so the
		// connector reads userinfo with the access token (and checks its
		// sub); Gatehouse answers without a name too.
		c, rec := newConnector(t, up, secret, func(cfg *oidc.Config) { cfg.Scopes = []string{"openid", "email", "groups"} })
		p := pending(t)
		authURL, err := c.AuthCodeURL(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		id, err := c.Exchange(ctx, signIn(t, up, authURL, "ada", "ada-password-1"), p)
		if err != nil {
			t.Fatal(err)
		}
		if id.Email != "ada@example.com" || id.Name != "" || !slices.Equal(id.Groups, []string{"viewer"}) {
			t.Errorf("identity = %+v", *id)
		}
		if !rec.has("/oauth2/userinfo") {
			t.Error("userinfo was not read")
		}
	})

	t.Run("a domain the connector does not admit", func(t *testing.T) {
		c, _ := newConnector(t, up, secret, func(cfg *oidc.Config) { cfg.AllowedEmailDomains = []string{"example.org"} })
		p := pending(t)
		authURL, err := c.AuthCodeURL(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Exchange(ctx, signIn(t, up, authURL, "ada", "ada-password-1"), p)
		if !errors.Is(err, connector.ErrNotAllowed) {
			t.Fatalf("err = %v, want ErrNotAllowed", err)
		}
	})

	t.Run("another sign-in's nonce", func(t *testing.T) {
		c, _ := newConnector(t, up, secret, nil)
		p := pending(t)
		authURL, err := c.AuthCodeURL(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		q := signIn(t, up, authURL, "ada", "ada-password-1")
		p.Nonce = pending(t).Nonce
		if _, err := c.Exchange(ctx, q, p); !errors.Is(err, connector.ErrInvalidCredentials) || !strings.Contains(err.Error(), "nonce") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("wrong client secret", func(t *testing.T) {
		c, _ := newConnector(t, up, "not-the-secret", nil)
		p := pending(t)
		authURL, err := c.AuthCodeURL(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exchange(ctx, signIn(t, up, authURL, "ada", "ada-password-1"), p); !errors.Is(err, connector.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrUnavailable (a configuration problem)", err)
		}
	})
}
