package ldap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
)

func TestDisabledAccountStates(t *testing.T) {
	for _, tc := range []struct {
		attrs map[string][]string
		want  bool
	}{
		{nil, false},
		{map[string][]string{"userAccountControl": {"512"}}, false}, // NORMAL_ACCOUNT
		{map[string][]string{"userAccountControl": {"514"}}, true},  // + ACCOUNTDISABLE
		{map[string][]string{"useraccountcontrol": {"66050"}}, true},
		{map[string][]string{"userAccountControl": {"66048"}}, false}, // DONT_EXPIRE_PASSWORD
		{map[string][]string{"userAccountControl": {"garbage"}}, true},
		{map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}}, true},
		// A lockout after failed binds expires; the bind decides.
		{map[string][]string{"pwdAccountLockedTime": {"20261205220000Z"}}, false},
	} {
		if got := disabled(goldap.NewEntry("uid=x,dc=example,dc=org", tc.attrs)); got != tc.want {
			t.Errorf("disabled(%v) = %v, want %v", tc.attrs, got, tc.want)
		}
	}
}

func TestObjectGUIDSubject(t *testing.T) {
	// The GUID {b9a5c1a4-2f1e-4b6c-9d3a-0123456789ab} as AD stores it.
	raw := []byte{0xa4, 0xc1, 0xa5, 0xb9, 0x1e, 0x2f, 0x6c, 0x4b, 0x9d, 0x3a, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab}
	s, err := subjectString("objectGUID", raw)
	if err != nil || s != "b9a5c1a4-2f1e-4b6c-9d3a-0123456789ab" {
		t.Fatalf("subjectString = %q, %v", s, err)
	}
	f, err := subjectFilterValue("objectGUID", s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `\a4\c1\a5\b9\1e\2f\6c\4b\9d\3a\01\23\45\67\89\ab`; f != want {
		t.Errorf("filter value %s, want %s", f, want)
	}
	for _, bad := range []string{"", "*", "b9a5c1a4-2f1e-4b6c-9d3a-0123456789", "b9a5c1a4-2f1e-4b6c-9d3a-0123456789ax"} {
		if _, err := subjectFilterValue("objectGUID", bad); err == nil {
			t.Errorf("subjectFilterValue(%q) accepted", bad)
		}
	}
	if _, err := subjectString("objectGUID", raw[:8]); err == nil {
		t.Error("an 8-byte objectGUID was accepted")
	}
	if _, err := subjectString("employeeNumber", []byte{0xff, 0xfe}); err == nil {
		t.Error("a binary id was accepted")
	}
	if f, _ := subjectFilterValue("entryUUID", "*)(uid=*"); f != `\2a\29\28uid=\2a` {
		t.Errorf("entryUUID subject not escaped: %s", f)
	}
}

func TestFirstRDNValue(t *testing.T) {
	for dn, want := range map[string]string{
		"CN=ops-admins,OU=Groups,DC=example,DC=org": "ops-admins",
		"cn=Domain Users,cn=Users,dc=corp,dc=local": "Domain Users",
		`cn=a\,b,dc=x`: "a,b",
		"":             "",
		"not a dn":     "",
	} {
		if got := firstRDNValue(dn); got != want {
			t.Errorf("firstRDNValue(%q) = %q, want %q", dn, got, want)
		}
	}
}

func TestCheckUsername(t *testing.T) {
	for _, u := range []string{"", "ada\x00", "ada\n", "\xff", strings.Repeat("a", maxUsername+1)} {
		if err := checkUsername(u); !errors.Is(err, connector.ErrInvalidCredentials) {
			t.Errorf("checkUsername(%q) = %v", u, err)
		}
	}
	for _, u := range []string{"ada", "ada.lovelace@example.org", "Ådä", `EXAMPLE\ada`, "*)(uid=*"} {
		if err := checkUsername(u); err != nil {
			t.Errorf("checkUsername(%q) = %v (escaping, not refusing, handles filter characters)", u, err)
		}
	}
}

// TestSearchConnectionsStayServiceBound: after sign-ins, every pooled
// search connection is still bound as the service account (WhoAmI),
// never as a person who signed in.
func TestSearchConnectionsStayServiceBound(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(ldaptest.ServicePassword), 0o600)
	c, err := New("corp", "Corp", Config{
		URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
		BindDN: ldaptest.ServiceDN, BindPasswordFile: pw,
		UserSearch:  UserSearch{BaseDN: ldaptest.PeopleDN},
		GroupSearch: &GroupSearch{BaseDN: ldaptest.GroupsDN},
		PoolSize:    2,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for _, u := range []struct{ name, pw string }{{"ada", "ada-password-1"}, {"bob", "bob-password-1"}, {"ada", "wrong"}} {
		c.Login(ctx, u.name, u.pw)
	}
	n := len(c.search.idle)
	if n == 0 {
		t.Fatal("no idle search connection")
	}
	for i := 0; i < n; i++ {
		conn := <-c.search.idle
		res, err := conn.l.WhoAmI(nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := "dn:" + ldaptest.ServiceDN; res.AuthzID != want {
			t.Errorf("a search connection is bound as %q, want %q", res.AuthzID, want)
		}
		c.search.put(conn, false)
	}
}

// TestBusyPoolIsUnavailable: with every connection taken, a sign-in waits
// at most request_timeout for one.
func TestBusyPoolIsUnavailable(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(ldaptest.ServicePassword), 0o600)
	c, err := New("corp", "Corp", Config{
		URL: srv.URL, StartTLS: true, CAFile: srv.CAFile,
		BindDN: ldaptest.ServiceDN, BindPasswordFile: pw,
		UserSearch:     UserSearch{BaseDN: ldaptest.PeopleDN},
		PoolSize:       1,
		RequestTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	held, err := c.search.get(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.Login(ctx, "ada", "ada-password-1"); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("Login with the pool taken: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("waited %s", took)
	}
	c.search.put(held, false)
	if _, err := c.Login(ctx, "ada", "ada-password-1"); err != nil {
		t.Fatalf("after it was returned: %v", err)
	}
}
