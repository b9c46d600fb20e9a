package proxy

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/dpopcache"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// The embedded authorization server: without --issuer the gateway runs
// the whole server in its own process, mounted at PathAuth on its own
// origin, and logs users in through it like any relying party.

// openEmbedded opens the authorization server the gateway embeds.
func (inst *Instance) openEmbedded(ctx context.Context, o Options, cfg *Config) (Deps, error) {
	sc := *o.Server
	sc.Issuer = strings.TrimSuffix(cfg.PublicURL, "/") + PathAuth
	sc.TrustedProxies = cfg.TrustedProxies
	sc.UI.BrandName = cfg.BrandName
	if err := sc.Validate(); err != nil {
		return Deps{}, fmt.Errorf("proxy: embedded server: %w", err)
	}
	var dir atomic.Pointer[UserDirectory]
	observe := func(e audit.Event) {
		if d := dir.Load(); d != nil {
			d.Observe(e)
		}
	}
	srv, err := server.Open(ctx, &sc, o.AdminPassword, o.Out, o.Log, server.WithAuditOptions(audit.WithObserver(observe)), server.WithAdminUser(o.AdminUser))
	if err != nil {
		return Deps{}, err
	}
	inst.srv, inst.Store = srv, srv.Store
	inst.closers = append(inst.closers, srv.Close)
	inst.users = NewUserDirectory(srv.Store, clock.System, cfg.UserCacheTTL, o.Log)
	dir.Store(inst.users)

	cfg.embeddedGroupsClaim = sc.OIDC.GroupsClaim
	clientSecret := hex.EncodeToString(srv.SecretKey.Derive("proxy client secret"))
	redirectURI := strings.TrimSuffix(cfg.PublicURL, "/") + PathCallback
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if err := ensureClient(ctx, srv.Store, clock.System, cfg.ClientID, clientSecret, redirectURI); err != nil {
		return Deps{}, err
	}
	httpClient := &http.Client{Transport: inProcess{h: srv.Server.Handler(), host: hostOf(cfg.PublicURL)}, Timeout: 10 * time.Second}
	provider, err := NewOIDCProvider(ctx, OIDCConfig{
		Issuer: sc.Issuer, ClientID: cfg.ClientID, ClientSecret: clientSecret, RedirectURL: redirectURI,
		Scopes: embeddedScopes, RolesClaim: DefaultRolesClaim, IdentityGroupsClaim: sc.OIDC.GroupsClaim,
		HTTPClient: httpClient,
	})
	if err != nil {
		return Deps{}, err
	}
	if err := ensureCLIAudience(ctx, srv.Store, strings.TrimSuffix(cfg.PublicURL, "/")); err != nil {
		return Deps{}, err
	}
	// DPoP proofs sent to the gateway are remembered in Redis when it has
	// one (replicas share it), else in this process.
	replay, closeReplay, err := dpopcache.Open(ctx, sc.Redis, clock.System, time.Duration(sc.Timeouts.Redis))
	if err != nil {
		return Deps{}, fmt.Errorf("proxy: dpop replay cache: %w", err)
	}
	inst.closers = append(inst.closers, closeReplay)
	verifier, err := resource.NewVerifier(ctx, resource.Config{
		Issuer:     sc.Issuer,
		Audience:   cfg.BearerAudiences(),
		HTTPClient: httpClient,
		DPoP:       resource.DPoPConfig{Replay: replay},
		Introspection: &resource.IntrospectionConfig{
			ClientID: cfg.ClientID, ClientSecret: clientSecret, CacheTTL: cfg.IntrospectionTTL,
		},
	})
	if err != nil {
		return Deps{}, fmt.Errorf("proxy: bearer verifier: %w", err)
	}
	return Deps{
		Limiter:        srv.Limiter,
		Audit:          srv.AuditLogger(),
		SecretKey:      srv.SecretKey,
		Provider:       provider,
		Verifier:       verifier,
		Users:          inst.users,
		Revoked:        storeRevocationCheck(srv.Store),
		AuthServer:     srv.Server.Handler(),
		EndAuthSession: srv.Server.EndBrowserSession,
		Ready:          []ReadyCheck{{Name: "database", Check: srv.Store.Ping}},
	}, nil
}

