package ldap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func validConfig(t *testing.T) Config {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Config{
		URL:              "ldaps://ldap.example.org",
		BindDN:           "cn=gatehouse,ou=services,dc=example,dc=org",
		BindPasswordFile: pw,
		UserSearch:       UserSearch{BaseDN: "ou=people,dc=example,dc=org"},
		GroupSearch:      &GroupSearch{BaseDN: "ou=groups,dc=example,dc=org"},
	}
}

func TestValidateDefaults(t *testing.T) {
	r, err := validConfig(t).resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.bindPassword != "secret" {
		t.Errorf("bind password %q: the trailing newline of the file must go", r.bindPassword)
	}
	us, gs := r.UserSearch, r.GroupSearch
	if us.UsernameAttr != "uid" || us.EmailAttr != "mail" || us.NameAttr != "cn" || us.Filter != "(objectClass=*)" || us.Scope != "sub" {
		t.Errorf("user_search defaults: %+v", us)
	}
	if gs.MemberAttr != "member" || gs.NameAttr != "cn" || gs.Filter != "(objectClass=groupOfNames)" || gs.UserAttr != "" {
		t.Errorf("group_search defaults: %+v", gs)
	}
	if r.PoolSize != DefaultPoolSize || r.DialTimeout != DefaultDialTimeout || r.RequestTimeout != DefaultRequestTimeout {
		t.Errorf("pool and timeout defaults: %d %s %s", r.PoolSize, r.DialTimeout, r.RequestTimeout)
	}

	t.Setenv("GATEHOUSE_TEST_LDAP_URL", "ldap://127.0.0.1:3890")
	t.Setenv("GATEHOUSE_TEST_LDAP_PW", "from-env")
	c := validConfig(t)
	c.URL, c.URLEnv, c.StartTLS = "", "GATEHOUSE_TEST_LDAP_URL", true
	c.BindPasswordFile, c.BindPasswordEnv = "", "GATEHOUSE_TEST_LDAP_PW"
	if r, err = c.resolve(); err != nil {
		t.Fatal(err)
	}
	if r.url.Host != "127.0.0.1:3890" || r.bindPassword != "from-env" {
		t.Errorf("from the environment: url %v, password %q", r.url, r.bindPassword)
	}
	for _, ok := range []func(*Config){
		func(c *Config) { c.URL, c.StartTLS = "ldap://ldap.example.org", true },
		func(c *Config) { c.URL, c.InsecureNoTLS = "ldap://127.0.0.1:389", true },
		func(c *Config) { c.URL, c.InsecureNoTLS = "ldap://localhost", true },
		func(c *Config) { c.URL, c.InsecureNoTLS = "ldap://[::1]:389", true },
		func(c *Config) { c.GroupSearch.MemberAttr = "member:1.2.840.113556.1.4.1941:" },
		func(c *Config) { c.GroupSearch, c.MemberOfAttr = nil, "memberOf" },
		func(c *Config) { c.UserSearch.DisabledFilter = "(userAccountControl:1.2.840.113556.1.4.803:=2)" },
	} {
		c := validConfig(t)
		ok(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	t.Setenv("GATEHOUSE_TEST_EMPTY", "")
	missing := filepath.Join(t.TempDir(), "missing")
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for _, tc := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.URL = "" }, "ldap.url: required"},
		{func(c *Config) { c.URLEnv = "GATEHOUSE_TEST_URL" }, "set one, not both"},
		{func(c *Config) { c.URL, c.URLEnv = "", "GATEHOUSE_TEST_EMPTY" }, "ldap.url_env: the environment variable GATEHOUSE_TEST_EMPTY is empty"},
		{func(c *Config) { c.URL = "https://ldap.example.org" }, "not an ldap:// or ldaps:// URL"},
		{func(c *Config) { c.URL = "ldaps://" }, "not an ldap:// or ldaps:// URL"},
		{func(c *Config) { c.URL = "ldaps://ldap.example.org/dc=example,dc=org" }, "has a path"},
		{func(c *Config) { c.URL = "ldap://ldap.example.org" }, "would send passwords in clear"},
		{func(c *Config) { c.StartTLS = true }, "ldap.start_tls: not with an ldaps:// URL"},
		{func(c *Config) { c.URL, c.InsecureNoTLS = "ldap://ldap.example.org", true }, "ldap.insecure_no_tls: only allowed for a directory on a loopback"},
		{func(c *Config) { c.URL, c.InsecureNoTLS = "ldap://10.0.0.1", true }, "ldap.insecure_no_tls: only allowed"},
		{func(c *Config) { c.InsecureNoTLS = true }, "ldap.insecure_no_tls: contradicts"},
		{func(c *Config) { c.CAFile = missing }, "ldap.ca_file:"},
		{func(c *Config) { c.BindDN = "" }, "ldap.bind_dn: required"},
		{func(c *Config) { c.BindDN = "not a dn" }, "ldap.bind_dn: \"not a dn\" is not a DN"},
		{func(c *Config) { c.BindPasswordFile = "" }, "ldap.bind_password_file or ldap.bind_password_env: required"},
		{func(c *Config) { c.BindPasswordEnv = "X" }, "set one, not both"},
		{func(c *Config) { c.BindPasswordFile = missing }, "ldap.bind_password_file:"},
		{func(c *Config) { c.BindPasswordFile = empty }, "is empty"},
		{func(c *Config) { c.BindPasswordFile, c.BindPasswordEnv = "", "GATEHOUSE_TEST_EMPTY" }, "ldap.bind_password_env: the environment variable GATEHOUSE_TEST_EMPTY is empty"},
		{func(c *Config) { c.UserSearch.BaseDN = "" }, "ldap.user_search.base_dn: required"},
		{func(c *Config) { c.UserSearch.Filter = "objectClass=person" }, "ldap.user_search.filter: \"objectClass=person\" is not an LDAP filter"},
		{func(c *Config) { c.UserSearch.DisabledFilter = "(&(a=b)" }, "ldap.user_search.disabled_filter"},
		{func(c *Config) { c.UserSearch.Scope = "base" }, "ldap.user_search.scope: \"base\": use sub or one"},
		{func(c *Config) { c.UserSearch.UsernameAttr = "uid)(x=*" }, "ldap.user_search.username_attr"},
		{func(c *Config) { c.UserSearch.IDAttr = "entry UUID" }, "ldap.user_search.id_attr"},
		{func(c *Config) { c.MemberOfAttr = "memberOf" }, "ldap.member_of_attr: set it or group_search, not both"},
		{func(c *Config) { c.GroupSearch.BaseDN = "" }, "ldap.group_search.base_dn: required"},
		{func(c *Config) { c.GroupSearch.MemberAttr = "member=*" }, "ldap.group_search.member_attr"},
		{func(c *Config) { c.GroupSearch.Filter = "(" }, "ldap.group_search.filter"},
		{func(c *Config) { c.PoolSize = -1 }, "ldap.pool_size: -1 is out of range"},
		{func(c *Config) { c.PoolSize = 10000 }, "ldap.pool_size"},
		{func(c *Config) { c.DialTimeout = -time.Second }, "ldap.dial_timeout"},
		{func(c *Config) { c.RequestTimeout = time.Hour }, "ldap.request_timeout"},
	} {
		c := validConfig(t)
		tc.change(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error with %q, got %v", tc.want, err)
		}
		if _, nerr := New("corp", "Corp", c); nerr == nil {
			t.Errorf("New accepted what Validate refuses (%s)", tc.want)
		}
	}
	// Every problem at once.
	err := Config{}.Validate()
	for _, key := range []string{"ldap.url", "ldap.bind_dn", "ldap.bind_password_file", "ldap.user_search.base_dn"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("empty config: %v does not name %s", err, key)
		}
	}
}

func TestNewRefusesCAFileWithoutCertificates(t *testing.T) {
	c := validConfig(t)
	c.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(c.CAFile, []byte("not a certificate"), 0o600)
	if _, err := New("corp", "Corp", c); err == nil || !strings.Contains(err.Error(), "ldap.ca_file") {
		t.Fatalf("New: %v", err)
	}
}
