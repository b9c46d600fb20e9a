package oauth

import (
	"encoding/base64"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/secret"
	"github.com/gatehouse-auth/gatehouse/internal/server/testbed"
)

// TestTerminalMFATokenIsSealed: the mfa_token is opaque and bound to its
// purpose; the nonce alone does nothing.
func TestTerminalMFATokenIsSealed(t *testing.T) {
	e := &Endpoints{secretKey: testbed.New(t, testbed.Options{}).SecretKey}
	if _, ok := e.openTerminalMFA(secret.NewToken()); ok {
		t.Fatal("a random token opened")
	}
	good, _ := e.secretKey.Seal([]byte(`{"u":"u-alice","c":"gatehouse-cli","e":9999999999,"n":"x"}`), []byte(terminalMFAAD))
	if _, ok := e.openTerminalMFA(base64.RawURLEncoding.EncodeToString(good)); !ok {
		t.Fatal("a token sealed for terminal MFA did not open")
	}
	// Sealed for the login page's pending sign-in (internal/server's
	// pendingAD) instead.
	sealed, _ := e.secretKey.Seal([]byte(`{"u":"u-alice","c":"gatehouse-cli","e":9999999999,"n":"x"}`), []byte("gatehouse-mfa-pending"))
	if _, ok := e.openTerminalMFA(base64.RawURLEncoding.EncodeToString(sealed)); ok {
		t.Fatal("a token sealed for another purpose opened")
	}
}
