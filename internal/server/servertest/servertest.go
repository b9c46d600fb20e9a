// Package servertest starts the real Gatehouse authorization server
// in-process for tests of other packages.
package servertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/password"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/secondfactor"
	"github.com/gatehouse-auth/gatehouse/internal/server/testbed"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// AdminPassword is the password of the bootstrapped user "admin".
const AdminPassword = testbed.AdminPassword

// StartTime is where the server's fake clock starts unless WithClock
// gives another clock.
var StartTime = testbed.StartTime

// Server is the real authorization server behind an httptest listener.
type Server struct {
	// URL is the server's base URL and issuer (with the path of
	// WithIssuerPath, if given); endpoint paths are appended to it.
	URL string
	// Store is the server's database.
	Store storage.Store
	// Clock is the fake clock the server runs on.
	Clock *clocktest.Fake
	// Keys signs the server's tokens.
	Keys *signing.Manager
	// HTTP is a client for the server.
	HTTP *http.Client
	// TS is the listener, which a test may close to take the server away.
	TS *httptest.Server

	key    *secret.Key
	hasher *password.Hasher
}

type options struct {
	bed       testbed.Options
	algorithm string
}

// Option changes how Start sets the server up.
type Option func(*options)

// WithClock runs the server on clk instead of a new fake clock at
// StartTime.
func WithClock(clk *clocktest.Fake) Option {
	return func(o *options) { o.bed.Clock = clk }
}

// WithStore runs the server on st, which the caller closes, instead of a
// new SQLite database.
func WithStore(st storage.Store) Option {
	return func(o *options) { o.bed.Store = st }
}

// WithAlgorithm makes the server sign with alg (config signing.algorithm).
func WithAlgorithm(alg string) Option {
	return func(o *options) { o.algorithm = alg }
}

// WithIssuerPath serves the server under path p (like "/_gatehouse/auth",
// no trailing slash): the issuer, and URL, become the listener's origin
// followed by p, and every endpoint and page lives under p.
func WithIssuerPath(p string) Option {
	return func(o *options) { o.bed.IssuerPath = p }
}

// WithConfig lets fn change the configuration after the issuer is set.
func WithConfig(fn func(*config.Server)) Option {
	return func(o *options) { o.bed.Config = append(o.bed.Config, fn) }
}

// Start starts the server, bootstraps the CLI client and the user "admin"
// with AdminPassword, and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if alg := o.algorithm; alg != "" {
		// First, so that a WithConfig may still change it.
		o.bed.Config = append([]func(*config.Server){func(c *config.Server) { c.Signing.Algorithm = alg }}, o.bed.Config...)
	}
	b := testbed.New(t, o.bed)
	srv, err := server.New(server.Deps{
		Config: b.Config, Store: b.Store, Keys: b.Keys, Hasher: b.Hasher,
		Limiter: b.Limiter, Audit: b.Audit, Clock: b.Clock,
		SecretKey: b.SecretKey, // enables TOTP enrolment and the second login step
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Bootstrap(context.Background(), b.Store, b.Hasher, AdminPassword, b.Clock); err != nil {
		t.Fatal(err)
	}
	b.Serve(srv.Handler())
	return &Server{URL: b.Config.Issuer, Store: b.Store, Clock: b.Clock, Keys: b.Keys, HTTP: b.TS.Client(), TS: b.TS, hasher: b.Hasher, key: b.SecretKey}
}

// TOTPSecret is the base32 TOTP secret EnrolTOTP gives users.
const TOTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// EnrolTOTP gives the user with id an enrolled TOTP with the secret
// TOTPSecret and no recovery codes, as the account page would.
func (s *Server) EnrolTOTP(t testing.TB, userID string) {
	t.Helper()
	sealed, err := secondfactor.SealSecret(s.key, userID, []byte(TOTPSecret))
	if err != nil {
		t.Fatal(err)
	}
	now := s.Clock.Now()
	err = s.Store.CreateTOTP(context.Background(), &storage.TOTP{UserID: userID, EncryptedSecret: sealed, Enrolled: true,
		CreatedAt: now, UpdatedAt: now})
	if err != nil {
		t.Fatal(err)
	}
}

// AddClient registers c as a confidential client with a new secret, which
// it returns. An empty Name becomes the ID, an empty AuthMethod
// client_secret_basic.
func (s *Server) AddClient(t testing.TB, c storage.Client) string {
	t.Helper()
	sec := secret.NewToken()
	c.SecretHash = secret.Hash(sec)
	if c.Name == "" {
		c.Name = c.ID
	}
	if c.AuthMethod == "" {
		c.AuthMethod = protocol.AuthMethodBasic
	}
	c.CreatedAt, c.UpdatedAt = s.Clock.Now(), s.Clock.Now()
	if err := s.Store.CreateClient(context.Background(), &c); err != nil {
		t.Fatal(err)
	}
	return sec
}

// AddUser creates the local user "u-"+name with a password and roles.
func (s *Server) AddUser(t testing.TB, name, pass string, roles ...string) *storage.User {
	t.Helper()
	hash, err := s.hasher.Hash(context.Background(), pass)
	if err != nil {
		t.Fatal(err)
	}
	u := &storage.User{ID: "u-" + name, Username: name, PasswordHash: hash, Roles: roles, CreatedAt: s.Clock.Now(), UpdatedAt: s.Clock.Now()}
	if err := s.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// Approve does what the /device page does when the signed-in user
// username approves userCode.
func (s *Server) Approve(t testing.TB, userCode, username string) {
	t.Helper()
	ctx := context.Background()
	u, err := s.Store.GetUserByName(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := s.Store.GetDeviceCodeByUserCode(ctx, secret.NormalizeUserCode(userCode))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Store.UpdateDeviceCode(ctx, dc.Hash, func(d *storage.DeviceCode) error {
		d.Status = storage.DeviceStatusApproved
		d.UserID = u.ID
		d.AuthTime = s.Clock.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
