package ldap_test

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
)

// TestExampleACLFileApplies follows docs/connectors.md on a slapd
// configured the Debian way (cn=config, the data in database {1}mdb):
// ldap.ldif is loaded, ldap-acl.ldif is applied with ldapmodify -Y
// EXTERNAL over ldapi, and then the service account reads people but no
// password.
func TestExampleACLFileApplies(t *testing.T) {
	if !ldaptest.Available() {
		t.Skip("no slapd")
	}
	ldapmodify, err := exec.LookPath("ldapmodify")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ldapmodify is missing and CI=true: install ldap-utils")
		}
		t.Skip("ldapmodify is missing: install ldap-utils")
	}
	ldif, err := ldaptest.ExampleLDIF()
	if err != nil {
		t.Fatal(err)
	}
	acl := filepath.Join(filepath.Dir(ldif), "ldap-acl.ldif")
	dir := t.TempDir()
	for _, d := range []string{"db", "conf"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	conf := `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
database config
rootdn "gidNumber=` + strconv.Itoa(os.Getgid()) + `+uidNumber=` + strconv.Itoa(os.Getuid()) + `,cn=peercred,cn=external,cn=auth"
database mdb
maxsize 67108864
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
directory ` + filepath.Join(dir, "db") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "slapd.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	cfgDir := filepath.Join(dir, "conf")
	// slaptest converts slapd.conf to cn=config before it tries the
	// database, which it may fail to open: only the conversion matters.
	out, _ := exec.CommandContext(ctx, "/usr/sbin/slaptest", "-f", filepath.Join(dir, "slapd.conf"), "-F", cfgDir).CombinedOutput()
	if _, err := os.Stat(filepath.Join(cfgDir, "cn=config.ldif")); err != nil {
		t.Fatalf("slaptest did not convert slapd.conf: %v\n%s", err, out)
	}
	run("/usr/sbin/slapadd", "-F", cfgDir, "-b", ldaptest.Suffix, "-l", ldif)
	sock := filepath.Join(dir, "ldapi")
	ldapi := "ldapi://" + url.PathEscape(sock)
	slapd := exec.Command(ldaptest.Slapd, "-d", "none", "-F", cfgDir, "-h", ldapi)
	if err := slapd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { slapd.Process.Kill(); slapd.Wait() }()
	for i := 0; ; i++ {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if i == 200 {
			t.Fatal("slapd does not accept connections on its ldapi socket")
		}
		time.Sleep(25 * time.Millisecond)
	}

	run(ldapmodify, "-Q", "-Y", "EXTERNAL", "-H", ldapi, "-f", acl)

	l, err := goldap.DialURL(ldapi)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Bind(ldaptest.ServiceDN, ldaptest.ServicePassword); err != nil {
		t.Fatal(err)
	}
	res, err := l.Search(goldap.NewSearchRequest(ldaptest.PeopleDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, "(uid=*)", []string{"uid", "userPassword"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 3 {
		t.Errorf("the service account found %d people, want 3", len(res.Entries))
	}
	for _, e := range res.Entries {
		if len(e.GetAttributeValues("userPassword")) > 0 {
			t.Errorf("the service account read %s's password", e.DN)
		}
	}
	// ada can still sign in (auth access), and cannot read bob.
	if err := l.Bind("uid=ada,ou=people,dc=example,dc=org", "ada-password-1"); err != nil {
		t.Fatalf("ada's bind: %v", err)
	}
	res, err = l.Search(goldap.NewSearchRequest("uid=bob,ou=people,dc=example,dc=org", goldap.ScopeBaseObject, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", nil, nil))
	if err == nil && len(res.Entries) > 0 {
		t.Error("ada can read bob's entry")
	}
}
