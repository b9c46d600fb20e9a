package linking

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/rolereg"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/internal/storage/storagetest"
	"github.com/gatehouse-auth/gatehouse/internal/userreg"
)

// TestUserJustInTime: the first sign-in of an identity creates a linked
// user without a password (audited as user.created by the connector),
// the next one finds it again and changes nothing when nothing changed,
// and a sign-in with a new profile and groups updates the same user.
func TestUserJustInTime(t *testing.T) {
	storagetest.OnEachBackend(t, func(t *testing.T, open storagetest.Opener) {
		f := newFixture(t, open)
		// Another admin, so that the rules may take admin from ada.
		root := f.addUser(&storage.User{ID: "root", Username: "root", PasswordHash: "$argon2id$local", Roles: []string{rolereg.Admin}})
		id := ada()
		id.Username = " ADA "
		id.Groups = []string{"staff", "ops-admins", "staff"}
		u := f.signIn(f.corp, id)
		stored := f.user("ada")
		if stored.ID != u.ID || stored.ConnectorID != "corp" || stored.ConnectorSubject != id.Subject || stored.PasswordHash != "" ||
			!slices.Equal(stored.Groups, []string{"ops-admins", "staff"}) || !slices.Equal(stored.Roles, []string{rolereg.Admin}) ||
			stored.Email != "ada@example.org" || !stored.EmailVerified || stored.Name != "Ada Lovelace" ||
			!stored.CreatedAt.Equal(start) || !stored.UpdatedAt.Equal(start) {
			t.Errorf("created user %+v (returned %+v)", stored, u)
		}
		f.wantEvents(audit.Event{Type: audit.UserCreated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID,
			Username: "ada", IP: "192.0.2.1", Details: map[string]string{"connector": "corp", "groups": "ops-admins staff",
				"roles": "admin", "email": "ada@example.org", "email_verified": "true", "name": "Ada Lovelace"}})

		// The same identity again: the same user, nothing to audit.
		f.clock.Advance(time.Hour)
		if again := f.signIn(f.corp, id); again.ID != u.ID {
			t.Errorf("second sign-in gave user %s, want %s", again.ID, u.ID)
		}
		f.wantEvents()

		// The directory moved ada to analysts with a new address.
		id.Groups, id.Email, id.Name = []string{"analysts"}, "ada@example.net", "Ada King"
		v := f.signIn(f.corp, id)
		stored = f.user("ada")
		if v.ID != u.ID || stored.ID != u.ID || !slices.Equal(stored.Groups, []string{"analysts"}) ||
			!slices.Equal(stored.Roles, []string{rolereg.Viewer}) || stored.Email != "ada@example.net" || stored.Name != "Ada King" ||
			!stored.UpdatedAt.Equal(start.Add(time.Hour)) {
			t.Errorf("updated user %+v", stored)
		}
		f.wantEvents(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID,
			Username: "ada", IP: "192.0.2.1", Details: map[string]string{"connector": "corp", "groups": "analysts",
				"roles": "viewer", "previous_roles": "admin", "email": "ada@example.net", "previous_email": "ada@example.org",
				"name": "Ada King", "linked": ""}})
		if n := f.countUsers(); n != 2 || f.user("root").ID != root.ID {
			t.Errorf("%d users, want root and ada", n)
		}
	})
}

// TestUserUsernameOfIdentity: the username is the identity's, normalised,
// or made of the connector and subject when the identity has none that
// can be a username.
func TestUserUsernameOfIdentity(t *testing.T) {
	for _, c := range []struct{ name, username, subject, want string }{
		{"normalised", "  Grace.Hopper ", "g-1", "grace.hopper"},
		{"none", "", "G-12/34", "corp-g1234"},
		{"control character", "gr\x00ace", "s-9", "corp-s9"},
		{"too long", strings.Repeat("a", 101), "x", "corp-x"},
		{"subject without letters", "", "//", "corp-user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, storagetest.OpenSQLite)
			u := f.signIn(f.corp, connector.Identity{Subject: c.subject, Username: c.username})
			if u.Username != c.want || f.user(c.want).ID != u.ID {
				t.Errorf("username %q, want %q", u.Username, c.want)
			}
		})
	}
}

