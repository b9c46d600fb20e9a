package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/redisconn"
)

// TestReplicas runs two `gatehouse server` processes on one PostgreSQL
// schema and one Redis database, started at the same moment, and checks
// that they behave as one server: tokens, codes, refresh token families,
// revocations, browser sessions, login rate limits and signing keys are
// shared. Both use replica A's URL as the issuer; requests go to either
// address. It needs GATEHOUSE_TEST_POSTGRES_DSN and a Redis server at
// GATEHOUSE_TEST_REDIS_URL; its keys go under a prefix of the test's own
// in the URL's database and are deleted when it ends.
func TestReplicas(t *testing.T) {
	db, redisURL := sharedBackends(t)

	key := make([]byte, 32)
	rand.Read(key)
	secretKey := hex.EncodeToString(key)
	cfgFile := filepath.Join(t.TempDir(), "server.yaml")
	const loginBudget = 4
	// No refresh reuse interval: a repeat at once is reuse (as in
	// TestReplayDetection).
	yaml := fmt.Sprintf(`signing:
  reload_interval: 1s
tokens:
  refresh_reuse_interval: 0s
limits:
  login_per_ip: {requests: 1000, per: 1m, burst: 1000}
  login_per_user: {requests: %d, per: 1m, burst: %d}
`, loginBudget, loginBudget)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}

	addrA, addrB := freeAddr(t), freeAddr(t)
	issuer := "http://" + addrA
	args := []string{"--issuer", issuer, "--db", db, "--redis", redisURL, "--config", cfgFile}
	env := []string{"GATEHOUSE_SECRET_KEY=" + secretKey}
	// Both start before either is waited for: the migrations and the
	// first-start bootstrap run concurrently.
	a := startReplica(t, addrA, env, args...)
	b := startReplica(t, addrB, env, args...)
	a.waitHealthy(t)
	b.waitHealthy(t)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	p, m := discover(t, ctx, a)
	introID, introSecret := createClient(t, a, "introspector", "--grant", "client_credentials", "--scope", "read")
	ccA := clientcredentials.Config{ClientID: introID, ClientSecret: introSecret, TokenURL: p.Endpoint().TokenURL, Scopes: []string{"read"}}
	ccB := ccA
	ccB.TokenURL = at(t, b, ccA.TokenURL)
	mB := m
	mB.IntrospectionEndpoint = at(t, b, m.IntrospectionEndpoint)
	mB.RevocationEndpoint = at(t, b, m.RevocationEndpoint)
	jwksA := at(t, a, jwksURI(t, p))
	jwksB := at(t, b, jwksURI(t, p))
	redirect := "http://" + freeAddr(t) + "/callback"
	cfgA := cliConfig(p, redirect)
	cfgB := cliConfig(p, redirect)
	cfgB.Endpoint.AuthURL = at(t, b, cfgA.Endpoint.AuthURL)
	cfgB.Endpoint.TokenURL = at(t, b, cfgA.Endpoint.TokenURL)

	// Started together on an empty database, both replicas may create a
	// first signing key, each knowing only its own at first. A token with a
	// key id a replica does not know makes it re-read the keys, so tokens
	// of either replica are accepted by the other at once.
	t.Run("tokens cross-verify right after a simultaneous start", func(t *testing.T) {
		for _, s := range []struct {
			from string
			cc   clientcredentials.Config
			at   metadata
		}{{"A", ccA, mB}, {"B", ccB, m}} {
			tok, err := s.cc.Token(ctx)
			if err != nil {
				t.Fatalf("client credentials at %s: %v", s.from, err)
			}
			if in := introspect(t, ctx, s.at, introID, introSecret, tok.AccessToken); !in.Active {
				t.Errorf("token from %s is inactive at the other replica right after start: %+v", s.from, in)
			}
		}
	})
	// Their JWKS documents agree once each has re-read the key table (on
	// a JWKS request at most a second after its last read).
	if diverged := waitSameKeys(t, ctx, jwksA, jwksB, 5*time.Second); diverged != "" {
		t.Errorf("JWKS still differ 5 s after start: %s", diverged)
	}

	// browserA is signed in at A as admin.
	browserA := newBrowser(t, a.URL)
	if err := loginHTTP(browserA, a.URL, "admin", adminPassword); err != nil {
		t.Fatalf("login at A: %v", err)
	}
	// codeAtA runs an authorization request through A with browserA.
	codeAtA := func(t *testing.T) (string, authRequest) {
		ar := newAuthRequest(cfgA)
		return authorizeHTTP(t, browserA, a, cfgA, ar, "admin", adminPassword), ar
	}

	t.Run("readyz", func(t *testing.T) {
		for _, g := range []*gatehouse{a, b} {
			resp, err := http.Get(g.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s/readyz = %d, want 200", g.URL, resp.StatusCode)
			}
		}
	})

	t.Run("token from A verifies and introspects at B", func(t *testing.T) {
		tok, err := ccA.Token(ctx)
		if err != nil {
			t.Fatalf("client credentials at A: %v", err)
		}
		if _, err := verifierFor(ctx, issuer, jwksB).Verify(ctx, tok.AccessToken); err != nil {
			t.Errorf("A's access token does not verify with B's JWKS: %v", err)
		}
		if in := introspect(t, ctx, mB, introID, introSecret, tok.AccessToken); !in.Active || in.ClientID != introID {
			t.Errorf("introspection at B of A's token = %+v; want active, client_id %s", in, introID)
		}
	})

	t.Run("code from A is redeemed once across replicas", func(t *testing.T) {
		code, ar := codeAtA(t)
		tok, err := cfgB.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatalf("redeem A's code at B: %v", err)
		}
		if _, err := verifierFor(ctx, issuer, jwksA).Verify(ctx, tok.AccessToken); err != nil {
			t.Errorf("B's access token does not verify with A's JWKS: %v", err)
		}
		_, err = cfgA.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
		wantOAuthError(t, err, "invalid_grant")
	})

	t.Run("refresh token reuse across replicas revokes the family", func(t *testing.T) {
		code, ar := codeAtA(t)
		tok, err := cfgA.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("code exchange at A: %v (refresh token %q)", err, tok.RefreshToken)
		}
		tok2, err := cfgA.TokenSource(ctx, expired(tok.RefreshToken)).Token()
		if err != nil {
			t.Fatalf("refresh at A: %v", err)
		}
		_, err = cfgB.TokenSource(ctx, expired(tok.RefreshToken)).Token()
		wantOAuthError(t, err, "invalid_grant")
		_, err = cfgA.TokenSource(ctx, expired(tok2.RefreshToken)).Token()
		wantOAuthError(t, err, "invalid_grant")
		if in := introspect(t, ctx, mB, introID, introSecret, tok2.AccessToken); in.Active {
			t.Errorf("access token of a replayed family still active at B: %+v", in)
		}
	})

	// RFC 9449 §11.1: a proof is accepted once. Its jti goes into the
	// replay cache the replicas share through Redis, so a proof captured
	// on its way to A is refused at B, although both accept its htu (the
	// issuer's token endpoint).
	t.Run("DPoP proof used at A is refused at B", func(t *testing.T) {
		key, err := dpop.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		signer, err := dpop.NewSigner(key)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := signer.Proof(http.MethodPost, ccA.TokenURL, "", "")
		if err != nil {
			t.Fatal(err)
		}
		grant := func(tokenURL string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials&scope=read"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("DPoP", proof)
			req.SetBasicAuth(introID, introSecret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			return resp.StatusCode, body
		}
		if st, body := grant(ccA.TokenURL); st != http.StatusOK || body["token_type"] != "DPoP" {
			t.Fatalf("proof at A: %d %v, want a DPoP-bound token", st, body)
		}
		if st, body := grant(ccB.TokenURL); st != http.StatusBadRequest || body["error"] != "invalid_dpop_proof" {
			t.Errorf("the same proof at B: %d %v, want 400 invalid_dpop_proof", st, body)
		}
	})

	t.Run("revocation at A is seen by B", func(t *testing.T) {
		code, ar := codeAtA(t)
		tok, err := cfgA.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier))
		if err != nil {
			t.Fatalf("code exchange at A: %v", err)
		}
		if in := introspect(t, ctx, mB, introID, introSecret, tok.AccessToken); !in.Active {
			t.Fatalf("access token inactive at B before revocation: %+v", in)
		}
		revoke(t, ctx, m, cliClientID, tok.AccessToken, "access_token")
		if in := introspect(t, ctx, mB, introID, introSecret, tok.AccessToken); in.Active {
			t.Errorf("access token revoked at A still active at B: %+v", in)
		}
		// Only its own client may introspect a refresh token, and the CLI
		// client is public: B's view of it shows in a refresh at B.
		tok2, err := cfgB.TokenSource(ctx, expired(tok.RefreshToken)).Token()
		if err != nil {
			t.Fatalf("revoking the access token ended the refresh token too: %v", err)
		}
		revoke(t, ctx, m, cliClientID, tok2.RefreshToken, "refresh_token")
		_, err = cfgB.TokenSource(ctx, expired(tok2.RefreshToken)).Token()
		wantOAuthError(t, err, "invalid_grant")
	})

	t.Run("browser session from A is valid at B", func(t *testing.T) {
		browserB := newBrowser(t, b.URL)
		// Cookies ignore ports, so a shared jar would already send A's
		// cookie to B: copy only the session cookie into a fresh jar.
		var session *http.Cookie
		for _, c := range browserA.Jar.Cookies(mustURL(t, a.URL)) {
			if strings.HasSuffix(c.Name, "gatehouse_session") {
				session = c
			}
		}
		if session == nil {
			t.Fatalf("no session cookie in A's jar: %v", browserA.Jar.Cookies(mustURL(t, a.URL)))
		}
		browserB.Jar.SetCookies(mustURL(t, b.URL), []*http.Cookie{{Name: session.Name, Value: session.Value, Path: "/"}})
		ar := newAuthRequest(cfgB)
		pg, err := browse(browserB, http.MethodGet, ar.URL, nil)
		if err != nil {
			t.Fatalf("authorization request at B: %v", err)
		}
		if pg.Location == nil {
			t.Fatalf("B did not accept A's session (want a redirect to the client): got %s", pg)
		}
		code := checkCallback(t, pg.Location.Query(), ar, issuer)
		if _, err := cfgA.Exchange(ctx, code, oauth2.VerifierOption(ar.Verifier)); err != nil {
			t.Errorf("redeem B's code at A: %v", err)
		}
	})

	t.Run("login rate limit is shared", func(t *testing.T) {
		user := randomName("nobody")
		browsers := []*http.Client{newBrowser(t, a.URL), newBrowser(t, b.URL)}
		urls := []string{a.URL, b.URL}
		for i := range loginBudget + 1 {
			pg, err := browse(browsers[i%2], http.MethodGet, urls[i%2]+"/login", nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := submitLogin(browsers[i%2], pg, user, "wrong-password")
			if err != nil {
				t.Fatal(err)
			}
			want := http.StatusUnauthorized
			if i == loginBudget {
				want = http.StatusTooManyRequests
			}
			if res.Status != want {
				t.Fatalf("failed login %d (at %s) = %d; want %d with a shared budget of %d", i+1, urls[i%2], res.Status, want, loginBudget)
			}
		}
	})

	t.Run("key rotation reaches both replicas", func(t *testing.T) {
		out := runWithEnv(t, env, "keys", "rotate", "--activate-in", "0s", "--json", "--db", db, "--data-dir", a.DataDir)
		var k struct {
			ID string `json:"kid"`
		}
		if err := json.Unmarshal([]byte(out), &k); err != nil || k.ID == "" {
			t.Fatalf("keys rotate --json: %v\n%s", err, out)
		}
		// Wait until both sign with the new key: each has then loaded it
		// and publishes it.
		deadline := time.Now().Add(10 * time.Second)
		signed := map[string]string{}
		for _, s := range []struct {
			name string
			cc   clientcredentials.Config
		}{{"A", ccA}, {"B", ccB}} {
			for {
				tok, err := s.cc.Token(ctx)
				if err != nil {
					t.Fatalf("client credentials at %s: %v", s.name, err)
				}
				h, err := jwtHeader(tok.AccessToken)
				if err != nil {
					t.Fatal(err)
				}
				if h.KeyID == k.ID {
					signed[s.name] = tok.AccessToken
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still signs with %s, not the rotated key %s, 10s after the rotation (reload_interval 1s)", s.name, h.KeyID, k.ID)
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		if _, err := verifierFor(ctx, issuer, jwksB).Verify(ctx, signed["A"]); err != nil {
			t.Errorf("token signed by A with the new key does not verify with B's JWKS: %v", err)
		}
		if _, err := verifierFor(ctx, issuer, jwksA).Verify(ctx, signed["B"]); err != nil {
			t.Errorf("token signed by B with the new key does not verify with A's JWKS: %v", err)
		}
	})
}

// sharedBackends is what replicas share: a fresh PostgreSQL schema (its
// DSN) and a fresh Redis database (its URL). It skips t without
// GATEHOUSE_TEST_POSTGRES_DSN, and marks it parallel otherwise.
func sharedBackends(t *testing.T) (db, redisURL string) {
	t.Helper()
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("GATEHOUSE_TEST_POSTGRES_DSN is not set")
	}
	redisBase := os.Getenv("GATEHOUSE_TEST_REDIS_URL")
	if redisBase == "" {
		t.Skip("GATEHOUSE_TEST_REDIS_URL is not set")
	}
	t.Parallel()
	return freshSchemaDSN(t), freshRedisDB(t, redisBase)
}

// startReplica starts `gatehouse server` on addr with a new data directory
// and the extra environment env, without waiting for it to be healthy.
func startReplica(t *testing.T, addr string, env []string, args ...string) *gatehouse {
	t.Helper()
	return spawn(t, addr, t.TempDir(), env, args...)
}

// runWithEnv runs the gatehouse binary with args and the extra environment
// env, failing the test unless it exits 0; it returns its stdout.
func runWithEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(baseEnv(), env...)
	var errOut strings.Builder
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gatehouse %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut.String())
	}
	return string(out)
}

