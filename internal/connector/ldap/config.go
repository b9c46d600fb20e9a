package ldap

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

// Config is one LDAP connector's configuration: the ldap: block of a
// connector in the server's config file (docs/connectors.md).
type Config struct {
	// URL is ldap://host[:389] (with StartTLS) or ldaps://host[:636].
	URL string `yaml:"url"`
	// URLEnv names an environment variable holding the URL instead.
	URLEnv string `yaml:"url_env"`
	// StartTLS upgrades an ldap:// connection with the StartTLS
	// extended operation before anything else is sent.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is a PEM file of the CA certificates that may issue the
	// server's certificate; default: the system's roots.
	CAFile string `yaml:"ca_file"`
	// InsecureNoTLS allows ldap:// without StartTLS, and only to a
	// loopback address (127.0.0.0/8, ::1, localhost): passwords then
	// cross the connection in clear. For a directory on the same host
	// or tests.
	InsecureNoTLS bool `yaml:"insecure_no_tls"`

	// BindDN is the service account Gatehouse searches as; its
	// password comes from BindPasswordFile or BindPasswordEnv (never
	// inline).
	BindDN           string `yaml:"bind_dn"`
	BindPasswordFile string `yaml:"bind_password_file"`
	BindPasswordEnv  string `yaml:"bind_password_env"`

	UserSearch  UserSearch   `yaml:"user_search"`
	GroupSearch *GroupSearch `yaml:"group_search"`
	// MemberOfAttr reads the groups from an attribute of the user entry
	// holding group DNs (Active Directory's memberOf, OpenLDAP's memberof
	// overlay) instead of a group search: the group's name is the value
	// of the DN's first RDN (CN=ops-admins,OU=... -> ops-admins). Saves a
	// search; cannot be combined with group_search.
	MemberOfAttr string `yaml:"member_of_attr"`

	// PoolSize is the most connections kept open for searches and the
	// most for user binds (each); default 8.
	PoolSize int `yaml:"pool_size"`
	// DialTimeout bounds connecting, TLS and the service bind of a new
	// connection; default 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// RequestTimeout bounds every search and bind; default 5s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
}

// UserSearch says how a username becomes a directory entry.
type UserSearch struct {
	// BaseDN is where people are searched (required).
	BaseDN string `yaml:"base_dn"`
	// Filter is ANDed with (username_attr=<escaped username>), e.g.
	// (objectClass=inetOrgPerson); default (objectClass=*).
	Filter string `yaml:"filter"`
	// Scope is sub (default) or one.
	Scope string `yaml:"scope"`
	// UsernameAttr is matched against the typed username: uid (default),
	// sAMAccountName or userPrincipalName for Active Directory.
	UsernameAttr string `yaml:"username_attr"`
	// IDAttr holds the identity's stable subject; default the entry's
	// DN, which changes when an entry is renamed or moved: prefer
	// entryUUID (OpenLDAP) or objectGUID (Active Directory).
	IDAttr string `yaml:"id_attr"`
	// EmailAttr (default mail) and NameAttr (default cn; displayName in
	// Active Directory) fill the identity's email and name.
	EmailAttr string `yaml:"email_attr"`
	NameAttr  string `yaml:"name_attr"`
	// DisabledFilter matches entries that may not sign in, e.g.
	// (employeeType=disabled) or, for OpenLDAP's ppolicy,
	// (pwdAccountLockedTime=*); it is ANDed negated into every user
	// search. Active Directory's userAccountControl ACCOUNTDISABLE bit
	// and ppolicy's administrative lock (pwdAccountLockedTime
	// 000001010000Z) are refused without it.
	DisabledFilter string `yaml:"disabled_filter"`
}