// TestUserLinksPrecreated: an identity links the user an administrator
// pre-created for its connector, by username or else by verified email
// (in any case), and nothing else.
func TestUserLinksPrecreated(t *testing.T) {
	for _, c := range []struct {
		name string
		pre  storage.User
		id   connector.Identity
		link bool
	}{
		{"by username", storage.User{Username: "ada", ConnectorID: "corp"}, ada(), true},
		{"by verified email", storage.User{Username: "lovelace", Email: "Ada@Example.org", ConnectorID: "corp"}, ada(), true},
		{"by unverified email", storage.User{Username: "lovelace", Email: "ada@example.org", ConnectorID: "corp"},
			func() connector.Identity { id := ada(); id.EmailVerified = false; return id }(), false},
		{"of another connector", storage.User{Username: "ada", ConnectorID: "google"}, ada(), false},
		{"already linked", storage.User{Username: "ada", ConnectorID: "corp", ConnectorSubject: "uid=other"}, ada(), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, storagetest.OpenSQLite)
			pre := c.pre
			pre.ID = "pre"
			if _, err := userreg.Create(f.ctx, f.store, &pre); err != nil {
				t.Fatal(err)
			}
			u := f.signIn(f.corp, c.id)
			if linked := u.ID == "pre"; linked != c.link {
				t.Fatalf("linked the pre-created user: %v, want %v (%+v)", linked, c.link, u)
			}
			if !c.link {
				if got, err := f.store.GetUser(f.ctx, "pre"); err != nil || got.ConnectorSubject != c.pre.ConnectorSubject || len(got.Roles) != 0 {
					t.Errorf("pre-created user changed: %+v %v", got, err)
				}
				f.wantEvents(audit.Event{Type: audit.UserCreated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID,
					Username: u.Username, IP: "192.0.2.1"})
				return
			}
			got, err := f.store.GetUserByIdentity(f.ctx, "corp", c.id.Subject)
			if err != nil || got.ID != "pre" || got.Username != c.pre.Username || !slices.Equal(got.Roles, []string{rolereg.Admin}) ||
				!slices.Equal(got.Groups, []string{"ops-admins"}) {
				t.Errorf("linked user %+v %v", got, err)
			}
			f.wantEvents(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "connector:corp", UserID: "pre",
				Username: c.pre.Username, IP: "192.0.2.1", Details: map[string]string{"linked": "true", "connector": "corp", "roles": "admin"}})
			if n := f.countUsers(); n != 1 {
				t.Errorf("%d users, want 1", n)
			}
		})
	}
}

// TestUserNeverMergesLocal: a local user is never linked, whatever its
// name or email: the new user's name gets "-<connector>", then "-2",
// "-3"..., and it has no email when another user has it.
func TestUserNeverMergesLocal(t *testing.T) {
	for _, c := range []struct {
		name      string
		taken     []string
		localMail string
		want      string
	}{
		{"same name", []string{"ada"}, "", "ada-corp"},
		{"same name twice", []string{"ada", "ada-corp"}, "", "ada-corp-2"},
		{"same name thrice", []string{"ada", "ada-corp", "ada-corp-2"}, "", "ada-corp-3"},
		{"same email", []string{"lovelace"}, "ADA@example.org", "ada"},
		{"same name and email", []string{"ada"}, "ada@example.org", "ada-corp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, storagetest.OpenSQLite)
			var locals []*storage.User
			for i, name := range c.taken {
				l := &storage.User{ID: "local-" + name, Username: name, PasswordHash: "$argon2id$local", Roles: []string{rolereg.Viewer}}
				if i == 0 {
					l.Email, l.EmailVerified = c.localMail, c.localMail != ""
				}
				locals = append(locals, f.addUser(l))
			}
			u := f.signIn(f.corp, ada())
			if u.Username != c.want || u.ConnectorID != "corp" || strings.HasPrefix(u.ID, "local-") {
				t.Errorf("new user %+v, want %s", u, c.want)
			}
			wantEmail := "ada@example.org"
			if c.localMail != "" {
				wantEmail = ""
			}
			if got := f.user(c.want); got.ID != u.ID || got.Email != wantEmail || got.EmailVerified != (wantEmail != "") ||
				!slices.Equal(got.Roles, []string{rolereg.Admin}) {
				t.Errorf("stored new user %+v, want email %q", got, wantEmail)
			}
			for _, l := range locals {
				got, err := f.store.GetUser(f.ctx, l.ID)
				if err != nil || got.ConnectorID != "" || got.ConnectorSubject != "" || got.PasswordHash != l.PasswordHash ||
					!slices.Equal(got.Roles, l.Roles) || got.Email != l.Email || got.Groups != nil {
					t.Errorf("local user changed: %+v %v", got, err)
				}
			}
			f.wantEvents(audit.Event{Type: audit.UserCreated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID,
				Username: c.want, IP: "192.0.2.1", Details: map[string]string{"email": wantEmail}})
			// The next sign-in finds the same user.
			if again := f.signIn(f.corp, ada()); again.ID != u.ID {
				t.Errorf("second sign-in: user %+v, want %s", again, u.ID)
			}
		})
	}
}

