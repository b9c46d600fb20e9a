package storagetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var proxySessionTests = []test{
	{"ProxySession/RoundTrip", testProxySession},
	{"ProxySession/Touch", testProxySessionTouch},
	{"ProxySession/Delete", testProxySessionDelete},
	{"ProxySession/DeleteUser", testProxySessionDeleteUser},
	{"ProxySession/DeleteExpired", testProxySessionDeleteExpired},
}

func newProxySession(secret, userID string) *storage.ProxySession {
	return &storage.ProxySession{
		Hash:      hash(secret),
		UserID:    userID,
		Username:  "name-" + userID,
		Email:     userID + "@example.com",
		Roles:     []string{"admin", "reader"},
		AuthTime:  base.Add(-time.Minute),
		CreatedAt: base,
		LastSeen:  base.Add(time.Second),
		ExpiresAt: base.Add(12 * time.Hour),
		Data:      []byte{0x00, 0x01, 0xfe, 0xff},
		Groups:    []string{"ops-admins", "analysts"},

		EmailVerified: true,
	}
}

func testProxySession(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetProxySession(ctx, hash("p1"))
	wantErr(t, "get before create", err, storage.ErrNotFound)

	want := newProxySession("p1", "u1")
	must(t, "create", s.CreateProxySession(ctx, want))
	got, err := s.GetProxySession(ctx, want.Hash)
	must(t, "get", err)
	diff(t, "proxy session", want, got)
	wantErr(t, "create duplicate", s.CreateProxySession(ctx, newProxySession("p1", "u2")), storage.ErrAlreadyExists)
	got, err = s.GetProxySession(ctx, want.Hash)
	must(t, "get after duplicate", err)
	diff(t, "proxy session after duplicate", want, got)

	// Empty lists, data and strings come back as nil and empty.
	bare := &storage.ProxySession{Hash: hash("p2"), UserID: "u1", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	must(t, "create bare", s.CreateProxySession(ctx, bare))
	got, err = s.GetProxySession(ctx, bare.Hash)
	must(t, "get bare", err)
	diff(t, "bare proxy session", bare, got)
	bare.Roles, bare.Data, bare.Groups = []string{}, []byte{}, []string{}
	bare.Hash = hash("p3")
	must(t, "create with empty slices", s.CreateProxySession(ctx, bare))
	got, err = s.GetProxySession(ctx, bare.Hash)
	must(t, "get with empty slices", err)
	if got.Roles != nil || got.Data != nil || got.Groups != nil {
		t.Errorf("empty roles, data and groups came back as %#v, %#v, %#v; want nil", got.Roles, got.Data, got.Groups)
	}
}

func testProxySessionTouch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newProxySession("p1", "u1")
	must(t, "create", s.CreateProxySession(ctx, want))
	must(t, "create other", s.CreateProxySession(ctx, newProxySession("p2", "u1")))

	want.LastSeen = base.Add(time.Hour)
	must(t, "touch", s.TouchProxySession(ctx, want.Hash, want.LastSeen))
	got, err := s.GetProxySession(ctx, want.Hash)
	must(t, "get", err)
	diff(t, "touched proxy session", want, got)
	other, err := s.GetProxySession(ctx, hash("p2"))
	must(t, "get other", err)
	diff(t, "other proxy session", newProxySession("p2", "u1"), other)

	wantErr(t, "touch unknown", s.TouchProxySession(ctx, hash("nope"), base), storage.ErrNotFound)
	// A touch at or after the expiry does not revive the session.
	wantErr(t, "touch at expiry", s.TouchProxySession(ctx, want.Hash, want.ExpiresAt), storage.ErrNotFound)
	wantErr(t, "touch after expiry", s.TouchProxySession(ctx, want.Hash, want.ExpiresAt.Add(time.Minute)),
		storage.ErrNotFound)
	got, err = s.GetProxySession(ctx, want.Hash)
	must(t, "get after late touches", err)
	diff(t, "proxy session after late touches", want, got)
}

func testProxySessionDelete(t *testing.T, s storage.Store) {
	ctx := t.Context()
	p := newProxySession("p1", "u1")
	must(t, "create", s.CreateProxySession(ctx, p))
	must(t, "create other", s.CreateProxySession(ctx, newProxySession("p2", "u1")))
	must(t, "delete", s.DeleteProxySession(ctx, p.Hash))
	_, err := s.GetProxySession(ctx, p.Hash)
	wantErr(t, "get deleted", err, storage.ErrNotFound)
	wantErr(t, "delete again", s.DeleteProxySession(ctx, p.Hash), storage.ErrNotFound)
	if _, err := s.GetProxySession(ctx, hash("p2")); err != nil {
		t.Errorf("other proxy session: %v", err)
	}
	// The server's own sessions live apart.
	must(t, "create server session", s.CreateSession(ctx, newSession("p3", "u1")))
	wantErr(t, "get server session as proxy session", func() error {
		_, err := s.GetProxySession(ctx, hash("p3"))
		return err
	}(), storage.ErrNotFound)
}

func testProxySessionDeleteUser(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for _, sec := range []string{"a1", "a2", "a3"} {
		must(t, "create", s.CreateProxySession(ctx, newProxySession(sec, "alice")))
	}
	must(t, "create bob's", s.CreateProxySession(ctx, newProxySession("b1", "bob")))
	must(t, "create server session", s.CreateSession(ctx, newSession("s1", "alice")))

	n, err := s.DeleteUserProxySessions(ctx, "alice")
	must(t, "delete alice's", err)
	if n != 3 {
		t.Errorf("DeleteUserProxySessions = %d, want 3", n)
	}
	for _, sec := range []string{"a1", "a2", "a3"} {
		_, err := s.GetProxySession(ctx, hash(sec))
		wantErr(t, "get "+sec, err, storage.ErrNotFound)
	}
	if _, err := s.GetProxySession(ctx, hash("b1")); err != nil {
		t.Errorf("bob's proxy session: %v", err)
	}
	if _, err := s.GetSession(ctx, hash("s1")); err != nil {
		t.Errorf("alice's server session: %v", err)
	}
	n, err = s.DeleteUserProxySessions(ctx, "alice")
	must(t, "delete alice's again", err)
	if n != 0 {
		t.Errorf("second DeleteUserProxySessions = %d, want 0", n)
	}
}

func testProxySessionDeleteExpired(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := base.Add(time.Hour)
	old := newProxySession("old", "u1")
	old.ExpiresAt = now.Add(-time.Second)
	live := newProxySession("new", "u1")
	live.ExpiresAt = now.Add(time.Second)
	must(t, "create expired", s.CreateProxySession(ctx, old))
	must(t, "create live", s.CreateProxySession(ctx, live))

	n, err := s.DeleteExpired(ctx, now)
	must(t, "delete expired", err)
	if n != 1 {
		t.Errorf("DeleteExpired = %d rows, want 1", n)
	}
	_, err = s.GetProxySession(ctx, old.Hash)
	wantErr(t, "get expired", err, storage.ErrNotFound)
	got, err := s.GetProxySession(ctx, live.Hash)
	must(t, "get live", err)
	diff(t, "live proxy session", live, got)
}
