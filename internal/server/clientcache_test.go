package server

import (
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/oauth"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestClientChangesTakeEffectWithinCacheTTL(t *testing.T) {
	h := newHarness(t)
	old := h.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	cc := url.Values{"grant_type": {"client_credentials"}}
	if st, body, _ := h.postForm(PathToken, cc, "ci", old); st != 200 {
		t.Fatalf("first token: %d %v", st, body)
	}
	// Rotate the secret on the database, as `gatehouse clients rotate-secret` does.
	fresh := secret.NewToken()
	if err := h.store.UpdateClient(t.Context(), "ci", func(c *storage.Client) error {
		c.SecretHash = secret.Hash(fresh)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(oauth.ClientCacheTTL)
	if st, _, _ := h.postForm(PathToken, cc, "ci", old); st != 401 {
		t.Errorf("old secret accepted %v after rotation: %d", oauth.ClientCacheTTL, st)
	}
	if st, body, _ := h.postForm(PathToken, cc, "ci", fresh); st != 200 {
		t.Errorf("new secret refused: %d %v", st, body)
	}
	// Deleting the client: refused once the cached entry is older than the TTL.
	if err := h.store.DeleteClient(t.Context(), "ci"); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(oauth.ClientCacheTTL + time.Second)
	if st, _, _ := h.postForm(PathToken, cc, "ci", fresh); st != 401 {
		t.Errorf("deleted client still authenticates: %d", st)
	}
}
