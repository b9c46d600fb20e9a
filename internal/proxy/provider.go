package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Login is who a completed login at the issuer established.
type Login struct {
	Subject  string
	Username string
	Email    string
	// EmailVerified says the issuer vouches for Email: its email_verified
	// claim is not false (see emailVerified).
	EmailVerified bool
	Roles         []string
	// Groups are the values of the groups claim (OIDCConfig.IdentityGroupsClaim).
	Groups   []string
	AuthTime time.Time
}

// Provider is the issuer the gateway sends browsers to for login: the
// embedded authorization server or any OpenID Connect provider.
type Provider interface {
	// Issuer is the issuer URL (for the RFC 9207 iss check).
	Issuer() string
	// AuthCodeURL is where to send the browser to log in.
	AuthCodeURL(state, nonce, verifier string) string
	// Exchange redeems code (with the PKCE verifier), verifies the ID
	// token and its nonce, and says who logged in.
	Exchange(ctx context.Context, code, verifier, nonce string) (*Login, error)
}

// OIDCConfig configures an OIDC provider.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Scopes       []string
	// RolesClaim is the claim with the roles (dotted path into objects).
	RolesClaim string
	// GroupsClaim, when set, is a claim whose values are added to the
	// roles.
	GroupsClaim string
	// IdentityGroupsClaim is the claim whose values are the user's groups
	// (Login.Groups, for groups: rules); default GroupsClaim, else
	// "groups". Its values are not roles unless it is GroupsClaim.
	IdentityGroupsClaim string
	// HTTPClient makes every request to the issuer.
	HTTPClient *http.Client
}

// oidcProvider is a Provider built on go-oidc and x/oauth2.
type oidcProvider struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	provider *oidc.Provider
}

// NewOIDCProvider reads the issuer's discovery document and returns a
// Provider for it. The document must name exactly cfg.Issuer (OpenID
// Connect Discovery §4.3), except that a bare origin may be given with or
// without its trailing "/" (both spellings name the same document); the
// document's spelling is then the issuer, which ID tokens and the RFC 9207
// iss parameter must carry byte for byte.
func NewOIDCProvider(ctx context.Context, cfg OIDCConfig) (Provider, error) {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	// go-oidc takes its HTTP client from the context; it keeps that context
	// for later key set downloads, so it must not be a request's context.
	octx := oidc.ClientContext(context.WithoutCancel(ctx), cfg.HTTPClient)
	p, err := oidc.NewProvider(octx, cfg.Issuer)
	if err != nil {
		if other := otherBareSpelling(cfg.Issuer); other != "" {
			// go-oidc fetches the same URL for both spellings and then
			// compares the issuer exactly.
			if p2, err2 := oidc.NewProvider(octx, other); err2 == nil {
				p, err, cfg.Issuer = p2, nil, other
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("proxy: issuer discovery: %w", err)
	}
	return &oidcProvider{
		cfg:      cfg,
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID}),
		oauth: oauth2.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			Endpoint:     p.Endpoint(),
			RedirectURL:  cfg.RedirectURL,
			Scopes:       cfg.Scopes,
		},
	}, nil
}

// otherBareSpelling is issuer with its trailing "/" added or removed when
// it is a bare origin, else "".
func otherBareSpelling(issuer string) string {
	other := issuer + "/"
	if strings.HasSuffix(issuer, "/") {
		other = strings.TrimSuffix(issuer, "/")
	}
	if !protocol.SameBareOrigin(issuer, other) {
		return ""
	}
	return other
}

func (p *oidcProvider) Issuer() string { return p.cfg.Issuer }

func (p *oidcProvider) AuthCodeURL(state, nonce, verifier string) string {
	return p.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
}

