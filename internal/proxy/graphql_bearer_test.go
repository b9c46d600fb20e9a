package proxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

func TestViewerGraphQLMutationsNeverReachTheApp(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("viewer-client", "viewer")
	jsonHdr := bearer(tok)
	jsonHdr.Set("Content-Type", "application/json")
	gqlHdr := bearer(tok)
	gqlHdr.Set("Content-Type", "application/graphql")
	denied := []struct {
		method, path string
		hdr          http.Header
		body         string
	}{
		{"POST", "/graphql", jsonHdr, `{"query":"mutation { launchRun(job: \"a\") { id } }"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"mutation { safe: launchRun(job: \"a\") { id } }"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"query A { runs { id } } mutation B { launchRun(job: \"a\") { id } }","operationName":"A"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"query A { runs { id } } mutation B { launchRun(job: \"a\") { id } }"}`},
		{"POST", "/graphql", jsonHdr, `[{"query":"{ runs { id } }"},{"query":"mutation { launchRun(job: \"a\") { id } }"}]`},
		{"GET", "/graphql?query=" + url.QueryEscape(`mutation { launchRun(job: "a") { id } }`), bearer(tok), ""},
		{"POST", "/graphql", gqlHdr, `mutation { launchRun(job: "a") { id } }`},
		{"POST", "/graphql", jsonHdr, `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}`},
		{"POST", "/graphql", jsonHdr, `{"query":"mutation {"}`},
		{"POST", "/graphql", jsonHdr, `{"query":"query { runs { id } }","query":"mutation { launchRun(job: \"a\") { id } }"}`},
	}
	for _, tc := range denied {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		res := h.do(h.client(), tc.method, tc.path, tc.hdr, body)
		if res.StatusCode == http.StatusOK {
			t.Errorf("%s %s %s: allowed", tc.method, tc.path, tc.body)
		}
	}
	if m := h.app.Mutations(); len(m) != 0 {
		t.Fatalf("mutations reached the app: %v", m)
	}
	allowed := []string{
		`{"query":"{ runs { id } }"}`,
		`{"query":"query { runs(filter: \"mutation\") { id } } # mutation { launchRun }"}`,
	}
	for _, b := range allowed {
		res := h.do(h.client(), http.MethodPost, "/graphql", jsonHdr, []byte(b))
		if res.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(res.Body)
			t.Errorf("query %s: %d %s", b, res.StatusCode, body)
		}
	}
	if !h.waitAudit(`"type":"proxy.denied"`) {
		t.Error("no proxy.denied audit event")
	}
}

func TestEditorMayLaunchButNotDelete(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("editor-client", "editor")
	hdr := bearer(tok)
	hdr.Set("Content-Type", "application/json")
	if res := h.do(h.client(), http.MethodPost, "/graphql", hdr, []byte(`{"query":"mutation { launchRun(job: \"a\") { id } }"}`)); res.StatusCode != http.StatusOK {
		t.Fatalf("launch: %d", res.StatusCode)
	}
	if res := h.do(h.client(), http.MethodPost, "/graphql", hdr, []byte(`{"query":"mutation { launchRun(job: \"a\") { id } deleteRun(id: \"1\") }"}`)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("launch+delete: %d, want 403", res.StatusCode)
	}
	if m := h.app.Mutations(); !slices.Equal(m, []string{"launchRun"}) {
		t.Fatalf("app mutations %v", m)
	}
}

func TestAPIKeyRevocationWithinTheIntrospectionTTL(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "bot", "pw-bot-12345", "viewer")
	id, key := h.apiKey(u)
	if res := h.get(h.client(), "/echo", bearer(key)); res.StatusCode != http.StatusOK {
		t.Fatalf("API key: %d", res.StatusCode)
	}
	err := h.srv.Store.UpdateAPIKey(context.Background(), id, func(k *storage.APIKey) error {
		k.RevokedAt = h.srv.Clock.Now()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The server caches keys for 5 s and the gateway introspection answers
	// for DefaultIntrospectionTTL: after both, the key is refused.
	h.srv.Clock.Advance(DefaultIntrospectionTTL + 6e9)
	if res := h.get(h.client(), "/echo", bearer(key)); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked API key: %d, want 401", res.StatusCode)
	}
}

func TestRevokedJWTRefusedWithinTheRevocationTTL(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("viewer-client", "viewer")
	if res := h.get(h.client(), "/echo", bearer(tok)); res.StatusCode != http.StatusOK {
		t.Fatalf("token: %d", res.StatusCode)
	}
	parts := strings.Split(tok, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		JTI string `json:"jti"`
		Exp int64  `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.JTI == "" {
		t.Fatalf("claims %s: %v", payload, err)
	}
	if err := h.srv.Store.RevokeAccessToken(context.Background(), claims.JTI, time.Unix(claims.Exp, 0)); err != nil {
		t.Fatal(err)
	}
	h.srv.Clock.Advance(RevocationTTL)
	if res := h.get(h.client(), "/echo", bearer(tok)); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked token after %s: %d, want 401", RevocationTTL, res.StatusCode)
	}
}

// A bearer JWT the issuer gave another client for another resource is
// refused, whatever its roles: only tokens whose aud names the gateway
// open it.
func TestBearerJWTForAnotherAudienceIsRefused(t *testing.T) {
	h := newHarness(t)
	for _, tc := range []struct {
		name      string
		audiences []string
		want      int
	}{
		{"default audience (the client's own id)", nil, http.StatusUnauthorized},
		{"another resource server", []string{"https://wiki.example"}, http.StatusUnauthorized},
		{"the gateway", []string{gatewayAudience}, http.StatusOK},
		{"the gateway among others", []string{"https://wiki.example", gatewayAudience}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := h.clientTokenFor("c-"+strings.ReplaceAll(tc.name, " ", "-"), tc.audiences, "admin")
			res := h.get(h.client(), "/echo", bearer(tok))
			if res.StatusCode != tc.want {
				t.Errorf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
}
