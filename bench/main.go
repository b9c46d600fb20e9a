// Command bench is the performance benchmark of the Gatehouse authorization
// server. It is a tool, not a test: it measures, prints, and stops.
//
// It builds the real gatehouse binary (CGO_ENABLED=0) unless --binary names
// one, starts `gatehouse server` on a free 127.0.0.1 port with a throw-away
// data directory (SQLite), or in a freshly created PostgreSQL schema that is
// dropped afterwards (--postgres, --db), registers its clients and user with
// the real CLI on the same database, signs the user in through the HTML
// login and consent pages to get one refresh token per worker, and then
// drives each workload for --duration after a warm-up, with --concurrency
// workers that each keep their own keep-alive connection:
//
//	client_credentials  POST /oauth2/token, grant_type=client_credentials, HTTP Basic
//	refresh             POST /oauth2/token, grant_type=refresh_token; each worker
//	                    rotates its own chain, always presenting the newest token
//	introspect          POST /oauth2/introspect of a client_credentials JWT
//	apikey-introspect   POST /oauth2/introspect of an API key made with
//	                    `gatehouse apikeys create`
//
// For every workload it reports requests, errors (any answer but 200, with the
// first error body), requests/s, p50/p99/max latency over every request (no
// sampling), the server's peak RSS (VmRSS polled every 50 ms) and CPU, and
// the server's idle RSS right after start and after setup; then each DESIGN.md
// target with PASS or MISS. --json prints the same as one JSON document.
//
// Usage:
//
//	go run ./bench [--duration 10s] [--warmup 1s] [--concurrency 32]
//	               [--workloads cc,cc-dpop,cc-dpop-eddsa,refresh,introspect,apikey-introspect] [--json]
//	               [--postgres | --db postgres://...] [--binary PATH] [--keep]
//	               [--replicas 2 [--redis-url redis://127.0.0.1:6379/0]] [--perf-dir DIR]
//
// --perf-dir DIR records a CPU profile of the server with Linux perf
// (perf record -g) during each measured window, to DIR/WORKLOAD.perf.data
// (perf.go); perf needs no change to the server, sees the kernel's share
// too, and compares two workloads with perf diff:
//
//	go run ./bench --workloads cc,cc-dpop --perf-dir /tmp/prof
//	perf diff /tmp/prof/client_credentials.perf.data /tmp/prof/client_credentials-dpop.perf.data
//
// --replicas 2 starts two servers on the same PostgreSQL schema and a free
// Redis database (flushed before and after), with the same secret key and
// issuer; worker i talks to replica i%2 (replicas.go).
//
// --gateway-flood measures the gateway under hostile load instead
// (flood.go): 48 concurrent anonymous 1 MiB GraphQL bodies (peak RSS and
// time until all are answered) and 200 stalled uploads (cut at the body
// timeout).
//
//	go run ./bench --gateway-flood
//
// --gateway benchmarks the authenticating gateway instead (gateway.go): it
// builds the test app (internal/proxy/proxytest/testapp) and runs it on
// 127.0.0.1, starts `gatehouse proxy` in front of it with a policy that
// lets viewers read, creates the viewer "bench" with the CLI, signs it in
// through the gateway's login pages for a session cookie, creates an API
// key acting as it and a client_credentials client with the viewer role
// for a JWT, and then measures GET /status/200 of the app directly and
// through the gateway with each credential, once with one worker
// (latency; the added latency is the gateway's p50 minus direct's) and
// once with --concurrency workers (throughput), --duration 5s each unless
// given. "bare" is the floor: the same requests through a reverse proxy
// made of nothing but net/http/httputil (bench/bareproxy). --workloads
// picks among bare, session, apikey and jwt; direct always runs.
//
//	go run ./bench --gateway [--duration 5s] [--concurrency 32] [--workloads bare,session,apikey,jwt]
//
// --ldap benchmarks LDAP sign-ins instead (ldap.go): it starts Debian's
// slapd with docs/examples/ldap.ldif on 127.0.0.1 (internal/connector/ldap/ldaptest)
// and signs ada and bob in through the LDAP connector, --concurrency at
// once, for --duration; workloads starttls, ldaps and wrong (a wrong
// password), pool_size --ldap-pool. It reports sign-ins/s, latency, the
// binds and searches per sign-in and slapd's CPU.
//
//	go run ./bench --ldap [--duration 10s] [--concurrency 32] [--ldap-pool 8] [--workloads starttls,ldaps,wrong]
//
// It only ever talks to 127.0.0.1, bounds every loop by time, and stops the
// server (SIGTERM, then waits) before it exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// defaultPostgresDSN is used by --postgres when GATEHOUSE_TEST_POSTGRES_DSN
// is not set.
const defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// options are the command-line flags.
type options struct {
	Binary      string
	DB          string
	Postgres    bool
	Duration    time.Duration
	Warmup      time.Duration
	Concurrency int
	Workloads   []string
	JSON        bool
	Keep        bool
	// Replicas is 1, or 2 for two servers on the same PostgreSQL schema
	// and Redis database (replicas.go).
	Replicas int
	RedisURL string
	// Gateway selects the gateway benchmark; Workloads are then
	// gateway workloads other than direct.
	Gateway bool
	// GatewayFlood selects the gateway flood benchmark (flood.go).
	GatewayFlood bool
	// GatewayPath is the path of the test app the gateway workloads GET.
	GatewayPath string
	// LDAP selects the LDAP sign-in benchmark (ldap.go), with LDAPPool
	// connections per pool.
	LDAP     bool
	LDAPPool int
	// AuditRetention, when set, is the server's audit.retention (a soak
	// shows the database staying flat); SizeEvery is how often the
	// SQLite database's size is sampled during the load (0: only after
	// each workload).
	AuditRetention time.Duration
	SizeEvery      time.Duration
	// PerfDir, when set, is where perf record writes a CPU profile of
	// the server (or gateway) for each measured window (perf.go).
	PerfDir string
}