// TestUserKeepsEmailAnotherUserTook: a linked user whose identity brings
// an address another user has keeps their old one; the rest is updated.
func TestUserKeepsEmailAnotherUserTook(t *testing.T) {
	f := newFixture(t, storagetest.OpenSQLite)
	f.addUser(&storage.User{ID: "root", Username: "root", PasswordHash: "$argon2id$local", Roles: []string{rolereg.Admin}})
	u := f.signIn(f.corp, ada())
	f.events()
	f.addUser(&storage.User{ID: "carol", Username: "carol", PasswordHash: "$argon2id$local", Email: "carol@example.org"})
	id := ada()
	id.Email, id.Groups = "carol@example.org", []string{"analysts"}
	f.signIn(f.corp, id)
	got := f.user("ada")
	if got.ID != u.ID || got.Email != "ada@example.org" || !got.EmailVerified || !slices.Equal(got.Roles, []string{rolereg.Viewer}) {
		t.Errorf("ada %+v, want her old email and the new roles", got)
	}
	if carol := f.user("carol"); carol.ConnectorID != "" || carol.Email != "carol@example.org" {
		t.Errorf("carol changed: %+v", carol)
	}
	f.wantEvents(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID, Username: "ada",
		IP: "192.0.2.1", Details: map[string]string{"roles": "viewer", "email": ""}})
}

// TestUserKeepsEmailAndLastAdminTogether: a sign-in that would both take
// admin from the last enabled admin and give her an email another user
// has keeps her admin role and her old email, and takes the rest of the
// change; it is not refused (which would lock the last admin out),
// whichever of the two refusals the store reports first.
func TestUserKeepsEmailAndLastAdminTogether(t *testing.T) {
	storagetest.OnEachBackend(t, func(t *testing.T, open storagetest.Opener) {
		f := newFixture(t, open)
		u := f.signIn(f.corp, ada()) // the only admin
		f.addUser(&storage.User{ID: "carol", Username: "carol", PasswordHash: "$argon2id$local", Email: "carol@example.org"})
		f.events()
		id := ada()
		id.Email, id.Groups, id.Name = "carol@example.org", []string{"analysts"}, "Ada King"
		got := f.signIn(f.corp, id)
		stored := f.user("ada")
		for _, x := range []*storage.User{got, stored} {
			if x.ID != u.ID || x.Email != "ada@example.org" || x.Name != "Ada King" ||
				!slices.Equal(x.Roles, []string{rolereg.Admin, rolereg.Viewer}) || !slices.Equal(x.Groups, []string{"analysts"}) {
				t.Errorf("ada %+v, want her old email, admin kept next to viewer, the new name and groups", x)
			}
		}
		if carol := f.user("carol"); carol.Email != "carol@example.org" {
			t.Errorf("carol changed: %+v", carol)
		}
		f.wantEvents(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID, Username: "ada",
			IP: "192.0.2.1", Details: map[string]string{"email": ""}})
	})
}

