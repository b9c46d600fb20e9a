package proxy

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
)

func gqlBody(q string) []byte {
	b, _ := json.Marshal(map[string]string{"query": q})
	return b
}

func jsonHeader(h http.Header) http.Header {
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/graphql-response+json, application/json")
	return h
}

// Refusals on a GraphQL endpoint are GraphQL responses that GraphiQL and
// Apollo show; the deny event names the caller's roles and the operations.
func TestGraphQLRefusalsAreGraphQLResponses(t *testing.T) {
	h := newHarness(t)
	viewer := h.clientToken("viewer-client", "viewer")
	res := h.do(h.client(), http.MethodPost, "/graphql", jsonHeader(bearer(viewer)), gqlBody(`mutation DeleteIt { deleteRun(id: "1") }`))
	var got graphQLErrors
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusForbidden ||
		len(got.Errors) != 1 || got.Errors[0].Extensions["code"] != gqlForbidden || !strings.Contains(got.Errors[0].Message, "DeleteIt") {
		t.Fatalf("refusal: %d %+v %v", res.StatusCode, got, err)
	}
	if !h.waitAudit(`"operations":"mutation DeleteIt"`) || !h.waitAudit(`"roles":"viewer"`) || !h.waitAudit(`"fields":"deleteRun"`) {
		t.Fatalf("deny event without roles and operations: %s", h.auditBuf.String())
	}
	res = h.do(h.client(), http.MethodPost, "/graphql", jsonHeader(nil), gqlBody(`{ runs { id } }`))
	got = graphQLErrors{}
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusUnauthorized ||
		len(got.Errors) != 1 || got.Errors[0].Extensions["code"] != gqlUnauthenticated {
		t.Fatalf("anonymous: %d %+v %v", res.StatusCode, got, err)
	}
	// Elsewhere the OAuth-style JSON error stays.
	res = h.do(h.client(), http.MethodPost, "/echo", bearer(viewer), []byte("x"))
	if res.StatusCode != http.StatusForbidden || strings.Contains(readAll(res), `"errors"`) {
		t.Fatal("non-GraphQL refusal changed")
	}
}

func TestGraphQLRefusalStatus200(t *testing.T) {
	h := newHarness(t, func(_ *Config, d *Deps) {
		p, err := policy.Parse([]byte(strings.Replace(testPolicy, "  max_body_bytes: 65536\nrules:", "  max_body_bytes: 65536\n  refusal_status: 200\nrules:", 1)), "p.yaml")
		if err != nil {
			t.Fatal(err)
		}
		d.Policy = p
	})
	viewer := h.clientToken("viewer-client", "viewer")
	res := h.do(h.client(), http.MethodPost, "/graphql", jsonHeader(bearer(viewer)), gqlBody(`mutation { deleteRun(id: "1") }`))
	if body := readAll(res); res.StatusCode != http.StatusOK || !strings.Contains(body, gqlForbidden) {
		t.Fatalf("refusal_status 200: %d %s", res.StatusCode, body)
	}
	if len(h.app.Mutations()) != 0 {
		t.Fatal("the mutation reached the app")
	}
}

// A browser opening the GraphQL endpoint gets the server's IDE if it may
// query; with graphql.ide: false, or for a caller who may not query, it
// is refused.
func TestGraphQLIDEPageLoad(t *testing.T) {
	h := newHarness(t)
	viewer := h.clientToken("viewer-client", "viewer")
	nobody := h.clientToken("nobody-client", "guest")
	page := func(tok string) int {
		hdr := bearer(tok)
		hdr.Set("Accept", "text/html,application/xhtml+xml")
		return h.get(h.client(), "/graphql", hdr).StatusCode
	}
	if got := page(viewer); got != http.StatusOK {
		t.Fatalf("viewer IDE: %d", got)
	}
	if got := page(nobody); got != http.StatusForbidden {
		t.Fatalf("caller without query rights: %d", got)
	}
	// Without Accept: text/html a GET without a document is refused.
	if res := h.get(h.client(), "/graphql", bearer(viewer)); res.StatusCode != http.StatusForbidden {
		t.Fatalf("GET without query: %d", res.StatusCode)
	}
	// A page load that carries a mutation is judged as one.
	hdr := bearer(viewer)
	hdr.Set("Accept", "text/html")
	if res := h.get(h.client(), "/graphql?query=mutation%7BdeleteRun(id:1)%7D", hdr); res.StatusCode != http.StatusForbidden {
		t.Fatalf("page load with a mutation: %d", res.StatusCode)
	}

	off, err := policy.Parse([]byte(strings.Replace(testPolicy, "  max_body_bytes: 65536\nrules:", "  max_body_bytes: 65536\n  ide: false\nrules:", 1)), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, func(_ *Config, d *Deps) { d.Policy = off })
	v2 := h2.clientToken("viewer-client", "viewer")
	hdr = bearer(v2)
	hdr.Set("Accept", "text/html")
	if res := h2.get(h2.client(), "/graphql", hdr); res.StatusCode != http.StatusForbidden {
		t.Fatalf("ide: false: %d", res.StatusCode)
	}
}

// The forward-auth endpoint refuses a WebSocket on a GraphQL path, in the
// spelling of each proxy, unless the operator opted in.
func TestForwardAuthRefusesGraphQLWebSockets(t *testing.T) {
	for _, optIn := range []bool{false, true} {
		h := newHarness(t, func(c *Config, _ *Deps) {
			c.TrustedProxies = []string{"127.0.0.0/8"}
			c.ForwardAuthUninspectedWebSockets = optIn
		})
		viewer := h.clientToken("viewer-client", "viewer")
		for name, hdr := range map[string]http.Header{
			"caddy": {"X-Forwarded-Uri": {"/graphql"}, "X-Forwarded-Method": {"GET"}, "Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}},
			"nginx": {"X-Original-Uri": {"/graphql"}, "X-Original-Method": {"GET"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}, "Sec-Websocket-Version": {"13"}},
		} {
			hdr.Set("Authorization", "Bearer "+viewer)
			res := h.get(h.client(), PathForwardAuth, hdr)
			want := http.StatusForbidden
			if optIn {
				want = http.StatusOK
			}
			if res.StatusCode != want {
				t.Errorf("opt-in %v, %s: %d, want %d", optIn, name, res.StatusCode, want)
			}
		}
		if !optIn && !h.waitAudit("websocket on a graphql path cannot be inspected") {
			t.Error("refusal not audited")
		}
		// Other paths: WebSockets are judged as before.
		hdr := http.Header{"X-Forwarded-Uri": {"/ws"}, "Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Authorization": {"Bearer " + viewer}}
		if res := h.get(h.client(), PathForwardAuth, hdr); res.StatusCode != http.StatusOK {
			t.Errorf("websocket elsewhere: %d", res.StatusCode)
		}
	}
}

func readAll(res *http.Response) string {
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}
