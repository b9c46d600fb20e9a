package oauth

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/server/testbed"
	"github.com/gatehouse-auth/gatehouse/internal/storage"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

func TestClientCacheServesRepeatedLookupsFromMemory(t *testing.T) {
	tb := testbed.New(t, testbed.Options{})
	now := tb.Clock.Now()
	if err := tb.Store.CreateClient(t.Context(), &storage.Client{ID: "ci", AuthMethod: protocol.AuthMethodBasic,
		GrantTypes: []string{"client_credentials"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	c := NewClientCache(tb.Store, tb.Clock)
	first, err := c.Get(t.Context(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Get(t.Context(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	if first != again {
		t.Error("second lookup within the TTL went to the database")
	}
	tb.Clock.Advance(ClientCacheTTL)
	later, err := c.Get(t.Context(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	if later == first {
		t.Error("lookup after the TTL was served from memory")
	}
}
