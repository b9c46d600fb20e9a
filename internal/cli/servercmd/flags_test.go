package servercmd

import (
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
)

// factory is a Factory on test streams whose environment is env.
func factory(env map[string]string) *command.Factory {
	streams, _, _ := command.NewTestIOStreams("")
	streams.Getenv = func(k string) string { return env[k] }
	return &command.Factory{IOStreams: streams}
}

func TestServerFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := factory(map[string]string{envAdminPassword: "first-admin-password-1"})
	got, err := commandtest.Parse(t.Context(), f, NewCmdServer, "server", "--addr", "127.0.0.1:0",
		"--issuer", "http://127.0.0.1:9999/auth", "--data-dir", dir, "--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	c := got.Config
	if c.Addr != "127.0.0.1:0" || c.Issuer != "http://127.0.0.1:9999/auth" || c.DataDir != dir || c.LogLevel != "warn" ||
		got.AdminPassword != "first-admin-password-1" {
		t.Errorf("server flags: %+v, config %+v", got, c)
	}
	if got, err := commandtest.Parse(t.Context(), factory(nil), NewCmdServer, "server", "--log-level", "loud"); got != nil || command.ExitCode(err) != command.ExitUsage {
		t.Errorf("server --log-level loud: %v, ran with %+v", err, got)
	}
}

func TestHealthcheckFlags(t *testing.T) {
	t.Parallel()
	got, err := commandtest.Parse(t.Context(), factory(nil), NewCmdHealthcheck, "healthcheck", "--addr", "127.0.0.1:9090")
	if err != nil || got.Config.Addr != "127.0.0.1:9090" {
		t.Errorf("healthcheck --addr: %v %+v", err, got)
	}
}

func TestDemoAppFlags(t *testing.T) {
	t.Parallel()
	got, err := commandtest.Parse(t.Context(), factory(nil), NewCmdDemoApp, "demo-app", "--addr", "127.0.0.1:3999")
	if err != nil || got.Addr != "127.0.0.1:3999" {
		t.Errorf("demo-app --addr: %v %+v", err, got)
	}
	if got, err := commandtest.Parse(t.Context(), factory(nil), NewCmdDemoApp, "demo-app", "--addr", "0.0.0.0:3000"); got != nil || command.ExitCode(err) != command.ExitUsage {
		t.Errorf("demo-app on all addresses: %v, ran with %+v", err, got)
	}
}

func TestProxyFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	got, err := commandtest.Parse(t.Context(), factory(nil), NewCmdProxy, "proxy",
		"--upstream", "http://127.0.0.1:3000", "--addr", "127.0.0.1:4181", "--public-url", "https://app.example.com",
		"--issuer", "https://id.example.com", "--client-id", "app", "--client-secret-file", "secret.txt",
		"--scope", "openid,email", "--scope", "groups", "--audience", "https://api.example.com", "--audience", "api2",
		"--roles-claim", "realm_access.roles", "--groups-claim", "groups", "--jwt-alg", "RS256", "--jwt-alg", "ES256",
		"--reject-id-tokens", "--policy", "policy.yaml", "--preset", "demo", "--sessions", "memory",
		"--idle-timeout", "10m", "--absolute-timeout", "2h", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "192.168.0.0/16",
		"--menu", "--brand-name", "Acme", "--pass-authorization", "--read-header-timeout", "3s", "--body-timeout", "40s",
		"--conn-idle-timeout", "50s", "--graphql-inspect-bytes", "4096", "--graphql-parses", "7",
		"--forward-auth-uninspected-websockets", "--metrics-addr", "127.0.0.1:9100",
		"--data-dir", dir, "--log-level", "debug")
	if err != nil {
		t.Fatal(err)
	}
	if got.Server == nil || got.Server.DataDir != dir || got.Server.LogLevel != "debug" {
		t.Errorf("proxy: server configuration %+v", got.Server)
	}
	got.IO, got.Server = command.IOStreams{}, nil
	want := &ProxyOptions{
		Upstream: "http://127.0.0.1:3000", Addr: "127.0.0.1:4181", PublicURL: "https://app.example.com",
		Issuer: "https://id.example.com", ClientID: "app", ClientSecretFile: "secret.txt",
		Scopes: []string{"openid", "email", "groups"}, Audiences: []string{"https://api.example.com", "api2"},
		RolesClaim: "realm_access.roles", GroupsClaim: "groups", JWTAlgorithms: []string{"RS256", "ES256"},
		RejectIDTokens: true, PolicyFile: "policy.yaml", Preset: "demo", Sessions: "memory",
		IdleTimeout: 10 * time.Minute, AbsoluteTimeout: 2 * time.Hour, TrustedProxies: []string{"10.0.0.0/8", "192.168.0.0/16"},
		Menu: true, BrandName: "Acme", PassAuthorization: true, ReadHeaderTimeout: 3 * time.Second, BodyTimeout: 40 * time.Second,
		ConnIdleTimeout: 50 * time.Second, InspectBytes: 4096, GraphQLParses: 7, ForwardAuthWS: true, MetricsAddr: "127.0.0.1:9100",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("proxy flags:\n got %+v\nwant %+v", got, want)
	}
}

// The gateway's variables fill the flags that were not given; a flag wins.
func TestProxyFlagsFromEnv(t *testing.T) {
	t.Parallel()
	f := factory(map[string]string{
		envProxyUpstream: "http://127.0.0.1:3001", envProxyAddr: "127.0.0.1:4182", envProxyPublicURL: "https://env.example.com",
		envProxyIssuer: "https://id.env.example", envProxyClientID: "env-client", envProxyPolicy: "env.yaml", envProxySessions: "sql",
	})
	got, err := commandtest.Parse(t.Context(), f, NewCmdProxy, "proxy", "--upstream", "http://127.0.0.1:3000", "--data-dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got.Upstream != "http://127.0.0.1:3000" || got.Addr != "127.0.0.1:4182" || got.PublicURL != "https://env.example.com" ||
		got.Issuer != "https://id.env.example" || got.ClientID != "env-client" || got.PolicyFile != "env.yaml" || got.Sessions != "sql" {
		t.Errorf("proxy from the environment: %+v", got)
	}
}
