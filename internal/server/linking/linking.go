// Package linking links the identities that connectors vouch for to the
// server's users: people who sign in with a directory (LDAP) or an upstream
// OpenID Connect provider (docs/connectors.md). The login pages and the
// token endpoint's refresh use it through a *Linker; it does not import the
// server.
//
// Linking. A connector user is a local user with ConnectorID and
// ConnectorSubject set and no password. The first sign-in of an
// identity creates it ("just in time"), unless an administrator
// pre-created a user for that connector (ConnectorID set, no subject)
// whose username equals the identity's username, or whose email equals
// the identity's verified email: that user is linked instead. A local
// user (no connector) is never linked or merged, whatever its name or
// email: the new user gets the username with "-<connector id>" appended
// (then "-2", "-3"...), and no email when another user has it.
//
// Roles. A connector user's roles are exactly what the connector's
// role_rules give (rolemap), recomputed at every sign-in and, for LDAP
// users, at every refresh; roles set by hand on such a user last until
// then. One exception keeps the server administrable: the mapping never
// takes admin from the last enabled admin.
package linking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/rolemap"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// Store is what a Linker needs of the store: the users, and the roles
// that role rules may name.
type Store interface {
	storage.UserStore
	rolereg.Lister
}

// Linker links connector identities to users on a store, and refreshes
// the users of a directory.
type Linker struct {
	store      Store
	audit      *audit.Logger
	clock      clock.Clock
	log        *slog.Logger
	connectors []Connector
}

// Deps are what a Linker works with.
type Deps struct {
	Store  Store
	Audit  *audit.Logger
	Clock  clock.Clock
	Logger *slog.Logger
	// Connectors are the configured connectors.
	Connectors []Connector
}

// New returns the Linker of d.
func New(d Deps) *Linker {
	return &Linker{store: d.Store, audit: d.Audit, clock: d.Clock, log: d.Logger, connectors: d.Connectors}
}

// normalizeUsername is the form usernames are stored and looked up in, as
// the login page has it.
func normalizeUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

// CallTimeout bounds a call to a connector on top of its own
// timeouts, so that a request never hangs on an upstream.
const CallTimeout = 30 * time.Second

// Connector is a configured connector as the server uses it: exactly one
// of Password (LDAP) and Redirect (OpenID Connect) is set.
type Connector struct {
	ID       string
	Name     string
	Password connector.PasswordConnector
	Redirect connector.RedirectConnector
	// Rules map the identity to roles.
	Rules []rolemap.Rule
	// TrustUpstreamMFA lets an identity whose AMR shows a second factor
	// skip the local TOTP step.
	TrustUpstreamMFA bool
}

// ByID returns the configured connector id, or nil.
func (l *Linker) ByID(id string) *Connector {
	for i := range l.connectors {
		if l.connectors[i].ID == id {
			return &l.connectors[i]
		}
	}
	return nil
}

// PasswordConnectors returns the connectors that check passwords, in
// configuration order.
func (l *Linker) PasswordConnectors() []*Connector {
	var out []*Connector
	for i := range l.connectors {
		if l.connectors[i].Password != nil {
			out = append(out, &l.connectors[i])
		}
	}
	return out
}

// CheckRoles returns an error naming the first role of a role
// rule that is neither built in nor stored. The server checks it at start.
func CheckRoles(ctx context.Context, st rolereg.Lister, cs []Connector) error {
	for _, c := range cs {
		for j, r := range c.Rules {
			if err := rolereg.Check(ctx, st, r.Roles); err != nil {
				return fmt.Errorf("connectors: %s: role_rules[%d]: %w", c.ID, j, err)
			}
		}
	}
	return nil
}

// mappedRoles is the roles c's rules give id, without roles that no
// longer exist (a custom role deleted after the server started).
func (l *Linker) mappedRoles(ctx context.Context, c *Connector, id *connector.Identity) ([]string, error) {
	roles := rolemap.Roles(c.Rules, id)
	if !slices.ContainsFunc(roles, func(r string) bool { return !rolereg.IsBuiltin(r) }) {
		return roles, nil
	}
	known, err := rolereg.Known(ctx, l.store)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(roles, func(r string) bool {
		ok := slices.ContainsFunc(known, func(k *storage.Role) bool { return k.Name == r })
		if !ok {
			l.log.Warn("connector role rule names a role that does not exist; skipped", "connector", c.ID, "role", r)
		}
		return !ok
	}), nil
}

