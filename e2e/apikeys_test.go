package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// apiKeyRevocationDelay is the documented delay (docs/server.md) after
// which a running server refuses a key revoked or rotated on the database.
const apiKeyRevocationDelay = 5 * time.Second

// TestAPIKeys creates keys with the real CLI on the server's database,
// uses them at userinfo (through go-oidc) and introspection against the
// real server, then revokes one and rotates the other with the CLI and
// checks that the running server refuses the old keys within the
// documented delay.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	checkAPIKeys(t, startServer(t))
}

// TestAPIKeysPostgres runs the same against a server on PostgreSQL. It
// needs GATEHOUSE_TEST_POSTGRES_DSN.
func TestAPIKeysPostgres(t *testing.T) {
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("GATEHOUSE_TEST_POSTGRES_DSN is not set")
	}
	t.Parallel()
	checkAPIKeys(t, startServer(t, "--db", freshSchemaDSN(t)))
}

func checkAPIKeys(t *testing.T, g *gatehouse) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	p, m := discover(t, ctx, g)
	rsID, rsSecret := createClient(t, g, "rs", "--grant", "client_credentials")
	addUser(t, g, "alice", "editor", "alice's password")

	userKeyID, userKey := createAPIKey(t, g, "alice-laptop", "--user", "alice", "--role", "editor", "--scope", "read")
	svcKeyID, svcKey := createAPIKey(t, g, "deploy", "--role", "viewer", "--expires", "90d")

	// userinfo, read by go-oidc as any relying party would.
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: userKey, TokenType: "Bearer"}))
	if err != nil {
		t.Fatalf("userinfo with alice's API key: %v", err)
	}
	var uc struct {
		Username string   `json:"preferred_username"`
		Roles    []string `json:"roles"`
	}
	if err := ui.Claims(&uc); err != nil {
		t.Fatal(err)
	}
	if ui.Subject == "" || uc.Username != "alice" || !cmp.Equal(uc.Roles, []string{"editor"}) {
		t.Errorf("userinfo = sub %q %+v; want alice with roles [editor]", ui.Subject, uc)
	}

	in := introspectKey(t, ctx, m, rsID, rsSecret, userKey)
	want := map[string]any{"active": true, "sub": ui.Subject, "username": "alice", "scope": "read",
		"roles": []any{"editor"}, "token_type": "api_key", "iss": g.URL, "iat": in["iat"]}
	if d := cmp.Diff(want, in); d != "" || in["iat"] == nil {
		t.Errorf("introspection of alice's key (-want +got):\n%s", d)
	}
	in = introspectKey(t, ctx, m, rsID, rsSecret, svcKey)
	if in["active"] != true || in["sub"] != "apikey:"+svcKeyID || in["exp"] == nil || in["client_id"] != nil {
		t.Errorf("introspection of the deploy key = %v; want active, sub apikey:%s, exp, no client_id", in, svcKeyID)
	}
	if st := userinfoStatus(t, ctx, p.UserInfoEndpoint(), svcKey); st != http.StatusOK {
		t.Errorf("userinfo with the deploy key: %d, want 200", st)
	}

	// Revoke one key and rotate the other with the CLI while the server
	// has both cached.
	gatehouseAdmin(t, g, "apikeys", "revoke", userKeyID)
	rotated := struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}{}
	if err := json.Unmarshal([]byte(gatehouseAdmin(t, g, "apikeys", "rotate", svcKeyID, "--json")), &rotated); err != nil {
		t.Fatalf("apikeys rotate --json: %v", err)
	}
	if rotated.ID != svcKeyID || rotated.Key == svcKey || !strings.HasPrefix(rotated.Key, "gatehouse_"+svcKeyID+"_") {
		t.Fatalf("apikeys rotate --json = %+v; want the same id and a new key", rotated)
	}
	changed := time.Now()
	deadline := changed.Add(apiKeyRevocationDelay + 3*time.Second)
	for {
		revoked := introspectKey(t, ctx, m, rsID, rsSecret, userKey)["active"] == false
		old := introspectKey(t, ctx, m, rsID, rsSecret, svcKey)["active"] == false
		if revoked && old {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v after revoke and rotate: revoked key refused %v, old key refused %v; want both refused within %v",
				time.Since(changed).Round(time.Millisecond), revoked, old, apiKeyRevocationDelay)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, key := range map[string]string{"revoked key": userKey, "rotated-out key": svcKey} {
		in := introspectKey(t, ctx, m, rsID, rsSecret, key)
		if len(in) != 1 {
			t.Errorf("introspection of the %s = %v, want exactly {\"active\":false}", name, in)
		}
		if st := userinfoStatus(t, ctx, p.UserInfoEndpoint(), key); st != http.StatusUnauthorized {
			t.Errorf("userinfo with the %s: %d, want 401", name, st)
		}
	}
	if in := introspectKey(t, ctx, m, rsID, rsSecret, rotated.Key); in["active"] != true || in["sub"] != "apikey:"+svcKeyID {
		t.Errorf("introspection of the rotated key = %v; want active with the same subject", in)
	}

	// The listing shows the revocation and never a key.
	out := gatehouseAdmin(t, g, "apikeys", "list", "--json")
	var keys []struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("apikeys list --json: %v\n%s", err, out)
	}
	states := map[string]string{}
	for _, k := range keys {
		states[k.ID] = k.State
	}
	if states[userKeyID] != "revoked" || states[svcKeyID] != "active" {
		t.Errorf("apikeys list states = %v", states)
	}
	if strings.Contains(out, "gatehouse_") {
		t.Errorf("apikeys list prints a key:\n%s", out)
	}
}

// createAPIKey runs `gatehouse apikeys create NAME ARGS... --json` on g's
// database and returns the id and the key.
func createAPIKey(t testing.TB, g *gatehouse, name string, args ...string) (id, key string) {
	t.Helper()
	out := gatehouseAdmin(t, g, append(append([]string{"apikeys", "create", name}, args...), "--json")...)
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.ID == "" || !strings.HasPrefix(k.Key, "gatehouse_"+k.ID+"_") {
		t.Fatalf("apikeys create --json printed %q (%v); want an id and a gatehouse_<id>_ key", out, err)
	}
	return k.ID, k.Key
}

// gatehouseAdmin runs an admin command on g's database and returns its stdout.
func gatehouseAdmin(t testing.TB, g *gatehouse, args ...string) string {
	t.Helper()
	argv := append(args, g.storage...)
	out, errOut, code := runCLI(t, "", argv...)
	if code != 0 {
		t.Fatalf("gatehouse %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(argv, " "), code, out, errOut)
	}
	return out
}

// introspectKey introspects token as the client id and returns the
// response object.
func introspectKey(t testing.TB, ctx context.Context, m metadata, id, secret, token string) map[string]any {
	t.Helper()
	resp := postForm(t, ctx, m.IntrospectionEndpoint, url.Values{"token": {token}}, id, secret)
	defer resp.Body.Close()
	var in map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&in); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: status %d, %v", resp.StatusCode, err)
	}
	return in
}

// userinfoStatus calls userinfo with a bearer token and returns the status.
func userinfoStatus(t testing.TB, ctx context.Context, endpoint, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", endpoint, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
