package signing

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
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
	// Tokens naming a key nobody has do not cause a reload per request:
	// the first may (maxAge has passed since the last load), the rest not.
	parts := strings.Split(tok, ".")
	hdr, _ := json.Marshal(map[string]string{"alg": "ES256", "typ": TypeAccessToken, "kid": "no-such-key"})
	unknown := base64.RawURLEncoding.EncodeToString(hdr) + "." + parts[1] + "." + parts[2]
	f.clk.Advance(2 * time.Second)
	loads := f.store.listCalls()
	for range 10 {
		if _, err := a.VerifyFresh(ctx, unknown, TypeAccessToken, time.Second); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("token with an unknown kid: %v, want ErrUnknownKey", err)
		}
	}
	if got := f.store.listCalls() - loads; got != 1 {
		t.Errorf("%d reloads for 10 tokens with an unknown kid within maxAge, want 1", got)
	}
}