// embeddedScopes are what the gateway asks the embedded server for at
// login: the user's address (with email_verified) and groups, which
// emails:, email_domains: and groups: rules judge.
var embeddedScopes = []string{"openid", "profile", "email", "groups"}

// ensureClient registers (or updates) the gateway's confidential client at
// the embedded server: authorization code with PKCE to the callback, and
// introspection for API keys. Its secret is derived from the secret key,
// so replicas sharing the key agree on it without storing it anywhere.
func ensureClient(ctx context.Context, st storage.ClientStore, clk clock.Clock, id, clientSecret, redirectURI string) error {
	now := clk.Now().UTC()
	want := &storage.Client{
		ID: id, Name: "Gatehouse gateway", SecretHash: secret.Hash(clientSecret),
		AuthMethod: protocol.AuthMethodBasic, RedirectURIs: []string{redirectURI},
		GrantTypes: []string{protocol.GrantAuthorizationCode}, Scopes: embeddedScopes,
		FirstParty: true, CreatedAt: now, UpdatedAt: now,
	}
	err := st.CreateClient(ctx, want)
	if errors.Is(err, storage.ErrAlreadyExists) {
		err = st.UpdateClient(ctx, id, func(c *storage.Client) error {
			c.SecretHash, c.AuthMethod, c.Public = want.SecretHash, want.AuthMethod, false
			if !slices.Contains(c.RedirectURIs, redirectURI) {
				c.RedirectURIs = append(c.RedirectURIs, redirectURI)
			}
			for _, g := range want.GrantTypes {
				if !slices.Contains(c.GrantTypes, g) {
					c.GrantTypes = append(c.GrantTypes, g)
				}
			}
			for _, s := range want.Scopes {
				if !slices.Contains(c.Scopes, s) {
					c.Scopes = append(c.Scopes, s)
				}
			}
			c.FirstParty = true
			c.UpdatedAt = now
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("proxy: register the gateway client %q: %w", id, err)
	}
	return nil
}

// ensureCLIAudience makes the gateway an audience of the CLI's client
// (gatehouse-cli) in the embedded server, so that `gatehouse login` at the
// embedded issuer gives tokens the gateway accepts (the CLI's default
// audience) and `gatehouse api` reaches the application.
func ensureCLIAudience(ctx context.Context, st storage.ClientStore, audience string) error {
	err := st.UpdateClient(ctx, server.CLIClientID, func(c *storage.Client) error {
		if !slices.Contains(c.Audiences, audience) {
			c.Audiences = append(c.Audiences, audience)
		}
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("proxy: make the gateway an audience of %s: %w", server.CLIClientID, err)
	}
	return nil
}

// revocationStore is what storeRevocationCheck reads: revoked access
// tokens and token families.
type revocationStore interface {
	storage.RevocationStore
	GetGrant(ctx context.Context, id string) (*storage.Grant, error)
}

// storeRevocationCheck answers from the embedded server's database, the
// way its own introspection does: a revoked jti, or a revoked or vanished
// token family.
func storeRevocationCheck(st revocationStore) RevocationCheck {
	return func(ctx context.Context, jti, grantID string) (bool, error) {
		if jti == "" {
			return true, nil
		}
		revoked, err := st.IsAccessTokenRevoked(ctx, jti)
		if err != nil || revoked {
			return revoked, err
		}
		if grantID == "" {
			return false, nil
		}
		g, err := st.GetGrant(ctx, grantID)
		if errors.Is(err, storage.ErrNotFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return g.Revoked, nil
	}
}

// inProcess is an http.RoundTripper that serves requests for the gateway's
// own host with the embedded server's handler, so the gateway talks to
// its issuer without a network hop (and without needing to reach its own
// public URL, which may be behind a load balancer).
type inProcess struct {
	h    http.Handler
	host string
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return nil, fmt.Errorf("proxy: in-process issuer: unexpected host %q", req.URL.Host)
	}
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "127.0.0.1:0"
	if r.Body == nil {
		r.Body = http.NoBody
	}
	buf := newResponseBuffer()
	t.h.ServeHTTP(buf, r)
	return buf.result(req), nil
}

func hostOf(rawURL string) string {
	_, rest, _ := strings.Cut(rawURL, "://")
	host, _, _ := strings.Cut(rest, "/")
	return host
}
