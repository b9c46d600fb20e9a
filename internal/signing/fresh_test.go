package signing

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestVerifyFreshSeesAnotherReplicasKey: two managers on one store, as two
// replicas. A key B creates is unknown to A until A reloads; VerifyFresh
// reloads on an unknown kid, at most once per maxAge.
func TestVerifyFreshSeesAnotherReplicasKey(t *testing.T) {
	f := newFixture()
	ctx := context.Background()
	a := f.manager(t, Options{})
	// B makes a key A has not seen (as after a simultaneous first start,
	// or a rotation made elsewhere).
	b := f.manager(t, Options{})
	if _, err := b.Rotate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	tok, err := b.Sign(TypeAccessToken, map[string]any{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Verify(tok, TypeAccessToken); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("A knows B's new key before reloading (err %v): the test proves nothing", err)
	}
	// Within maxAge of A's last load, no reload happens.
	if _, err := a.VerifyFresh(ctx, tok, TypeAccessToken, time.Hour); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("VerifyFresh reloaded although the keys were fresh: %v", err)
	}
	f.clk.Advance(2 * time.Second)
	if _, err := a.VerifyFresh(ctx, tok, TypeAccessToken, time.Second); err != nil {
		t.Fatalf("VerifyFresh after maxAge: %v", err)
	}
	// A garbage kid does not cause a reload per request.
	loads := f.store.listCalls()
	for range 10 {
		_, _ = a.VerifyFresh(ctx, tok[:10]+"x"+tok[11:], TypeAccessToken, time.Second)
	}
	if got := f.store.listCalls() - loads; got > 1 {
		t.Errorf("%d reloads for 10 bad tokens within maxAge", got)
	}
}
