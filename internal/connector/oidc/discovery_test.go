package oidc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

func TestUnreachableProvider(t *testing.T) {
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfg := Config{Issuer: "http://" + addr, ClientID: fakeClientID, ClientSecretEnv: secretEnv(t), Timeout: time.Second}
	c, err := New("up", "Upstream", cfg)
	if err != nil {
		t.Fatalf("New must not contact the provider: %v", err)
	}
	p := newPending(t)
	if _, err := c.AuthCodeURL(context.Background(), p); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	if _, err := c.Exchange(context.Background(), map[string][]string{"state": {p.State}, "code": {"x"}}, p); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("Exchange: %v", err)
	}
}

func TestStalledProvider(t *testing.T) {
	t.Run("discovery", func(t *testing.T) {
		f := newFake(t)
		f.stall = true
		cfg := f.config(t)
		cfg.Timeout = 300 * time.Millisecond
		c := f.connector(t, cfg)
		start := time.Now()
		_, err := c.AuthCodeURL(context.Background(), newPending(t))
		if !errors.Is(err, connector.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("gave up after %s, want about the 300ms timeout", d)
		}
	})
	t.Run("token endpoint", func(t *testing.T) {
		f := newFake(t)
		cfg := f.config(t)
		cfg.Timeout = 300 * time.Millisecond
		c := f.connector(t, cfg)
		p := newPending(t)
		q := authorize(t, c, f.srv.Client(), p)
		f.set(func(f *fakeProvider) { f.stall = true })
		start := time.Now()
		_, err := c.Exchange(context.Background(), q, p)
		if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "did not answer within 300ms") {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("gave up after %s, want about the 300ms timeout", d)
		}
	})
	t.Run("userinfo", func(t *testing.T) {
		f := newFake(t)
		f.claims = func(c map[string]any) { delete(c, "name") } // so userinfo is asked
		cfg := f.config(t)
		cfg.Timeout = 300 * time.Millisecond
		c := f.connector(t, cfg)
		stallUserinfo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		t.Cleanup(stallUserinfo.Close)
		f.doc["userinfo_endpoint"] = stallUserinfo.URL
		_, err := f.login(t, c)
		if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "userinfo") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestProviderDownAtStart: the provider is down when the connector is
// made and at the first sign-in; the first sign-in after it is back
// works.
func TestProviderDownAtStart(t *testing.T) {
	f := newFake(t)
	f.down = true
	c := f.connector(t, f.config(t))
	_, err := c.AuthCodeURL(context.Background(), newPending(t))
	if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("while down: %v", err)
	}
	f.set(func(f *fakeProvider) { f.down = false })
	if _, err := f.login(t, c); err != nil {
		t.Fatalf("first sign-in after the provider is back: %v", err)
	}
}

// TestStaleDiscovery: after RediscoverAfter the document is fetched
// again; when that fails, the old one stays in use.
func TestStaleDiscovery(t *testing.T) {
	f := newFake(t)
	c := f.connector(t, f.config(t))
	if _, err := f.login(t, c); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(RediscoverAfter + time.Minute)
	f.set(func(f *fakeProvider) { f.down = true })
	if _, err := c.AuthCodeURL(context.Background(), newPending(t)); err != nil {
		t.Fatalf("stale document with the provider down: %v", err)
	}
	if n := f.count(wellKnown); n != 2 {
		t.Errorf("discovery fetched %d times, want 2 (the refresh was tried)", n)
	}
	f.set(func(f *fakeProvider) { f.down = false })
	if _, err := f.login(t, c); err != nil {
		t.Fatal(err)
	}
	if n := f.count(wellKnown); n != 3 {
		t.Errorf("discovery fetched %d times, want 3", n)
	}
}

func TestDiscoveryChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  func(f *fakeProvider, d map[string]any)
		cfg  func(f *fakeProvider, c *Config)
		want string
	}{
		{name: "issuer differs by a trailing slash", cfg: func(f *fakeProvider, c *Config) { c.Issuer = f.issuer() + "/" }, want: "names issuer"},
		{name: "issuer differs in case", doc: func(f *fakeProvider, d map[string]any) { d["issuer"] = strings.ToUpper(f.issuer()) }, want: "names issuer"},
		{name: "Entra ID template", doc: func(f *fakeProvider, d map[string]any) {
			d["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0"
		}, want: "tenant's"},
		{name: "no token endpoint", doc: func(f *fakeProvider, d map[string]any) { delete(d, "token_endpoint") }, want: "token_endpoint"},
		{name: "no jwks_uri", doc: func(f *fakeProvider, d map[string]any) { delete(d, "jwks_uri") }, want: "jwks_uri"},
		{name: "only HMAC advertised", doc: func(f *fakeProvider, d map[string]any) {
			d["id_token_signing_alg_values_supported"] = []string{"HS256"}
		}, want: "id_token_algorithms"},
		{name: "only none advertised", doc: func(f *fakeProvider, d map[string]any) { d["id_token_signing_alg_values_supported"] = []string{"none"} }, want: "asymmetric"},
		{name: "wrong issuer path", cfg: func(f *fakeProvider, c *Config) { c.Issuer = f.issuer() + "/realms/other" }, want: "404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.doc != nil {
				tc.doc(f, f.doc)
			}
			cfg := f.config(t)
			if tc.cfg != nil {
				tc.cfg(f, &cfg)
			}
			c := f.connector(t, cfg)
			_, err := c.AuthCodeURL(context.Background(), newPending(t))
			if !errors.Is(err, connector.ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrUnavailable mentioning %q", err, tc.want)
			}
		})
	}
}

// TestKeysUnavailable: the provider answers everything but its JWKS; the
// ID token cannot be checked, which is "unavailable", not "invalid".
func TestKeysUnavailable(t *testing.T) {
	f := newFake(t)
	f.jwksDown = true
	expectErr(t, f, f.connector(t, f.config(t)), connector.ErrUnavailable, "keys")
}

func TestUsableEndpoint(t *testing.T) {
	for _, tc := range []struct {
		issuer, endpoint string
		ok               bool
	}{
		{"https://idp.example", "https://idp.example/token", true},
		{"https://idp.example", "http://idp.example/token", false}, // the secret would travel in clear
		{"https://idp.example", "ftp://idp.example/token", false},
		{"https://idp.example", "/token", false},
		{"http://127.0.0.1:5556", "http://127.0.0.1:5556/token", true},
	} {
		if got := usableEndpoint(tc.issuer, tc.endpoint); got != tc.ok {
			t.Errorf("usableEndpoint(%q, %q) = %v", tc.issuer, tc.endpoint, got)
		}
	}
}

// TestConcurrentSignIns: sign-ins racing on a fresh connector share one
// discovery and one JWKS fetch.
func TestConcurrentSignIns(t *testing.T) {
	f := newFake(t)
	c := f.connector(t, f.config(t))
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			p := newPending(t)
			u, err := c.AuthCodeURL(context.Background(), p)
			if err != nil {
				errs <- err
				return
			}
			noFollow := *f.srv.Client()
			noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := noFollow.Get(u)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			loc, err := resp.Location()
			if err != nil {
				errs <- err
				return
			}
			_, err = c.Exchange(context.Background(), loc.Query(), p)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if d, k := f.count(wellKnown), f.count("/jwks"); d != 1 || k != 1 {
		t.Errorf("discovery fetched %d times, JWKS %d times; want once each", d, k)
	}
}
