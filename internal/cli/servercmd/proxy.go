package servercmd

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/proxy"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
)

// Environment variables of `gatehouse proxy` (flags win over them).
const (
	envProxyUpstream     = "GATEHOUSE_PROXY_UPSTREAM"
	envProxyAddr         = "GATEHOUSE_PROXY_ADDR"
	envProxyPublicURL    = "GATEHOUSE_PROXY_PUBLIC_URL"
	envProxyIssuer       = "GATEHOUSE_PROXY_ISSUER"
	envProxyClientID     = "GATEHOUSE_PROXY_CLIENT_ID"
	envProxyClientSecret = "GATEHOUSE_PROXY_CLIENT_SECRET"
	envProxyPolicy       = "GATEHOUSE_PROXY_POLICY"
	envProxySessions     = "GATEHOUSE_PROXY_SESSIONS"
)

// ProxyOptions are the options of `gatehouse proxy`: the gateway's flags
// and the embedded server's configuration.
type ProxyOptions struct {
	IO command.IOStreams

	Upstream          string
	Addr              string
	PublicURL         string
	Issuer            string
	ClientID          string
	ClientSecretFile  string
	Scopes            []string
	Audiences         []string
	RolesClaim        string
	GroupsClaim       string
	JWTAlgorithms     []string
	RejectIDTokens    bool
	PolicyFile        string
	Preset            string
	Sessions          string
	IdleTimeout       time.Duration
	AbsoluteTimeout   time.Duration
	TrustedProxies    []string
	Menu              bool
	BrandName         string
	PassAuthorization bool
	ReadHeaderTimeout time.Duration
	BodyTimeout       time.Duration
	ConnIdleTimeout   time.Duration
	InspectBytes      int64
	GraphQLParses     int
	// ForwardAuthWS allows uninspected WebSockets on GraphQL paths at the
	// forward-auth endpoint.
	ForwardAuthWS bool
	MetricsAddr   string

	// Server is the embedded server's configuration (storage, Redis,
	// audit output, log level).
	Server *config.Server
}