// TestUserRoles: a connector user's roles are exactly what the rules
// give, recomputed at every sign-in: roles set by hand do not last, an
// email domain counts only when verified, and a rule's role that does not
// exist is skipped.
func TestUserRoles(t *testing.T) {
	storagetest.OnEachBackend(t, func(t *testing.T, open storagetest.Opener) {
		f := newFixture(t, open)
		// Another admin, so that the rules may take admin away.
		f.addUser(&storage.User{ID: "root", Username: "root", PasswordHash: "$argon2id$local", Roles: []string{rolereg.Admin}})
		f.corp.Rules = append(slices.Clone(testRules), groupRule("finance", "finance-reader"))
		for _, c := range []struct {
			name   string
			change func(*connector.Identity)
			byHand []string // set on the user before the sign-in
			want   []string
		}{
			{"groups", func(id *connector.Identity) {}, nil, []string{rolereg.Admin}},
			{"hand-set roles replaced", func(id *connector.Identity) {}, []string{rolereg.Editor, rolereg.Viewer}, []string{rolereg.Admin}},
			{"two rules", func(id *connector.Identity) { id.Groups = []string{"analysts", "ops-admins"} }, nil, []string{rolereg.Admin, rolereg.Viewer}},
			{"none", func(id *connector.Identity) { id.Groups = nil }, []string{rolereg.Viewer}, nil},
			{"unverified email domain", func(id *connector.Identity) { id.Groups, id.Email, id.EmailVerified = nil, "ada@example.com", false }, nil, nil},
			{"verified email domain", func(id *connector.Identity) { id.Groups, id.Email, id.EmailVerified = nil, "ada@example.com", true }, nil, []string{rolereg.Editor}},
			{"unknown custom role skipped", func(id *connector.Identity) { id.Groups = []string{"finance", "analysts"} }, nil, []string{rolereg.Viewer}},
		} {
			id := ada()
			c.change(&id)
			if c.byHand != nil {
				if u, err := f.store.GetUserByIdentity(f.ctx, "corp", id.Subject); err == nil {
					roles := c.byHand
					if _, _, err := userreg.Update(f.ctx, f.store, u.ID, start, userreg.Change{Roles: &roles}); err != nil {
						t.Fatal(err)
					}
				}
			}
			u := f.signIn(f.corp, id)
			if stored := f.user("ada"); !slices.Equal(u.Roles, c.want) || !slices.Equal(stored.Roles, c.want) {
				t.Errorf("%s: roles %q (stored %q), want %q", c.name, u.Roles, stored.Roles, c.want)
			}
		}
		// Once the custom role exists the rule gives it.
		if err := f.store.CreateRole(f.ctx, &storage.Role{Name: "finance-reader", CreatedAt: start, UpdatedAt: start}); err != nil {
			t.Fatal(err)
		}
		id := ada()
		id.Groups = []string{"finance"}
		if u := f.signIn(f.corp, id); !slices.Equal(u.Roles, []string{"finance-reader"}) {
			t.Errorf("stored custom role: roles %q", u.Roles)
		}
	})
}

// TestUserKeepsLastAdmin: the rules never take admin from the last
// enabled admin, at a sign-in or at a refresh; with another enabled admin
// they do.
func TestUserKeepsLastAdmin(t *testing.T) {
	for _, c := range []struct {
		name    string
		other   *storage.User
		refresh bool
		want    []string
	}{
		{"last admin, sign-in", nil, false, []string{rolereg.Admin, rolereg.Viewer}},
		{"last admin, refresh", nil, true, []string{rolereg.Admin, rolereg.Viewer}},
		{"disabled other admin", &storage.User{ID: "root", Username: "root", Roles: []string{rolereg.Admin}, Disabled: true}, false,
			[]string{rolereg.Admin, rolereg.Viewer}},
		{"another admin, sign-in", &storage.User{ID: "root", Username: "root", Roles: []string{rolereg.Admin}}, false, []string{rolereg.Viewer}},
		{"another admin, refresh", &storage.User{ID: "root", Username: "root", Roles: []string{rolereg.Admin}}, true, []string{rolereg.Viewer}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, storagetest.OpenSQLite)
			if c.other != nil {
				f.addUser(c.other)
			}
			u := f.signIn(f.corp, ada())
			f.events()
			id := ada()
			id.Groups = []string{"analysts"}
			var got *storage.User
			if c.refresh {
				f.dir.set(id.Subject, id)
				var err error
				if got, err = f.links.Refresh(f.ctx, u, "web", "192.0.2.1"); err != nil {
					t.Fatal(err)
				}
			} else {
				got = f.signIn(f.corp, id)
			}
			if stored := f.user("ada"); !slices.Equal(got.Roles, c.want) || !slices.Equal(stored.Roles, c.want) ||
				!slices.Equal(stored.Groups, []string{"analysts"}) {
				t.Errorf("roles %q (stored %+v), want %q", got.Roles, stored, c.want)
			}
			f.wantEvents(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID,
				Username: "ada", IP: "192.0.2.1", Details: map[string]string{"roles": strings.Join(c.want, " "), "groups": "analysts"}})
		})
	}
}