// User returns the local user of the identity id that c vouched
// for: the linked user with its profile, groups and roles brought up to
// date, a pre-created user now linked, or a new user. A disabled user is
// returned as it is; the caller refuses it.
func (l *Linker) User(ctx context.Context, c *Connector, id *connector.Identity, ip string) (*storage.User, error) {
	if id == nil || id.Subject == "" {
		return nil, fmt.Errorf("server: connector %s vouched for an identity without a subject", c.ID)
	}
	roles, err := l.mappedRoles(ctx, c, id)
	if err != nil {
		return nil, err
	}
	u, err := l.store.GetUserByIdentity(ctx, c.ID, id.Subject)
	if errors.Is(err, storage.ErrNotFound) {
		u, err = l.precreatedUser(ctx, c, id)
		if err != nil {
			return nil, err
		}
		if u == nil {
			return l.createConnectorUser(ctx, c, id, roles, ip)
		}
	} else if err != nil {
		return nil, fmt.Errorf("server: get user by identity: %w", err)
	}
	return l.syncConnectorUser(ctx, c, u, id, roles, ip)
}

// precreatedUser finds a user an administrator created for c that the
// identity has not linked yet: by username, else by verified email. nil
// when there is none.
func (l *Linker) precreatedUser(ctx context.Context, c *Connector, id *connector.Identity) (*storage.User, error) {
	pending := func(u *storage.User) bool { return u.ConnectorID == c.ID && u.ConnectorSubject == "" }
	if name := normalizeUsername(id.Username); name != "" {
		u, err := l.store.GetUserByName(ctx, name)
		if err == nil && pending(u) {
			return u, nil
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("server: get user: %w", err)
		}
	}
	if id.Email == "" || !id.EmailVerified {
		return nil, nil
	}
	users, err := l.store.ListUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("server: list users: %w", err)
	}
	for _, u := range users {
		if pending(u) && strings.EqualFold(u.Email, id.Email) {
			return u, nil
		}
	}
	return nil, nil
}

// identityProfile is the profile change that brings a user to what the
// identity says: the email only when it is a valid address, the name only
// when it is a valid name.
func identityProfile(id *connector.Identity) userreg.Profile {
	var p userreg.Profile
	email := strings.TrimSpace(id.Email)
	if email == "" || userreg.CheckEmail(email) == nil {
		verified := id.EmailVerified && email != ""
		p.Email, p.EmailVerified = &email, &verified
	}
	if userreg.CheckName(id.Name) == nil {
		name := id.Name
		p.Name = &name
	}
	return p
}

// cleanGroups is the identity's groups sorted without duplicates, nil for
// none.
func cleanGroups(gs []string) []string {
	if len(gs) == 0 {
		return nil
	}
	out := slices.Clone(gs)
	slices.Sort(out)
	return slices.Compact(out)
}

// connectorUsername is a free username for the identity's username: as
// it is when free, else with "-<connector>" and then a number appended.
func (l *Linker) connectorUsername(ctx context.Context, c *Connector, id *connector.Identity) (string, error) {
	base := normalizeUsername(id.Username)
	if base == "" || len(base) > 100 || strings.ContainsFunc(base, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		base = normalizeUsername(c.ID + "-" + shortSubject(id.Subject))
	}
	for i := 0; i < 100; i++ {
		name := base
		switch {
		case i == 1:
			name = base + "-" + c.ID
		case i > 1:
			name = base + "-" + c.ID + "-" + strconv.Itoa(i)
		}
		_, err := l.store.GetUserByName(ctx, name)
		if errors.Is(err, storage.ErrNotFound) {
			return name, nil
		}
		if err != nil {
			return "", fmt.Errorf("server: get user: %w", err)
		}
	}
	return "", fmt.Errorf("server: no free username for %q from connector %s", base, c.ID)
}

