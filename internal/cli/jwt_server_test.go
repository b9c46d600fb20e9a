package cli

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/server"
	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// jwtStartServer starts the real authorization server in-process on the
// database of h, with j's fake clock, and returns its issuer URL.
func jwtStartServer(t *testing.T, h *harness, j *jwtTester) string {
	t.Helper()
	srv := servertest.Start(t, servertest.WithStore(h.store()), servertest.WithClock(j.clock),
		servertest.WithConfig(func(cfg *config.Server) { cfg.DataDir = h.dataDir }))
	return srv.URL
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
	h := newHarness(t)
	j := newJWTTester(t)
	key, jwks := j.keygen("ES256", "svc.pem")
	h.ok("", "clients", "create", "svc", "--grant", "client_credentials", "--scope", "read",
		"--auth-method", "private_key_jwt", "--jwks-file", jwks)
	issuer := jwtStartServer(t, h, j)
	endpoint := issuer + server.PathToken

	assertion := j.sign("--key", key, "--assertion", "--client-id", "svc", "--token-endpoint", endpoint)
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
	other, _ := j.keygen("ES256", "other.pem")
	forged := j.sign("--key", other, "--assertion", "--client-id", "svc", "--token-endpoint", endpoint)
	if code, body := jwtTokenRequest(t, issuer, forged); code != http.StatusUnauthorized {
		t.Errorf("assertion signed with another key: %d %v, want 401", code, body)
	}

	// The access token verifies as a resource server would check it...
	// (Its audience is the client's own id: svc registered none.)
	doc := jwtVerified(t, j.ok("", "jwt", "verify", access, "--issuer", issuer, "--audience", "svc", "--json").Out)
	if !doc.SignatureVerified || doc.Claims["sub"] != "svc" || doc.Claims["iss"] != issuer || doc.Header["typ"] != "at+jwt" {
		t.Errorf("verify --issuer: %+v", doc)
	}
	// ...and against the published JWKS alone.
	j.ok("", "jwt", "verify", access, "--jwks", issuer+"/oauth2/jwks", "--audience", "svc")

	j.fail(command.ExitError, "token rejected", "", "jwt", "verify", access, "--issuer", issuer, "--audience", "https://other.example")
	// A client assertion is not an access token (typ JWT, unknown kid).
	j.fail(command.ExitError, "token rejected", "", "jwt", "verify", assertion, "--issuer", issuer)
	none := jwtCraft(t, map[string]any{"alg": "none", "typ": "at+jwt"}, map[string]any{"iss": issuer, "sub": "admin"}, func(string) []byte { return nil })
	j.fail(command.ExitError, `alg "none"`, "", "jwt", "verify", none, "--issuer", issuer)

	j.clock.Advance(24 * time.Hour)
	j.fail(command.ExitError, "expired", "", "jwt", "verify", access, "--issuer", issuer, "--audience", "svc")
	j.fail(command.ExitError, "expired", "", "jwt", "verify", access, "--jwks", issuer+"/oauth2/jwks")
}
