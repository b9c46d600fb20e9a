package config

import (
	"strings"
	"testing"
)

func TestValidateMFARequiredRoles(t *testing.T) {
	for _, tc := range []struct {
		roles   []string
		wantErr string
	}{
		{nil, ""},
		{[]string{"admin", "editor"}, ""},
		{[]string{"Admin"}, "not a role name"},
		{[]string{""}, "not a role name"},
		{[]string{"admin", "admin"}, "listed twice"},
	} {
		c := Default()
		c.MFA.RequiredRoles = tc.roles
		err := c.Validate()
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%q: %v", tc.roles, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), "mfa.required_roles") || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%q: error %v, want one about %q", tc.roles, err, tc.wantErr)
		}
	}
}

func TestLoadMFAUnknownKey(t *testing.T) {
	_, err := Load(serverFlags(t, "--config", writeFile(t, "mfa:\n  required_role: [admin]\n")), envMap(nil))
	if err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Fatalf("error = %v, want unknown key", err)
	}
}

func TestLoadMFARequiredRoles(t *testing.T) {
	c, err := Load(serverFlags(t, "--config", writeFile(t, "mfa:\n  required_roles: [admin]\n")), envMap(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.MFA.RequiredRoles) != 1 || c.MFA.RequiredRoles[0] != "admin" {
		t.Errorf("required_roles = %q", c.MFA.RequiredRoles)
	}
}
