package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// FieldError is one problem Validate found, naming the YAML key at fault.
type FieldError struct {
	// Key is the dotted YAML key, e.g. "tokens.code_ttl".
	Key string
	// Source says where the value came from ("GATEHOUSE_ISSUER",
	// "--issuer", "server.yaml:3"); Load fills it, Validate leaves it empty.
	Source  string
	Problem string
}

func (e *FieldError) Error() string {
	if e.Source != "" {
		return fmt.Sprintf("config: %s (from %s): %s", e.Key, e.Source, e.Problem)
	}
	return fmt.Sprintf("config: %s: %s", e.Key, e.Problem)
}

// Validate checks the whole configuration and returns every problem it
// finds, joined with errors.Join; each one is a *FieldError.
func (c *Server) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Problem: fmt.Sprintf(format, args...)})
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "want HOST:PORT, e.g. 127.0.0.1:8080: %v", err)
	}
	if err := checkIssuer(c.Issuer); err != nil {
		bad("issuer", "%v", err)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}
	if c.Redis != "" {
		if u, err := url.Parse(c.Redis); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			bad("redis", "want a redis://, rediss:// or unix:// URL")
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("metrics_addr", "want HOST:PORT or empty: %v", err)
		} else if c.MetricsAddr == c.Addr {
			bad("metrics_addr", "is the same as addr; leave it empty to serve /metrics on the main listener")
		}
	}
	positive(bad, "shutdown_timeout", c.ShutdownTimeout)
	positive(bad, "audit.timeout", c.Audit.Timeout)
	if c.Audit.Retention < 0 {
		bad("audit.retention", "must not be negative (0 keeps every event)")
	} else if c.Audit.Retention > 0 && c.Audit.Retention < Duration(time.Minute) {
		bad("audit.retention", "%s is shorter than the 1m minimum", c.Audit.Retention)
	}
	positive(bad, "timeouts.database", c.Timeouts.Database)
	if positive(bad, "timeouts.redis", c.Timeouts.Redis) && c.Timeouts.Redis > Duration(2*time.Second) {
		bad("timeouts.redis", "%s is longer than the 2s maximum: limits must decide within it", c.Timeouts.Redis)
	}
	if c.MinFreeDiskMB < 0 {
		bad("min_free_disk_mb", "must not be negative")
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	for i, s := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(strings.TrimSpace(s)); err != nil {
			bad(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not a CIDR (write a single address as 10.0.0.1/32)", s)
		}
	}

	switch g := c.OIDC.GroupsClaim; {
	case g == "":
		bad("oidc.groups_claim", "must not be empty")
	case slices.Contains(reservedClaims, g):
		bad("oidc.groups_claim", "%q is a registered claim of ID tokens; choose another name", g)
	}

	t := &c.Tokens
	positive(bad, "tokens.access_token_ttl", t.AccessTokenTTL)
	positive(bad, "tokens.id_token_ttl", t.IDTokenTTL)
	positive(bad, "tokens.refresh_token_ttl", t.RefreshTokenTTL)
	// RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes
	// is RECOMMENDED."
	if positive(bad, "tokens.code_ttl", t.CodeTTL) && time.Duration(t.CodeTTL) > MaxCodeTTL {
		bad("tokens.code_ttl", "%s is longer than the 10m maximum (RFC 6749 §4.1.2)", t.CodeTTL)
	}
	positive(bad, "tokens.device_code_ttl", t.DeviceCodeTTL)
	if positive(bad, "tokens.device_interval", t.DeviceInterval) && t.DeviceInterval >= t.DeviceCodeTTL {
		bad("tokens.device_interval", "%s must be shorter than tokens.device_code_ttl (%s)", t.DeviceInterval, t.DeviceCodeTTL)
	}
	positive(bad, "tokens.session_ttl", t.SessionTTL)
	if t.RefreshReuseInterval < 0 || time.Duration(t.RefreshReuseInterval) > time.Minute {
		bad("tokens.refresh_reuse_interval", "%s is not between 0 and 1m (a longer interval lets a stolen refresh token be replayed without revoking its family for longer)", t.RefreshReuseInterval)
	}
	if t.RefreshRetryWindow < 0 || time.Duration(t.RefreshRetryWindow) > 30*24*time.Hour {
		bad("tokens.refresh_retry_window", "%s is not between 0 and 720h", t.RefreshRetryWindow)
	}
	positive(bad, "tokens.account_recent_auth", t.AccountRecentAuth)

	if positive(bad, "dpop.proof_window", c.DPoP.ProofWindow) && time.Duration(c.DPoP.ProofWindow) > 10*time.Minute {
		bad("dpop.proof_window", "%s is longer than the 10m maximum: a proof is meant to be used at once (RFC 9449 §11.1)", c.DPoP.ProofWindow)
	}
	if positive(bad, "dpop.nonce_window", c.DPoP.NonceWindow) && time.Duration(c.DPoP.NonceWindow) < 10*time.Second {
		bad("dpop.nonce_window", "%s is shorter than 10s: clients would keep retrying with stale nonces", c.DPoP.NonceWindow)
	}

	s := &c.Signing
	if s.Algorithm != AlgES256 && s.Algorithm != AlgEdDSA {
		bad("signing.algorithm", "%q is not supported; use ES256 or EdDSA", s.Algorithm)
	}
	positive(bad, "signing.prepublish", s.PrePublish)
	if positive(bad, "signing.retain", s.Retain) && s.Retain <= t.AccessTokenTTL {
		bad("signing.retain", "%s must be longer than tokens.access_token_ttl (%s), or tokens signed by a retired key stop verifying before they expire", s.Retain, t.AccessTokenTTL)
	}
	positive(bad, "signing.reload_interval", s.ReloadInterval)

	l := &c.Limits
	rate(bad, "limits.login_per_ip", l.LoginPerIP)
	rate(bad, "limits.login_per_user", l.LoginPerUser)
	rate(bad, "limits.device_entry_per_ip", l.DeviceEntryPerIP)
	rate(bad, "limits.token_per_client", l.TokenPerClient)
	rate(bad, "limits.device_authorization_per_client", l.DeviceAuthPerClient)
	rate(bad, "limits.device_authorization_per_ip", l.DeviceAuthPerIP)
	if l.IPv6PrefixLength < 1 || l.IPv6PrefixLength > 128 {
		bad("limits.ipv6_prefix_length", "must be 1 to 128 (64 keys a host's usual /64), got %d", l.IPv6PrefixLength)
	}

	validateMFA(bad, c.MFA.RequiredRoles)
	validateWebAuthn(bad, c)
	validateConnectors(bad, c.Connectors)

	if b := c.UI.BrandName; b == "" || len(b) > 64 || strings.IndexFunc(b, unicode.IsControl) >= 0 {
		bad("ui.brand_name", "must be 1 to 64 characters without control characters")
	}

	if c.Argon2MaxConcurrent < 1 {
		bad("argon2_max_concurrent", "must be at least 1, got %d", c.Argon2MaxConcurrent)
	}
	return errors.Join(errs...)
}

