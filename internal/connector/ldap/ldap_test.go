package ldap_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap"
	"github.com/gatehouse-auth/gatehouse/internal/connector/ldap/ldaptest"
)

const (
	adaDN   = "uid=ada,ou=people,dc=example,dc=org"
	bobDN   = "uid=bob,ou=people,dc=example,dc=org"
	carolDN = "uid=carol,ou=people,dc=example,dc=org"
	adaPW   = "ada-password-1"
	bobPW   = "bob-password-1"
	carolPW = "carol-password-1"
)

// exampleConfig is the configuration of docs/examples/ldap.yaml for srv:
// StartTLS with the test CA.
func exampleConfig(t *testing.T, srv *ldaptest.Server) ldap.Config {
	t.Helper()
	pwFile := filepath.Join(t.TempDir(), "bind-password")
	if err := os.WriteFile(pwFile, []byte(ldaptest.ServicePassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return ldap.Config{
		URL:              srv.URL,
		StartTLS:         true,
		CAFile:           srv.CAFile,
		BindDN:           ldaptest.ServiceDN,
		BindPasswordFile: pwFile,
		UserSearch: ldap.UserSearch{
			BaseDN:         ldaptest.PeopleDN,
			Filter:         "(objectClass=inetOrgPerson)",
			DisabledFilter: "(employeeType=disabled)",
		},
		GroupSearch:    &ldap.GroupSearch{BaseDN: ldaptest.GroupsDN},
		DialTimeout:    5 * time.Second,
		RequestTimeout: 5 * time.Second,
	}
}

func newConnector(t *testing.T, cfg ldap.Config) *ldap.Connector {
	t.Helper()
	c, err := ldap.New("corp", "Company directory", cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// root is an LDAP connection bound as slapd's rootdn, for changing the
// directory under a test.
func root(t *testing.T, srv *ldaptest.Server) *goldap.Conn {
	t.Helper()
	l, err := goldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if err := l.Bind(ldaptest.RootDN, srv.RootPassword); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLoginMapsEntryAndGroups(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	c := newConnector(t, exampleConfig(t, srv))
	ctx := context.Background()

	for _, tc := range []struct {
		username, password string
		want               connector.Identity
	}{
		{"ada", adaPW, connector.Identity{ConnectorID: "corp", Subject: adaDN, Username: "ada",
			Email: "ada@example.org", EmailVerified: true, Name: "Ada Lovelace", Groups: []string{"ops-admins"}}},
		{"bob", bobPW, connector.Identity{ConnectorID: "corp", Subject: bobDN, Username: "bob",
			Email: "bob@example.org", EmailVerified: true, Name: "Bob Builder", Groups: []string{"analysts"}}},
		// uid matches case-insensitively; the identity has the
		// directory's spelling.
		{"ADA", adaPW, connector.Identity{ConnectorID: "corp", Subject: adaDN, Username: "ada",
			Email: "ada@example.org", EmailVerified: true, Name: "Ada Lovelace", Groups: []string{"ops-admins"}}},
	} {
		id, err := c.Login(ctx, tc.username, tc.password)
		if err != nil {
			t.Fatalf("Login(%s): %v", tc.username, err)
		}
		if !reflect.DeepEqual(*id, tc.want) {
			t.Errorf("Login(%s) =\n%+v\nwant\n%+v", tc.username, *id, tc.want)
		}
	}
	if c.ID() != "corp" || c.DisplayName() != "Company directory" {
		t.Errorf("ID, DisplayName = %q, %q", c.ID(), c.DisplayName())
	}
}

func TestLoginRefusesWithoutTellingWhy(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	c := newConnector(t, exampleConfig(t, srv))
	ctx := context.Background()
	for _, tc := range []struct{ name, username, password string }{
		{"wrong password", "ada", "ada-password-2"},
		{"someone else's password", "ada", bobPW},
		{"unknown user", "mallory", adaPW},
		{"disabled user (disabled_filter)", "carol", carolPW},
		{"service account is not a person", "gatehouse", ldaptest.ServicePassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := c.Login(ctx, tc.username, tc.password)
			if !errors.Is(err, connector.ErrInvalidCredentials) {
				t.Fatalf("Login = %+v, %v; want ErrInvalidCredentials", id, err)
			}
		})
	}

	// Without the disabled filter carol signs in: the filter is what
	// refused her above.
	cfg := exampleConfig(t, srv)
	cfg.UserSearch.DisabledFilter = ""
	if _, err := newConnector(t, cfg).Login(ctx, "carol", carolPW); err != nil {
		t.Fatalf("carol without disabled_filter: %v", err)
	}
}

func TestLoginRefusesEmptyPasswordWithoutAskingTheDirectory(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	c := newConnector(t, exampleConfig(t, srv))
	mark := srv.Mark()
	for _, pw := range []string{"", ""} {
		if _, err := c.Login(context.Background(), "ada", pw); !errors.Is(err, connector.ErrInvalidCredentials) {
			t.Fatalf("empty password: %v, want ErrInvalidCredentials", err)
		}
	}
	// An empty username too.
	if _, err := c.Login(context.Background(), "", adaPW); !errors.Is(err, connector.ErrInvalidCredentials) {
		t.Fatalf("empty username: %v, want ErrInvalidCredentials", err)
	}
	time.Sleep(100 * time.Millisecond)
	if st := c.Stats(); st != (ldap.Stats{}) {
		t.Errorf("Stats = %+v: operations were sent", st)
	}
	if b, s := srv.Ops(mark); b != 0 || s != 0 {
		t.Errorf("slapd saw %d binds and %d searches", b, s)
	}

	// The reason it matters: like Active Directory, the test slapd
	// (allow bind_anon_dn) answers an unauthenticated bind (a DN and no
	// password) with success (RFC 4513 §5.1.2).
	l, err := goldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.UnauthenticatedBind(adaDN); err != nil {
		t.Fatalf("unauthenticated bind: %v", err)
	}
}

// TestLoginInjection: each username would select exactly ada's entry if
// it were put into the filter unescaped, and ada's password is given.
func TestLoginInjection(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	c := newConnector(t, exampleConfig(t, srv))
	for _, u := range []string{
		"ad*",
		"*)(uid=ada",
		"ada)(uid=ada",
		"ada)(|(uid=*",
		"*)(|(uid=ada)",
		"a\\64a",  // \64 is "d": ada if the backslash were not escaped
		"ada\x00", // NUL
		"\x00ada",
		"ada\\",
		"ada)",
		"*",
	} {
		id, err := c.Login(context.Background(), u, adaPW)
		if !errors.Is(err, connector.ErrInvalidCredentials) {
			t.Errorf("Login(%q) = %+v, %v; want ErrInvalidCredentials", u, id, err)
		}
	}
	// And the same way in, spelt plainly, works.
	if _, err := c.Login(context.Background(), "ada", adaPW); err != nil {
		t.Fatalf("ada: %v", err)
	}
}

// TestLoginNeedsExactlyOneEntry: a username that two entries share signs
// nobody in, even with the right password for one of them.
func TestLoginNeedsExactlyOneEntry(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	l := root(t, srv)
	add := goldap.NewAddRequest("uid=ada,ou=services,dc=example,dc=org", nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"ada"})
	add.Attribute("cn", []string{"Another Ada"})
	add.Attribute("sn", []string{"Ada"})
	add.Attribute("userPassword", []string{"other-ada-password"})
	if err := l.Add(add); err != nil {
		t.Fatal(err)
	}
	cfg := exampleConfig(t, srv)
	cfg.UserSearch.BaseDN = ldaptest.Suffix
	c := newConnector(t, cfg)
	for _, pw := range []string{adaPW, "other-ada-password"} {
		if id, err := c.Login(context.Background(), "ada", pw); !errors.Is(err, connector.ErrInvalidCredentials) {
			t.Errorf("Login(ada, %s) = %+v, %v; want ErrInvalidCredentials", pw, id, err)
		}
	}
	if _, err := c.Login(context.Background(), "bob", bobPW); err != nil {
		t.Fatalf("bob: %v", err)
	}
}

// TestLoginCostsOneBindAndTwoSearches counts in slapd's own log.
func TestLoginCostsOneBindAndTwoSearches(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		name                 string
		memberOf             bool
		wantBinds, wantSrchs int
	}{
		{"group_search", false, 1, 2},
		{"member_of_attr", true, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := exampleConfig(t, srv)
			if tc.memberOf {
				cfg.GroupSearch = nil
				cfg.MemberOfAttr = "memberOf"
			}
			c := newConnector(t, cfg)
			// The first sign-in opens the connections (and binds the
			// service account once).
			if _, err := c.Login(ctx, "ada", adaPW); err != nil {
				t.Fatal(err)
			}
			waitOps(t, srv, 0, 2, -1) // let the first sign-in's lines arrive
			mark := srv.Mark()
			before := c.Stats()
			if _, err := c.Login(ctx, "ada", adaPW); err != nil {
				t.Fatal(err)
			}
			binds, searches := waitOps(t, srv, mark, tc.wantBinds, tc.wantSrchs)
			if binds != tc.wantBinds || searches != tc.wantSrchs {
				t.Errorf("slapd saw %d binds and %d searches for one sign-in; want %d and %d\n%s",
					binds, searches, tc.wantBinds, tc.wantSrchs, srv.Log()[mark:])
			}
			after := c.Stats()
			if b, s := after.Binds-before.Binds, after.Searches-before.Searches; b != int64(tc.wantBinds) || s != int64(tc.wantSrchs) {
				t.Errorf("Stats: %d binds and %d searches; want %d and %d", b, s, tc.wantBinds, tc.wantSrchs)
			}
		})
	}
}

// TestConnectionsAreReused: sign-ins, right or wrong, reuse the pooled
// connections, also after they sat idle longer than request_timeout.
func TestConnectionsAreReused(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	cfg := exampleConfig(t, srv)
	cfg.PoolSize = 1
	cfg.RequestTimeout = 300 * time.Millisecond
	c := newConnector(t, cfg)
	ctx := context.Background()
	if _, err := c.Login(ctx, "ada", adaPW); err != nil {
		t.Fatal(err)
	}
	waitOps(t, srv, 0, 2, 2)
	mark := srv.Mark()
	for i := 0; i < 3; i++ {
		if _, err := c.Login(ctx, "bob", "wrong"); !errors.Is(err, connector.ErrInvalidCredentials) {
			t.Fatal(err)
		}
		time.Sleep(cfg.RequestTimeout + 200*time.Millisecond)
		if _, err := c.Login(ctx, "bob", bobPW); err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
	}
	waitOps(t, srv, mark, 6, 9)
	if n := srv.Count(mark, " ACCEPT from"); n != 0 {
		t.Errorf("%d new connections for sign-ins on a warm pool\n%s", n, srv.Log()[mark:])
	}
	if n := srv.Count(mark, " closed"); n != 0 {
		t.Errorf("%d connections closed\n%s", n, srv.Log()[mark:])
	}
}

// waitOps polls slapd's log until it shows at least binds and searches
// (-1: any) since mark, then a little longer for stragglers.
func waitOps(t *testing.T, srv *ldaptest.Server, mark, binds, searches int) (int, int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		b, s := srv.Ops(mark)
		if (b >= binds && (searches < 0 || s >= searches)) || time.Now().After(deadline) {
			time.Sleep(150 * time.Millisecond)
			return srv.Ops(mark)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMemberOfAttribute(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{MemberOf: true})
	// slapadd bypasses overlays: write the groups over LDAP so that the
	// memberof overlay fills in memberOf.
	l := root(t, srv)
	for group, members := range map[string][]string{"ops-admins": {adaDN}, "analysts": {bobDN, carolDN}} {
		dn := "cn=" + group + "," + ldaptest.GroupsDN
		if err := l.Del(goldap.NewDelRequest(dn, nil)); err != nil {
			t.Fatal(err)
		}
		add := goldap.NewAddRequest(dn, nil)
		add.Attribute("objectClass", []string{"groupOfNames"})
		add.Attribute("cn", []string{group})
		add.Attribute("member", members)
		if err := l.Add(add); err != nil {
			t.Fatal(err)
		}
	}
	// ada is in a second group too.
	add := goldap.NewAddRequest("cn=on-call,"+ldaptest.GroupsDN, nil)
	add.Attribute("objectClass", []string{"groupOfNames"})
	add.Attribute("cn", []string{"on-call"})
	add.Attribute("member", []string{adaDN})
	if err := l.Add(add); err != nil {
		t.Fatal(err)
	}

	cfg := exampleConfig(t, srv)
	cfg.GroupSearch = nil
	cfg.MemberOfAttr = "memberOf"
	c := newConnector(t, cfg)
	for user, want := range map[string][]string{"ada": {"on-call", "ops-admins"}, "bob": {"analysts"}} {
		pw := map[string]string{"ada": adaPW, "bob": bobPW}[user]
		id, err := c.Login(context.Background(), user, pw)
		if err != nil {
			t.Fatalf("%s: %v", user, err)
		}
		if !reflect.DeepEqual(id.Groups, want) {
			t.Errorf("%s: groups %q, want %q", user, id.Groups, want)
		}
	}
}

func TestRefresh(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	ctx := context.Background()
	l := root(t, srv)
	for _, idAttr := range []string{"", "entryUUID"} {
		t.Run("id_attr="+idAttr, func(t *testing.T) {
			cfg := exampleConfig(t, srv)
			cfg.UserSearch.IDAttr = idAttr
			c := newConnector(t, cfg)
			id, err := c.Login(ctx, "bob", bobPW)
			if err != nil {
				t.Fatal(err)
			}
			if idAttr == "entryUUID" && (id.Subject == bobDN || len(id.Subject) != 36) {
				t.Fatalf("subject %q is not bob's entryUUID", id.Subject)
			}
			again, err := c.Refresh(ctx, id)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if !reflect.DeepEqual(again, id) {
				t.Errorf("Refresh = %+v, want %+v", again, id)
			}
			// Someone else's subject, or another connector's identity, is
			// not found.
			if _, err := c.Refresh(ctx, &connector.Identity{ConnectorID: "corp", Subject: "uid=nobody,ou=people,dc=example,dc=org"}); !errors.Is(err, connector.ErrNotFound) {
				t.Errorf("Refresh(unknown subject): %v, want ErrNotFound", err)
			}
			if _, err := c.Refresh(ctx, &connector.Identity{ConnectorID: "other", Subject: id.Subject}); !errors.Is(err, connector.ErrNotFound) {
				t.Errorf("Refresh(other connector): %v, want ErrNotFound", err)
			}
			if _, err := c.Refresh(ctx, &connector.Identity{ConnectorID: "corp", Subject: "*"}); !errors.Is(err, connector.ErrNotFound) {
				t.Errorf("Refresh(subject *): %v, want ErrNotFound", err)
			}

			// bob leaves analysts and joins ops-admins: the next refresh
			// says so.
			mod := goldap.NewModifyRequest("cn=analysts,"+ldaptest.GroupsDN, nil)
			mod.Delete("member", []string{bobDN})
			if err := l.Modify(mod); err != nil {
				t.Fatal(err)
			}
			mod = goldap.NewModifyRequest("cn=ops-admins,"+ldaptest.GroupsDN, nil)
			mod.Add("member", []string{bobDN})
			if err := l.Modify(mod); err != nil {
				t.Fatal(err)
			}
			if again, err = c.Refresh(ctx, id); err != nil || !reflect.DeepEqual(again.Groups, []string{"ops-admins"}) {
				t.Errorf("after the group change: %+v, %v; want groups [ops-admins]", again, err)
			}
			// Put things back for the next subtest.
			mod = goldap.NewModifyRequest("cn=ops-admins,"+ldaptest.GroupsDN, nil)
			mod.Delete("member", []string{bobDN})
			l.Modify(mod)
			mod = goldap.NewModifyRequest("cn=analysts,"+ldaptest.GroupsDN, nil)
			mod.Add("member", []string{bobDN})
			l.Modify(mod)

			// Disabled: not found.
			mod = goldap.NewModifyRequest(bobDN, nil)
			mod.Replace("employeeType", []string{"disabled"})
			if err := l.Modify(mod); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Refresh(ctx, id); !errors.Is(err, connector.ErrNotFound) {
				t.Errorf("Refresh(disabled bob): %v, want ErrNotFound", err)
			}
			mod = goldap.NewModifyRequest(bobDN, nil)
			mod.Delete("employeeType", nil)
			if err := l.Modify(mod); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Refresh(ctx, id); err != nil {
				t.Errorf("Refresh(enabled again): %v", err)
			}

			// Locked by an administrator (ppolicy): refused by the bind,
			// and by the connector on refresh, with no disabled_filter.
			mod = goldap.NewModifyRequest(bobDN, nil)
			mod.Replace("pwdAccountLockedTime", []string{"000001010000Z"})
			if err := l.Modify(mod); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Login(ctx, "bob", bobPW); !errors.Is(err, connector.ErrInvalidCredentials) {
				t.Errorf("Login(locked bob): %v, want ErrInvalidCredentials", err)
			}
			if _, err := c.Refresh(ctx, id); !errors.Is(err, connector.ErrNotFound) {
				t.Errorf("Refresh(locked bob): %v, want ErrNotFound", err)
			}
			mod = goldap.NewModifyRequest(bobDN, nil)
			mod.Delete("pwdAccountLockedTime", nil)
			if err := l.Modify(mod); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Refresh(ctx, id); err != nil {
				t.Errorf("Refresh(unlocked): %v", err)
			}
		})
	}

	// A DN outside user_search.base_dn is no one's subject, even when
	// the entry would pass the filters.
	outside := "uid=ada,ou=services,dc=example,dc=org"
	add := goldap.NewAddRequest(outside, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("uid", []string{"ada"})
	add.Attribute("cn", []string{"Another Ada"})
	add.Attribute("sn", []string{"Ada"})
	if err := l.Add(add); err != nil {
		t.Fatal(err)
	}
	c := newConnector(t, exampleConfig(t, srv))
	if id, err := c.Refresh(ctx, &connector.Identity{ConnectorID: "corp", Subject: outside}); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Refresh(%s) = %+v, %v; want ErrNotFound", outside, id, err)
	}

	// Deleted: not found.
	id, err := c.Login(ctx, "ada", adaPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Del(goldap.NewDelRequest(adaDN, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refresh(ctx, id); !errors.Is(err, connector.ErrNotFound) {
		t.Errorf("Refresh(deleted ada): %v, want ErrNotFound", err)
	}
}

// TestServiceAccountReadsNoPasswords checks the access rules of
// docs/examples/ldap-acl.ldif that the test slapd runs with.
func TestServiceAccountReadsNoPasswords(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	l, err := goldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	req := goldap.NewSearchRequest(ldaptest.Suffix, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"uid", "cn", "userPassword"}, nil)
	if res, err := l.Search(req); err == nil && len(res.Entries) != 0 {
		t.Errorf("an anonymous search found %d entries", len(res.Entries))
	}
	search := func() *goldap.SearchResult {
		res, err := l.Search(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if err := l.Bind(ldaptest.ServiceDN, ldaptest.ServicePassword); err != nil {
		t.Fatal(err)
	}
	res := search()
	if len(res.Entries) < 8 {
		t.Errorf("the service account found %d entries, want people, groups and ous", len(res.Entries))
	}
	for _, e := range res.Entries {
		if v := e.GetAttributeValues("userPassword"); len(v) > 0 {
			t.Errorf("the service account read %s's userPassword", e.DN)
		}
	}
	if err := l.Modify(&goldap.ModifyRequest{DN: adaDN, Changes: []goldap.Change{{Operation: goldap.ReplaceAttribute,
		Modification: goldap.PartialAttribute{Type: "mail", Vals: []string{"mallory@example.net"}}}}}); err == nil {
		t.Error("the service account could change ada's mail")
	}
}

func TestTLS(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	wrongCA, err := ldaptest.WriteUnrelatedCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		url      string
		startTLS bool
		ca       string
		ok       bool
	}{
		{"StartTLS, CA file", srv.URL, true, srv.CAFile, true},
		{"ldaps, CA file", srv.LDAPSURL, false, srv.CAFile, true},
		{"StartTLS, wrong CA", srv.URL, true, wrongCA, false},
		{"ldaps, wrong CA", srv.LDAPSURL, false, wrongCA, false},
		{"ldaps, system roots", srv.LDAPSURL, false, "", false},
		{"ldaps as localhost", strings.Replace(srv.LDAPSURL, "127.0.0.1", "localhost", 1), false, srv.CAFile, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := exampleConfig(t, srv)
			cfg.URL, cfg.StartTLS, cfg.CAFile = tc.url, tc.startTLS, tc.ca
			cfg.DialTimeout = 3 * time.Second
			id, err := newConnector(t, cfg).Login(ctx, "ada", adaPW)
			if tc.ok && err != nil {
				t.Fatalf("Login: %v", err)
			}
			if !tc.ok && !errors.Is(err, connector.ErrUnavailable) {
				t.Fatalf("Login = %+v, %v; want ErrUnavailable", id, err)
			}
		})
	}

	// Plain ldap:// only with insecure_no_tls, only on loopback.
	cfg := exampleConfig(t, srv)
	cfg.StartTLS, cfg.CAFile, cfg.InsecureNoTLS = false, "", true
	if _, err := newConnector(t, cfg).Login(ctx, "ada", adaPW); err != nil {
		t.Fatalf("insecure_no_tls on 127.0.0.1: %v", err)
	}
}

func TestDirectoryDownOrStalled(t *testing.T) {
	// A closed port: refused at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	l.Close()

	// A listener that accepts and never answers.
	stalled, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	var mu sync.Mutex
	var held []net.Conn
	go func() {
		for {
			c, err := stalled.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()

	srv := &ldaptest.Server{CAFile: writeDummyCA(t)}
	const timeout = 400 * time.Millisecond
	for _, tc := range []struct {
		name, url string
		startTLS  bool
	}{
		{"closed port", "ldap://" + closedAddr, true},
		{"stalled, StartTLS", "ldap://" + stalled.Addr().String(), true},
		{"stalled, ldaps", "ldaps://" + stalled.Addr().String(), false},
		{"stalled, no TLS", "ldap://" + stalled.Addr().String(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := exampleConfig(t, srv)
			cfg.URL, cfg.StartTLS, cfg.InsecureNoTLS = tc.url, tc.startTLS, !tc.startTLS && strings.HasPrefix(tc.url, "ldap:")
			cfg.DialTimeout, cfg.RequestTimeout = timeout, timeout
			c := newConnector(t, cfg)
			for i := 0; i < 2; i++ { // and again: nothing stuck in the pool
				start := time.Now()
				id, err := c.Login(context.Background(), "ada", adaPW)
				took := time.Since(start)
				if !errors.Is(err, connector.ErrUnavailable) {
					t.Fatalf("Login = %+v, %v; want ErrUnavailable", id, err)
				}
				if took > 2*timeout+time.Second {
					t.Errorf("Login took %s with timeouts of %s", took, timeout)
				}
				if _, err := c.Refresh(context.Background(), &connector.Identity{ConnectorID: "corp", Subject: adaDN}); !errors.Is(err, connector.ErrUnavailable) {
					t.Fatalf("Refresh: %v, want ErrUnavailable", err)
				}
			}
		})
	}

	// The caller's context bounds it too.
	cfg := exampleConfig(t, srv)
	cfg.URL, cfg.StartTLS, cfg.InsecureNoTLS = "ldap://"+stalled.Addr().String(), false, true
	cfg.DialTimeout, cfg.RequestTimeout = time.Minute, time.Minute
	c := newConnector(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Login(ctx, "ada", adaPW); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("Login: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Login took %s with a context of 300ms", took)
	}
}

func writeDummyCA(t *testing.T) string {
	p, err := ldaptest.WriteUnrelatedCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPoolRecoversAfterRestart(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	cfg := exampleConfig(t, srv)
	cfg.DialTimeout, cfg.RequestTimeout = 2*time.Second, 2*time.Second
	cfg.PoolSize = 2
	c := newConnector(t, cfg)
	ctx := context.Background()
	login := func() error { _, err := c.Login(ctx, "ada", adaPW); return err }
	// Fill the pools with a few parallel sign-ins.
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); login() }()
	}
	wg.Wait()
	if err := login(); err != nil {
		t.Fatal(err)
	}

	// Restarted between two sign-ins: the pooled connections are dead,
	// and the next sign-in still works.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := login(); err != nil {
		t.Fatalf("after a restart: %v", err)
	}

	// Down: unavailable, quickly; back: works again.
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := login(); !errors.Is(err, connector.ErrUnavailable) {
		t.Fatalf("while down: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("while down the sign-in took %s", took)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if err := login(); err != nil {
			t.Fatalf("back up, sign-in %d: %v", i, err)
		}
	}
}

func TestClose(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{})
	c := newConnector(t, exampleConfig(t, srv))
	ctx := context.Background()
	if _, err := c.Login(ctx, "ada", adaPW); err != nil {
		t.Fatal(err)
	}
	mark := srv.Mark()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Both pooled connections (search and bind) are closed.
	deadline := time.Now().Add(3 * time.Second)
	for srv.Count(mark, " closed") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.Count(mark, " closed"); n != 2 {
		t.Errorf("slapd saw %d connections closed, want 2\n%s", n, srv.Log()[mark:])
	}
	if _, err := c.Login(ctx, "ada", adaPW); !errors.Is(err, connector.ErrUnavailable) {
		t.Errorf("Login after Close: %v, want ErrUnavailable", err)
	}
	if n := srv.Count(mark, " ACCEPT from"); n != 0 {
		t.Errorf("%d connections opened after Close", n)
	}
}

func TestParallelLogins(t *testing.T) {
	srv := ldaptest.New(t, ldaptest.Options{Quiet: true})
	cfg := exampleConfig(t, srv)
	cfg.PoolSize = 3
	c := newConnector(t, cfg)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user, pw, group := "ada", adaPW, "ops-admins"
			if i%2 == 1 {
				user, pw, group = "bob", bobPW, "analysts"
			}
			id, err := c.Login(context.Background(), user, pw)
			if err != nil {
				errs <- err
				return
			}
			if id.Username != user || len(id.Groups) != 1 || id.Groups[0] != group {
				errs <- errors.New("wrong identity for " + user)
			}
			if _, err := c.Login(context.Background(), user, "wrong"); !errors.Is(err, connector.ErrInvalidCredentials) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
