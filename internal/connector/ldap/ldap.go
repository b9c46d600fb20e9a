// Package ldap is the LDAP connector: it checks a username and password
// typed on Gatehouse's login page against an LDAP directory (OpenLDAP,
// Active Directory, 389-ds, ...) and reads the person's groups, with
// github.com/go-ldap/ldap/v3.
//
// A sign-in costs at most one bind and two searches:
//
//  1. on a connection bound as the service account (bind_dn), search the
//     user: (&<filter>(<username_attr>=<escaped username>)(!<disabled_filter>));
//     exactly one entry, or the sign-in fails;
//  2. bind as that entry's DN with the typed password, on a connection of
//     a second pool that is used for nothing but user binds, so that no
//     connection that searches is ever bound as a user;
//  3. unless member_of_attr reads the groups off the user entry, search
//     the groups: (&<group filter>(<member_attr>=<user DN or user_attr>)).
//
// Connections are pooled (pool_size each for searching and for binding);
// a new search connection adds one service bind, once. Every network step
// has a deadline on the socket (dial_timeout to connect, TLS and bind as
// the service account; request_timeout per operation), so a directory
// that is down or stalled gives connector.ErrUnavailable within them, and
// a connection that failed is closed and replaced.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

// maxUsername bounds what is sent to the directory as a username.
const maxUsername = 256

// Connector is an LDAP connector; it is safe for concurrent use.
type Connector struct {
	id, name string
	cfg      *resolved
	search   *pool // bound as the service account
	bind     *pool // user binds only
	counter  *opCounter
}

var _ connector.PasswordConnector = (*Connector)(nil)

// New checks cfg (reading the URL and bind password from where they come
// from) and returns the connector; it does not contact the directory
// until the first sign-in.
func New(id, name string, cfg Config) (*Connector, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	tc := &tls.Config{ServerName: r.url.Hostname(), MinVersion: tls.VersionTLS12}
	if r.CAFile != "" {
		pem, err := os.ReadFile(r.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap.ca_file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap.ca_file: %s holds no PEM certificate", r.CAFile)
		}
	}
	counter := &opCounter{}
	return &Connector{
		id: id, name: name, cfg: r, counter: counter,
		search: newPool(&dialer{cfg: r, tls: tc, binds: true, counter: counter}, r.PoolSize),
		bind:   newPool(&dialer{cfg: r, tls: tc, counter: counter}, r.PoolSize),
	}, nil
}

// ID is the connector's config id.
func (c *Connector) ID() string { return c.id }

// DisplayName is the name shown on the login page.
func (c *Connector) DisplayName() string { return c.name }

// Close closes the pooled connections.
func (c *Connector) Close() error {
	c.search.close()
	c.bind.close()
	return nil
}

// Login checks username and password at the directory.
func (c *Connector) Login(ctx context.Context, username, password string) (*connector.Identity, error) {
	// RFC 4513 §5.1.2: a simple bind with a DN and an empty password is
	// an "unauthenticated bind" that many servers answer with success.
	// Refuse it before anything is sent.
	if password == "" {
		return nil, invalid("empty password")
	}
	if err := checkUsername(username); err != nil {
		return nil, err
	}
	us := c.cfg.UserSearch
	entry, err := c.findUser(ctx, us.BaseDN, scopeOf(us.Scope), c.usernameMatch(username))
	if err != nil {
		if err == errNoEntry {
			return nil, invalid("no single entry for that username")
		}
		return nil, err
	}
	err = c.bind.with(ctx, c.cfg.RequestTimeout, func(l *goldap.Conn) error {
		c.counter.bind()
		return l.Bind(entry.DN, password)
	})
	switch {
	case err == nil:
	case goldap.IsErrorAnyOf(err, goldap.LDAPResultInvalidCredentials, goldap.LDAPResultUnwillingToPerform,
		goldap.LDAPResultInappropriateAuthentication, goldap.LDAPResultConstraintViolation, goldap.LDAPResultInsufficientAccessRights,
		goldap.ErrorEmptyPassword):
		return nil, invalid("the directory refused the bind: %v", err)
	default:
		return nil, unavailable("bind: %v", err)
	}
	return c.identity(ctx, entry)
}

// Refresh reads the identity again by its subject, without a password.
func (c *Connector) Refresh(ctx context.Context, id *connector.Identity) (*connector.Identity, error) {
	if id == nil || id.Subject == "" || id.ConnectorID != c.id {
		return nil, fmt.Errorf("%w: not an identity of connector %s", connector.ErrNotFound, c.id)
	}
	us := c.cfg.UserSearch
	var (
		entry *goldap.Entry
		err   error
	)
	if us.IDAttr == "" {
		// The subject is the DN: read that entry (a base search still
		// applies the filters, so a disabled entry is not found).
		if !underBase(id.Subject, us.BaseDN, us.Scope) {
			return nil, fmt.Errorf("%w: subject %q is not an entry under %s", connector.ErrNotFound, id.Subject, us.BaseDN)
		}
		entry, err = c.findUser(ctx, id.Subject, goldap.ScopeBaseObject, "")
	} else {
		value, verr := subjectFilterValue(us.IDAttr, id.Subject)
		if verr != nil {
			return nil, fmt.Errorf("%w: %v", connector.ErrNotFound, verr)
		}
		entry, err = c.findUser(ctx, us.BaseDN, scopeOf(us.Scope), fmt.Sprintf("(%s=%s)", us.IDAttr, value))
	}
	if err == errNoEntry {
		return nil, fmt.Errorf("%w: no enabled entry for subject %q", connector.ErrNotFound, id.Subject)
	}
	if err != nil {
		return nil, err
	}
	return c.identity(ctx, entry)
}

// underBase reports whether dn is an entry the user search could find:
// below base (one level below with scope one).
func underBase(dn, base, scope string) bool {
	d, err := goldap.ParseDN(dn)
	if err != nil {
		return false
	}
	b, err := goldap.ParseDN(base)
	if err != nil || !b.AncestorOfFold(d) {
		return false
	}
	return scope != "one" || len(d.RDNs) == len(b.RDNs)+1
}

// checkUsername refuses, without asking the directory, what cannot be a
// username: empty, too long, not UTF-8, or with control characters (a NUL
// would be escaped by EscapeFilter anyway, but has no business here).
func checkUsername(u string) error {
	if u == "" || len(u) > maxUsername || !utf8.ValidString(u) {
		return invalid("unusable username")
	}
	for _, r := range u {
		if unicode.IsControl(r) {
			return invalid("control character in username")
		}
	}
	return nil
}

// invalid is an ErrInvalidCredentials with the reason, for logs; callers
// show every one the same way.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", connector.ErrInvalidCredentials, fmt.Sprintf(format, args...))
}

// Stats counts the operations the connector sent since New.
type Stats struct {
	// Binds counts user binds and service binds of new connections.
	Binds int64
	// Searches counts user and group searches.
	Searches int64
}

// Stats returns the operations sent so far.
func (c *Connector) Stats() Stats {
	return Stats{Binds: c.counter.binds.Load(), Searches: c.counter.searches.Load()}
}

type opCounter struct{ binds, searches atomic.Int64 }

func (o *opCounter) bind()   { o.binds.Add(1) }
func (o *opCounter) search() { o.searches.Add(1) }