// NewCmdProxy is `gatehouse proxy`; runF, when not nil, runs instead of its run
// function (for tests of its flags).
func NewCmdProxy(f *command.Factory, runF func(*ProxyOptions) error) *cobra.Command {
	opts := &ProxyOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "proxy --upstream URL (--policy FILE | --preset NAME) [flags]",
		Short: "Put login, roles, audit and rate limits in front of a web application",
		Long: `Run the authenticating gateway in front of an unmodified web application.

Browsers without a session are sent to a login page and come back to where
they were; scripts and CLIs send "Authorization: Bearer" with an access token
(verified against the issuer's keys) or an API key (checked by introspection).
Every request is judged by the policy (deny by default; rules by host, path,
method, role and GraphQL operation) and forwarded with the gateway's identity
headers (X-Gatehouse-User, -User-Id, -Email, -Roles, -Auth and a signed
X-Gatehouse-Assertion JWT); identity headers sent by clients are removed.

The gateway's own routes are under /_gatehouse/: login?rd=, callback,
logout, healthz, readyz, metrics, whoami, jwks, verify (forward-auth for
nginx, Traefik and Caddy) and static assets.

Without --issuer the gateway embeds the authorization server under
/_gatehouse/auth, on the database of --data-dir/--db: users, API keys and
clients are managed with the usual admin commands ('gatehouse users add
alice --role viewer --data-dir DIR'), and 'gatehouse login --issuer
PUBLIC_URL/_gatehouse/auth' logs the CLI in. With --issuer it is an OpenID
Connect relying party of any issuer: register a confidential client whose
redirect URI is PUBLIC_URL/_gatehouse/callback. Its bearer JWTs (RS256 and
the others of --jwt-alg; typ at+jwt, JWT or none) must name the public URL,
the client id or an --audience in aud; opaque tokens are introspected only
when its discovery document names an introspection endpoint. With
--reject-id-tokens the issuer's ID tokens are refused as bearer credentials:
the client id no longer counts as an aud, and JWTs with ID-token claims
(nonce, at_hash, c_hash, s_hash, Keycloak's typ "ID") are refused.

A session lives server-side (--sessions memory, sql or redis://...); the
browser holds only an opaque id in a __Host- cookie (on an https public URL).

Anonymous requests to protected paths are answered before their body is
read. Slow clients are cut by --read-header-timeout and --body-timeout;
GraphQL inspection is bounded by --graphql-inspect-bytes and
--graphql-parses (503 beyond). Metrics are served to admins only, or on
--metrics-addr. Behind nginx or Caddy (forward-auth at /_gatehouse/verify),
WebSockets on GraphQL paths are refused unless
--forward-auth-uninspected-websockets: route the GraphQL endpoint through
the gateway itself, as docs/gateway.md shows.
See docs/gateway.md for the policy format and worked examples.`,
		Example: `  # Protect a local Dagster with the built-in Dagster policy and local users
  gatehouse users add alice --role editor --data-dir ./gatehouse-data
  gatehouse proxy --upstream http://127.0.0.1:3000 --preset dagster

  # In production, behind TLS, with sessions in Redis and your own policy
  gatehouse proxy --upstream http://dagster:3000 --addr 0.0.0.0:4180 \
      --public-url https://dagster.example.com --policy /etc/gatehouse/policy.yaml \
      --db postgres://gatehouse@db/gatehouse --redis redis://redis:6379/0 \
      --trusted-proxy 10.0.0.0/8

  # As a relying party of Keycloak
  GATEHOUSE_PROXY_CLIENT_SECRET=... gatehouse proxy --upstream http://127.0.0.1:3000 \
      --issuer https://keycloak.example.com/realms/main --client-id dagster \
      --roles-claim realm_access.roles --policy policy.yaml \
      --public-url https://dagster.example.com

  # The same, accepting only access tokens for the API (never ID tokens)
  GATEHOUSE_PROXY_CLIENT_SECRET=... gatehouse proxy --upstream http://127.0.0.1:3000 \
      --issuer https://keycloak.example.com/realms/main --client-id dagster \
      --audience https://dagster.example.com/api --reject-id-tokens \
      --public-url https://dagster.example.com

  # A script reaching the protected app with an API key
  GATEHOUSE_API_KEY=gatehouse_... gatehouse api https://dagster.example.com/graphql \
      -d '{"query":"{ version }"}'`,
		Args: command.UsageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := config.Load(cmd.Flags(), opts.IO.Getenv)
			if err != nil {
				return &command.UsageError{Command: cmd.CommandPath(), Err: err}
			}
			opts.Server = sc
			opts.fromEnv(cmd, opts.IO.Getenv)
			if runF != nil {
				return runF(opts)
			}
			return proxyRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Upstream, "upstream", "", "`URL` of the application to protect (env "+envProxyUpstream+")")
	fl.StringVar(&opts.Addr, "addr", proxy.DefaultAddr, "listen on `HOST:PORT` (env "+envProxyAddr+")")
	fl.StringVar(&opts.PublicURL, "public-url", "", "the gateway's origin `URL` as browsers reach it, e.g. https://app.example.com (default http://ADDR; env "+envProxyPublicURL+")")
	fl.StringVar(&opts.Issuer, "issuer", "", "external OpenID Connect issuer `URL`; empty embeds the authorization server (env "+envProxyIssuer+")")
	fl.StringVar(&opts.ClientID, "client-id", "", "OAuth client `ID` at the issuer (env "+envProxyClientID+"; embedded default gatehouse-proxy)")
	fl.StringVar(&opts.ClientSecretFile, "client-secret-file", "", "`FILE` holding the client secret (or env "+envProxyClientSecret+")")
	fl.StringSliceVar(&opts.Scopes, "scope", nil, "`SCOPE` to ask the external issuer for (repeatable; default openid profile email)")
	fl.StringArrayVar(&opts.Audiences, "audience", nil, "further `AUD` a bearer JWT may name to be accepted, besides the gateway's public URL and client id (repeatable)")
	fl.StringVar(&opts.RolesClaim, "roles-claim", proxy.DefaultRolesClaim, "`CLAIM` of ID tokens and bearer tokens with the user's roles; dots reach into objects (realm_access.roles)")
	fl.StringVar(&opts.GroupsClaim, "groups-claim", "", "`CLAIM` whose values are added to the roles and are the caller's groups for groups: rules, e.g. groups (external issuer; by default groups: rules read the \"groups\" claim, which gives no roles)")
	fl.StringArrayVar(&opts.JWTAlgorithms, "jwt-alg", nil, "signature `ALG` accepted on bearer JWTs of the external issuer (repeatable; default RS256, PS256, ES256, ES384, EdDSA)")
	fl.BoolVar(&opts.RejectIDTokens, "reject-id-tokens", false, "refuse the external issuer's ID tokens as bearer credentials: the client id stops being an accepted aud (use --audience for your API), and JWTs with nonce, at_hash, c_hash, s_hash or typ \"ID\" are refused")
	fl.StringVar(&opts.PolicyFile, "policy", "", "policy YAML `FILE` (env "+envProxyPolicy+")")
	fl.StringVar(&opts.Preset, "preset", "", "built-in policy `NAME` instead of --policy: dagster, or demo for gatehouse demo-app")
	fl.StringVar(&opts.Sessions, "sessions", "", "session store: memory, sql (the database) or a redis:// `URL` (default sql when embedded, else --redis, else memory; env "+envProxySessions+")")
	fl.DurationVar(&opts.IdleTimeout, "idle-timeout", proxy.DefaultIdleTimeout, "end sessions unused for this `DURATION`")
	fl.DurationVar(&opts.AbsoluteTimeout, "absolute-timeout", proxy.DefaultAbsoluteTimeout, "end every session this `DURATION` after login")
	fl.StringSliceVar(&opts.TrustedProxies, "trusted-proxy", nil, "`CIDR` of a proxy in front of the gateway whose X-Forwarded-* headers are believed (repeatable; none by default)")
	fl.BoolVar(&opts.Menu, "menu", false, "inject a small user menu (who is signed in, sign out) into the application's HTML pages")
	fl.StringVar(&opts.BrandName, "brand-name", "Gatehouse", "`NAME` shown on the gateway's pages")
	fl.BoolVar(&opts.PassAuthorization, "pass-authorization", false, "forward the caller's Authorization header to the application (removed by default)")
	fl.DurationVar(&opts.ReadHeaderTimeout, "read-header-timeout", proxy.DefaultReadHeaderTimeout, "close connections whose request headers take longer than this `DURATION`")
	fl.DurationVar(&opts.BodyTimeout, "body-timeout", proxy.DefaultBodyTimeout, "cut uploads whose request body takes longer than this `DURATION` (responses, streams and WebSockets have no timeout)")
	fl.DurationVar(&opts.ConnIdleTimeout, "conn-idle-timeout", proxy.DefaultConnIdleTimeout, "close keep-alive connections idle for this `DURATION`")
	fl.Int64Var(&opts.InspectBytes, "graphql-inspect-bytes", proxy.DefaultInspectBytes, "at most this many `BYTES` of GraphQL request bodies held for inspection at once (503 beyond)")
	fl.IntVar(&opts.GraphQLParses, "graphql-parses", 0, "at most this `NUMBER` of GraphQL documents parsed at once (default twice the CPUs)")
	fl.BoolVar(&opts.ForwardAuthWS, "forward-auth-uninspected-websockets", false, "let /_gatehouse/verify allow WebSocket upgrades on GraphQL paths although the proxy that asks forwards their messages unseen (any operation then runs with the upgrade's rights; refused by default)")
	fl.StringVar(&opts.MetricsAddr, "metrics-addr", "", "serve /_gatehouse/metrics on a listener of its own at `HOST:PORT` (default: on the public origin, to admins only)")
	config.RegisterStorageFlags(fl)
	fl.String("redis", "", "Redis `URL` shared by replicas: login rate limits (and sessions with --sessions redis://...) (env GATEHOUSE_REDIS)")
	fl.String("audit-output", "stdout", "where audit events go: stdout, stderr, off or a file `PATH` (env GATEHOUSE_AUDIT_OUTPUT)")
	fl.String("log-level", "info", "log `LEVEL`: debug, info, warn or error (env GATEHOUSE_LOG_LEVEL)")
	fl.String("secret-key-file", "", "`FILE` with the secret key (default DIR/secret.key; env GATEHOUSE_SECRET_KEY holds the key itself)")
	return cmd
}