// TestRefresh: a refresh re-reads an LDAP user at the directory and
// brings groups and roles up to date; an account the directory no longer
// has (or whose subject changed) is ErrAccountGone; a directory that is
// down keeps the stored user; users of a provider, local users and users
// of a connector no longer configured are not re-read.
func TestRefresh(t *testing.T) {
	storagetest.OnEachBackend(t, func(t *testing.T, open storagetest.Opener) {
		f := newFixture(t, open)
		f.addUser(&storage.User{ID: "root", Username: "root", PasswordHash: "$argon2id$local", Roles: []string{rolereg.Admin}})
		u := f.signIn(f.corp, ada())
		f.events()

		// A directory that does not say the subject: the stored one.
		id := ada()
		id.Subject, id.Groups = "", []string{"analysts"}
		f.dir.set(ada().Subject, id)
		got, err := f.links.Refresh(f.ctx, u, "web", "192.0.2.7")
		if err != nil || got.ID != u.ID || !slices.Equal(got.Roles, []string{rolereg.Viewer}) || !slices.Equal(got.Groups, []string{"analysts"}) {
			t.Fatalf("refresh: %+v %v", got, err)
		}
		if stored := f.user("ada"); !slices.Equal(stored.Roles, []string{rolereg.Viewer}) {
			t.Errorf("stored after refresh: %+v", stored)
		}
		f.wantEvents(audit.Event{Type: audit.UserUpdated, Outcome: audit.Success, Actor: "connector:corp", UserID: u.ID,
			Username: "ada", IP: "192.0.2.7", Details: map[string]string{"roles": "viewer", "previous_roles": "admin", "groups": "analysts"}})
		u = got

		// Down: the stored user, audited.
		f.dir.change(func() { f.dir.down = true })
		got, err = f.links.Refresh(f.ctx, u, "web", "192.0.2.7")
		if err != nil || got != u {
			t.Errorf("refresh while down: %+v %v, want the stored user", got, err)
		}
		f.wantEvents(audit.Event{Type: audit.ConnectorUnavailable, Outcome: audit.Failure, Actor: "connector:corp", UserID: u.ID,
			Username: "ada", ClientID: "web", IP: "192.0.2.7", Reason: "refresh_with_stored_roles"})
		f.dir.change(func() { f.dir.down = false })

		// Another person under the same subject.
		other := *u
		other.ConnectorSubject = "uid=ada-renamed"
		f.dir.set(other.ConnectorSubject, connector.Identity{Subject: "uid=someone-else", Groups: []string{"ops-admins"}})
		if got, err := f.links.Refresh(f.ctx, &other, "web", "192.0.2.7"); !errors.Is(err, ErrAccountGone) || got != nil {
			t.Errorf("refresh answered by another subject: %+v %v", got, err)
		}

		// Gone.
		f.dir.change(func() { delete(f.dir.people, ada().Subject) })
		if got, err := f.links.Refresh(f.ctx, u, "web", "192.0.2.7"); !errors.Is(err, ErrAccountGone) || got != nil {
			t.Errorf("refresh of a gone account: %+v %v", got, err)
		}
		f.wantEvents(audit.Event{Type: audit.TokenRefused, Outcome: audit.Failure, Actor: "connector:corp", UserID: u.ID,
			Username: "ada", ClientID: "web", IP: "192.0.2.7", Reason: "account_gone_upstream"})
		if stored := f.user("ada"); !slices.Equal(stored.Roles, []string{rolereg.Viewer}) {
			t.Errorf("a refused refresh changed the user: %+v", stored)
		}

		// Not re-read.
		olga := f.signIn(f.oidc, connector.Identity{Subject: "g-1", Username: "olga", Groups: []string{"ops-admins"}})
		local := f.user("root")
		gone := &storage.User{ID: "x", Username: "x", ConnectorID: "retired", ConnectorSubject: "s"}
		pending := &storage.User{ID: "p", Username: "p", ConnectorID: "corp"}
		f.events()
		before := f.dir.refreshCount()
		for _, u := range []*storage.User{olga, local, gone, pending} {
			if got, err := f.links.Refresh(f.ctx, u, "web", "192.0.2.7"); err != nil || got != u {
				t.Errorf("refresh of %s: %+v %v, want it as it is", u.Username, got, err)
			}
		}
		if n := f.dir.refreshCount() - before; n != 0 {
			t.Errorf("the directory was asked %d times for users it does not hold", n)
		}
		f.wantEvents()
	})
}

