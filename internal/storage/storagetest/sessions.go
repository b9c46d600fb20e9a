package storagetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var sessionTests = []test{
	{"Session/RoundTripAndDelete", testSession},
	{"Session/WithoutDevice", testSessionWithoutDevice},
	{"Session/Touch", testSessionTouch},
	{"Session/Duplicate", func(t *testing.T, s storage.Store) {
		must(t, "create", s.CreateSession(t.Context(), newSession("s1", "u1")))
		wantErr(t, "create duplicate", s.CreateSession(t.Context(), newSession("s1", "u2")), storage.ErrAlreadyExists)
	}},
}

func testSession(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newSession("s1", "u1")
	must(t, "create", s.CreateSession(ctx, want))
	must(t, "create other", s.CreateSession(ctx, newSession("s2", "u1")))
	got, err := s.GetSession(ctx, want.Hash)
	must(t, "get", err)
	diff(t, "session", want, got)

	must(t, "delete", s.DeleteSession(ctx, want.Hash))
	_, err = s.GetSession(ctx, want.Hash)
	wantErr(t, "get deleted", err, storage.ErrNotFound)
	wantErr(t, "delete again", s.DeleteSession(ctx, want.Hash), storage.ErrNotFound)
	if _, err := s.GetSession(ctx, hash("s2")); err != nil {
		t.Errorf("other session: %v", err)
	}
}

// testSessionWithoutDevice: a session stored without address, browser
// and last use (as sessions from before they were kept) comes back so.
func testSessionWithoutDevice(t *testing.T, s storage.Store) {
	ctx := t.Context()
	bare := newSession("s1", "u1")
	bare.IP, bare.UserAgent, bare.LastSeen = "", "", time.Time{}
	must(t, "create", s.CreateSession(ctx, bare))
	got, err := s.GetSession(ctx, bare.Hash)
	must(t, "get", err)
	diff(t, "session without device", bare, got)
	list, err := s.ListUserSessions(ctx, "u1")
	must(t, "list", err)
	diff(t, "listed session without device", []*storage.Session{bare}, list)
}

func testSessionTouch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	want := newSession("s1", "u1")
	must(t, "create", s.CreateSession(ctx, want))
	other := newSession("s2", "u1")
	other.CreatedAt = base.Add(time.Second)
	must(t, "create other", s.CreateSession(ctx, other))

	want.LastSeen = base.Add(time.Hour)
	must(t, "touch", s.TouchSession(ctx, want.Hash, want.LastSeen))
	got, err := s.GetSession(ctx, want.Hash)
	must(t, "get", err)
	diff(t, "touched session", want, got)
	list, err := s.ListUserSessions(ctx, "u1")
	must(t, "list", err)
	diff(t, "listed sessions, the other untouched", []*storage.Session{want, other}, list)

	wantErr(t, "touch unknown", s.TouchSession(ctx, hash("nope"), base), storage.ErrNotFound)
	// A touch at or after the expiry does not revive the session.
	wantErr(t, "touch at expiry", s.TouchSession(ctx, want.Hash, want.ExpiresAt), storage.ErrNotFound)
	wantErr(t, "touch after expiry", s.TouchSession(ctx, want.Hash, want.ExpiresAt.Add(time.Minute)),
		storage.ErrNotFound)
	got, err = s.GetSession(ctx, want.Hash)
	must(t, "get after late touches", err)
	diff(t, "session after late touches", want, got)
}

var consentTests = []test{
	{"Consent/SaveReplaces", testConsent},
}

func testConsent(t *testing.T, s storage.Store) {
	ctx := t.Context()
	_, err := s.GetConsent(ctx, "u1", "app")
	wantErr(t, "get before save", err, storage.ErrNotFound)

	first := &storage.Consent{UserID: "u1", ClientID: "app", Scopes: []string{"openid"}, CreatedAt: base}
	must(t, "save", s.SaveConsent(ctx, first))
	other := &storage.Consent{UserID: "u1", ClientID: "other", CreatedAt: base}
	must(t, "save other", s.SaveConsent(ctx, other))
	got, err := s.GetConsent(ctx, "u1", "app")
	must(t, "get", err)
	diff(t, "consent", first, got)

	second := &storage.Consent{UserID: "u1", ClientID: "app", Scopes: []string{"openid", "email"}, CreatedAt: base.Add(time.Hour)}
	must(t, "save again", s.SaveConsent(ctx, second))
	got, err = s.GetConsent(ctx, "u1", "app")
	must(t, "get replaced", err)
	diff(t, "replaced consent", second, got)
	got, err = s.GetConsent(ctx, "u1", "other")
	must(t, "get other", err)
	diff(t, "other consent", other, got)
	_, err = s.GetConsent(ctx, "u2", "app")
	wantErr(t, "other user", err, storage.ErrNotFound)
}

var signingKeyTests = []test{
	{"SigningKey/NewestFirst", testSigningKeys},
	{"SigningKey/Update", testSigningKeyUpdate},
}

func newSigningKey(id string, created time.Time) *storage.SigningKey {
	return &storage.SigningKey{
		ID:                  id,
		Algorithm:           "ES256",
		PublicJWK:           `{"kty":"EC","crv":"P-256","kid":"` + id + `"}`,
		EncryptedPrivateKey: []byte{0x00, 0x01, 0xfe, 0xff, byte(len(id))},
		CreatedAt:           created,
		ActiveAt:            created.Add(time.Hour),
	}
}

func testSigningKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	got, err := s.ListSigningKeys(ctx)
	must(t, "list empty", err)
	if len(got) != 0 {
		t.Fatalf("empty store lists %d keys", len(got))
	}
	oldest := newSigningKey("k1", base)
	newest := newSigningKey("k2", base.Add(48*time.Hour))
	middle := newSigningKey("k3", base.Add(24*time.Hour))
	middle.RetiredAt = base.Add(50 * time.Hour)
	middle.Algorithm = "EdDSA"
	for _, k := range []*storage.SigningKey{oldest, newest, middle} {
		must(t, "create "+k.ID, s.CreateSigningKey(ctx, k))
	}
	wantErr(t, "create duplicate", s.CreateSigningKey(ctx, newSigningKey("k1", base)), storage.ErrAlreadyExists)
	got, err = s.ListSigningKeys(ctx)
	must(t, "list", err)
	diff(t, "keys newest first", []*storage.SigningKey{newest, middle, oldest}, got)
}

func testSigningKeyUpdate(t *testing.T, s storage.Store) {
	ctx := t.Context()
	k := newSigningKey("k1", base)
	must(t, "create", s.CreateSigningKey(ctx, k))
	must(t, "retire", s.UpdateSigningKey(ctx, "k1", func(k *storage.SigningKey) error {
		k.RetiredAt = base.Add(90 * 24 * time.Hour)
		return nil
	}))
	err := s.UpdateSigningKey(ctx, "k1", func(k *storage.SigningKey) error {
		k.PublicJWK = "{}"
		return errStop
	})
	if err != errStop {
		t.Errorf("update error = %v, want the updater's error unchanged", err)
	}
	want := newSigningKey("k1", base)
	want.RetiredAt = base.Add(90 * 24 * time.Hour)
	got, err := s.ListSigningKeys(ctx)
	must(t, "list", err)
	diff(t, "retired key", []*storage.SigningKey{want}, got)
	err = s.UpdateSigningKey(ctx, "nope", func(*storage.SigningKey) error { return nil })
	wantErr(t, "update missing", err, storage.ErrNotFound)
}
