package storagetest

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var userTests = []test{
	{"User/RoundTrip", testUserRoundTrip},
	{"User/NormalisedUnique", testUserUnique},
	{"User/EmailUniqueWhenSet", testUserEmailUnique},
	{"User/NotFound", testUserNotFound},
	{"User/List", testUserList},
	{"User/Update", testUserUpdate},
	{"User/UpdaterError", testUserUpdaterError},
	{"User/DeleteCascades", testUserDelete},
}

func testUserRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateUser(ctx, newUser("u1", "  Alice ")))
	want := newUser("u1", "alice")
	got, err := s.GetUser(ctx, "u1")
	must(t, "get", err)
	diff(t, "user by id", want, got)
	for _, name := range []string{"alice", "ALICE", " Alice\t"} {
		got, err := s.GetUserByName(ctx, name)
		must(t, "get by name "+name, err)
		diff(t, "user by name "+name, want, got)
	}

	d := &storage.User{ID: "u2", Username: "bob", Disabled: true}
	must(t, "create disabled", s.CreateUser(ctx, d))
	got, err = s.GetUser(ctx, "u2")
	must(t, "get disabled", err)
	diff(t, "disabled user, nil roles", d, got)
}

func testUserUnique(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateUser(ctx, newUser("u1", "Alice ")))
	wantErr(t, "same name after normalisation", s.CreateUser(ctx, newUser("u2", "alice")), storage.ErrAlreadyExists)
	wantErr(t, "same id", s.CreateUser(ctx, newUser("u1", "carol")), storage.ErrAlreadyExists)
	_, err := s.GetUser(ctx, "u2")
	wantErr(t, "get rejected user", err, storage.ErrNotFound)
}

func testUserNotFound(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetUser(ctx, "nope")
	wantErr(t, "get", err, storage.ErrNotFound)
	_, err = s.GetUserByName(ctx, "nope")
	wantErr(t, "get by name", err, storage.ErrNotFound)
	err = s.UpdateUser(ctx, "nope", func(*storage.User) error { return nil })
	wantErr(t, "update", err, storage.ErrNotFound)
	wantErr(t, "delete", s.DeleteUser(ctx, "nope"), storage.ErrNotFound)
}

func testUserList(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateUser(ctx, newUser("u1", "Carol")))
	must(t, "create", s.CreateUser(ctx, newUser("u2", "alice")))
	must(t, "create", s.CreateUser(ctx, newUser("u3", "Bob")))
	got, err := s.ListUsers(ctx)
	must(t, "list", err)
	want := []*storage.User{newUser("u2", "alice"), newUser("u3", "bob"), newUser("u1", "carol")}
	diff(t, "users by name", want, got)
}

func testUserUpdate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateUser(ctx, newUser("u1", "alice")))
	must(t, "create", s.CreateUser(ctx, newUser("u2", "bob")))
	err := s.UpdateUser(ctx, "u2", func(u *storage.User) error {
		u.Username = " Robert "
		u.Disabled = true
		u.Roles = []string{"user"}
		return nil
	})
	must(t, "update", err)
	want := newUser("u2", "robert")
	want.Disabled, want.Roles = true, []string{"user"}
	got, err := s.GetUserByName(ctx, "ROBERT")
	must(t, "get renamed", err)
	diff(t, "updated user", want, got)
	_, err = s.GetUserByName(ctx, "bob")
	wantErr(t, "old name", err, storage.ErrNotFound)

	err = s.UpdateUser(ctx, "u2", func(u *storage.User) error {
		u.Username = "ALICE "
		return nil
	})
	wantErr(t, "rename onto a taken name", err, storage.ErrAlreadyExists)
	got, err = s.GetUser(ctx, "u2")
	must(t, "get", err)
	diff(t, "user after rejected rename", want, got)
}