// freshRedisDB returns a Redis URL on the server and database of base
// (GATEHOUSE_TEST_REDIS_URL) with a key_prefix of the test's own, and
// deletes the keys under that prefix, and only those, when the test ends.
// It never flushes a database: the Redis may hold other people's data.
func freshRedisDB(t *testing.T, base string) string {
	t.Helper()
	ru, err := redisconn.Parse(base)
	if err != nil {
		t.Fatalf("GATEHOUSE_TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(ru.Options)
	if err := client.Ping(t.Context()).Err(); err != nil {
		client.Close()
		t.Fatalf("redis at %s does not answer: %v", ru.Options.Addr, err)
	}
	prefix := "gatehouse-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		defer client.Close()
		n, err := deleteKeys(context.Background(), client, prefix)
		if err != nil {
			t.Errorf("delete redis keys %s*: %v", prefix, err)
		}
		t.Logf("deleted %d redis keys under %s", n, prefix)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("key_prefix", prefix)
	u.RawQuery = q.Encode()
	return u.String()
}

// deleteKeys deletes the keys under prefix and returns how many there were.
func deleteKeys(ctx context.Context, client *redis.Client, prefix string) (int, error) {
	iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	return len(keys), client.Del(ctx, keys...).Err()
}

// at is endpoint (a URL under the shared issuer) at replica g instead.
func at(t testing.TB, g *gatehouse, endpoint string) string {
	t.Helper()
	u := mustURL(t, endpoint)
	u.Host = g.Addr
	return u.String()
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// jwksURI is the jwks_uri of the discovery document.
func jwksURI(t testing.TB, p *oidc.Provider) string {
	t.Helper()
	var d struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&d); err != nil || d.JWKS == "" {
		t.Fatalf("discovery jwks_uri: %v (%q)", err, d.JWKS)
	}
	return d.JWKS
}

// jwksKids are the key ids of the JWK set at jwks, sorted.
func jwksKids(ctx context.Context, jwks string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, jwks, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", jwks, resp.StatusCode)
	}
	var set struct {
		Keys []struct {
			ID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("GET %s: %w", jwks, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.ID)
	}
	slices.Sort(kids)
	return kids, nil
}

// waitSameKeys waits up to timeout for the JWK sets at jwksA and jwksB to
// list the same keys. It returns "" if they did so at once, and otherwise
// a description of how they differed first.
func waitSameKeys(t testing.TB, ctx context.Context, jwksA, jwksB string, timeout time.Duration) string {
	t.Helper()
	first := ""
	deadline := time.Now().Add(timeout)
	for {
		ka, err := jwksKids(ctx, jwksA)
		if err != nil {
			t.Fatal(err)
		}
		kb, err := jwksKids(ctx, jwksB)
		if err != nil {
			t.Fatal(err)
		}
		if len(ka) > 0 && slices.Equal(ka, kb) {
			return first
		}
		if first == "" {
			first = fmt.Sprintf("JWKS of A lists %v, of B %v", ka, kb)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replicas' JWKS still differ after %s: A %v, B %v", timeout, ka, kb)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verifierFor verifies access tokens of issuer with the keys fetched anew
// from jwks; it checks keys and signatures, so any audience will do.
func verifierFor(ctx context.Context, issuer, jwks string) *oidc.IDTokenVerifier {
	return oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, jwks), &oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{"ES256", "EdDSA"}})
}
