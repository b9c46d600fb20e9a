// Package config is the authorization server's typed configuration.
//
// A Server is built in layers of increasing precedence: the defaults
// (Default), a YAML file named by --config or GATEHOUSE_CONFIG_FILE, the
// GATEHOUSE_* environment variables, and finally the command-line flags
// that were set explicitly. Load does all of that and then calls Validate,
// so a server never starts on a configuration it does not understand:
// unknown or misspelt YAML keys, bad durations and unsafe issuers are
// errors that name the key at fault.
//
// docs/examples/server.yaml is a documented example of every key.
package config

import (
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// Rate is a rate limit: Requests per Per, with Burst requests allowed at
// once (GCRA, see internal/ratelimit).
type Rate struct {
	Requests int      `yaml:"requests"`
	Per      Duration `yaml:"per"`
	Burst    int      `yaml:"burst"`
}

// Server is the configuration of `gatehouse server`. The YAML key of every
// field is in its tag; nested structs are nested YAML mappings.
type Server struct {
	// Addr is the HOST:PORT the server listens on.
	Addr string `yaml:"addr"`
	// Issuer is the public URL of the server exactly as clients see it; it
	// appears byte-for-byte in discovery and in every token. Empty means
	// "http://" + Addr, with an unspecified host (":8080", "0.0.0.0:8080")
	// replaced by 127.0.0.1.
	Issuer string `yaml:"issuer"`
	// DataDir holds the SQLite database and the generated secret key.
	DataDir string `yaml:"data_dir"`
	// DB is the database URL; empty means SQLite in DataDir.
	DB string `yaml:"db"`
	// Redis is a Redis URL (redis://, rediss:// or unix://): rate limits
	// and the DPoP proof replay cache are shared through it by every
	// instance.
	Redis string `yaml:"redis"`
	// SecretKey comes from GATEHOUSE_SECRET_KEY only, never from a file or a
	// flag. When set it is used instead of the key in SecretKeyFile.
	SecretKey string `yaml:"-"`
	// SecretKeyFile holds the key that encrypts signing keys at rest. Empty
	// means DataDir/secret.key; use ResolvedSecretKeyFile to read it.
	SecretKeyFile string `yaml:"secret_key_file"`
	// MetricsAddr, when set, serves /metrics on its own listener instead of
	// the main one.
	MetricsAddr string `yaml:"metrics_addr"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// TrustedProxies are the CIDRs whose X-Forwarded-For is believed. None
	// by default: the peer address is the client address.
	TrustedProxies []string `yaml:"trusted_proxies"`

	Audit struct {
		// Output is "stdout" (default), "stderr", "off" or a file path.
		Output string `yaml:"output"`
		// Timeout is the most a token response waits for its event to
		// be committed to the audit trail before the request fails with
		// server_error (503).
		Timeout Duration `yaml:"timeout"`
		// FailOpen issues tokens even when their events cannot be
		// committed (they are queued and may be lost in a crash); false,
		// the default, refuses issuance instead.
		FailOpen bool `yaml:"fail_open"`
		// Retention, when positive, deletes events older than it from
		// the audit trail (hourly), keeping a checkpoint so that the kept
		// part still verifies. Zero keeps everything.
		Retention Duration `yaml:"retention"`
		// Archive, when set, is a directory where events are written as
		// JSON lines before retention deletes them.
		Archive string `yaml:"archive"`
	} `yaml:"audit"`

	// Timeouts bound the calls a request makes to a dependency, so that
	// an outage gives an error (503 with Retry-After), never a hang.
	Timeouts struct {
		// Database is the most a request waits for the database in all.
		Database Duration `yaml:"database"`
		// Redis bounds each rate-limit call to Redis; login paths then
		// fail closed and the token endpoint fails open.
		Redis Duration `yaml:"redis"`
	} `yaml:"timeouts"`

	// MinFreeDiskMB is the free space (MiB) below which /readyz reports
	// the data directory's disk as full (SQLite only); 0 turns it off.
	MinFreeDiskMB int `yaml:"min_free_disk_mb"`

	Tokens struct {
		AccessTokenTTL Duration `yaml:"access_token_ttl"`
		IDTokenTTL     Duration `yaml:"id_token_ttl"`
		// RefreshTokenTTL is the absolute lifetime of a grant: rotation
		// does not extend it.
		RefreshTokenTTL Duration `yaml:"refresh_token_ttl"`
		// CodeTTL is the authorization code lifetime, at most 10 minutes.
		CodeTTL        Duration `yaml:"code_ttl"`
		DeviceCodeTTL  Duration `yaml:"device_code_ttl"`
		DeviceInterval Duration `yaml:"device_interval"`
		// SessionTTL is the lifetime of a browser login session at the
		// server.
		SessionTTL Duration `yaml:"session_ttl"`
		// RefreshReuseInterval is how long after a refresh token was
		// rotated a repeat of it by the same client is refused with
		// invalid_grant without revoking its family (a lost response, a
		// killed process or two racing refreshes). After it, a repeat is
		// reuse and revokes the family (RFC 9700 §4.14.2). 0 revokes at
		// once.
		RefreshReuseInterval Duration `yaml:"refresh_reuse_interval"`
		// RefreshRetryWindow is how long after a rotation a retry of it
		// with the same Idempotency-Key (and client and DPoP key) still
		// gets the same successor, as long as the successor is unused: a
		// CLI killed between the server's answer and its own save
		// recovers its login when it runs again, even hours later. 0
		// limits retries to RefreshReuseInterval.
		RefreshRetryWindow Duration `yaml:"refresh_retry_window"`
		// AccountRecentAuth is how recent a user's sign-in (auth_time) must
		// be for the account API to change MFA without the current
		// password in the request.
		AccountRecentAuth Duration `yaml:"account_recent_auth"`
	} `yaml:"tokens"`

	Signing struct {
		// Algorithm is ES256 or EdDSA.
		Algorithm string `yaml:"algorithm"`
		// PrePublish is how long a new key is in the JWKS before it signs.
		PrePublish Duration `yaml:"prepublish"`
		// Retain is how long a retired key stays in the JWKS; longer than
		// the access token lifetime.
		Retain Duration `yaml:"retain"`
		// ReloadInterval is how often the server re-reads the key set (to
		// see rotations made by other instances or by `gatehouse keys`).
		ReloadInterval Duration `yaml:"reload_interval"`
	} `yaml:"signing"`

	Limits struct {
		LoginPerIP       Rate `yaml:"login_per_ip"`
		LoginPerUser     Rate `yaml:"login_per_user"`
		DeviceEntryPerIP Rate `yaml:"device_entry_per_ip"`
		TokenPerClient   Rate `yaml:"token_per_client"`
		// DeviceAuthPerClient and DeviceAuthPerIP limit
		// POST /oauth2/device_authorization, which stores a row per call
		// and is open to anyone who knows a public client's id.
		DeviceAuthPerClient Rate `yaml:"device_authorization_per_client"`
		DeviceAuthPerIP     Rate `yaml:"device_authorization_per_ip"`
		// IPv6PrefixLength is how much of an IPv6 client address keys the
		// per-IP limits: a host usually holds a whole /64, so counting
		// single addresses would give it 2^64 budgets. IPv4 addresses
		// count one by one.
		IPv6PrefixLength int `yaml:"ipv6_prefix_length"`
	} `yaml:"limits"`

	// WebAuthn configures passkeys (WebAuthn Level 3) on the login and
	// account pages (docs/server.md, "Passkeys").
	WebAuthn struct {
		// RPID is the relying party ID passkeys are bound to: a domain,
		// the issuer's host or a registrable suffix of it ("" = the
		// issuer's host). Passkeys registered under one RP ID never work
		// under another, so it cannot change once users have passkeys.
		// With an issuer whose host is an IP address and no rp_id,
		// passkeys are off (browsers refuse IP addresses as RP IDs).
		RPID string `yaml:"rp_id"`
		// RPDisplayName is the name authenticators show for the server
		// ("" = ui.brand_name).
		RPDisplayName string `yaml:"rp_display_name"`
		// Origins are the web origins the ceremonies may run on (none =
		// the issuer's origin); each must be on RPID or a subdomain.
		Origins []string `yaml:"origins"`
		// Timeout is how long a registration or sign-in ceremony may
		// take, in the browser and on the server.
		Timeout Duration `yaml:"timeout"`
	} `yaml:"webauthn"`

	MFA struct {
		// RequiredRoles are the roles whose users must sign in with a TOTP
		// code; such a user without one is sent to enrol after the
		// password and gets no session until enrolled.
		RequiredRoles []string `yaml:"required_roles"`
	} `yaml:"mfa"`

	OIDC struct {
		// GroupsClaim names the claim that carries a user's roles in ID
		// tokens and userinfo when the client asked for the groups scope
		// (default "groups").
		GroupsClaim string `yaml:"groups_claim"`
	} `yaml:"oidc"`

	Authorize struct {
		// RequirePAR makes every client push its authorization requests
		// (RFC 9126) before sending the browser to /authorize; a client
		// can also require it alone (clients' require_par).
		RequirePAR bool `yaml:"require_pushed_authorization_requests"`
	} `yaml:"authorize"`
	// DPoP configures sender-constrained tokens (RFC 9449): proofs at the
	// token endpoint, /userinfo and the account and admin APIs.
	DPoP struct {
		// RequireNonce makes the token endpoint require a server-provided
		// nonce in every DPoP proof (RFC 9449 §8): a proof without one, or
		// with a stale one, is refused with use_dpop_nonce and a fresh
		// nonce in the DPoP-Nonce header. Nonces are stateless (an HMAC of
		// the time window under the secret key), so replicas agree.
		RequireNonce bool `yaml:"require_nonce"`
		// NonceWindow is how long a nonce is current; it is accepted for
		// one window more.
		NonceWindow Duration `yaml:"nonce_window"`
		// ProofWindow is how far a proof's iat may be from the server's
		// clock, either way; the proof's jti is remembered (in Redis when
		// the server has one) for as long.
		ProofWindow Duration `yaml:"proof_window"`
	} `yaml:"dpop"`
	// Connectors are the directories and upstream providers people can
	// sign in with besides local accounts (docs/connectors.md).
	Connectors []Connector `yaml:"connectors"`

	UI struct {
		// BrandName is shown on the login, consent, device and account
		// pages instead of "Gatehouse" (the gateway sets it from
		// --brand-name).
		BrandName string `yaml:"brand_name"`
	} `yaml:"ui"`

	// Argon2MaxConcurrent bounds how many argon2id password hashes run at
	// once, so a login flood cannot exhaust memory and CPU.
	Argon2MaxConcurrent int `yaml:"argon2_max_concurrent"`
}

// Signing algorithms.
const (
	AlgES256 = "ES256"
	AlgEdDSA = "EdDSA"
)

// MaxCodeTTL is the longest authorization code lifetime Validate accepts.
// RFC 6749 §4.1.2: "A maximum authorization code lifetime of 10 minutes is
// RECOMMENDED."
const MaxCodeTTL = 10 * time.Minute

// Default returns the built-in configuration, Issuer included (derived
// from Addr). SecretKeyFile is left empty so that it follows DataDir.
func Default() Server {
	c := base()
	c.Issuer = defaultIssuer(c.Addr)
	return c
}

// base is Default without the values derived from other fields.
func base() Server {
	var c Server
	c.Addr = "127.0.0.1:8080"
	c.DataDir = "./gatehouse-data"
	c.ShutdownTimeout = Duration(20 * time.Second)
	c.LogLevel = "info"
	c.Audit.Output = "stdout"
	c.Audit.Timeout = Duration(2 * time.Second)
	c.Timeouts.Database = Duration(3 * time.Second)
	c.Timeouts.Redis = Duration(500 * time.Millisecond)
	c.MinFreeDiskMB = 64
	c.UI.BrandName = "Gatehouse"
	c.OIDC.GroupsClaim = "groups"
	c.WebAuthn.Timeout = Duration(5 * time.Minute)

	c.Tokens.AccessTokenTTL = Duration(15 * time.Minute)
	c.Tokens.IDTokenTTL = Duration(15 * time.Minute)
	c.Tokens.RefreshTokenTTL = Duration(30 * 24 * time.Hour)
	c.Tokens.CodeTTL = Duration(60 * time.Second)
	c.Tokens.DeviceCodeTTL = Duration(10 * time.Minute)
	c.Tokens.DeviceInterval = Duration(5 * time.Second)
	c.Tokens.SessionTTL = Duration(12 * time.Hour)
	c.Tokens.RefreshReuseInterval = Duration(5 * time.Second)
	c.Tokens.RefreshRetryWindow = Duration(24 * time.Hour)
	c.Tokens.AccountRecentAuth = Duration(5 * time.Minute)

	c.DPoP.NonceWindow = Duration(5 * time.Minute)
	c.DPoP.ProofWindow = Duration(60 * time.Second)

	c.Signing.Algorithm = AlgES256
	c.Signing.PrePublish = Duration(time.Hour)
	c.Signing.Retain = Duration(24 * time.Hour)
	c.Signing.ReloadInterval = Duration(30 * time.Second)

	c.Limits.LoginPerIP = Rate{Requests: 20, Per: Duration(time.Minute), Burst: 20}
	c.Limits.LoginPerUser = Rate{Requests: 10, Per: Duration(time.Minute), Burst: 10}
	c.Limits.DeviceEntryPerIP = Rate{Requests: 20, Per: Duration(time.Minute), Burst: 20}
	// Generous on purpose: a per-client limit must not be what caps a
	// 5,000 req/s client_credentials benchmark.
	c.Limits.TokenPerClient = Rate{Requests: 20000, Per: Duration(time.Second), Burst: 20000}
	// A device login takes minutes of a person's time: a few per minute
	// per address and some hundreds per client are plenty.
	c.Limits.DeviceAuthPerIP = Rate{Requests: 10, Per: Duration(time.Minute), Burst: 10}
	c.Limits.DeviceAuthPerClient = Rate{Requests: 300, Per: Duration(time.Minute), Burst: 100}
	c.Limits.IPv6PrefixLength = 64

	c.Argon2MaxConcurrent = 2
	return c
}

// defaultIssuer derives the issuer from the listen address. An unspecified
// host (":8080", "0.0.0.0:8080", "[::]:8080") becomes 127.0.0.1.
func defaultIssuer(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr // Validate reports the bad addr
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// SecureCookies reports whether cookies must carry the Secure attribute,
// that is whether the issuer is an https URL.
func (c *Server) SecureCookies() bool {
	u, err := url.Parse(c.Issuer)
	return err == nil && u.Scheme == "https"
}

// IssuerPath is the path of the issuer URL, "" for an issuer that is an
// origin ("https://auth.example.com") and e.g. "/_gatehouse/auth" for
// "https://app.example.com/_gatehouse/auth". The server serves every
// endpoint and page under it.
func (c *Server) IssuerPath() string {
	u, err := url.Parse(c.Issuer)
	if err != nil {
		return ""
	}
	return u.EscapedPath()
}

// ResolvedSecretKeyFile is SecretKeyFile, or DataDir/secret.key when it is
// empty.
func (c *Server) ResolvedSecretKeyFile() string {
	if c.SecretKeyFile != "" {
		return c.SecretKeyFile
	}
	return filepath.Join(c.DataDir, "secret.key")
}

// SlogLevel is LogLevel as a slog.Level (info when it is not recognised).
func (c *Server) SlogLevel() slog.Level {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// TrustedProxyPrefixes returns TrustedProxies parsed; entries that do not
// parse (Validate rejects them) are skipped.
func (c *Server) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}