// fromEnv fills flags that were not given from the environment.
func (o *ProxyOptions) fromEnv(cmd *cobra.Command, getenv func(string) string) {
	set := func(flag string, dst *string, env string) {
		if !cmd.Flags().Changed(flag) {
			if v := getenv(env); v != "" {
				*dst = v
			}
		}
	}
	set("upstream", &o.Upstream, envProxyUpstream)
	set("addr", &o.Addr, envProxyAddr)
	set("public-url", &o.PublicURL, envProxyPublicURL)
	set("issuer", &o.Issuer, envProxyIssuer)
	set("client-id", &o.ClientID, envProxyClientID)
	set("policy", &o.PolicyFile, envProxyPolicy)
	set("sessions", &o.Sessions, envProxySessions)
}

// loadPolicy reads --policy or --preset; exactly one is required, and a
// policy that does not load stops the gateway (SECURITY-CASES 54).
func (o *ProxyOptions) loadPolicy() (*policy.Policy, error) {
	var (
		p   *policy.Policy
		err error
	)
	switch {
	case o.PolicyFile != "" && o.Preset != "":
		return nil, command.UsageErrorf("give --policy or --preset, not both")
	case o.PolicyFile != "":
		p, err = policy.Load(o.PolicyFile)
	case o.Preset != "":
		p, err = policy.Preset(o.Preset)
	default:
		return nil, command.UsageErrorf("a policy is required: --policy FILE or --preset %s (everything is denied without one)", strings.Join(policy.Presets(), "|"))
	}
	if err != nil {
		return nil, command.UsageErrorf("%w", err)
	}
	return p, nil
}

