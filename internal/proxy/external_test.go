package proxy

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"log/slog"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-auth/gatehouse/internal/config"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
)

// fakeIdP is another identity provider (Keycloak-like): OpenID Connect
// discovery only, an RSA key, RS256 tokens with typ JWT, roles under
// realm_access.roles, and optionally an introspection endpoint.
type fakeIdP struct {
	t   *testing.T
	srv *httptest.Server
	// docIssuer is the issuer its documents and tokens name.
	docIssuer     string
	introspection bool
	key           *rsa.PrivateKey

	introspectHits atomic.Int32
	// introspectDown makes the introspection endpoint fail (HTTP 500).
	introspectDown atomic.Bool
}

// fakeIdPKey is made once: RSA key generation is slow.
var fakeIdPKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newFakeIdP(t *testing.T, trailingSlash, introspection bool) *fakeIdP {
	t.Helper()
	key, err := fakeIdPKey()
	if err != nil {
		t.Fatal(err)
	}
	idp := &fakeIdP{t: t, key: key, introspection: introspection}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		base := idp.srv.URL
		doc := map[string]any{
			"issuer":                                idp.docIssuer,
			"authorization_endpoint":                base + "/auth",
			"token_endpoint":                        base + "/token",
			"jwks_uri":                              base + "/certs",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		}
		if idp.introspection {
			doc["introspection_endpoint"] = base + "/token/introspect"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("GET /certs", func(w http.ResponseWriter, r *http.Request) {
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"}}}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("POST /token/introspect", func(w http.ResponseWriter, r *http.Request) {
		idp.introspectHits.Add(1)
		if idp.introspectDown.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if id, sec, ok := r.BasicAuth(); !ok || id != "dagster" || sec != "dagster-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		answer := map[string]any{"active": false}
		if r.PostFormValue("token") == "opaque-good" {
			answer = map[string]any{"active": true, "iss": idp.docIssuer, "sub": "svc-1", "client_id": "etl",
				"aud": "dagster", "realm_access": map[string]any{"roles": []string{"viewer"}}}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	})
	idp.srv = httptest.NewServer(mux)
	t.Cleanup(idp.srv.Close)
	idp.docIssuer = idp.srv.URL
	if trailingSlash {
		idp.docIssuer += "/"
	}
	return idp
}

// token signs claims (over valid defaults) with header alg RS256 and typ.
func (idp *fakeIdP) token(typ string, claims map[string]any) string {
	idp.t.Helper()
	now := time.Now().Unix()
	c := map[string]any{
		"iss": idp.docIssuer, "sub": "user-1", "aud": "dagster", "azp": "cli", "exp": now + 300, "iat": now,
		"preferred_username": "alice", "email": "alice@example.com",
		"realm_access": map[string]any{"roles": []string{"viewer"}},
	}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	hdr := map[string]any{"alg": "RS256", "kid": "rsa-1"}
	if typ != "" {
		hdr["typ"] = typ
	}
	h, _ := json.Marshal(hdr)
	p, _ := json.Marshal(c)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, idp.key, crypto.SHA256, digest[:])
	if err != nil {
		idp.t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

const externalPolicy = `
version: 1
rules:
  - name: admin area
    paths: ["/admin/**"]
    roles: [admin]
  - name: read
    roles: [viewer, admin]
    paths: ["/"]
    methods: [GET]
`

// externalGateway is a gateway opened with --issuer set to issuer.
type externalGateway struct {
	inst *Instance
	logs *syncBuffer
}

func openExternalGateway(t *testing.T, issuer string, mod func(*Config)) (*externalGateway, error) {
	t.Helper()
	return openExternalGatewayWith(t, issuer, externalPolicy, mod)
}

// openExternalGatewayWith is openExternalGateway with the policy src.
func openExternalGatewayWith(t *testing.T, issuer, src string, mod func(*Config)) (*externalGateway, error) {
	t.Helper()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Seen-Roles", r.Header.Get(HeaderRoles))
		w.Header().Set("X-Seen-Email", r.Header.Get(HeaderEmail))
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(app.Close)
	pol, err := policy.Parse([]byte(src), "external.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Upstream: app.URL, PublicURL: "http://127.0.0.1:4180", Issuer: issuer,
		ClientID: "dagster", ClientSecret: "dagster-secret",
		RolesClaim: "realm_access.roles", GroupsClaim: "groups",
	}
	if mod != nil {
		mod(&cfg)
	}
	sc := &config.Server{DataDir: t.TempDir()}
	sc.Audit.Output = "off"
	logs := &syncBuffer{}
	inst, err := Open(context.Background(), Options{
		Config: cfg, Policy: pol, Server: sc, Sessions: SessionsMemory,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { inst.Close() })
	return &externalGateway{inst: inst, logs: logs}, nil
}

func (g *externalGateway) get(path, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4180"+path, nil)
	r.RemoteAddr = "192.0.2.1:1234"
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	g.inst.Gateway.Handler().ServeHTTP(w, r)
	return w
}

func mustOpenExternal(t *testing.T, issuer string, mod func(*Config)) *externalGateway {
	t.Helper()
	g, err := openExternalGateway(t, issuer, mod)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestExternalIssuerBearerJWT(t *testing.T) {
	idp := newFakeIdP(t, false, true)
	g := mustOpenExternal(t, idp.srv.URL, nil)

	t.Run("RS256 typ JWT with the right audience", func(t *testing.T) {
		for _, typ := range []string{"JWT", "", "at+jwt"} {
			w := g.get("/", idp.token(typ, map[string]any{"client_id": "cli", "jti": "j-" + typ}))
			if w.Code != http.StatusOK {
				t.Fatalf("typ %q: status %d: %s", typ, w.Code, w.Body)
			}
			if got := w.Header().Get("X-Seen-Roles"); got != "viewer" {
				t.Errorf("typ %q: roles sent upstream %q, want viewer (from realm_access.roles)", typ, got)
			}
		}
	})
	t.Run("roles come from the roles claim only", func(t *testing.T) {
		// A top-level "roles" claim is not what the operator named.
		w := g.get("/admin/x", idp.token("JWT", map[string]any{"roles": []string{"admin"}}))
		if w.Code != http.StatusForbidden {
			t.Fatalf("status %d, want 403", w.Code)
		}
	})
	t.Run("groups are added", func(t *testing.T) {
		w := g.get("/admin/x", idp.token("JWT", map[string]any{"groups": []string{"admin"}}))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d, want 200", w.Code)
		}
		if got := w.Header().Get("X-Seen-Roles"); !strings.Contains(got, "admin") || !strings.Contains(got, "viewer") {
			t.Errorf("roles %q, want viewer and admin", got)
		}
	})
	refused := map[string]string{
		"another audience":     idp.token("JWT", map[string]any{"aud": "another-app"}),
		"another issuer":       idp.token("JWT", map[string]any{"iss": "https://evil.example"}),
		"an ID token's typ":    idp.token("id_token+jwt", nil),
		"no sub":               idp.token("JWT", map[string]any{"sub": nil}),
		"garbage opaque token": "not-a-token-at-all",
		"expired":              idp.token("JWT", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}),
	}
	for name, tok := range refused {
		t.Run(name, func(t *testing.T) {
			w := g.get("/", tok)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", w.Code, w.Body)
			}
		})
	}
	t.Run("opaque token by introspection", func(t *testing.T) {
		w := g.get("/", "opaque-good")
		if w.Code != http.StatusOK || w.Header().Get("X-Seen-Roles") != "viewer" {
			t.Fatalf("status %d roles %q", w.Code, w.Header().Get("X-Seen-Roles"))
		}
	})
	if strings.Contains(g.logs.String(), "level=ERROR") {
		t.Errorf("bad tokens were logged as errors:\n%s", g.logs)
	}
}

func TestExternalIssuerAlgorithmAllowList(t *testing.T) {
	idp := newFakeIdP(t, false, false)
	g := mustOpenExternal(t, idp.srv.URL, func(c *Config) { c.JWTAlgorithms = []string{"ES256"} })
	if w := g.get("/", idp.token("JWT", nil)); w.Code != http.StatusUnauthorized {
		t.Fatalf("RS256 with --jwt-alg ES256: status %d, want 401", w.Code)
	}
	if _, err := openExternalGateway(t, idp.srv.URL, func(c *Config) { c.JWTAlgorithms = []string{"HS256"} }); err == nil {
		t.Fatal("--jwt-alg HS256 accepted")
	}
	if _, err := openExternalGateway(t, "", func(c *Config) { c.JWTAlgorithms = []string{"RS256"} }); err == nil {
		t.Fatal("--jwt-alg accepted without --issuer")
	}
}

func TestExternalIssuerWithoutIntrospection(t *testing.T) {
	idp := newFakeIdP(t, false, false)
	g := mustOpenExternal(t, idp.srv.URL, nil)
	for _, tok := range []string{"opaque-good", "garbage"} {
		if w := g.get("/", tok); w.Code != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", tok, w.Code)
		}
	}
	if n := idp.introspectHits.Load(); n != 0 {
		t.Fatalf("introspection was called %d times at a guessed URL", n)
	}
	if strings.Contains(g.logs.String(), "level=ERROR") {
		t.Errorf("bad tokens were logged as errors:\n%s", g.logs)
	}
}

func TestExternalIssuerTrailingSlash(t *testing.T) {
	for _, tc := range []struct {
		name       string
		docSlash   bool
		configured func(url string) string
	}{
		{"document with slash, typed without", true, func(u string) string { return u }},
		{"document without slash, typed with", false, func(u string) string { return u + "/" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := newFakeIdP(t, tc.docSlash, false)
			g := mustOpenExternal(t, tc.configured(idp.srv.URL), nil)
			if got := g.inst.Gateway.provider.Issuer(); got != idp.docIssuer {
				t.Errorf("login issuer %q, want the document's %q", got, idp.docIssuer)
			}
			if w := g.get("/", idp.token("JWT", nil)); w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			// iss is compared with the document's spelling exactly.
			other := strings.TrimSuffix(idp.docIssuer, "/")
			if other == idp.docIssuer {
				other += "/"
			}
			if w := g.get("/", idp.token("JWT", map[string]any{"iss": other})); w.Code != http.StatusUnauthorized {
				t.Fatalf("iss %q: status %d, want 401", other, w.Code)
			}
		})
	}
	t.Run("a path is part of the issuer", func(t *testing.T) {
		idp := newFakeIdP(t, false, false)
		idp.docIssuer = idp.srv.URL + "/realms/main"
		if _, err := openExternalGateway(t, idp.srv.URL, nil); err == nil {
			t.Fatal("a document for another issuer was accepted")
		}
	})
}

func TestExternalIssuerIntrospectionDown(t *testing.T) {
	idp := newFakeIdP(t, false, true)
	g := mustOpenExternal(t, idp.srv.URL, nil)
	idp.introspectDown.Store(true)
	w := g.get("/", "opaque-good")
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, want 503 with Retry-After", w.Code)
	}
	if logs := g.logs.String(); strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "issuer unavailable") {
		t.Errorf("want a warning, not an error:\n%s", logs)
	}
}