func (p *oidcProvider) Exchange(ctx context.Context, code, verifier, nonce string) (*Login, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.cfg.HTTPClient)
	tok, err := p.oauth.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("proxy: code exchange: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return nil, errors.New("proxy: the issuer returned no ID token (is the openid scope allowed for the client?)")
	}
	idt, err := p.verifier.Verify(oidc.ClientContext(ctx, p.cfg.HTTPClient), raw)
	if err != nil {
		return nil, fmt.Errorf("proxy: ID token: %w", err)
	}
	if idt.Nonce != nonce {
		return nil, errors.New("proxy: ID token nonce does not match the login")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, fmt.Errorf("proxy: ID token claims: %w", err)
	}
	l := &Login{Subject: idt.Subject, AuthTime: idt.IssuedAt}
	if at, ok := claims["auth_time"].(float64); ok {
		l.AuthTime = time.Unix(int64(at), 0).UTC()
	}
	roles, found := mappedRoles(claims, p.cfg.RolesClaim, p.cfg.GroupsClaim)
	groups, groupsFound := claimStrings(claims, p.groupsClaim())
	l.Username, _ = claims["preferred_username"].(string)
	l.Email, _ = claims["email"].(string)
	l.EmailVerified = l.Email != "" && emailVerified(claims)
	if !found || !groupsFound || l.Username == "" || l.Email == "" {
		// Some providers put profile claims and roles only in userinfo.
		if ui, err := p.provider.UserInfo(oidc.ClientContext(ctx, p.cfg.HTTPClient), oauth2.StaticTokenSource(tok)); err == nil {
			var uc map[string]any
			if ui.Claims(&uc) == nil && ui.Subject == idt.Subject {
				if !found {
					roles, _ = mappedRoles(uc, p.cfg.RolesClaim, p.cfg.GroupsClaim)
				}
				if !groupsFound {
					groups, _ = claimStrings(uc, p.groupsClaim())
				}
				if l.Username == "" {
					l.Username, _ = uc["preferred_username"].(string)
				}
				if l.Email == "" {
					l.Email = ui.Email
					l.EmailVerified = l.Email != "" && emailVerified(uc)
				}
			}
		}
	}
	if l.Username == "" {
		l.Username = l.Email
	}
	if l.Username == "" {
		l.Username = l.Subject
	}
	l.Roles, l.Groups = roles, groups
	return l, nil
}

// groupsClaim is the claim Login.Groups is read from.
func (p *oidcProvider) groupsClaim() string {
	return identityGroupsClaim(p.cfg.IdentityGroupsClaim, p.cfg.GroupsClaim)
}

// identityGroupsClaim is explicit, else groupsClaim, else "groups".
func identityGroupsClaim(explicit, groupsClaim string) string {
	switch {
	case explicit != "":
		return explicit
	case groupsClaim != "":
		return groupsClaim
	}
	return "groups"
}

// emailVerified reports whether claims vouch for their email: the
// email_verified claim (OIDC Core §5.1) is absent or true. A provider
// that lets users type in an address without checking it says false;
// one that sends the claim as a string ("false", as some do) is read
// the same way, and any other value (null included) is not trusted.
func emailVerified(claims map[string]any) bool {
	v, ok := claims["email_verified"]
	if !ok {
		return true
	}
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// mappedRoles are the roles of a user with claims: the values of the
// roles claim and of the groups claim (when set). found says whether
// either claim was there.
func mappedRoles(claims map[string]any, rolesClaim, groupsClaim string) (roles []string, found bool) {
	roles, found = claimStrings(claims, rolesClaim)
	if groupsClaim != "" {
		groups, ok := claimStrings(claims, groupsClaim)
		for _, g := range groups {
			if !slices.Contains(roles, g) {
				roles = append(roles, g)
			}
		}
		found = found || ok
	}
	return roles, found
}

// claimStrings reads a list of strings (or one string) at a dotted path.
// A claim whose whole name is path is read first, so a namespaced claim
// such as Auth0's "https://example.com/roles" is found too.
func claimStrings(claims map[string]any, path string) ([]string, bool) {
	var cur any = claims
	if v, ok := claims[path]; ok {
		return stringValues(v)
	}
	for _, part := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return stringValues(cur)
}

// stringValues reads a claim value that is a string or a list of strings
// (other members of the list are skipped).
func stringValues(cur any) ([]string, bool) {
	switch v := cur.(type) {
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out, true
	}
	return nil, false
}
