package server

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/storage"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("%s changed; if intended, run with -update.\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// stable pretty-prints JSON with the run's issuer and volatile values
// (signatures, keys, random ids, times) replaced by placeholders.
func stable(t *testing.T, h *testHarness, raw []byte, volatile ...string) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	v = mask(v, volatile)
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(out.String(), h.issuer, "ISSUER"))
}

func mask(v any, keys []string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			masked := false
			for _, vk := range keys {
				if k == vk {
					x[k] = "<" + k + ">"
					masked = true
				}
			}
			if !masked {
				x[k] = mask(val, keys)
			}
		}
	case []any:
		for i := range x {
			x[i] = mask(x[i], keys)
		}
	}
	return v
}

func TestGoldenDiscovery(t *testing.T) {
	h := newHarness(t)
	_, raw := getJSON(t, h.url(PathDiscoveryOIDC))
	golden(t, "discovery.json", stable(t, h, raw))
}

func TestGoldenJWKS(t *testing.T) {
	h := newHarness(t)
	_, raw := getJSON(t, h.url(PathJWKS))
	golden(t, "jwks.json", stable(t, h, raw, "kid", "x", "y"))
}

func TestGoldenTokenResponses(t *testing.T) {
	f := newUserFixture(t)
	body := f.codeTokens("openid", "read")
	raw, _ := json.Marshal(body)
	golden(t, "token_response_code.json", stable(t, f.testHarness, raw, "access_token", "refresh_token", "id_token"))

	claims, _ := json.Marshal(claimsOf(t, body["access_token"].(string)))
	golden(t, "access_token_claims.json", []byte(regexp.MustCompile(`"u-alice"`).ReplaceAllString(
		string(stable(t, f.testHarness, claims, "jti", "gid", "iat", "exp", "auth_time")), `"USER"`)))

	st, errBody, _ := f.postForm(PathToken, url.Values{"grant_type": {"password"}}, "web", f.webSecret)
	if st != http.StatusBadRequest {
		t.Fatalf("status %d", st)
	}
	raw, _ = json.Marshal(errBody)
	golden(t, "token_error.json", stable(t, f.testHarness, raw))

	sec := f.addClient(storage.Client{ID: "ci", GrantTypes: []string{"client_credentials"}, Scopes: []string{"read"}})
	_, cc, _ := f.postForm(PathToken, url.Values{"grant_type": {"client_credentials"}}, "ci", sec)
	st, intro, _ := f.postForm(PathIntrospect, url.Values{"token": {cc["access_token"].(string)}}, "rs", f.rsSecret)
	if st != http.StatusOK {
		t.Fatalf("introspect %d", st)
	}
	raw, _ = json.Marshal(intro)
	golden(t, "introspection_active.json", stable(t, f.testHarness, raw, "jti", "iat", "exp"))
}