func TestClaimStrings(t *testing.T) {
	claims := map[string]any{
		"realm_access":              map[string]any{"roles": []any{"viewer", 7, "editor"}},
		"https://example.com/roles": []any{"admin"},
		"groups":                    "ops",
	}
	for path, want := range map[string]string{
		"realm_access.roles":        "viewer,editor",
		"https://example.com/roles": "admin",
		"groups":                    "ops",
		"realm_access.missing":      "",
	} {
		got, _ := claimStrings(claims, path)
		if strings.Join(got, ",") != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

// TestExternalIssuerRejectIDTokens: by default an ID token the issuer
// gave the gateway's own login (aud = the client id, a nonce, typ JWT) is
// accepted as a bearer credential; with RejectIDTokens it is refused,
// while an access token for the API's audience still passes.
func TestExternalIssuerRejectIDTokens(t *testing.T) {
	idp := newFakeIdP(t, false, false)
	idToken := idp.token("JWT", map[string]any{"nonce": "n-1", "at_hash": "abc", "azp": "dagster"})
	keycloakID := idp.token("JWT", map[string]any{"typ": "ID", "aud": "https://dagster.example/api"})
	access := idp.token("JWT", map[string]any{"aud": "https://dagster.example/api", "typ": "Bearer"})
	ownAudience := idp.token("JWT", nil) // aud = the client id, no ID-token claim

	lax := mustOpenExternal(t, idp.srv.URL, func(c *Config) { c.Audiences = []string{"https://dagster.example/api"} })
	if w := lax.get("/", idToken); w.Code != http.StatusOK {
		t.Fatalf("without the option the ID token got %d; the test shows nothing", w.Code)
	}
	strict := mustOpenExternal(t, idp.srv.URL, func(c *Config) {
		c.Audiences = []string{"https://dagster.example/api"}
		c.RejectIDTokens = true
	})
	for name, tc := range map[string]struct {
		tok  string
		want int
	}{
		"ID token of the gateway's login":   {idToken, http.StatusUnauthorized},
		"Keycloak ID token (typ ID)":        {keycloakID, http.StatusUnauthorized},
		"token whose aud is the client id":  {ownAudience, http.StatusUnauthorized},
		"access token for the API audience": {access, http.StatusOK},
	} {
		if w := strict.get("/", tc.tok); w.Code != tc.want {
			t.Errorf("%s: status %d, want %d: %s", name, w.Code, tc.want, w.Body)
		}
	}
	if _, err := openExternalGateway(t, "", func(c *Config) { c.RejectIDTokens = true }); err == nil || !strings.Contains(err.Error(), "--reject-id-tokens") {
		t.Errorf("embedded with RejectIDTokens: err = %v", err)
	}
}
