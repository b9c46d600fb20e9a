package linking

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/rolemap"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
)

// start is the fake clock's time when a test begins.
var start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// testRules are the role rules of both test connectors.
var testRules = []rolemap.Rule{
	{Groups: []string{"ops-admins"}, Roles: []string{rolereg.Admin}},
	{Groups: []string{"analysts"}, Roles: []string{rolereg.Viewer}},
	{EmailDomains: []string{"example.com"}, Roles: []string{rolereg.Editor}},
}

// groupRule gives role to the members of group.
func groupRule(group, role string) rolemap.Rule {
	return rolemap.Rule{Groups: []string{group}, Roles: []string{role}}
}

// fakeDirectory is an LDAP-shaped PasswordConnector in memory: Refresh
// answers from people (by subject), or fails while down.
type fakeDirectory struct {
	mu        sync.Mutex
	down      bool
	people    map[string]connector.Identity
	refreshes int
}

func (f *fakeDirectory) ID() string          { return "corp" }
func (f *fakeDirectory) DisplayName() string { return "Corp directory" }

func (f *fakeDirectory) Login(ctx context.Context, username, password string) (*connector.Identity, error) {
	return nil, fmt.Errorf("%w: the linking tests do not sign in", connector.ErrInvalidCredentials)
}

func (f *fakeDirectory) Refresh(ctx context.Context, old *connector.Identity) (*connector.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshes++
	if f.down {
		return nil, fmt.Errorf("%w: dial tcp: connection refused", connector.ErrUnavailable)
	}
	id, ok := f.people[old.Subject]
	if !ok {
		return nil, fmt.Errorf("%w: %s", connector.ErrNotFound, old.Subject)
	}
	id.Groups = slices.Clone(id.Groups)
	return &id, nil
}

// set makes the directory answer id for the subject.
func (f *fakeDirectory) set(subject string, id connector.Identity) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.people[subject] = id
}

// change runs fn with the directory locked, to change what it answers.
func (f *fakeDirectory) change(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// refreshCount is how many times Refresh was called.
func (f *fakeDirectory) refreshCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes
}

// fakeProvider is an OpenID Connect-shaped RedirectConnector; a Linker
// never calls it.
type fakeProvider struct{}

func (fakeProvider) ID() string          { return "google" }
func (fakeProvider) DisplayName() string { return "Google" }

func (fakeProvider) AuthCodeURL(ctx context.Context, p connector.Pending) (string, error) {
	return "", fmt.Errorf("%w: not in these tests", connector.ErrUnavailable)
}

func (fakeProvider) Exchange(ctx context.Context, q url.Values, p connector.Pending) (*connector.Identity, error) {
	return nil, fmt.Errorf("%w: not in these tests", connector.ErrUnavailable)
}

// fixture is a Linker with the directory "corp" and the provider
// "google" on a fresh store, a fake clock and an audit log in a buffer.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	store storage.Store
	clock *clocktest.Fake
	dir   *fakeDirectory
	corp  *Connector
	oidc  *Connector
	conns []Connector

	auditOut *bytes.Buffer
	audit    *audit.Logger
	links    *Linker
}

func newFixture(t *testing.T, open storagetest.Opener) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: t.Context(), store: open(t), clock: clocktest.New(start),
		dir: &fakeDirectory{people: map[string]connector.Identity{}}}
	f.conns = []Connector{
		{ID: "corp", Name: "Corp directory", Password: f.dir, Rules: testRules},
		{ID: "google", Name: "Google", Redirect: fakeProvider{}, Rules: testRules},
	}
	f.corp, f.oidc = &f.conns[0], &f.conns[1]
	f.newLinker()
	t.Cleanup(func() { f.audit.Close() })
	return f
}

// newLinker starts a new audit log and a Linker writing to it.
func (f *fixture) newLinker() {
	f.auditOut = &bytes.Buffer{}
	f.audit = audit.New(f.auditOut, f.clock)
	f.links = New(Deps{Store: f.store, Audit: f.audit, Clock: f.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Connectors: f.conns})
}

// events returns the audit events written since the last call, in order.
func (f *fixture) events() []audit.Event {
	f.t.Helper()
	if err := f.audit.Close(); err != nil {
		f.t.Fatalf("audit: %v", err)
	}
	var out []audit.Event
	sc := bufio.NewScanner(f.auditOut)
	for sc.Scan() {
		var ev audit.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			f.t.Fatalf("audit line %s: %v", sc.Bytes(), err)
		}
		out = append(out, ev)
	}
	f.newLinker()
	return out
}

// wantEvents checks that the audit events since the last call are want:
// the same types, actors, users, addresses, clients and reasons, and at
// least the details want gives ("" for a detail that must be absent).
func (f *fixture) wantEvents(want ...audit.Event) {
	f.t.Helper()
	got := f.events()
	if len(got) != len(want) {
		f.t.Errorf("audit events %+v, want %d", got, len(want))
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Type != w.Type || g.Actor != w.Actor || g.UserID != w.UserID || g.Username != w.Username ||
			g.IP != w.IP || g.ClientID != w.ClientID || g.Reason != w.Reason || g.Outcome != w.Outcome {
			f.t.Errorf("audit event %d: %+v, want %+v", i, g, w)
		}
		for k, v := range w.Details {
			if got, ok := g.Details[k]; got != v || (v != "" && !ok) {
				f.t.Errorf("audit event %d (%s): details[%s] = %q, want %q (%v)", i, g.Type, k, got, v, g.Details)
			}
		}
		if !g.Time.Equal(f.clock.Now()) {
			f.t.Errorf("audit event %d at %v, want the clock's %v", i, g.Time, f.clock.Now())
		}
	}
}

// signIn is Linker.User for the identity id at c from 192.0.2.1, failing
// the test on an error.
func (f *fixture) signIn(c *Connector, id connector.Identity) *storage.User {
	f.t.Helper()
	id.ConnectorID = c.ID
	u, err := f.links.User(f.ctx, c, &id, "192.0.2.1")
	if err != nil {
		f.t.Fatalf("sign-in of %s at %s: %v", id.Subject, c.ID, err)
	}
	return u
}

// user loads the user called name or fails the test.
func (f *fixture) user(name string) *storage.User {
	f.t.Helper()
	u, err := f.store.GetUserByName(f.ctx, name)
	if err != nil {
		f.t.Fatalf("user %s: %v", name, err)
	}
	return u
}

// addUser stores a user as it is, without auditing.
func (f *fixture) addUser(u *storage.User) *storage.User {
	f.t.Helper()
	u.CreatedAt, u.UpdatedAt = start, start
	if err := f.store.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("create %s: %v", u.Username, err)
	}
	return u
}

// countUsers is how many users the store has.
func (f *fixture) countUsers() int {
	f.t.Helper()
	users, err := f.store.ListUsers(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(users)
}

// ada is the directory's identity of ada, an ops-admin.
func ada() connector.Identity {
	return connector.Identity{Subject: "uid=ada,ou=people,dc=example,dc=org", Username: "ada",
		Email: "ada@example.org", EmailVerified: true, Name: "Ada Lovelace", Groups: []string{"ops-admins"}}
}