func positive(bad func(string, string, ...any), key string, d Duration) bool {
	if d <= 0 {
		bad(key, "must be a positive duration, got %s", d)
		return false
	}
	return true
}

func rate(bad func(string, string, ...any), key string, r Rate) {
	if r.Requests < 1 {
		bad(key+".requests", "must be at least 1, got %d", r.Requests)
	}
	positive(bad, key+".per", r.Per)
	if r.Burst < 1 {
		bad(key+".burst", "must be at least 1, got %d", r.Burst)
	}
}

// checkIssuer enforces the issuer rules: an absolute http(s) URL, without
// query, fragment, user info or trailing slash (RFC 8414 §2), and https
// unless the host is loopback. A path is allowed (the server then serves
// under it, see IssuerPath) when it is plain: segments of letters, digits
// and "-._~", none empty, "." or "..", and no percent-encoding, so the path
// clients see, the one routed on and the one in generated links are the
// same bytes.
func checkIssuer(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL", s)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https" || !strings.HasPrefix(s, u.Scheme+"://"):
		return fmt.Errorf("%q must be an absolute https:// URL (lowercase scheme)", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%q has no host", s)
	case u.User != nil:
		return fmt.Errorf("%q must not contain user info", s)
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("%q must not have a query (RFC 8414 §2)", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("%q must not have a fragment (RFC 8414 §2)", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("%q must not end with a slash; write %q", s, strings.TrimRight(s, "/"))
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return fmt.Errorf("%q uses http with a non-loopback host; use https (http is only for 127.0.0.1, [::1] and localhost)", s)
	case !plainPath(u.EscapedPath()):
		return fmt.Errorf("%q has a path that is not plain (use segments of letters, digits and -._~, like /auth)", s)
	}
	return nil
}

// plainPath reports whether p is "" or "/" followed by non-empty segments
// of unreserved characters (RFC 3986 §2.3) other than "." and "..".
func plainPath(p string) bool {
	if p == "" {
		return true
	}
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
				return false
			}
		}
	}
	return true
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// validateMFA checks mfa.required_roles: role names (lower case letters,
// digits, "-" and "_"), each once.
func validateMFA(bad func(key, format string, args ...any), roles []string) {
	seen := make(map[string]bool, len(roles))
	for _, r := range roles {
		ok := r != ""
		for i := 0; i < len(r); i++ {
			c := r[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				ok = false
			}
		}
		switch {
		case !ok:
			bad("mfa.required_roles", "%q is not a role name (lower case letters, digits, - and _)", r)
		case seen[r]:
			bad("mfa.required_roles", "%q is listed twice", r)
		}
		seen[r] = true
	}
}

// reservedClaims are claims whose meaning the ID token fixes; the groups
// claim cannot take their name.
var reservedClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "acr", "amr", "azp",
	"name", "email", "email_verified", "preferred_username", "roles", "sid"}