func proxyRun(ctx context.Context, o *ProxyOptions) error {
	pol, err := o.loadPolicy()
	if err != nil {
		return err
	}
	secretValue := o.IO.Getenv(envProxyClientSecret)
	if o.ClientSecretFile != "" {
		b, err := os.ReadFile(o.ClientSecretFile)
		if err != nil {
			return command.UsageErrorf("--client-secret-file: %w", err)
		}
		secretValue = strings.TrimSpace(string(b))
	}
	adminPassword := o.IO.Getenv(envAdminPassword)
	if adminPassword != "" && o.Issuer == "" {
		if err := password.CheckPolicy(adminPassword); err != nil {
			return command.UsageErrorf("%s: %w", envAdminPassword, err)
		}
	}
	log := slog.New(slog.NewTextHandler(o.IO.ErrOut, &slog.HandlerOptions{Level: o.Server.SlogLevel()}))

	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Addr, err)
	}
	defer ln.Close()
	public := o.PublicURL
	if public == "" {
		public = "http://" + listenURLHost(ln.Addr())
	}
	inst, err := proxy.Open(ctx, proxy.Options{
		Config: proxy.Config{
			Upstream: o.Upstream, PublicURL: public, Issuer: o.Issuer, ClientID: o.ClientID,
			ClientSecret: secretValue, Scopes: o.Scopes, Audiences: o.Audiences, RolesClaim: o.RolesClaim,
			GroupsClaim: o.GroupsClaim, JWTAlgorithms: o.JWTAlgorithms, RejectIDTokens: o.RejectIDTokens,
			TrustedProxies: o.TrustedProxies, IdleTimeout: o.IdleTimeout, AbsoluteTimeout: o.AbsoluteTimeout,
			Menu: o.Menu, BrandName: o.BrandName, PassAuthorization: o.PassAuthorization,
			ReadHeaderTimeout: o.ReadHeaderTimeout, BodyTimeout: o.BodyTimeout, ConnIdleTimeout: o.ConnIdleTimeout,
			InspectBytes: o.InspectBytes, GraphQLParses: o.GraphQLParses,
			ForwardAuthUninspectedWebSockets: o.ForwardAuthWS, MetricsAddr: o.MetricsAddr,
		},
		Policy:        pol,
		Server:        o.Server,
		Sessions:      o.Sessions,
		AdminPassword: adminPassword,
		AdminUser:     o.IO.Getenv(envAdminUser),
		Out:           o.IO.ErrOut,
		Log:           log,
	})
	if err != nil {
		return err
	}
	issuer := o.Issuer
	if issuer == "" {
		issuer = strings.TrimSuffix(public, "/") + proxy.PathAuth + " (embedded)"
	}
	fmt.Fprintf(o.IO.ErrOut, "Gatehouse gateway listening on http://%s for %s, protecting %s (issuer %s)\n",
		ln.Addr(), public, o.Upstream, issuer)
	serveErr := inst.Serve(ctx, ln, time.Duration(o.Server.ShutdownTimeout))
	closeErr := inst.Close()
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if closeErr != nil {
		return fmt.Errorf("shut down: %w", closeErr)
	}
	log.Info("stopped")
	return nil
}

// listenURLHost is the bound address as a URL host, with an unspecified
// address replaced by the loopback one.
func listenURLHost(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
