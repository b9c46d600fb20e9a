package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func serverFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return fs
}

func TestDefault(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default does not validate: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr", c.Addr, "127.0.0.1:8080"},
		{"issuer", c.Issuer, "http://127.0.0.1:8080"},
		{"data_dir", c.DataDir, "./gatehouse-data"},
		{"secret key file", c.ResolvedSecretKeyFile(), filepath.Join("gatehouse-data", "secret.key")},
		{"shutdown_timeout", c.ShutdownTimeout, Duration(20 * time.Second)},
		{"log_level", c.LogLevel, "info"},
		{"audit.output", c.Audit.Output, "stdout"},
		{"audit.timeout", c.Audit.Timeout, Duration(2 * time.Second)},
		{"audit.fail_open", c.Audit.FailOpen, false},
		{"audit.retention", c.Audit.Retention, Duration(0)},
		{"timeouts.database", c.Timeouts.Database, Duration(3 * time.Second)},
		{"timeouts.redis", c.Timeouts.Redis, Duration(500 * time.Millisecond)},
		{"min_free_disk_mb", c.MinFreeDiskMB, 64},
		{"access_token_ttl", c.Tokens.AccessTokenTTL, Duration(15 * time.Minute)},
		{"id_token_ttl", c.Tokens.IDTokenTTL, Duration(15 * time.Minute)},
		{"refresh_token_ttl", c.Tokens.RefreshTokenTTL, Duration(720 * time.Hour)},
		{"code_ttl", c.Tokens.CodeTTL, Duration(60 * time.Second)},
		{"device_code_ttl", c.Tokens.DeviceCodeTTL, Duration(10 * time.Minute)},
		{"device_interval", c.Tokens.DeviceInterval, Duration(5 * time.Second)},
		{"session_ttl", c.Tokens.SessionTTL, Duration(12 * time.Hour)},
		{"refresh_retry_window", c.Tokens.RefreshRetryWindow, Duration(24 * time.Hour)},
		{"algorithm", c.Signing.Algorithm, "ES256"},
		{"prepublish", c.Signing.PrePublish, Duration(time.Hour)},
		{"retain", c.Signing.Retain, Duration(24 * time.Hour)},
		{"reload_interval", c.Signing.ReloadInterval, Duration(30 * time.Second)},
		{"login_per_ip", c.Limits.LoginPerIP, Rate{20, Duration(time.Minute), 20}},
		{"login_per_user", c.Limits.LoginPerUser, Rate{10, Duration(time.Minute), 10}},
		{"device_entry_per_ip", c.Limits.DeviceEntryPerIP, Rate{20, Duration(time.Minute), 20}},
		{"token_per_client", c.Limits.TokenPerClient, Rate{20000, Duration(time.Second), 20000}},
		{"device_authorization_per_client", c.Limits.DeviceAuthPerClient, Rate{300, Duration(time.Minute), 100}},
		{"device_authorization_per_ip", c.Limits.DeviceAuthPerIP, Rate{10, Duration(time.Minute), 10}},
		{"ipv6_prefix_length", c.Limits.IPv6PrefixLength, 64},
		{"argon2_max_concurrent", c.Argon2MaxConcurrent, 2},
		{"secure cookies", c.SecureCookies(), false},
		{"trusted proxies", len(c.TrustedProxies), 0},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadWithoutAnythingIsDefault(t *testing.T) {
	for _, fs := range []*pflag.FlagSet{nil, serverFlags(t)} {
		c, err := Load(fs, envMap(nil))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(Default(), *c); diff != "" {
			t.Errorf("Load with nothing set differs from Default (-want +got):\n%s", diff)
		}
	}
}

func TestPrecedence(t *testing.T) {
	file := writeFile(t, `
addr: "127.0.0.1:7000"
issuer: "https://file.example"
log_level: debug
data_dir: /file/data
tokens:
  access_token_ttl: 5m
  refresh_token_ttl: 48h
  code_ttl: 30s
signing:
  algorithm: EdDSA
`)
	env := map[string]string{
		"GATEHOUSE_ISSUER":            "https://env.example",
		"GATEHOUSE_LOG_LEVEL":         "warn",
		"GATEHOUSE_ACCESS_TOKEN_TTL":  "7m",
		"GATEHOUSE_REFRESH_TOKEN_TTL": "96h",
		"GATEHOUSE_SECRET_KEY":        "from-env",
		"GATEHOUSE_TOKEN":             "client-side variable, ignored",
	}
	fs := serverFlags(t, "--config", file, "--issuer", "https://flag.example", "--access-token-ttl", "9m")

	c, err := Load(fs, envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr (file only)", c.Addr, "127.0.0.1:7000"},
		{"data_dir (file only)", c.DataDir, "/file/data"},
		{"code_ttl (file only)", c.Tokens.CodeTTL, Duration(30 * time.Second)},
		{"algorithm (file only)", c.Signing.Algorithm, "EdDSA"},
		{"log_level (env over file)", c.LogLevel, "warn"},
		{"refresh_token_ttl (env over file)", c.Tokens.RefreshTokenTTL, Duration(96 * time.Hour)},
		{"secret key (env)", c.SecretKey, "from-env"},
		{"issuer (flag over env over file)", c.Issuer, "https://flag.example"},
		{"access_token_ttl (flag over env over file)", c.Tokens.AccessTokenTTL, Duration(9 * time.Minute)},
		{"id_token_ttl (default)", c.Tokens.IDTokenTTL, Duration(15 * time.Minute)},
		{"secure cookies", c.SecureCookies(), true},
		{"ui.brand_name", c.UI.BrandName, "Gatehouse"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}

	// Without the flags, the environment wins over the file.
	c, err = Load(serverFlags(t, "--config", file), envMap(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "https://env.example" || c.Tokens.AccessTokenTTL != Duration(7*time.Minute) {
		t.Errorf("env over file: issuer %q, access ttl %s", c.Issuer, c.Tokens.AccessTokenTTL)
	}
}

func TestConfigFileFromEnv(t *testing.T) {
	envFile := writeFile(t, "log_level: debug\n")
	flagFile := writeFile(t, "log_level: error\n")
	env := envMap(map[string]string{EnvConfigFile: envFile})

	c, err := Load(serverFlags(t), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != "debug" {
		t.Errorf("GATEHOUSE_CONFIG_FILE not read: log_level %q", c.LogLevel)
	}
	c, err = Load(serverFlags(t, "--config", flagFile), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != "error" {
		t.Errorf("--config does not win over GATEHOUSE_CONFIG_FILE: log_level %q", c.LogLevel)
	}
	if _, err := Load(serverFlags(t, "--config", filepath.Join(t.TempDir(), "missing.yaml")), env); err == nil {
		t.Error("missing config file accepted")
	}
}

func TestEmptyConfigFile(t *testing.T) {
	c, err := Load(serverFlags(t, "--config", writeFile(t, "# only a comment\n")), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), *c); diff != "" {
		t.Errorf("empty file changed the config (-want +got):\n%s", diff)
	}
}

func TestStorageFlags(t *testing.T) {
	fs := pflag.NewFlagSet("clients", pflag.ContinueOnError)
	RegisterStorageFlags(fs)
	for _, name := range []string{"addr", "issuer", "access-token-ttl"} {
		if fs.Lookup(name) != nil {
			t.Errorf("storage flags include --%s", name)
		}
	}
	dir := t.TempDir()
	if err := fs.Parse([]string{"--data-dir", dir, "--db", "postgres://u@h/db"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs, envMap(map[string]string{"GATEHOUSE_DB": "postgres://env@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != dir || c.DB != "postgres://u@h/db" {
		t.Errorf("data_dir %q db %q", c.DataDir, c.DB)
	}
	if want := filepath.Join(dir, "secret.key"); c.ResolvedSecretKeyFile() != want {
		t.Errorf("secret key file %q, want %q", c.ResolvedSecretKeyFile(), want)
	}
	// Registering both sets on one FlagSet must not panic.
	RegisterFlags(fs)
}

func TestUnknownKeys(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"top level", "adr: 127.0.0.1:1\n", []string{"server.yaml:1", "adr", "unknown key"}},
		{"nested", "tokens:\n  access_token_ttl: 5m\n  acess_token_ttl: 5m\n", []string{"server.yaml:3", "tokens.acess_token_ttl", "unknown key"}},
		{"in a rate", "limits:\n  login_per_ip: {requests: 1, per: 1s, burts: 1}\n", []string{"limits.login_per_ip", "unknown key"}},
		{"secret key in a file", "secret_key: hunter2\n", []string{"secret_key", "GATEHOUSE_SECRET_KEY"}},
		{"two of them", "foo: 1\nbar: 2\n", []string{"foo", "bar"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(serverFlags(t, "--config", writeFile(t, tc.yaml)), envMap(nil))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the secret: %q", err)
			}
		})
	}
}

func TestBadDurations(t *testing.T) {
	files := []struct{ yaml, key string }{
		{"tokens:\n  code_ttl: 60\n", "tokens.code_ttl"},
		{"shutdown_timeout: soon\n", "shutdown_timeout"},
		{"signing:\n  retain: [1h]\n", "signing.retain"},
		{"limits:\n  login_per_user: {requests: 1, per: 1 minute, burst: 1}\n", "limits.login_per_user.per"},
	}
	for _, tc := range files {
		_, err := Load(serverFlags(t, "--config", writeFile(t, tc.yaml)), envMap(nil))
		if err == nil || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: error %v does not name %s", tc.yaml, err, tc.key)
		}
	}

	for _, name := range []string{"GATEHOUSE_ACCESS_TOKEN_TTL", "GATEHOUSE_REFRESH_TOKEN_TTL"} {
		_, err := Load(nil, envMap(map[string]string{name: "15"}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=15: error %v does not name the variable", name, err)
		}
	}

	fs := pflag.NewFlagSet("server", pflag.ContinueOnError)
	fs.SetOutput(new(strings.Builder))
	RegisterFlags(fs)
	if err := fs.Parse([]string{"--access-token-ttl", "abc"}); err == nil || !strings.Contains(err.Error(), "access-token-ttl") {
		t.Errorf("--access-token-ttl abc: %v", err)
	}

	for _, tc := range []struct {
		name, v string
		want    int
	}{{"negative", "-5m", 1}, {"zero", "0s", 1}} {
		_, err := Load(nil, envMap(map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": tc.v}))
		if err == nil || !strings.Contains(err.Error(), "tokens.access_token_ttl") {
			t.Errorf("%s access token ttl: %v", tc.name, err)
		}
	}
}

func TestDuration(t *testing.T) {
	cases := map[string]string{"15m": "15m", "720h": "720h", "1h30m": "1h30m", "90s": "1m30s", "1.5s": "1.5s", "0s": "0s", " 10m ": "10m"}
	for in, want := range cases {
		var d Duration
		if err := d.Set(in); err != nil {
			t.Errorf("Set(%q): %v", in, err)
			continue
		}
		if d.String() != want {
			t.Errorf("Set(%q).String() = %q, want %q", in, d, want)
		}
		var back Duration
		if err := back.Set(d.String()); err != nil || back != d {
			t.Errorf("%q does not round-trip: %v %v", d, back, err)
		}
	}
	for _, in := range []string{"", "15", "15 m", "1d", "abc"} {
		var d Duration
		if err := d.Set(in); err == nil {
			t.Errorf("Set(%q) accepted as %s", in, d)
		}
	}
}

func TestIssuerRules(t *testing.T) {
	cases := []struct {
		issuer string
		ok     bool
	}{
		{"https://auth.example.com", true},
		{"https://auth.example.com:8443/tenant", true},
		{"https://app.example.com/_gatehouse/auth", true},
		{"http://127.0.0.1:8080/a-b.c~d/e_f", true},
		{"https://app.example.com/_gatehouse/auth/", false},
		{"https://app.example.com//auth", false},
		{"https://app.example.com/a//b", false},
		{"https://app.example.com/a/./b", false},
		{"https://app.example.com/a/../b", false},
		{"https://app.example.com/a%2Fb", false},
		{"https://app.example.com/a%20b", false},
		{"https://app.example.com/a b", false},
		{"https://app.example.com/{x}", false},
		{"https://app.example.com/auth?x=1", false},
		{"https://app.example.com/auth#f", false},
		{"http://127.0.0.1:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", true},
		{"http://localhost", true},
		{"http://auth.example.com", false},
		{"http://10.0.0.1:8080", false},
		{"http://localhost.example.com", false},
		{"https://auth.example.com/", false},
		{"https://auth.example.com/tenant/", false},
		{"https://auth.example.com?x=1", false},
		{"https://auth.example.com/?", false},
		{"https://auth.example.com#frag", false},
		{"https://user@auth.example.com", false},
		{"auth.example.com", false},
		{"/relative", false},
		{"https:auth.example.com", false},
		{"ftp://auth.example.com", false},
		{"HTTPS://auth.example.com", false},
		{"https://", false},
		{"", false},
	}
	for _, tc := range cases {
		c := Default()
		c.Issuer = tc.issuer
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("issuer %q: ok=%v, err=%v", tc.issuer, tc.ok, err)
		}
		if err != nil && !strings.Contains(err.Error(), "issuer") {
			t.Errorf("issuer %q: error %q does not name the key", tc.issuer, err)
		}
	}
}

func TestIssuerPath(t *testing.T) {
	cases := map[string]string{
		"https://auth.example.com":                "",
		"http://127.0.0.1:8080":                   "",
		"https://app.example.com/_gatehouse/auth": "/_gatehouse/auth",
		"https://example.com/auth":                "/auth",
	}
	for iss, want := range cases {
		c := Default()
		c.Issuer = iss
		if got := c.IssuerPath(); got != want {
			t.Errorf("IssuerPath of %q = %q, want %q", iss, got, want)
		}
	}
}

func TestIssuerDerivedFromAddr(t *testing.T) {
	cases := map[string]string{
		":9000":          "http://127.0.0.1:9000",
		"0.0.0.0:9000":   "http://127.0.0.1:9000",
		"[::]:9000":      "http://127.0.0.1:9000",
		"[::1]:9000":     "http://[::1]:9000",
		"localhost:9000": "http://localhost:9000",
	}
	for addr, want := range cases {
		c, err := Load(serverFlags(t, "--addr", addr), envMap(nil))
		if err != nil {
			t.Errorf("addr %q: %v", addr, err)
			continue
		}
		if c.Issuer != want {
			t.Errorf("addr %q: issuer %q, want %q", addr, c.Issuer, want)
		}
	}
	// A public address without an issuer would give an http issuer.
	_, err := Load(serverFlags(t, "--addr", "192.0.2.10:80"), envMap(nil))
	if err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("http issuer derived for a public addr: %v", err)
	}
	// An explicit issuer is kept whatever the addr.
	c, err := Load(serverFlags(t, "--addr", "0.0.0.0:80"), envMap(map[string]string{"GATEHOUSE_ISSUER": "https://a.example"}))
	if err != nil || c.Issuer != "https://a.example" {
		t.Errorf("explicit issuer: %v %v", c, err)
	}
}

func TestErrorNamesSource(t *testing.T) {
	_, err := Load(nil, envMap(map[string]string{"GATEHOUSE_ISSUER": "http://auth.example.com"}))
	if err == nil || !strings.Contains(err.Error(), "GATEHOUSE_ISSUER") {
		t.Errorf("error %v does not name the variable", err)
	}
	file := writeFile(t, "\ntokens:\n  code_ttl: 11m\n")
	_, err = Load(serverFlags(t, "--config", file), envMap(nil))
	if err == nil || !strings.Contains(err.Error(), file+":3") {
		t.Errorf("error %v does not name %s:3", err, file)
	}
}

func TestCodeTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl time.Duration
		ok  bool
	}{{time.Second, true}, {10 * time.Minute, true}, {10*time.Minute + time.Second, false}, {time.Hour, false}, {0, false}, {-time.Second, false}} {
		c := Default()
		c.Tokens.CodeTTL = Duration(tc.ttl)
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("code_ttl %s: ok=%v, err=%v", tc.ttl, tc.ok, err)
		}
		if err != nil && !strings.Contains(err.Error(), "tokens.code_ttl") {
			t.Errorf("code_ttl %s: error %q does not name the key", tc.ttl, err)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.Addr = "no-port"
	c.LogLevel = "loud"
	c.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.1"}
	c.Tokens.DeviceInterval = c.Tokens.DeviceCodeTTL
	c.Signing.Algorithm = "RS256"
	c.Signing.Retain = c.Tokens.AccessTokenTTL
	c.Limits.LoginPerIP.Requests = 0
	c.Limits.TokenPerClient.Burst = -1
	c.Limits.IPv6PrefixLength = 129
	c.Argon2MaxConcurrent = 0
	c.MetricsAddr = c.Addr
	c.Redis = "http://redis"
	c.DataDir = " "

	err := c.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	var keys []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		keys = append(keys, fe.Key)
	}
	want := []string{
		"addr", "data_dir", "redis", "metrics_addr", "log_level", "trusted_proxies[1]",
		"tokens.device_interval", "signing.algorithm", "signing.retain",
		"limits.login_per_ip.requests", "limits.token_per_client.burst", "limits.ipv6_prefix_length", "argon2_max_concurrent",
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("problems reported (-want +got):\n%s", diff)
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	c := Default()
	c.TrustedProxies = []string{"10.1.2.3/8", " 192.168.0.0/16 ", "::1/128"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range c.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	if diff := cmp.Diff([]string{"10.0.0.0/8", "192.168.0.0/16", "::1/128"}, got); diff != "" {
		t.Errorf("prefixes (-want +got):\n%s", diff)
	}
}

func TestExampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "examples", "server.yaml")
	c, err := Load(serverFlags(t, "--config", path), envMap(nil))
	if err != nil {
		t.Fatalf("example config rejected: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr", c.Addr, "0.0.0.0:8080"},
		{"issuer", c.Issuer, "https://auth.example.com"},
		{"metrics_addr", c.MetricsAddr, "127.0.0.1:9090"},
		{"trusted proxies", len(c.TrustedProxyPrefixes()), 2},
		{"code_ttl", c.Tokens.CodeTTL, Duration(60 * time.Second)},
		{"token_per_client", c.Limits.TokenPerClient, Rate{20000, Duration(time.Second), 20000}},
		{"device_authorization_per_client", c.Limits.DeviceAuthPerClient, Rate{300, Duration(time.Minute), 100}},
		{"device_authorization_per_ip", c.Limits.DeviceAuthPerIP, Rate{10, Duration(time.Minute), 10}},
		{"ipv6_prefix_length", c.Limits.IPv6PrefixLength, 64},
		{"secure cookies", c.SecureCookies(), true},
		{"ui.brand_name", c.UI.BrandName, "Gatehouse"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestBrandNameRules(t *testing.T) {
	for _, b := range []string{"", strings.Repeat("x", 65), "Acme\nCorp"} {
		c := Default()
		c.UI.BrandName = b
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "ui.brand_name") {
			t.Errorf("brand %q: %v", b, err)
		}
	}
	c := Default()
	c.UI.BrandName = "Acme Data Platform"
	if err := c.Validate(); err != nil {
		t.Errorf("a plain brand was refused: %v", err)
	}
}

func TestAuditRetentionBounds(t *testing.T) {
	for _, tc := range []struct {
		retention time.Duration
		ok        bool
	}{
		{0, true}, {time.Minute, true}, {10 * time.Minute, true}, {2160 * time.Hour, true},
		{59 * time.Second, false}, {-time.Hour, false},
	} {
		c := Default()
		c.Audit.Retention = Duration(tc.retention)
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("audit.retention %s: error %v, want ok=%v", tc.retention, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "audit.retention") {
			t.Errorf("audit.retention %s: error %q does not name the key", tc.retention, err)
		}
	}
}

func TestRefreshRetryWindowBounds(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		ok     bool
	}{{0, true}, {time.Hour, true}, {720 * time.Hour, true}, {-time.Second, false}, {721 * time.Hour, false}} {
		c := Default()
		c.Tokens.RefreshRetryWindow = Duration(tc.window)
		err := c.Validate()
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "tokens.refresh_retry_window")) {
			t.Errorf("refresh_retry_window %s: %v, want ok=%v", tc.window, err, tc.ok)
		}
	}
	c, err := Load(nil, envMap(map[string]string{"GATEHOUSE_REFRESH_RETRY_WINDOW": "2h"}))
	if err != nil || c.Tokens.RefreshRetryWindow != Duration(2*time.Hour) {
		t.Errorf("GATEHOUSE_REFRESH_RETRY_WINDOW=2h: %v, %v", c, err)
	}
}
