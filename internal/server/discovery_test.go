package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func getJSON(t *testing.T, url string) (map[string]any, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m, raw
}

func TestDiscoveryIssuerIsByteEqual(t *testing.T) {
	// SECURITY-CASES 29.
	h := newHarness(t)
	for _, p := range []string{PathDiscoveryOAuth, PathDiscoveryOIDC} {
		m, _ := getJSON(t, h.url(p))
		if m["issuer"] != h.issuer {
			t.Errorf("%s issuer %q, want %q", p, m["issuer"], h.issuer)
		}
		if m["authorization_response_iss_parameter_supported"] != true {
			t.Errorf("%s does not announce RFC 9207", p)
		}
		if cms := m["code_challenge_methods_supported"].([]any); len(cms) != 1 || cms[0] != "S256" {
			t.Errorf("code challenge methods %v", cms)
		}
		for _, gt := range m["grant_types_supported"].([]any) {
			if gt == "password" || gt == "implicit" {
				t.Errorf("advertises %v", gt)
			}
		}
	}
}

func TestJWKSHasNoPrivateMembers(t *testing.T) {
	// SECURITY-CASES 29.
	h := newHarness(t)
	m, raw := getJSON(t, h.url(PathJWKS))
	keys := m["keys"].([]any)
	if len(keys) == 0 {
		t.Fatal("empty JWKS")
	}
	for _, k := range keys {
		km := k.(map[string]any)
		for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := km[priv]; ok {
				t.Errorf("JWKS key carries private member %q: %s", priv, raw)
			}
		}
		if km["kid"] == nil || km["use"] != "sig" {
			t.Errorf("key %v", km)
		}
	}
	if !strings.Contains(string(raw), `"kty"`) {
		t.Error("no kty")
	}
}

func TestHealthAndMetrics(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{PathHealthz, PathReadyz, PathMetrics} {
		resp, err := http.Get(h.url(p))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
		if p == PathMetrics && !strings.Contains(string(body), "gatehouse_http_requests_total") {
			t.Errorf("metrics missing request counter")
		}
	}
}