// shortSubject is a short, username-safe form of a subject.
func shortSubject(sub string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(sub) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
		if b.Len() == 16 {
			break
		}
	}
	if b.Len() == 0 {
		return "user"
	}
	return b.String()
}

// createConnectorUser creates the user of an identity seen for the first
// time (userreg.Create), audited as user.created by connector:ID.
func (l *Linker) createConnectorUser(ctx context.Context, c *Connector, id *connector.Identity, roles []string, ip string) (*storage.User, error) {
	profile := identityProfile(id)
	for attempt := 0; ; attempt++ {
		name, err := l.connectorUsername(ctx, c, id)
		if err != nil {
			return nil, err
		}
		now := l.clock.Now().UTC()
		u := &storage.User{ID: secret.NewID(), Username: name, Roles: roles, ConnectorID: c.ID, ConnectorSubject: id.Subject,
			Groups: cleanGroups(id.Groups), CreatedAt: now, UpdatedAt: now}
		profile.Apply(u)
		ev, err := userreg.Create(ctx, l.store, u)
		switch {
		case errors.Is(err, userreg.ErrEmailTaken):
			// Another user has the address: never merge, keep the
			// new user without it.
			l.log.Warn("connector user's email belongs to another user; created without it", "connector", c.ID, "username", name)
			profile.Email, profile.EmailVerified = nil, nil
			continue
		case errors.Is(err, storage.ErrAlreadyExists) && attempt < 3:
			// A concurrent sign-in of the same identity, or the name
			// was taken in between.
			if linked, gerr := l.store.GetUserByIdentity(ctx, c.ID, id.Subject); gerr == nil {
				return l.syncConnectorUser(ctx, c, linked, id, roles, ip)
			}
			continue
		case err != nil:
			return nil, err
		}
		ev.Actor, ev.IP = "connector:"+c.ID, ip
		ev.Details["connector"] = c.ID
		ev.Details["groups"] = strings.Join(u.Groups, " ")
		l.audit.Log(ev)
		return u, nil
	}
}

// syncConnectorUser links u to the identity if needed and updates its
// profile, groups and roles to what the identity says
// (userreg.Update), audited as user.updated by connector:ID when
// anything changed.
func (l *Linker) syncConnectorUser(ctx context.Context, c *Connector, u *storage.User, id *connector.Identity, roles []string, ip string) (*storage.User, error) {
	groups := cleanGroups(id.Groups)
	profile := identityProfile(id)
	subject := id.Subject
	ch := userreg.Change{Roles: &roles, Profile: profile, Groups: &groups, ConnectorSubject: &subject}
	want := *u
	ch.Apply(&want)
	if sameConnectorState(u, &want) {
		return u, nil
	}
	// Two parts of the change may be refused: an email another user has
	// (the old one is kept) and taking admin from the last enabled admin
	// (admin is kept). The store reports one refusal at a time, in an
	// order of its own, so each is given up at most once, whichever
	// comes first.
	after, ev, err := userreg.Update(ctx, l.store, u.ID, l.clock.Now().UTC(), ch)
	emailKept, adminKept := false, false
	for err != nil {
		switch {
		case errors.Is(err, userreg.ErrEmailTaken) && !emailKept:
			l.log.Warn("connector user's new email belongs to another user; kept the old one", "connector", c.ID, "user", u.ID)
			ch.Profile.Email, ch.Profile.EmailVerified = nil, nil
			emailKept = true
		case errors.Is(err, storage.ErrLastRoleHolder) && !adminKept:
			// The directory cannot take admin from the last admin.
			l.log.Warn("role mapping would take admin from the last enabled admin; kept", "connector", c.ID, "user", u.ID)
			kept := append(slices.Clone(roles), rolereg.Admin)
			slices.Sort(kept)
			ch.Roles = &kept
			adminKept = true
		default:
			return nil, err
		}
		after, ev, err = userreg.Update(ctx, l.store, u.ID, l.clock.Now().UTC(), ch)
	}
	ev.Actor, ev.IP = "connector:"+c.ID, ip
	ev.Details["connector"] = c.ID
	ev.Details["groups"] = strings.Join(after.Groups, " ")
	if u.ConnectorSubject == "" {
		ev.Details["linked"] = "true"
	}
	l.audit.Log(ev)
	return after, nil
}

