package server

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/signing"
)

// TestTokenFromAnotherReplicasNewKeyIsAccepted: another replica on the
// same database signs with a key this one has not loaded yet (both created
// a first key at the same moment, or a rotation happened there). The token
// must introspect as active here without waiting for the periodic reload,
// and this replica's JWKS must publish the key.
func TestTokenFromAnotherReplicasNewKeyIsAccepted(t *testing.T) {
	f := newUserFixture(t)
	key, err := secret.ParseKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	other := signing.NewManager(f.store, key, f.clock, signing.Options{})
	if err := other.Init(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Rotate(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now()
	tok, err := other.Sign("at+jwt", oauth.AccessClaims{Issuer: f.issuer, Subject: "ci", Audience: []string{f.issuer},
		IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Minute).Unix(), ID: NewID(), ClientID: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second) // past oauth.KeyRefreshAge since this replica loaded its keys
	if got := f.introspect(tok); got["active"] != true {
		t.Fatalf("token signed with the other replica's new key: %v", got)
	}
	kid := headerOf(t, tok)["kid"].(string)
	_, raw := getJSON(t, f.url(PathJWKS))
	if !strings.Contains(string(raw), kid) {
		t.Errorf("JWKS does not publish the other replica's key %s", kid)
	}
}
