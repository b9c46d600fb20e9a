package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/cli/command/commandtest"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// jwtStartServer starts the real authorization server in-process on the
// database of h, with clk, and returns its issuer URL.
func jwtStartServer(t *testing.T, h *commandtest.Harness, clk *clocktest.Fake) string {
	t.Helper()
	srv := servertest.Start(t, servertest.WithStore(h.Store()), servertest.WithClock(clk),
		servertest.WithConfig(func(cfg *config.Server) { cfg.DataDir = h.DataDir }))
	return srv.URL
}

// jwtUnsigned is a token with alg "none" and no signature.
func jwtUnsigned(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	var parts []string
	for _, v := range []any{header, claims} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, base64.RawURLEncoding.EncodeToString(b))
	}
	return strings.Join(parts, ".") + "."
}

// jwtTokenRequest posts a client_credentials grant authenticated with a
// client assertion and returns the status and decoded body.
func jwtTokenRequest(t *testing.T, issuer, assertion string) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(issuer+server.PathToken, url.Values{
		"grant_type":            {protocol.GrantClientCredentials},
		"scope":                 {"read"},
		"client_assertion_type": {protocol.ClientAssertionTypeJWT},
		"client_assertion":      {assertion},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestJWTAssertionWithRealServer walks the private_key_jwt path end to end:
// keygen, register the JWKS with `clients create --jwks-file`, sign
// --assertion, get a token from the real server with it, then verify that
// access token with `jwt verify --issuer` and `--jwks`.
func TestJWTAssertionWithRealServer(t *testing.T) {
	t.Parallel()
	h := commandtest.NewHarness(t, NewRootCmd)
	clk := clocktest.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	h.Prepare = func(s *command.IOStreams) { s.Clock = clk }
	dir := t.TempDir()
	// jwt runs `gatehouse jwt args...`, which must succeed.
	jwt := func(args ...string) string {
		t.Helper()
		r := h.RunCtx(t.Context(), "", append([]string{"jwt"}, args...)...)
		if r.Err != nil {
			t.Fatalf("gatehouse jwt %s: %v\n%s", strings.Join(args, " "), r.Err, r.ErrOut)
		}
		return strings.TrimSpace(r.Out)
	}
	// jwtFails runs `gatehouse jwt verify args...`, which must fail with
	// ExitError and an error that mentions want.
	jwtFails := func(want string, args ...string) {
		t.Helper()
		r := h.RunCtx(t.Context(), "", append([]string{"jwt", "verify"}, args...)...)
		if r.Code != command.ExitError || r.Err == nil || !strings.Contains(r.Err.Error(), want) {
			t.Errorf("gatehouse jwt verify %s: exit %d, %v; want exit 1 mentioning %q", strings.Join(args, " "), r.Code, r.Err, want)
		}
	}
	keygen := func(name string) (key, jwks string) {
		key, jwks = filepath.Join(dir, name), filepath.Join(dir, name+".jwks.json")
		jwt("keygen", "--alg", "ES256", "--out", key, "--jwks-out", jwks)
		return key, jwks
	}
	key, jwks := keygen("svc.pem")
	h.OK("", "clients", "create", "svc", "--grant", "client_credentials", "--scope", "read",
		"--auth-method", "private_key_jwt", "--jwks-file", jwks)
	issuer := jwtStartServer(t, h, clk)
	endpoint := issuer + server.PathToken

	assertion := jwt("sign", "--key", key, "--assertion", "--client-id", "svc", "--token-endpoint", endpoint)
	code, body := jwtTokenRequest(t, issuer, assertion)
	if code != http.StatusOK {
		t.Fatalf("token request with the assertion: %d %v", code, body)
	}
	access, _ := body["access_token"].(string)

	// The server remembers the jti: the same assertion cannot be replayed.
	if code, body := jwtTokenRequest(t, issuer, assertion); code != http.StatusUnauthorized || body["error"] != protocol.ErrInvalidClient {
		t.Errorf("replayed assertion: %d %v, want 401 invalid_client", code, body)
	}
	// Another client's key is refused.
	other, _ := keygen("other.pem")
	forged := jwt("sign", "--key", other, "--assertion", "--client-id", "svc", "--token-endpoint", endpoint)
	if code, body := jwtTokenRequest(t, issuer, forged); code != http.StatusUnauthorized {
		t.Errorf("assertion signed with another key: %d %v, want 401", code, body)
	}

	// The access token verifies as a resource server would check it...
	// (Its audience is the client's own id: svc registered none.)
	var doc struct {
		Header            map[string]any `json:"header"`
		Claims            map[string]any `json:"claims"`
		SignatureVerified bool           `json:"signature_verified"`
	}
	if err := json.Unmarshal([]byte(jwt("verify", access, "--issuer", issuer, "--audience", "svc", "--json")), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.SignatureVerified || doc.Claims["sub"] != "svc" || doc.Claims["iss"] != issuer || doc.Header["typ"] != "at+jwt" {
		t.Errorf("verify --issuer: %+v", doc)
	}
	// ...and against the published JWKS alone.
	jwt("verify", access, "--jwks", issuer+"/oauth2/jwks", "--audience", "svc")

	jwtFails("token rejected", access, "--issuer", issuer, "--audience", "https://other.example")
	// A client assertion is not an access token (typ JWT, unknown kid).
	jwtFails("token rejected", assertion, "--issuer", issuer)
	none := jwtUnsigned(t, map[string]any{"alg": "none", "typ": "at+jwt"}, map[string]any{"iss": issuer, "sub": "admin"})
	jwtFails(`alg "none"`, none, "--issuer", issuer)

	clk.Advance(24 * time.Hour)
	jwtFails("expired", access, "--issuer", issuer, "--audience", "svc")
	jwtFails("expired", access, "--jwks", issuer+"/oauth2/jwks")
}
