package oidc

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// Defaults of a Config.
const (
	// DefaultTimeout is Config.Timeout when it is zero.
	DefaultTimeout = 10 * time.Second
	// DefaultGroupsClaim is the claim groups are read from when
	// Config.GroupsClaim is empty.
	DefaultGroupsClaim = "groups"
)

// DefaultScopes are the scopes asked for when Config.Scopes is empty.
var DefaultScopes = []string{"openid", "email", "profile"}

// reservedParams are the authorization request parameters the connector
// sets itself; AuthParams may not name them.
var reservedParams = []string{
	"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "hd", "request", "request_uri",
	"response_mode",
}

// Config is one upstream OpenID Connect provider, the oidc: block of a
// connector in the server configuration. Only Issuer and ClientID are
// always required; the rest has defaults that suit most providers.
type Config struct {
	// Issuer is the provider's issuer URL exactly as its discovery
	// document spells it (OpenID Connect Discovery §4.3 and RFC 8414 §3.3
	// want the two byte for byte): "https://accounts.google.com",
	// "https://login.microsoftonline.com/<tenant-id>/v2.0",
	// "https://keycloak.example.com/realms/corp".
	Issuer string `yaml:"issuer"`
	// ClientID is the client registered at the provider for Gatehouse.
	ClientID string `yaml:"client_id"`
	// ClientSecretFile and ClientSecretEnv name where the client secret
	// is read from: a file (surrounding white space is ignored) or an
	// environment variable. Secrets are never written in the YAML itself.
	ClientSecretFile string `yaml:"client_secret_file"`
	ClientSecretEnv  string `yaml:"client_secret_env"`
	// PublicClient declares a client without a secret. Such a sign-in is
	// protected by PKCE alone, so the provider must advertise S256 in
	// code_challenge_methods_supported.
	PublicClient bool `yaml:"public_client"`
	// TokenAuthMethod forces client_secret_basic or client_secret_post at
	// the token endpoint. Empty: client_secret_basic when the provider
	// supports it (or says nothing), else client_secret_post.
	TokenAuthMethod string `yaml:"token_auth_method"`

	// Scopes asked for; "openid" is added when missing. Default: openid
	// email profile.
	Scopes []string `yaml:"scopes"`
	// AuthParams are extra authorization request parameters, e.g.
	// {prompt: select_account} or {domain_hint: example.com}.
	AuthParams map[string]string `yaml:"auth_params"`

	// SubjectClaim names the claim that identifies the person and links
	// them to a local user. Default "sub". Entra ID's "sub" is different
	// for every application; "oid" (the object id) is the same across them.
	SubjectClaim string `yaml:"subject_claim"`
	// UsernameClaim names the claim for the username. Default
	// preferred_username; when the claim is missing, the email is used,
	// then the subject.
	UsernameClaim string `yaml:"username_claim"`
	// EmailClaim names the claim for the email address. Default "email".
	// email_verified is read next to it.
	EmailClaim string `yaml:"email_claim"`
	// NameClaim names the claim for the display name. Default "name".
	NameClaim string `yaml:"name_claim"`
	// GroupsClaim names the claim for the groups, as a dotted path into
	// nested objects ("realm_access.roles" for Keycloak realm roles). A
	// claim whose own name contains dots ("https://example.com/groups")
	// is found by its full name first. The value may be an array of
	// strings or one string. Default "groups".
	GroupsClaim string `yaml:"groups_claim"`
	// SkipUserinfo never calls the userinfo endpoint. By default it is
	// called, when the provider has one, if the ID token lacks the email,
	// the name or the groups.
	SkipUserinfo bool `yaml:"skip_userinfo"`

	// AllowedEmailDomains, when not empty, admits only people whose
	// verified email address is in one of these domains (exact match,
	// case-insensitive: example.com does not admit sub.example.com).
	AllowedEmailDomains []string `yaml:"allowed_email_domains"`
	// HostedDomain is Google's "hd": sent as a hint on the authorization
	// request and required, byte for byte, in the ID token's hd claim.
	HostedDomain string `yaml:"hosted_domain"`
	// RequireVerifiedEmail refuses a person whose email_verified is not
	// true. Default: true when AllowedEmailDomains or HostedDomain is set
	// (it cannot be turned off then: an unverified email never passes a
	// domain rule), false otherwise.
	RequireVerifiedEmail *bool `yaml:"require_verified_email"`

	// IDTokenAlgorithms is the allow-list of ID token signature
	// algorithms. Default: the provider's
	// id_token_signing_alg_values_supported (RS256 when it lists none),
	// without HMAC algorithms. "none" is never accepted; HS256 only when
	// listed here, and then it is checked with the client secret (OpenID
	// Connect Core §10.1), which must be 32 bytes or longer.
	IDTokenAlgorithms []string `yaml:"id_token_algorithms"`
	// Timeout bounds the calls to the provider in one step of a sign-in:
	// discovery in AuthCodeURL; discovery, token, keys and userinfo
	// together in Exchange. A provider that does not answer within it
	// makes the step fail as unavailable. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports the first problem with c, naming the key at fault and
// what to write instead. It does not read the secret (New does).
func (c Config) Validate() error {
	if c.Issuer == "" {
		return errors.New("issuer is required: the provider's issuer URL, e.g. https://accounts.google.com")
	}
	u, err := url.Parse(c.Issuer)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("issuer %q: want an https URL such as https://accounts.google.com", c.Issuer)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("issuer %q: an issuer has no query, fragment or user info (RFC 8414 §2)", c.Issuer)
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("issuer %q uses http with a non-loopback host; use https (http is only for 127.0.0.1, [::1] and localhost)", c.Issuer)
	case strings.Contains(c.Issuer, "{"):
		return fmt.Errorf("issuer %q: a templated issuer cannot be matched; for Entra ID use your tenant's issuer, https://login.microsoftonline.com/<tenant-id>/v2.0", c.Issuer)
	}
	if c.ClientID == "" {
		return errors.New("client_id is required: the client id the provider gave for Gatehouse")
	}
	if c.ClientSecretFile != "" && c.ClientSecretEnv != "" {
		return errors.New("client_secret_file and client_secret_env are both set; keep one")
	}
	hasSecret := c.ClientSecretFile != "" || c.ClientSecretEnv != ""
	switch {
	case hasSecret && c.PublicClient:
		return errors.New("public_client: true, but a client secret is configured too; remove one of them")
	case !hasSecret && !c.PublicClient:
		return errors.New("client_secret_file or client_secret_env is required (or public_client: true for a client without a secret, which PKCE alone protects)")
	}
	switch c.TokenAuthMethod {
	case "", protocol.AuthMethodBasic, protocol.AuthMethodPost:
		if c.PublicClient && c.TokenAuthMethod != "" {
			return errors.New("token_auth_method: a public client sends no secret; remove it")
		}
	default:
		return fmt.Errorf("token_auth_method %q: want client_secret_basic or client_secret_post", c.TokenAuthMethod)
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\"\\") {
			return fmt.Errorf("scopes: %q is not a scope token (RFC 6749 §3.3)", s)
		}
	}
	for k := range c.AuthParams {
		if slices.Contains(reservedParams, k) {
			return fmt.Errorf("auth_params: %q is set by the connector itself; remove it", k)
		}
		if k == "" {
			return errors.New("auth_params: a parameter has an empty name")
		}
	}
	for _, name := range []struct{ key, val string }{
		{"subject_claim", c.SubjectClaim}, {"username_claim", c.UsernameClaim},
		{"email_claim", c.EmailClaim}, {"name_claim", c.NameClaim}, {"groups_claim", c.GroupsClaim},
	} {
		if name.val != "" && (strings.HasPrefix(name.val, ".") || strings.HasSuffix(name.val, ".") || strings.Contains(name.val, "..")) {
			return fmt.Errorf("%s %q: a claim path is names joined by single dots, like realm_access.roles", name.key, name.val)
		}
	}
	for _, d := range c.AllowedEmailDomains {
		if d == "" || strings.ContainsAny(d, "@ /") || strings.HasPrefix(d, ".") {
			return fmt.Errorf("allowed_email_domains: %q is not a domain; write it like example.com", d)
		}
	}
	if c.HostedDomain != "" && strings.ContainsAny(c.HostedDomain, "@ /") {
		return fmt.Errorf("hosted_domain %q is not a domain; write it like example.com", c.HostedDomain)
	}
	if c.RequireVerifiedEmail != nil && !*c.RequireVerifiedEmail && c.restrictsDomain() {
		return errors.New("require_verified_email: false cannot be combined with allowed_email_domains or hosted_domain: an unverified email never passes a domain rule")
	}
	for _, a := range c.IDTokenAlgorithms {
		switch {
		case strings.EqualFold(a, "none"):
			return errors.New(`id_token_algorithms: "none" is never accepted: an unsigned ID token proves nothing`)
		case !slices.Contains(jwt.DefaultAlgorithms, a) && a != jwt.HS256:
			return fmt.Errorf("id_token_algorithms: %q is not supported; use one of %s", a, strings.Join(append(slices.Clone(jwt.DefaultAlgorithms), jwt.HS256), ", "))
		case jwt.IsSymmetric(a) && c.PublicClient:
			return fmt.Errorf("id_token_algorithms: %s is checked with the client secret, and a public client has none", a)
		}
	}
	switch {
	case c.Timeout < 0:
		return fmt.Errorf("timeout %s: must be positive", c.Timeout)
	case c.Timeout > 0 && c.Timeout < 100*time.Millisecond:
		return fmt.Errorf("timeout %s is too short; write a duration such as \"10s\"", c.Timeout)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// restrictsDomain reports whether c admits only some email domains.
func (c Config) restrictsDomain() bool {
	return len(c.AllowedEmailDomains) > 0 || c.HostedDomain != ""
}

// requireVerified is RequireVerifiedEmail with its default.
func (c Config) requireVerified() bool {
	if c.RequireVerifiedEmail != nil {
		return *c.RequireVerifiedEmail
	}
	return c.restrictsDomain()
}

// scopes returns the scopes to ask for, openid first.
func (c Config) scopes() []string {
	s := c.Scopes
	if len(s) == 0 {
		s = DefaultScopes
	}
	if !slices.Contains(s, "openid") {
		s = append([]string{"openid"}, s...)
	}
	return s
}

func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// readSecret reads the client secret from where the config says.
func (c Config) readSecret() (string, error) {
	switch {
	case c.ClientSecretFile != "":
		b, err := os.ReadFile(c.ClientSecretFile)
		if err != nil {
			return "", fmt.Errorf("client_secret_file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("client_secret_file %s is empty; write the client secret the provider gave into it", c.ClientSecretFile)
		}
		return s, nil
	case c.ClientSecretEnv != "":
		s := strings.TrimSpace(os.Getenv(c.ClientSecretEnv))
		if s == "" {
			return "", fmt.Errorf("client_secret_env: the environment variable %s is empty or not set", c.ClientSecretEnv)
		}
		return s, nil
	}
	return "", nil
}
