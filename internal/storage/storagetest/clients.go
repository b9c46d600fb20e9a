package storagetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var clientTests = []test{
	{"Client/RoundTrip", testClientRoundTrip},
	{"Client/EmptyListsAndZeroTimes", testClientEmpty},
	{"Client/TimesComeBackUTC", testTimesUTC},
	{"Client/Duplicate", testClientDuplicate},
	{"Client/NotFound", testClientNotFound},
	{"Client/List", testClientList},
	{"Client/Update", testClientUpdate},
	{"Client/UpdaterError", testClientUpdaterError},
	{"Client/DeleteCascades", testClientDelete},
	{"Client/TerminalLogin", testClientTerminalLogin},
}

// testClientTerminalLogin: the flag that allows the password grant is off
// unless set, and an update turns it on and off again.
func testClientTerminalLogin(t *testing.T, s storage.Store) {
	ctx := t.Context()
	c := newClient("term")
	c.TerminalLogin = false
	must(t, "create", s.CreateClient(ctx, c))
	got, err := s.GetClient(ctx, "term")
	must(t, "get", err)
	if got.TerminalLogin {
		t.Fatal("TerminalLogin is on for a client created without it")
	}
	for _, on := range []bool{true, false} {
		must(t, "update", s.UpdateClient(ctx, "term", func(c *storage.Client) error {
			c.TerminalLogin = on
			return nil
		}))
		got, err := s.GetClient(ctx, "term")
		must(t, "get after update", err)
		if got.TerminalLogin != on {
			t.Fatalf("TerminalLogin = %v after setting it to %v", got.TerminalLogin, on)
		}
	}
}

func testClientRoundTrip(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newClient("app")
	must(t, "create", s.CreateClient(ctx, want))
	got, err := s.GetClient(ctx, "app")
	must(t, "get", err)
	diff(t, "client", want, got)

	pub := newClient("cli")
	pub.Public, pub.SecretHash, pub.AuthMethod, pub.FirstParty = true, "", "none", false
	must(t, "create public", s.CreateClient(ctx, pub))
	got, err = s.GetClient(ctx, "cli")
	must(t, "get public", err)
	diff(t, "public client", pub, got)
}

func testClientEmpty(t *testing.T, s storage.Store) {
	ctx := t.Context()
	c := &storage.Client{ID: "bare", Name: "Bare"}
	must(t, "create nil lists", s.CreateClient(ctx, c))
	got, err := s.GetClient(ctx, "bare")
	must(t, "get", err)
	diff(t, "nil lists, zero times", c, got)
	if !got.CreatedAt.IsZero() || !got.UpdatedAt.IsZero() {
		t.Errorf("zero times came back as %v, %v", got.CreatedAt, got.UpdatedAt)
	}

	e := &storage.Client{ID: "empty", RedirectURIs: []string{}, GrantTypes: []string{}, Scopes: []string{}, Roles: []string{}}
	must(t, "create empty lists", s.CreateClient(ctx, e))
	got, err = s.GetClient(ctx, "empty")
	must(t, "get", err)
	if got.RedirectURIs != nil || got.GrantTypes != nil || got.Scopes != nil || got.Roles != nil {
		t.Errorf("empty lists came back non-nil: %#v", got)
	}
}

func testTimesUTC(t *testing.T, s storage.Store) {
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	c := newClient("zoned")
	c.CreatedAt = time.Date(2025, 6, 1, 9, 30, 0, 123_000_000, zone)
	c.UpdatedAt = c.CreatedAt.Add(1500 * time.Millisecond)
	must(t, "create", s.CreateClient(ctx, c))
	got, err := s.GetClient(ctx, "zoned")
	must(t, "get", err)
	for _, tm := range []struct {
		name      string
		want, got time.Time
	}{{"CreatedAt", c.CreatedAt, got.CreatedAt}, {"UpdatedAt", c.UpdatedAt, got.UpdatedAt}} {
		if !tm.got.Equal(tm.want) {
			t.Errorf("%s = %v, want %v", tm.name, tm.got, tm.want)
		}
		if tm.got.Location() != time.UTC {
			t.Errorf("%s location = %v, want UTC", tm.name, tm.got.Location())
		}
	}
}

