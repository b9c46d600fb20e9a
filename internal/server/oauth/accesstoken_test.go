package oauth

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/testbed"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// TestVerifyAccessTokenClaims: a token signed with the server's own key
// is still refused when its issuer is another one (the same keys serving
// another issuer, or an issuer changed since), when it has no jti, and
// from the instant of its exp on (exp is exclusive, RFC 7519 §4.1.4).
func TestVerifyAccessTokenClaims(t *testing.T) {
	b := testbed.New(t, testbed.Options{})
	e := &Endpoints{keys: b.Keys, store: b.Store, clock: b.Clock, issuer: b.Config.Issuer}
	now := b.Clock.Now()
	exp := now.Add(15 * time.Minute)
	sign := func(c AccessClaims) string {
		t.Helper()
		tok, err := b.Keys.Sign(protocol.AccessTokenJWTType, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := AccessClaims{Issuer: e.issuer, Subject: "svc", Audience: []string{"svc"}, ExpiresAt: exp.Unix(),
		IssuedAt: now.Unix(), ID: "jti-1", ClientID: "svc"}
	otherIssuer, noID := good, good
	otherIssuer.Issuer = "https://other.example"
	noID.ID = ""

	if _, err := e.verifyAccessToken(t.Context(), sign(good)); err != nil {
		t.Fatalf("a good token: %v", err)
	}
	for name, c := range map[string]AccessClaims{"another issuer": otherIssuer, "no jti": noID} {
		if _, err := e.verifyAccessToken(t.Context(), sign(c)); !errors.Is(err, ErrInactive) {
			t.Errorf("%s: %v, want ErrInactive", name, err)
		}
	}
	tok := sign(good)
	b.Clock.Set(exp.Add(-time.Second))
	if _, err := e.verifyAccessToken(t.Context(), tok); err != nil {
		t.Fatalf("a second before exp: %v", err)
	}
	b.Clock.Set(exp)
	if _, err := e.verifyAccessToken(t.Context(), tok); !errors.Is(err, ErrInactive) {
		t.Errorf("at exp: %v, want ErrInactive", err)
	}
}
