package ldap_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
)

// exampleConnector is one entry of connectors: in docs/examples/ldap.yaml,
// decoded strictly (an unknown key is an error, as in the server).
type exampleConnector struct {
	ID        string      `yaml:"id"`
	Type      string      `yaml:"type"`
	Name      string      `yaml:"name"`
	LDAP      ldap.Config `yaml:"ldap"`
	RoleRules []struct {
		Groups []string `yaml:"groups"`
		Roles  []string `yaml:"roles"`
	} `yaml:"role_rules"`
}

// TestExampleConfig signs ada, bob and carol in with the connector of
// docs/examples/ldap.yaml against docs/examples/ldap.ldif, reading
// LDAP_URL and LDAP_BIND_PASSWORD from the environment as documented.
func TestExampleConfig(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	data, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "..", "docs", "examples", "ldap.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Connectors yaml.Node `yaml:"connectors"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	raw, err := yaml.Marshal(&doc.Connectors)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var conns []exampleConnector
	if err := dec.Decode(&conns); err != nil {
		t.Fatalf("connectors of ldap.yaml: %v", err)
	}
	if len(conns) != 1 || conns[0].Type != "ldap" {
		t.Fatalf("connectors: %+v", conns)
	}
	ex := conns[0]

	srv := ldaptest.New(t, ldaptest.Options{})
	t.Setenv("LDAP_URL", srv.URL)
	t.Setenv("LDAP_BIND_PASSWORD", ldaptest.ServicePassword)
	cfg := ex.LDAP
	cfg.CAFile = srv.CAFile // the example leaves ca_file commented out
	c, err := ldap.New(ex.ID, ex.Name, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	roles := func(id *connector.Identity) []string {
		var out []string
		for _, r := range ex.RoleRules {
			for _, g := range r.Groups {
				for _, have := range id.Groups {
					if g == have {
						out = append(out, r.Roles...)
					}
				}
			}
		}
		return out
	}
	for user, want := range map[string][]string{"ada": {"admin"}, "bob": {"viewer"}} {
		id, err := c.Login(context.Background(), user, user+"-password-1")
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if len(id.Subject) != 36 { // entryUUID
			t.Errorf("%s: subject %q is not an entryUUID", user, id.Subject)
		}
		if got := roles(id); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: groups %q give roles %q, want %q", user, id.Groups, got, want)
		}
	}
	if _, err := c.Login(context.Background(), "carol", "carol-password-1"); !errors.Is(err, connector.ErrInvalidCredentials) {
		t.Errorf("carol (disabled): %v, want ErrInvalidCredentials", err)
	}
}
