package server

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/rolemap"
)

// fakeDirectory is an LDAP-shaped PasswordConnector in memory.
type fakeDirectory struct {
	id   string
	mu   sync.Mutex
	down bool
	// people by username.
	people map[string]*fakePerson
	logins int
}

type fakePerson struct {
	password string
	identity connector.Identity
}

func newFakeDirectory(id string) *fakeDirectory {
	return &fakeDirectory{id: id, people: map[string]*fakePerson{}}
}

func (f *fakeDirectory) add(username, password, email string, groups ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.people[username] = &fakePerson{password: password, identity: connector.Identity{
		Subject: "uid=" + username + ",ou=people,dc=example,dc=org", Username: username,
		Email: email, EmailVerified: email != "", Name: "Person " + username, Groups: groups,
	}}
}

func (f *fakeDirectory) set(username string, fn func(*connector.Identity)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.people[username].identity)
}

func (f *fakeDirectory) remove(username string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.people, username)
}

func (f *fakeDirectory) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *fakeDirectory) ID() string          { return f.id }
func (f *fakeDirectory) DisplayName() string { return "Directory " + f.id }

func (f *fakeDirectory) Login(ctx context.Context, username, password string) (*connector.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins++
	if f.down {
		return nil, fmt.Errorf("%w: dial tcp: connection refused", connector.ErrUnavailable)
	}
	p, ok := f.people[username]
	if !ok || p.password != password {
		return nil, fmt.Errorf("%w: bind", connector.ErrInvalidCredentials)
	}
	id := p.identity
	id.ConnectorID = f.id
	id.Groups = slices.Clone(id.Groups)
	return &id, nil
}

func (f *fakeDirectory) Refresh(ctx context.Context, old *connector.Identity) (*connector.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, fmt.Errorf("%w: dial tcp: connection refused", connector.ErrUnavailable)
	}
	for _, p := range f.people {
		if p.identity.Subject == old.Subject {
			id := p.identity
			id.ConnectorID = f.id
			id.Groups = slices.Clone(id.Groups)
			return &id, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", connector.ErrNotFound, old.Subject)
}

// fakeProvider is an OIDC-shaped RedirectConnector: AuthCodeURL points at
// a made-up provider, and Exchange answers what the test set.
type fakeProvider struct {
	id string
	mu sync.Mutex
	// next is the identity the next Exchange vouches for; err, when set,
	// is its error instead. startErr fails AuthCodeURL.
	next      connector.Identity
	err       error
	startErr  error
	exchanges int
	last      connector.Pending
}

func (f *fakeProvider) ID() string          { return f.id }
func (f *fakeProvider) DisplayName() string { return "Provider " + f.id }

func (f *fakeProvider) AuthCodeURL(ctx context.Context, p connector.Pending) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return "", f.startErr
	}
	f.last = p
	q := url.Values{"state": {p.State}, "nonce": {p.Nonce}, "redirect_uri": {p.RedirectURI}, "code_challenge": {s256(p.CodeVerifier)}}
	return "https://upstream.example/authorize?" + q.Encode(), nil
}

func (f *fakeProvider) Exchange(ctx context.Context, q url.Values, p connector.Pending) (*connector.Identity, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exchanges++
	if q.Get("state") != p.State {
		return nil, fmt.Errorf("%w: state", connector.ErrInvalidCredentials)
	}
	if e := q.Get("error"); e != "" {
		return nil, fmt.Errorf("%w: provider said %s", connector.ErrInvalidCredentials, e)
	}
	if f.err != nil {
		return nil, f.err
	}
	id := f.next
	id.ConnectorID = f.id
	return &id, nil
}

func (f *fakeProvider) setNext(id connector.Identity, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next, f.err = id, err
}

// testRules are the role rules of the test connectors.
var testRules = []rolemap.Rule{
	{Groups: []string{"ops-admins"}, Roles: []string{RoleAdmin}},
	{Groups: []string{"analysts"}, Roles: []string{RoleViewer}},
	{EmailDomains: []string{"example.com"}, Roles: []string{RoleEditor}},
}

// connectorHarness is a harness with the fake directory "corp" and the
// fake provider "google".
type connectorHarness struct {
	*testHarness
	dir      *fakeDirectory
	provider *fakeProvider
}

func newConnectorHarness(t *testing.T, open storeOpener, trustMFA bool, opts ...harnessOption) *connectorHarness {
	t.Helper()
	dir := newFakeDirectory("corp")
	dir.add("ada", "ada-password-1", "ada@example.org", "ops-admins")
	dir.add("bob", "bob-password-1", "bob@example.org", "analysts")
	prov := &fakeProvider{id: "google"}
	h := newHarnessWith(t, open, func(d *Deps) {
		d.Connectors = []Connector{
			{ID: "corp", Name: "Corp directory", Password: dir, Rules: testRules},
			{ID: "google", Name: "Google", Redirect: prov, Rules: testRules, TrustUpstreamMFA: trustMFA},
		}
	}, opts...)
	return &connectorHarness{testHarness: h, dir: dir, provider: prov}
}