// sameConnectorState reports whether a and b agree on what a sign-in
// through a connector updates.
func sameConnectorState(a, b *storage.User) bool {
	return a.Email == b.Email && a.EmailVerified == b.EmailVerified && a.Name == b.Name &&
		a.ConnectorSubject == b.ConnectorSubject && slices.Equal(a.Groups, b.Groups) && slices.Equal(a.Roles, b.Roles)
}

// connectorIdentityOf is what the server knows of u's identity at its
// connector, for PasswordConnector.Refresh.
func connectorIdentityOf(u *storage.User) *connector.Identity {
	return &connector.Identity{ConnectorID: u.ConnectorID, Subject: u.ConnectorSubject, Username: u.Username,
		Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name, Groups: slices.Clone(u.Groups)}
}

// ErrAccountGone refuses a refresh whose user the directory no
// longer knows.
var ErrAccountGone = errors.New("server: the directory no longer has this account")

// Refresh re-reads an LDAP user at their directory before a
// refresh token is used, and brings groups and roles up to date. The
// returned user is the one to issue for.
//
// A directory that cannot be asked fails open: the refresh goes on with
// the roles stored at the last sign-in or refresh (logged and audited),
// so a directory outage does not sign everybody out; the refresh token's
// lifetime (tokens.refresh_token_ttl) bounds how long that can last. An
// account the directory no longer has (or has disabled) is
// ErrAccountGone. OpenID Connect users are not re-read: they keep
// the groups and roles of their last sign-in.
func (l *Linker) Refresh(ctx context.Context, u *storage.User, clientID, ip string) (*storage.User, error) {
	if u.ConnectorID == "" || u.ConnectorSubject == "" {
		return u, nil
	}
	c := l.ByID(u.ConnectorID)
	if c == nil || c.Password == nil {
		return u, nil
	}
	cctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	id, err := c.Password.Refresh(cctx, connectorIdentityOf(u))
	switch {
	case errors.Is(err, connector.ErrNotFound):
		l.audit.Log(audit.Event{Type: audit.TokenRefused, Outcome: audit.Failure, Actor: "connector:" + c.ID,
			UserID: u.ID, Username: u.Username, ClientID: clientID, IP: ip, Reason: "account_gone_upstream"})
		return nil, ErrAccountGone
	case err != nil:
		l.log.Warn("directory unavailable at refresh; keeping the stored roles", "connector", c.ID, "user", u.ID, "err", err)
		l.audit.Log(audit.Event{Type: audit.ConnectorUnavailable, Outcome: audit.Failure, Actor: "connector:" + c.ID,
			UserID: u.ID, Username: u.Username, ClientID: clientID, IP: ip, Reason: "refresh_with_stored_roles"})
		return u, nil
	}
	id.ConnectorID = c.ID
	if id.Subject == "" {
		id.Subject = u.ConnectorSubject
	}
	if id.Subject != u.ConnectorSubject {
		return nil, ErrAccountGone
	}
	roles, err := l.mappedRoles(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return l.syncConnectorUser(ctx, c, u, id, roles, ip)
}

// ipKey carries the client's address to code that audits on behalf of a
// request (a user created at sign-in).
type ipKey struct{}

// WithIP returns ctx carrying the client's address ip, for the audit
// events of a user created at sign-in.
func WithIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

// IPFromContext is the client's address WithIP put in ctx, or "".
func IPFromContext(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey{}).(string)
	return ip
}

// IDs are the ids of the configured connectors.
func (l *Linker) IDs() []string {
	ids := make([]string, len(l.connectors))
	for i, c := range l.connectors {
		ids[i] = c.ID
	}
	return ids
}

// Name is the display name of connector id, or id itself when it
// is no longer configured.
func (l *Linker) Name(id string) string {
	if c := l.ByID(id); c != nil {
		return c.Name
	}
	return id
}

// Connectors are the configured connectors, in configuration order.
func (l *Linker) Connectors() []Connector { return l.connectors }
