package storagetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var connectorUserTests = []test{
	{"ConnectorUser/RoundTrip", testConnectorUserRoundTrip},
	{"ConnectorUser/IdentityUnique", testConnectorUserUnique},
	{"ConnectorUser/Lookup", testConnectorUserLookup},
	{"ConnectorUser/Link", testConnectorUserLink},
}

func newConnectorUser(id, name, connector, subject string) *storage.User {
	u := newUser(id, name)
	u.PasswordHash = ""
	u.Roles = []string{"viewer"}
	u.ConnectorID, u.ConnectorSubject = connector, subject
	u.Groups = []string{"ops-admins", "Analysts"}
	return u
}

func testConnectorUserRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u := newConnectorUser("u1", "ada", "corp", "uid=ada,ou=people,dc=example,dc=org")
	u.Email, u.EmailVerified, u.Name = "ada@example.org", true, "Ada Lovelace"
	must(t, "create", s.CreateUser(ctx, u))
	got, err := s.GetUser(ctx, "u1")
	must(t, "get", err)
	diff(t, "connector user", u, got)

	must(t, "update groups", s.UpdateUser(ctx, "u1", func(v *storage.User) error {
		v.Groups = []string{"analysts"}
		return nil
	}))
	u.Groups = []string{"analysts"}
	got, err = s.GetUserByIdentity(ctx, "corp", "uid=ada,ou=people,dc=example,dc=org")
	must(t, "get by identity", err)
	diff(t, "connector user after update", u, got)

	must(t, "clear groups", s.UpdateUser(ctx, "u1", func(v *storage.User) error { v.Groups = nil; return nil }))
	got, err = s.GetUser(ctx, "u1")
	must(t, "get", err)
	if got.Groups != nil {
		t.Errorf("groups after clearing = %q, want nil", got.Groups)
	}

	// A local user has no link and no groups.
	must(t, "create local", s.CreateUser(ctx, newUser("u2", "alice")))
	got, err = s.GetUser(ctx, "u2")
	must(t, "get local", err)
	if got.ConnectorID != "" || got.ConnectorSubject != "" || got.Groups != nil {
		t.Errorf("local user = %+v, want no connector link or groups", got)
	}
}

func testConnectorUserUnique(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateUser(ctx, newConnectorUser("u1", "ada", "corp", "sub-1")))
	wantErr(t, "same identity", s.CreateUser(ctx, newConnectorUser("u2", "ada2", "corp", "sub-1")), storage.ErrAlreadyExists)
	must(t, "same subject at another connector", s.CreateUser(ctx, newConnectorUser("u3", "ada3", "google", "sub-1")))
	must(t, "another subject", s.CreateUser(ctx, newConnectorUser("u4", "bob", "corp", "sub-2")))
	// Pre-created users (connector, no subject yet) do not collide.
	must(t, "pre-created", s.CreateUser(ctx, newConnectorUser("u5", "carol", "corp", "")))
	must(t, "another pre-created", s.CreateUser(ctx, newConnectorUser("u6", "dave", "corp", "")))
	err := s.UpdateUser(ctx, "u4", func(u *storage.User) error { u.ConnectorSubject = "sub-1"; return nil })
	wantErr(t, "update onto a linked identity", err, storage.ErrAlreadyExists)
	got, err := s.GetUser(ctx, "u4")
	must(t, "get", err)
	diff(t, "user after rejected update", newConnectorUser("u4", "bob", "corp", "sub-2"), got)
}

func testConnectorUserLookup(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateUser(ctx, newConnectorUser("u1", "ada", "corp", "sub-1")))
	must(t, "create other", s.CreateUser(ctx, newConnectorUser("u2", "ada-google", "google", "sub-1")))
	must(t, "create pre-created", s.CreateUser(ctx, newConnectorUser("u3", "carol", "corp", "")))
	must(t, "create local", s.CreateUser(ctx, newUser("u4", "dave")))
	got, err := s.GetUserByIdentity(ctx, "corp", "sub-1")
	must(t, "get by identity", err)
	if got.ID != "u1" {
		t.Errorf("corp/sub-1 = user %s, want u1", got.ID)
	}
	got, err = s.GetUserByIdentity(ctx, "google", "sub-1")
	must(t, "get by identity", err)
	if got.ID != "u2" {
		t.Errorf("google/sub-1 = user %s, want u2", got.ID)
	}
	for _, c := range []struct{ connector, subject string }{
		{"corp", "SUB-1"}, // subjects are compared exactly
		{"corp", "sub-9"},
		{"other", "sub-1"},
		{"corp", ""}, // a pre-created user is not found by an empty subject
		{"", ""},     // nor is a local user
	} {
		_, err := s.GetUserByIdentity(ctx, c.connector, c.subject)
		wantErr(t, "get by identity "+c.connector+"/"+c.subject, err, storage.ErrNotFound)
	}
}

func testConnectorUserLink(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "pre-create", s.CreateUser(ctx, newConnectorUser("u1", "ada", "corp", "")))
	must(t, "link", s.UpdateUser(ctx, "u1", func(u *storage.User) error { u.ConnectorSubject = "sub-1"; return nil }))
	got, err := s.GetUserByIdentity(ctx, "corp", "sub-1")
	must(t, "get linked", err)
	diff(t, "linked user", newConnectorUser("u1", "ada", "corp", "sub-1"), got)
	must(t, "delete", s.DeleteUser(ctx, "u1"))
	_, err = s.GetUserByIdentity(ctx, "corp", "sub-1")
	wantErr(t, "get deleted", err, storage.ErrNotFound)
	// The identity is free again once its user is deleted.
	must(t, "create again", s.CreateUser(ctx, newConnectorUser("u2", "ada", "corp", "sub-1")))
}