// TestUserRefusesIdentityWithoutSubject: an identity without a subject
// cannot be linked to anything.
func TestUserRefusesIdentityWithoutSubject(t *testing.T) {
	f := newFixture(t, storagetest.OpenSQLite)
	f.addUser(&storage.User{ID: "pre", Username: "ada", ConnectorID: "corp"})
	for _, id := range []*connector.Identity{nil, {Username: "ada", Email: "ada@example.org", EmailVerified: true}} {
		if u, err := f.links.User(f.ctx, f.corp, id, ""); err == nil || u != nil {
			t.Errorf("identity %+v: %+v %v", id, u, err)
		}
	}
	if got := f.user("ada"); got.ConnectorSubject != "" || f.countUsers() != 1 {
		t.Errorf("an identity without a subject changed the users: %+v", got)
	}
	f.wantEvents()
}

// TestCheckRoles: a rule naming a role that is neither built in nor
// stored is refused, naming the connector and the rule.
func TestCheckRoles(t *testing.T) {
	f := newFixture(t, storagetest.OpenSQLite)
	if err := CheckRoles(f.ctx, f.store, f.conns); err != nil {
		t.Errorf("built-in roles: %v", err)
	}
	bad := []Connector{{ID: "google"}, {ID: "corp", Rules: append(slices.Clone(testRules), groupRule("finance", "finance-reader"))}}
	err := CheckRoles(f.ctx, f.store, bad)
	var ue *rolereg.UnknownError
	if !errors.As(err, &ue) || ue.Role != "finance-reader" || !strings.Contains(err.Error(), "connectors: corp: role_rules[3]: ") {
		t.Errorf("unknown role: %v", err)
	}
	if err := f.store.CreateRole(f.ctx, &storage.Role{Name: "finance-reader", CreatedAt: start, UpdatedAt: start}); err != nil {
		t.Fatal(err)
	}
	if err := CheckRoles(f.ctx, f.store, bad); err != nil {
		t.Errorf("stored custom role: %v", err)
	}
}

// TestConnectorsLookup: the configured connectors by id, the password
// connectors, ids and display names.
func TestConnectorsLookup(t *testing.T) {
	f := newFixture(t, storagetest.OpenSQLite)
	if c := f.links.ByID("google"); c == nil || c.Name != "Google" {
		t.Errorf("ByID(google) = %+v", c)
	}
	if c := f.links.ByID("nope"); c != nil {
		t.Errorf("ByID(nope) = %+v", c)
	}
	if pcs := f.links.PasswordConnectors(); len(pcs) != 1 || pcs[0].ID != "corp" {
		t.Errorf("PasswordConnectors = %+v", pcs)
	}
	if ids := f.links.IDs(); !slices.Equal(ids, []string{"corp", "google"}) {
		t.Errorf("IDs = %q", ids)
	}
	if n, m := f.links.Name("corp"), f.links.Name("retired"); n != "Corp directory" || m != "retired" {
		t.Errorf("Name = %q, %q", n, m)
	}
	if cs := f.links.Connectors(); len(cs) != 2 || cs[1].ID != "google" {
		t.Errorf("Connectors = %+v", cs)
	}
}

// TestWithIP: the address WithIP puts in a context comes back, and a
// context without one has "".
func TestWithIP(t *testing.T) {
	if ip := IPFromContext(WithIP(context.Background(), "198.51.100.4")); ip != "198.51.100.4" {
		t.Errorf("IPFromContext = %q", ip)
	}
	if ip := IPFromContext(context.Background()); ip != "" {
		t.Errorf("IPFromContext of a bare context = %q", ip)
	}
}