func testUserUpdaterError(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateUser(ctx, newUser("u1", "alice")))
	err := s.UpdateUser(ctx, "u1", func(u *storage.User) error {
		u.Disabled = true
		return errStop
	})
	if err != errStop {
		t.Errorf("update error = %v, want the updater's error unchanged", err)
	}
	got, err := s.GetUser(ctx, "u1")
	must(t, "get", err)
	diff(t, "user after failed update", newUser("u1", "alice"), got)
}

func testUserDelete(t *testing.T, s storage.Store) {
	ctx := t.Context()
	type owned struct {
		session *storage.Session
		grant   *storage.Grant
		token   *storage.RefreshToken
	}
	seed := func(userID string) owned {
		must(t, "create user", s.CreateUser(ctx, newUser(userID, "name-"+userID)))
		o := owned{session: newSession("sess-"+userID, userID), grant: newGrant("g-"+userID, "app", userID)}
		o.token = newRefreshToken("rt-"+userID, o.grant)
		must(t, "create session", s.CreateSession(ctx, o.session))
		must(t, "create grant", s.CreateGrant(ctx, o.grant))
		must(t, "create refresh token", s.CreateRefreshToken(ctx, o.token))
		must(t, "save consent", s.SaveConsent(ctx, &storage.Consent{UserID: userID, ClientID: "app", Scopes: []string{"openid"}}))
		return o
	}
	gone, kept := seed("u1"), seed("u2")

	must(t, "delete", s.DeleteUser(ctx, "u1"))
	_, err := s.GetUser(ctx, "u1")
	wantErr(t, "get user", err, storage.ErrNotFound)
	_, err = s.GetUserByName(ctx, "name-u1")
	wantErr(t, "get user by name", err, storage.ErrNotFound)
	_, err = s.GetSession(ctx, gone.session.Hash)
	wantErr(t, "get session", err, storage.ErrNotFound)
	_, err = s.GetGrant(ctx, gone.grant.ID)
	wantErr(t, "get grant", err, storage.ErrNotFound)
	_, err = s.GetRefreshToken(ctx, gone.token.Hash)
	wantErr(t, "get refresh token", err, storage.ErrNotFound)
	_, err = s.GetConsent(ctx, "u1", "app")
	wantErr(t, "get consent", err, storage.ErrNotFound)

	if _, err := s.GetUser(ctx, "u2"); err != nil {
		t.Errorf("other user: %v", err)
	}
	if _, err := s.GetSession(ctx, kept.session.Hash); err != nil {
		t.Errorf("other user's session: %v", err)
	}
	if _, err := s.GetGrant(ctx, kept.grant.ID); err != nil {
		t.Errorf("other user's grant: %v", err)
	}
	if _, err := s.GetRefreshToken(ctx, kept.token.Hash); err != nil {
		t.Errorf("other user's refresh token: %v", err)
	}
	if _, err := s.GetConsent(ctx, "u2", "app"); err != nil {
		t.Errorf("other user's consent: %v", err)
	}
}

func testUserEmailUnique(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a := newUser("u1", "alice")
	a.Email, a.EmailVerified, a.Name = "Alice@Example.org", true, "Alice Liddell"
	must(t, "create with email", s.CreateUser(ctx, a))
	got, err := s.GetUser(ctx, "u1")
	must(t, "get", err)
	diff(t, "user with email and name", a, got)
	b := newUser("u2", "bob")
	b.Email = "alice@example.ORG"
	wantErr(t, "same email in another case", s.CreateUser(ctx, b), storage.ErrAlreadyExists)
	// Users without an email do not collide.
	must(t, "create without email", s.CreateUser(ctx, newUser("u3", "carol")))
	must(t, "create another without email", s.CreateUser(ctx, newUser("u4", "dave")))
	err = s.UpdateUser(ctx, "u3", func(u *storage.User) error { u.Email = "ALICE@example.org"; return nil })
	wantErr(t, "update to a taken email", err, storage.ErrAlreadyExists)
	must(t, "update to a free email", s.UpdateUser(ctx, "u3", func(u *storage.User) error { u.Email = "carol@example.org"; return nil }))
}