// loadGCPercent is the load generator's own GOGC unless GOGC is set: it
// shares the machine's cores with the server it measures, and at Go's
// default its collector took CPU the server could have had.
const loadGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(loadGCPercent)
	}
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Everything, setup included, ends by this deadline.
	runs := len(opts.Workloads)
	if opts.Gateway {
		runs = 2 * (runs + 1) // each with one worker and with many, and direct
	}
	budget := 3*time.Minute + time.Duration(runs)*(opts.Duration+opts.Warmup+time.Minute)
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	var rep interface{ writeTable(io.Writer) }
	if opts.LDAP {
		var l *LDAPReport
		if l, err = runLDAP(ctx, opts, os.Stderr); l != nil {
			rep = l
		}
	} else if opts.GatewayFlood {
		var f *FloodReport
		if f, err = runGatewayFlood(ctx, opts, os.Stderr); f != nil {
			rep = f
		}
	} else if opts.Gateway {
		var g *GatewayReport
		if g, err = runGateway(ctx, opts, os.Stderr); g != nil {
			rep = g
		}
	} else {
		var r *Report
		if r, err = run(ctx, opts, os.Stderr); r != nil {
			rep = r
		}
	}
	if rep != nil {
		if opts.JSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
			rep.writeTable(os.Stderr)
		} else {
			rep.writeTable(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line.
func parseFlags(args []string, errOut io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() {
		fmt.Fprintf(errOut, "Usage: go run ./bench [flags]\n\nBenchmarks a real gatehouse server on 127.0.0.1 and prints the results next to the DESIGN.md targets.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	o := &options{}
	var workloads string
	fs.StringVar(&o.Binary, "binary", "", "use this gatehouse `binary` instead of building ./cmd/gatehouse")
	fs.StringVar(&o.DB, "db", "", "run on PostgreSQL: a postgres:// `URL`; the benchmark works in a fresh schema it drops afterwards")
	fs.BoolVar(&o.Postgres, "postgres", false, "run on PostgreSQL at $GATEHOUSE_TEST_POSTGRES_DSN (default "+defaultPostgresDSN+")")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured `time` per workload")
	fs.DurationVar(&o.Warmup, "warmup", time.Second, "unmeasured warm-up `time` before each workload")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "concurrent `workers`, one keep-alive connection each")
	fs.StringVar(&workloads, "workloads", "cc,refresh,introspect,apikey-introspect", "comma-separated `list` of workloads: cc, cc-dpop (client_credentials with an ES256 DPoP proof), cc-dpop-eddsa (the same with EdDSA), refresh, introspect, apikey-introspect")
	fs.BoolVar(&o.JSON, "json", false, "print a JSON document on stdout (the table goes to stderr)")
	fs.IntVar(&o.Replicas, "replicas", 1, "`number` of servers: 1, or 2 on the same PostgreSQL schema and Redis (--redis-url); needs --postgres or --db")
	fs.StringVar(&o.RedisURL, "redis-url", defaultRedisURL, "Redis `URL` for --replicas 2; the run's keys go under a key prefix of its own and are deleted at the end")
	fs.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (server log, audit log, database)")
	fs.StringVar(&o.GatewayPath, "gateway-path", gatewayPath, "with --gateway: the test app `path` every workload GETs, e.g. '/graphql?query={runs{id status job}}' (the gateway then parses the GraphQL query)")
	fs.BoolVar(&o.GatewayFlood, "gateway-flood", false, "measure the gateway under 48 concurrent anonymous 1 MiB GraphQL bodies and 200 stalled uploads (RSS, time to answer, body timeout)")
	fs.BoolVar(&o.LDAP, "ldap", false, "benchmark LDAP sign-ins through the LDAP connector against a slapd started on 127.0.0.1 (needs /usr/sbin/slapd); workloads starttls, ldaps, wrong")
	fs.IntVar(&o.LDAPPool, "ldap-pool", 8, "with --ldap: the connector's pool_size (`connections` for searches, and as many for binds)")
	fs.DurationVar(&o.AuditRetention, "audit-retention", 0, "run the server with this audit.retention (at least 1m), e.g. 10m for a soak (make bench-soak); 0 keeps every event")
	fs.DurationVar(&o.SizeEvery, "size-every", 0, "sample the SQLite database's size at this `interval` during the load and judge its flatness with --audit-retention (default 1m when --audit-retention is set)")
	fs.StringVar(&o.PerfDir, "perf-dir", "", "record the server's CPU profile (Linux perf record -g, 999 Hz, kernel included) during each measured window to `dir`/WORKLOAD.perf.data; read one with 'perf report -i FILE --no-children --sort symbol', compare two with 'perf diff A B'")
	fs.BoolVar(&o.Gateway, "gateway", false, "benchmark the gateway (gatehouse proxy) in front of the test app instead; workloads bare, session, apikey, jwt (direct always runs), --duration 5s unless given")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if !strings.HasPrefix(o.GatewayPath, "/") {
		return nil, fmt.Errorf("--gateway-path must start with /")
	}
	if o.Duration <= 0 || o.Duration > time.Hour {
		return nil, fmt.Errorf("--duration must be between 0 and 1h")
	}
	if o.Warmup < 0 || o.Warmup > 10*time.Minute {
		return nil, fmt.Errorf("--warmup must be between 0 and 10m")
	}
	if o.Concurrency < 1 || o.Concurrency > 1024 {
		return nil, fmt.Errorf("--concurrency must be between 1 and 1024")
	}
	if o.AuditRetention != 0 && o.AuditRetention < time.Minute {
		return nil, fmt.Errorf("--audit-retention must be at least 1m (the server's minimum)")
	}
	if o.SizeEvery < 0 {
		return nil, fmt.Errorf("--size-every must not be negative")
	}
	if o.AuditRetention > 0 && o.SizeEvery == 0 {
		o.SizeEvery = time.Minute
	}
	if o.PerfDir != "" {
		if o.LDAP || o.GatewayFlood {
			return nil, fmt.Errorf("--perf-dir records the server or the gateway; not with --ldap or --gateway-flood")
		}
		if err := checkPerf(); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(o.PerfDir, 0o755); err != nil {
			return nil, fmt.Errorf("--perf-dir: %w", err)
		}
	}
	if o.Postgres && o.DB != "" {
		return nil, fmt.Errorf("use --postgres or --db, not both")
	}
	if o.Postgres {
		o.DB = os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
		if o.DB == "" {
			o.DB = defaultPostgresDSN
		}
	}
	if o.DB != "" && !isPostgresDSN(o.DB) {
		return nil, fmt.Errorf("--db must be a PostgreSQL URL (postgres://...); SQLite runs in a temporary --data-dir by default")
	}
	if o.Replicas != 1 && o.Replicas != 2 {
		return nil, fmt.Errorf("--replicas must be 1 or 2")
	}
	if o.Replicas == 2 && o.DB == "" {
		return nil, fmt.Errorf("--replicas 2 needs --postgres or --db: SQLite cannot be shared by two servers")
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	aliases, known := workloadAliases, "cc, cc-dpop, cc-dpop-eddsa, refresh, introspect or apikey-introspect"
	if o.LDAP {
		if o.DB != "" || o.Replicas != 1 || o.Gateway || o.GatewayFlood {
			return nil, fmt.Errorf("--ldap runs alone: leave out --postgres, --db, --replicas, --gateway and --gateway-flood")
		}
		if o.LDAPPool < 1 || o.LDAPPool > 256 {
			return nil, fmt.Errorf("--ldap-pool must be between 1 and 256")
		}
		if !given["workloads"] {
			workloads = strings.Join([]string{ldapStartTLS, ldapLDAPS, ldapWrong}, ",")
		}
		aliases, known = ldapAliases, "starttls, ldaps or wrong"
	}
	if o.Gateway {
		if o.DB != "" || o.Replicas != 1 {
			return nil, fmt.Errorf("--gateway runs on SQLite with one gateway: leave out --postgres, --db and --replicas")
		}
		if !given["duration"] {
			o.Duration = gatewayDefaultDuration
		}
		if !given["workloads"] {
			workloads = strings.Join([]string{gwBare, gwSession, gwAPIKey, gwJWT}, ",")
		}
		aliases, known = gatewayAliases, "bare, session, apikey or jwt"
	}
	seen := map[string]bool{}
	for _, w := range strings.Split(workloads, ",") {
		name, ok := aliases[strings.TrimSpace(w)]
		if !ok {
			return nil, fmt.Errorf("unknown workload %q; use %s", w, known)
		}
		// direct is the gateway benchmark's baseline and always runs first.
		if !seen[name] && name != gwDirect {
			seen[name] = true
			o.Workloads = append(o.Workloads, name)
		}
	}
	return o, nil
}
