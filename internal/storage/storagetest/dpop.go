package storagetest

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

// DPoP (RFC 9449) bindings: a client that requires proofs, refresh tokens
// bound to a key's thumbprint, and authorization codes bound with
// dpop_jkt.
var dpopTests = []test{
	{"DPoP/ClientRequired", testDPoPClientRequired},
	{"DPoP/RefreshTokenBinding", testDPoPRefreshTokenBinding},
	{"DPoP/AuthCodeBinding", testDPoPAuthCode},
}

const testJKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

func testDPoPClientRequired(t *testing.T, s storage.Store) {
	ctx := t.Context()
	c := newClient("dpop-cli")
	c.DPoPRequired = true
	must(t, "create", s.CreateClient(ctx, c))
	got, err := s.GetClient(ctx, c.ID)
	must(t, "get", err)
	diff(t, "dpop-required client", c, got)
	if !got.DPoPRequired {
		t.Fatal("DPoPRequired not stored")
	}
	must(t, "update", s.UpdateClient(ctx, c.ID, func(c *storage.Client) error {
		c.DPoPRequired = false
		return nil
	}))
	got, err = s.GetClient(ctx, c.ID)
	must(t, "get after update", err)
	if got.DPoPRequired {
		t.Fatal("DPoPRequired still set after update")
	}
	// A client created without it is not DPoP-required.
	plain := newClient("plain")
	must(t, "create plain", s.CreateClient(ctx, plain))
	list, err := s.ListClients(ctx)
	must(t, "list", err)
	for _, l := range list {
		if l.DPoPRequired {
			t.Errorf("client %s listed as DPoP-required", l.ID)
		}
	}
}

func testDPoPRefreshTokenBinding(t *testing.T, s storage.Store) {
	ctx := t.Context()
	g := newGrant("g1", "app", "u1")
	must(t, "create grant", s.CreateGrant(ctx, g))
	bound := newRefreshToken("bound", g)
	bound.DPoPJKT = testJKT
	must(t, "create bound", s.CreateRefreshToken(ctx, bound))
	got, err := s.GetRefreshToken(ctx, bound.Hash)
	must(t, "get bound", err)
	diff(t, "bound refresh token", bound, got)

	next := newRefreshToken("bound-2", g)
	next.CreatedAt = base.Add(time.Hour)
	must(t, "rotate", s.RotateRefreshToken(ctx, bound.Hash, func(old *storage.RefreshToken, _ *storage.Grant) (*storage.RefreshToken, error) {
		if old.DPoPJKT != testJKT {
			t.Errorf("fn saw DPoPJKT %q, want %q", old.DPoPJKT, testJKT)
		}
		next.DPoPJKT = old.DPoPJKT
		return next, nil
	}))
	got, err = s.GetRefreshToken(ctx, next.Hash)
	must(t, "get successor", err)
	if got.DPoPJKT != testJKT {
		t.Fatalf("successor DPoPJKT %q", got.DPoPJKT)
	}

	unbound := newRefreshToken("unbound", g)
	must(t, "create unbound", s.CreateRefreshToken(ctx, unbound))
	got, err = s.GetRefreshToken(ctx, unbound.Hash)
	must(t, "get unbound", err)
	if got.DPoPJKT != "" {
		t.Fatalf("unbound token has DPoPJKT %q", got.DPoPJKT)
	}
}

func testDPoPAuthCode(t *testing.T, s storage.Store) {
	ctx := t.Context()
	c := newAuthCode("dpop-code")
	c.DPoPJKT = testJKT
	must(t, "create", s.CreateAuthCode(ctx, c))
	diff(t, "bound auth code", c, loadAuthCode(t, s, c.Hash))
}
