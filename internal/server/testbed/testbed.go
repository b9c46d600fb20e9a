// Package testbed assembles what a test authorization server runs on: a
// listener, a configuration that names it as the issuer, a database, a
// fake clock, the secret key and signing keys, an audit logger, a fast
// password hasher and a rate limiter. It is the one place tests build
// these; the two ways to get a whole server, servertest (for tests of
// other packages) and the harness of internal/server's own tests (which
// cannot import servertest, as servertest imports the server), only add
// server.New, the bootstrap and the handler. It does not import the
// server.
package testbed

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

// AdminPassword is the password tests bootstrap the user "admin" with.
const AdminPassword = "admin-password-1"

// StartTime is where a bed's fake clock starts unless Options.Clock
// gives another clock.
var StartTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// HashParams make password hashing fast; they are far too weak outside
// tests.
var HashParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// secretKeyHex is the secret key of every bed (sealing TOTP secrets,
// pending logins and private signing keys).
var secretKeyHex = strings.Repeat("ab", 32)

// Options change how New sets a bed up. The zero value is a new SQLite
// database, a fake clock at StartTime, an origin issuer and an audit
// trail that goes nowhere.
type Options struct {
	// Store is the database, which the caller closes; nil opens a new
	// SQLite database (storagetest.OpenSQLite).
	Store storage.Store
	// Clock is the fake clock; nil starts a new one at StartTime.
	Clock *clocktest.Fake
	// IssuerPath is appended to the listener's origin to make the
	// issuer (like "/_gatehouse/auth", no trailing slash).
	IssuerPath string
	// Config functions change the configuration after the issuer is set.
	Config []func(*config.Server)
	// AuditOutput receives the audit events as JSON lines; nil discards
	// them.
	AuditOutput io.Writer
}

// Bed is what a test server is built from. Its listener is not serving
// until Serve.
type Bed struct {
	// TS is the listener, started by Serve and closed when the test ends.
	TS *httptest.Server
	// Config is the server configuration; its issuer is the listener's
	// URL followed by Options.IssuerPath.
	Config *config.Server
	// Store is the database.
	Store storage.Store
	// Clock is the fake clock everything runs on.
	Clock *clocktest.Fake
	// SecretKey is the server secret key.
	SecretKey *secret.Key
	// Keys is the initialised signing key manager.
	Keys *signing.Manager
	// Hasher hashes passwords with HashParams.
	Hasher *password.Hasher
	// Limiter is an in-memory rate limiter with room for many keys.
	Limiter ratelimit.Limiter
	// Audit is the audit logger, closed when the test ends.
	Audit *audit.Logger
}

// New sets up a bed, released when the test ends.
func New(t testing.TB, o Options) *Bed {
	t.Helper()
	ctx := context.Background()
	st := o.Store
	if st == nil {
		st = storagetest.OpenSQLite(t)
	}
	clk := o.Clock
	if clk == nil {
		clk = clocktest.New(StartTime)
	}
	out := o.AuditOutput
	if out == nil {
		out = io.Discard
	}
	al := audit.New(out, clk)
	t.Cleanup(func() { al.Close() })
	// Closed before the audit logger and the store: no request is left
	// to use them.
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	cfg := config.Default()
	cfg.Issuer = "http://" + ts.Listener.Addr().String() + o.IssuerPath
	for _, fn := range o.Config {
		fn(&cfg)
	}
	key, err := secret.ParseKey(secretKeyHex)
	if err != nil {
		t.Fatal(err)
	}
	keys := signing.NewManager(st, key, clk, signing.Options{Algorithm: cfg.Signing.Algorithm})
	if err := keys.Init(ctx); err != nil {
		t.Fatal(err)
	}
	return &Bed{
		TS: ts, Config: &cfg, Store: st, Clock: clk, SecretKey: key, Keys: keys,
		Hasher:  password.NewHasher(HashParams, 4),
		Limiter: ratelimit.NewMemory(clk, 10000),
		Audit:   al,
	}
}

// Serve starts the listener with h.
func (b *Bed) Serve(h http.Handler) {
	b.TS.Config.Handler = h
	b.TS.Start()
}