// GroupSearch finds the groups that name a user as a member.
type GroupSearch struct {
	// BaseDN is where groups are searched (required).
	BaseDN string `yaml:"base_dn"`
	// Filter is ANDed with (member_attr=<user value>); default
	// (objectClass=groupOfNames).
	Filter string `yaml:"filter"`
	// Scope is sub (default) or one.
	Scope string `yaml:"scope"`
	// MemberAttr is the group attribute that lists members: member
	// (default; groupOfNames, Active Directory), uniqueMember
	// (groupOfUniqueNames) or memberUid (posixGroup, with user_attr:
	// uid). Active Directory's nested groups:
	// "member:1.2.840.113556.1.4.1941:".
	MemberAttr string `yaml:"member_attr"`
	// UserAttr is the user attribute whose value the member attribute
	// holds; default the user's DN.
	UserAttr string `yaml:"user_attr"`
	// NameAttr is the group's name as role rules match it; default cn.
	NameAttr string `yaml:"name_attr"`
}

// Defaults.
const (
	DefaultPoolSize       = 8
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	maxPoolSize           = 256
)

// attrRE is an attribute description (RFC 4512 §2.5), optionally with an
// extensible-match rule OID and a trailing colon for member_attr.
var (
	attrRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$`)
	memberAttrRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*(:[0-9]+(\.[0-9]+)*:)?$`)
)

// resolved is a Config with its secrets read and its defaults applied.
type resolved struct {
	Config
	url          *url.URL
	bindPassword string
}

// Validate checks the configuration, reads the URL and bind password from
// the environment or file they come from, and names the key at fault.
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

