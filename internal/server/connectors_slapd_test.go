package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
	"github.com/gatehouse-auth/gatehouse/internal/connector/rolemap"
)

// TestConnectorSlapd: the login form and the refresh grant against a real
// slapd (docs/examples/ldap.ldif): ada signs in with admin; when she
// leaves ops-admins the next refresh drops admin; while slapd is down the
// login form answers 503 and a refresh keeps the stored roles.
func TestConnectorSlapd(t *testing.T) {
	dir := ldaptest.New(t, ldaptest.Options{})
	t.Setenv("GATEHOUSE_TEST_LDAP_BIND", ldaptest.ServicePassword)
	c, err := ldap.New("corp", "Example directory", ldap.Config{
		URL: dir.URL, StartTLS: true, CAFile: dir.CAFile,
		BindDN: ldaptest.ServiceDN, BindPasswordEnv: "GATEHOUSE_TEST_LDAP_BIND",
		UserSearch:     ldap.UserSearch{BaseDN: ldaptest.PeopleDN, Filter: "(objectClass=inetOrgPerson)", UsernameAttr: "uid", DisabledFilter: "(employeeType=disabled)"},
		GroupSearch:    &ldap.GroupSearch{BaseDN: ldaptest.GroupsDN, Filter: "(objectClass=groupOfNames)", MemberAttr: "member", NameAttr: "cn"},
		DialTimeout:    2 * time.Second,
		RequestTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rules := []rolemap.Rule{{Groups: []string{"ops-admins"}, Roles: []string{RoleAdmin}}, {Groups: []string{"analysts"}, Roles: []string{RoleViewer}}}
	h := newHarnessWith(t, openSQLite, func(d *Deps) {
		d.Connectors = []Connector{{ID: "corp", Name: "Example directory", Password: c, Rules: rules}}
	})
	f := newUserFixtureOn(h)

	b := h.newBrowser()
	if p := h.submit(b, PathLogin, h.loginForm(b, "ada", "ada-password-1")); !signedIn(p) {
		t.Fatalf("ada: %d %s", p.status, p.body)
	}
	for _, cred := range [][2]string{{"ada", "wrong"}, {"carol", "carol-password-1"}, {"*)(uid=*", "ada-password-1"}} {
		b := h.newBrowser()
		if p := h.submit(b, PathLogin, h.loginForm(b, cred[0], cred[1])); p.status != http.StatusUnauthorized {
			t.Errorf("%s: %d", cred[0], p.status)
		}
	}
	f.user = h.userByName("ada")
	if !slices.Equal(f.user.Roles, []string{RoleAdmin}) {
		t.Fatalf("ada %+v", f.user)
	}
	tokens := f.codeTokens("openid", "read")
	rt := tokens["refresh_token"].(string)

	// ada leaves ops-admins and joins analysts.
	l, err := goldap.DialURL(dir.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind(ldaptest.RootDN, dir.RootPassword); err != nil {
		t.Fatal(err)
	}
	adaDN := "uid=ada," + ldaptest.PeopleDN
	mod := goldap.NewModifyRequest("cn=analysts,"+ldaptest.GroupsDN, nil)
	mod.Add("member", []string{adaDN})
	if err := l.Modify(mod); err != nil {
		t.Fatal(err)
	}
	// groupOfNames needs a member: bob takes ada's place.
	mod = goldap.NewModifyRequest("cn=ops-admins,"+ldaptest.GroupsDN, nil)
	mod.Add("member", []string{"uid=bob," + ldaptest.PeopleDN})
	mod.Delete("member", []string{adaDN})
	if err := l.Modify(mod); err != nil {
		t.Fatal(err)
	}
	st, body := f.refresh("web", f.webSecret, rt, nil)
	if st != 200 || fmt.Sprint(claimsOf(t, body["access_token"].(string))["roles"]) != "[viewer]" {
		t.Fatalf("refresh after leaving ops-admins: %d %v", st, body)
	}
	rt = body["refresh_token"].(string)

	if err := dir.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b = h.newBrowser()
	p := h.submit(b, PathLogin, h.loginForm(b, "ada", "ada-password-1"))
	if took := time.Since(start); p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "Directory unavailable") || took > 10*time.Second {
		t.Errorf("login with slapd down: %d after %s", p.status, took)
	}
	st, body = f.refresh("web", f.webSecret, rt, nil)
	if st != 200 || fmt.Sprint(claimsOf(t, body["access_token"].(string))["roles"]) != "[viewer]" {
		t.Errorf("refresh with slapd down: %d %v", st, body)
	}
}
