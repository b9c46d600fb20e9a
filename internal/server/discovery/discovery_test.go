package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// The tests here drive the endpoints with fake keys; the document of the
// real server, byte for byte, is internal/server's golden test
// (testdata/discovery.json, testdata/jwks.json).

const issuer = "https://auth.example.com/base"

// fakeKeys are signing keys that count their reloads.
type fakeKeys struct {
	algs      []string
	reloadErr error
	reloads   []time.Duration
}

func (k *fakeKeys) Algorithms() []string { return k.algs }
func (k *fakeKeys) JWKS() []byte         { return []byte(`{"keys":[{"kid":"k1"}]}`) }
func (k *fakeKeys) ReloadIfStale(_ context.Context, maxAge time.Duration) (bool, error) {
	k.reloads = append(k.reloads, maxAge)
	return false, k.reloadErr
}

func newDiscovery(keys *fakeKeys, requirePAR bool, logs io.Writer) *Discovery {
	return New(Deps{
		Issuer: issuer,
		Endpoints: Endpoints{
			Authorization: "/authz", Token: "/tok", DeviceAuthorization: "/dev", Revocation: "/rev",
			Introspection: "/intro", Userinfo: "/ui", EndSession: "/out", PushedAuthorization: "/par",
		},
		Scopes:              []string{"openid", "account"},
		GroupsClaim:         "teams",
		RequirePAR:          requirePAR,
		AssertionAlgorithms: []string{"ES256"},
		DPoPAlgorithms:      []string{"EdDSA"},
		Keys:                keys,
		KeyRefreshAge:       3 * time.Second,
		Logger:              slog.New(slog.NewTextHandler(logs, nil)),
	})
}

func serve(t *testing.T, ds *Discovery, path string) *httptest.ResponseRecorder {
	t.Helper()
	mux := http.NewServeMux()
	ds.Routes(func(pattern, route string, h http.HandlerFunc) { mux.Handle(pattern, h) })
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestMetadataFromDeps(t *testing.T) {
	keys := &fakeKeys{algs: []string{"RS256", "ES256"}}
	ds := newDiscovery(keys, true, io.Discard)
	for _, path := range []string{PathOAuth, PathOIDC} {
		rec := serve(t, ds, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		h := rec.Header()
		if h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Cache-Control") != "public, max-age=300" || h.Get("Content-Type") != "application/json" {
			t.Errorf("%s headers %v", path, h)
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]any{
			"issuer":                                issuer,
			"authorization_endpoint":                issuer + "/authz",
			"token_endpoint":                        issuer + "/tok",
			"device_authorization_endpoint":         issuer + "/dev",
			"revocation_endpoint":                   issuer + "/rev",
			"introspection_endpoint":                issuer + "/intro",
			"userinfo_endpoint":                     issuer + "/ui",
			"end_session_endpoint":                  issuer + "/out",
			"pushed_authorization_request_endpoint": issuer + "/par",
			"jwks_uri":                              issuer + PathJWKS,
			"require_pushed_authorization_requests": true,
		} {
			if m[k] != want {
				t.Errorf("%s %s = %v, want %v", path, k, m[k], want)
			}
		}
		var md protocol.Metadata
		if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]struct{ got, want []string }{
			"scopes":               {md.ScopesSupported, []string{"openid", "account"}},
			"ID token algorithms":  {md.IDTokenSigningAlgValuesSupported, []string{"RS256", "ES256"}},
			"assertion algorithms": {md.TokenEndpointAuthSigningAlgValuesSupported, []string{"ES256"}},
			"DPoP algorithms":      {md.DPoPSigningAlgValuesSupported, []string{"EdDSA"}},
		} {
			if !slices.Equal(c.got, c.want) {
				t.Errorf("%s %s = %v, want %v", path, name, c.got, c.want)
			}
		}
		if !slices.Contains(md.ClaimsSupported, "teams") {
			t.Errorf("claims_supported %v lacks the groups claim", md.ClaimsSupported)
		}
	}
	// The algorithms are read at each request: a rotation to another
	// algorithm shows at once.
	keys.algs = []string{"EdDSA"}
	if !strings.Contains(serve(t, ds, PathOIDC).Body.String(), `"id_token_signing_alg_values_supported":["EdDSA"]`) {
		t.Error("the key algorithms are not read at each request")
	}
}

func TestRequirePAROff(t *testing.T) {
	m := newDiscovery(&fakeKeys{}, false, io.Discard).Metadata()
	if m.RequirePushedAuthorizationRequests {
		t.Error("announces PAR as required when it is not")
	}
}

func TestJWKS(t *testing.T) {
	keys := &fakeKeys{}
	var logs strings.Builder
	rec := serve(t, newDiscovery(keys, false, &logs), PathJWKS)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"keys":[{"kid":"k1"}]}` {
		t.Errorf("jwks: %d %q", rec.Code, rec.Body)
	}
	h := rec.Header()
	if h.Get("Content-Type") != "application/jwk-set+json" || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Cache-Control") != "public, max-age=300" {
		t.Errorf("jwks headers %v", h)
	}
	if !slices.Equal(keys.reloads, []time.Duration{3 * time.Second}) {
		t.Errorf("reloads %v, want one with the refresh age", keys.reloads)
	}
	if logs.Len() != 0 {
		t.Errorf("logged %q", logs.String())
	}
	// A failed reload is logged and what is loaded is served.
	keys.reloadErr = errors.New("store down")
	rec = serve(t, newDiscovery(keys, false, &logs), PathJWKS)
	if rec.Code != http.StatusOK || rec.Body.String() != `{"keys":[{"kid":"k1"}]}` {
		t.Errorf("jwks after a failed reload: %d %q", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "store down") {
		t.Errorf("the failed reload was not logged: %q", logs.String())
	}
}