func (c Config) resolve() (*resolved, error) {
	r := &resolved{Config: c}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("ldap."+format, args...)) }

	raw := c.URL
	switch {
	case c.URL != "" && c.URLEnv != "":
		bad("url and ldap.url_env: set one, not both")
	case c.URLEnv != "":
		raw = strings.TrimSpace(os.Getenv(c.URLEnv))
		if raw == "" {
			bad("url_env: the environment variable %s is empty or not set: export it with the directory's URL, e.g. ldaps://ldap.example.org", c.URLEnv)
		}
	case c.URL == "":
		bad("url: required: ldaps://host[:636], or ldap://host[:389] with start_tls: true (or url_env naming a variable that holds it)")
	}
	if raw != "" {
		u, err := url.Parse(raw)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps"):
			bad("url: %q is not an ldap:// or ldaps:// URL with a host", raw)
		case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil:
			bad("url: %q has a path, query or user: give only ldap[s]://host[:port] (the base DNs go in user_search and group_search)", raw)
		case u.Scheme == "ldaps" && c.StartTLS:
			bad("start_tls: not with an ldaps:// URL, which is TLS from the start")
		case u.Scheme == "ldap" && !c.StartTLS && !c.InsecureNoTLS:
			bad("url: %q would send passwords in clear: use ldaps://, or set start_tls: true", raw)
		case u.Scheme == "ldap" && !c.StartTLS && c.InsecureNoTLS && !isLoopback(u.Hostname()):
			bad("insecure_no_tls: only allowed for a directory on a loopback address (127.0.0.1, ::1, localhost), not %q: use ldaps:// or start_tls: true", u.Hostname())
		default:
			r.url = u
		}
	}
	if c.InsecureNoTLS && (c.StartTLS || strings.HasPrefix(raw, "ldaps:")) {
		bad("insecure_no_tls: contradicts TLS being configured; remove it")
	}
	if c.CAFile != "" {
		if _, err := os.Stat(c.CAFile); err != nil {
			bad("ca_file: %v", err)
		}
	}

	if c.BindDN == "" {
		bad("bind_dn: required: the DN of a read-only service account that may search people and groups")
	} else if _, err := goldap.ParseDN(c.BindDN); err != nil {
		bad("bind_dn: %q is not a DN: %v", c.BindDN, err)
	}
	switch {
	case c.BindPasswordFile != "" && c.BindPasswordEnv != "":
		bad("bind_password_file and ldap.bind_password_env: set one, not both")
	case c.BindPasswordFile != "":
		b, err := os.ReadFile(c.BindPasswordFile)
		if err != nil {
			bad("bind_password_file: %v", err)
		} else if r.bindPassword = strings.TrimRight(string(b), "\r\n"); r.bindPassword == "" {
			bad("bind_password_file: %s is empty", c.BindPasswordFile)
		}
	case c.BindPasswordEnv != "":
		if r.bindPassword = os.Getenv(c.BindPasswordEnv); r.bindPassword == "" {
			bad("bind_password_env: the environment variable %s is empty or not set: export the service account's password in it", c.BindPasswordEnv)
		}
	default:
		bad("bind_password_file or ldap.bind_password_env: required (the service account's password is never written in the config file)")
	}

	us := &r.UserSearch
	defaultTo(&us.Filter, "(objectClass=*)")
	defaultTo(&us.Scope, "sub")
	defaultTo(&us.UsernameAttr, "uid")
	defaultTo(&us.EmailAttr, "mail")
	defaultTo(&us.NameAttr, "cn")
	checkDN(bad, "user_search.base_dn", us.BaseDN)
	checkFilter(bad, "user_search.filter", us.Filter)
	if us.DisabledFilter != "" {
		checkFilter(bad, "user_search.disabled_filter", us.DisabledFilter)
	}
	checkScope(bad, "user_search.scope", us.Scope)
	for key, v := range map[string]string{
		"user_search.username_attr": us.UsernameAttr, "user_search.email_attr": us.EmailAttr,
		"user_search.name_attr": us.NameAttr, "user_search.id_attr": us.IDAttr,
	} {
		if v != "" && !attrRE.MatchString(v) {
			bad("%s: %q is not an attribute name", key, v)
		}
	}
	if c.MemberOfAttr != "" && !attrRE.MatchString(c.MemberOfAttr) {
		bad("member_of_attr: %q is not an attribute name", c.MemberOfAttr)
	}
	if c.GroupSearch != nil {
		gs := *c.GroupSearch
		r.GroupSearch = &gs
		if c.MemberOfAttr != "" {
			bad("member_of_attr: set it or group_search, not both")
		}
		defaultTo(&gs.Filter, "(objectClass=groupOfNames)")
		defaultTo(&gs.Scope, "sub")
		defaultTo(&gs.MemberAttr, "member")
		defaultTo(&gs.NameAttr, "cn")
		checkDN(bad, "group_search.base_dn", gs.BaseDN)
		checkFilter(bad, "group_search.filter", gs.Filter)
		checkScope(bad, "group_search.scope", gs.Scope)
		if !memberAttrRE.MatchString(gs.MemberAttr) {
			bad("group_search.member_attr: %q is not an attribute name (or attribute:rule-OID:)", gs.MemberAttr)
		}
		for key, v := range map[string]string{"group_search.user_attr": gs.UserAttr, "group_search.name_attr": gs.NameAttr} {
			if v != "" && !attrRE.MatchString(v) {
				bad("%s: %q is not an attribute name", key, v)
			}
		}
	}

	if r.PoolSize == 0 {
		r.PoolSize = DefaultPoolSize
	}
	if r.PoolSize < 1 || r.PoolSize > maxPoolSize {
		bad("pool_size: %d is out of range 1..%d", c.PoolSize, maxPoolSize)
	}
	if r.DialTimeout == 0 {
		r.DialTimeout = DefaultDialTimeout
	}
	if r.RequestTimeout == 0 {
		r.RequestTimeout = DefaultRequestTimeout
	}
	if r.DialTimeout < 0 || r.DialTimeout > 5*time.Minute {
		bad("dial_timeout: %s is out of range 0..5m", c.DialTimeout)
	}
	if r.RequestTimeout < 0 || r.RequestTimeout > 5*time.Minute {
		bad("request_timeout: %s is out of range 0..5m", c.RequestTimeout)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

func defaultTo(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func checkDN(bad func(string, ...any), key, dn string) {
	if dn == "" {
		bad("%s: required", key)
	} else if _, err := goldap.ParseDN(dn); err != nil {
		bad("%s: %q is not a DN: %v", key, dn, err)
	}
}

func checkFilter(bad func(string, ...any), key, f string) {
	if _, err := goldap.CompileFilter(f); err != nil {
		bad("%s: %q is not an LDAP filter (RFC 4515, in parentheses): %v", key, f, err)
	}
}

func checkScope(bad func(string, ...any), key, s string) {
	if s != "sub" && s != "one" {
		bad("%s: %q: use sub or one", key, s)
	}
}

func scopeOf(s string) int {
	if s == "one" {
		return goldap.ScopeSingleLevel
	}
	return goldap.ScopeWholeSubtree
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
