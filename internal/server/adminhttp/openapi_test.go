package adminhttp

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestAdminOpenAPIMatchesRoutes checks that docs/admin-api.yaml describes
// exactly the routes registered under /admin/v1.
func TestAdminOpenAPIMatchesRoutes(t *testing.T) {
	b, err := os.ReadFile("../../../docs/admin-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}
	var documented []string
	for path, item := range doc.Paths {
		for m, op := range item {
			if !slices.Contains(methods, m) {
				continue
			}
			documented = append(documented, strings.ToUpper(m)+" "+path)
			if o, ok := op.(map[string]any); !ok || o["responses"] == nil {
				t.Errorf("%s %s: no responses", m, path)
			}
		}
	}
	var registered []string
	for _, rt := range (&API{}).routes() {
		registered = append(registered, rt.method+" "+rt.path)
	}
	slices.Sort(documented)
	slices.Sort(registered)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in docs/admin-api.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("docs/admin-api.yaml documents %s, which is not registered", d)
		}
	}
}