func testClientDuplicate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateClient(ctx, newClient("app")))
	other := newClient("app")
	other.Name = "Another"
	wantErr(t, "create duplicate", s.CreateClient(ctx, other), storage.ErrAlreadyExists)
	got, err := s.GetClient(ctx, "app")
	must(t, "get", err)
	if got.Name != "Client app" {
		t.Errorf("duplicate create overwrote the client: name %q", got.Name)
	}
}

func testClientNotFound(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetClient(ctx, "nope")
	wantErr(t, "get", err, storage.ErrNotFound)
	called := false
	err = s.UpdateClient(ctx, "nope", func(*storage.Client) error { called = true; return nil })
	wantErr(t, "update", err, storage.ErrNotFound)
	if called {
		t.Error("update called fn for a missing client")
	}
	wantErr(t, "delete", s.DeleteClient(ctx, "nope"), storage.ErrNotFound)
}

func testClientList(t *testing.T, s storage.Store) {
	ctx := t.Context()
	got, err := s.ListClients(ctx)
	must(t, "list empty", err)
	if len(got) != 0 {
		t.Fatalf("empty store lists %d clients", len(got))
	}
	var want []*storage.Client
	for _, id := range []string{"c", "a", "b"} {
		must(t, "create", s.CreateClient(ctx, newClient(id)))
	}
	for _, id := range []string{"a", "b", "c"} {
		want = append(want, newClient(id))
	}
	got, err = s.ListClients(ctx)
	must(t, "list", err)
	diff(t, "clients by id", want, got)
}

func testClientUpdate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateClient(ctx, newClient("app")))
	want := newClient("app")
	err := s.UpdateClient(ctx, "app", func(c *storage.Client) error {
		diff(t, "client seen by fn", want, c)
		c.Name = "Renamed"
		c.RedirectURIs = []string{"https://new.example/cb"}
		c.Scopes = nil
		c.Public = true
		c.UpdatedAt = base.Add(time.Hour)
		return nil
	})
	must(t, "update", err)
	want.Name, want.RedirectURIs, want.Scopes, want.Public = "Renamed", []string{"https://new.example/cb"}, nil, true
	want.UpdatedAt = base.Add(time.Hour)
	got, err := s.GetClient(ctx, "app")
	must(t, "get", err)
	diff(t, "updated client", want, got)
}

func testClientUpdaterError(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateClient(ctx, newClient("app")))
	err := s.UpdateClient(ctx, "app", func(c *storage.Client) error {
		c.Name = "Should not stick"
		return errStop
	})
	if err != errStop {
		t.Errorf("update error = %v, want the updater's error unchanged", err)
	}
	got, err := s.GetClient(ctx, "app")
	must(t, "get", err)
	diff(t, "client after failed update", newClient("app"), got)
}

func testClientDelete(t *testing.T, s storage.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateClient(ctx, newClient("app")))
	must(t, "create other", s.CreateClient(ctx, newClient("other")))
	g := newGrant("g1", "app", "u1")
	must(t, "create grant", s.CreateGrant(ctx, g))
	rt := newRefreshToken("rt1", g)
	must(t, "create refresh token", s.CreateRefreshToken(ctx, rt))
	keep := newGrant("g2", "other", "u1")
	must(t, "create other grant", s.CreateGrant(ctx, keep))
	must(t, "save consent", s.SaveConsent(ctx, &storage.Consent{UserID: "u1", ClientID: "app", Scopes: []string{"openid"}}))

	must(t, "delete", s.DeleteClient(ctx, "app"))
	_, err := s.GetClient(ctx, "app")
	wantErr(t, "get deleted", err, storage.ErrNotFound)
	_, err = s.GetGrant(ctx, "g1")
	wantErr(t, "get grant of deleted client", err, storage.ErrNotFound)
	_, err = s.GetRefreshToken(ctx, rt.Hash)
	wantErr(t, "get refresh token of deleted client", err, storage.ErrNotFound)
	_, err = s.GetConsent(ctx, "u1", "app")
	wantErr(t, "get consent of deleted client", err, storage.ErrNotFound)
	if _, err := s.GetClient(ctx, "other"); err != nil {
		t.Errorf("other client: %v", err)
	}
	if _, err := s.GetGrant(ctx, "g2"); err != nil {
		t.Errorf("other client's grant: %v", err)
	}
	wantErr(t, "delete again", s.DeleteClient(ctx, "app"), storage.ErrNotFound)
}
