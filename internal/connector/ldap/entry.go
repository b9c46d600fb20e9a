package ldap

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

// errNoEntry: the user search found no entry, or more than one.
var errNoEntry = errors.New("ldap: no single entry")

// Attributes read off every user entry to refuse disabled accounts even
// without a disabled_filter.
const (
	attrUserAccountControl = "userAccountControl"   // Active Directory
	attrPwdAccountLocked   = "pwdAccountLockedTime" // OpenLDAP ppolicy (operational)
	// uacAccountDisable is userAccountControl's ACCOUNTDISABLE bit.
	uacAccountDisable = 0x2
	// ppolicyAdminLock is the pwdAccountLockedTime an administrator sets
	// to lock an account until unlocked (slapo-ppolicy(5)).
	ppolicyAdminLock = "000001010000Z"
)

// findUser runs the user search under base with extra ANDed to the
// configured filter and the negated disabled filter, and returns the one
// entry, or errNoEntry for none or several, or ErrUnavailable.
func (c *Connector) findUser(ctx context.Context, base string, scope int, extra string) (*goldap.Entry, error) {
	us := c.cfg.UserSearch
	filter := c.userFilter(extra)
	attrs := []string{us.UsernameAttr, us.EmailAttr, us.NameAttr, attrUserAccountControl, attrPwdAccountLocked}
	if us.IDAttr != "" {
		attrs = append(attrs, us.IDAttr)
	}
	if c.cfg.MemberOfAttr != "" {
		attrs = append(attrs, c.cfg.MemberOfAttr)
	}
	if gs := c.cfg.GroupSearch; gs != nil && gs.UserAttr != "" {
		attrs = append(attrs, gs.UserAttr)
	}
	// Two entries are enough to know the username is ambiguous.
	req := goldap.NewSearchRequest(base, scope, goldap.NeverDerefAliases, 2, 0, false, filter, attrs, nil)
	var res *goldap.SearchResult
	err := c.search.with(ctx, c.cfg.RequestTimeout, func(l *goldap.Conn) error {
		c.counter.search()
		var err error
		res, err = l.Search(req)
		return err
	})
	switch {
	case err == nil:
	case goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded):
		return nil, errNoEntry
	case goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) && scope == goldap.ScopeBaseObject:
		return nil, errNoEntry // Refresh of a DN that no longer exists
	default:
		return nil, unavailable("user search under %s: %v", base, err)
	}
	if len(res.Entries) != 1 {
		return nil, errNoEntry
	}
	e := res.Entries[0]
	if disabled(e) {
		return nil, errNoEntry
	}
	return e, nil
}

// userFilter is the user search's filter: the configured filter, extra
// and the negated disabled filter, ANDed.
func (c *Connector) userFilter(extra string) string {
	us := c.cfg.UserSearch
	filter := "(&" + us.Filter + extra
	if us.DisabledFilter != "" {
		filter += "(!" + us.DisabledFilter + ")"
	}
	return filter + ")"
}

// usernameMatch is the filter item that selects the entry of a typed
// username; EscapeFilter keeps every byte of it inside the assertion
// value (RFC 4515 §3).
func (c *Connector) usernameMatch(username string) string {
	return "(" + c.cfg.UserSearch.UsernameAttr + "=" + goldap.EscapeFilter(username) + ")"
}

// disabled reports the account states refused without a disabled_filter.
func disabled(e *goldap.Entry) bool {
	if v := e.GetEqualFoldAttributeValue(attrUserAccountControl); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n&uacAccountDisable != 0 {
			return true
		}
	}
	for _, v := range e.GetEqualFoldAttributeValues(attrPwdAccountLocked) {
		if v == ppolicyAdminLock {
			return true
		}
	}
	return false
}

// identity maps a user entry, and its groups, to an Identity.
func (c *Connector) identity(ctx context.Context, e *goldap.Entry) (*connector.Identity, error) {
	us := c.cfg.UserSearch
	subject := e.DN
	if us.IDAttr != "" {
		raw := e.GetEqualFoldRawAttributeValue(us.IDAttr)
		if len(raw) == 0 {
			return nil, unavailable("entry %s has no %s (user_search.id_attr): check the attribute name and that the service account may read it", e.DN, us.IDAttr)
		}
		var err error
		if subject, err = subjectString(us.IDAttr, raw); err != nil {
			return nil, unavailable("entry %s: %v", e.DN, err)
		}
	}
	id := &connector.Identity{
		ConnectorID: c.id,
		Subject:     subject,
		Username:    e.GetEqualFoldAttributeValue(us.UsernameAttr),
		Email:       e.GetEqualFoldAttributeValue(us.EmailAttr),
		Name:        e.GetEqualFoldAttributeValue(us.NameAttr),
	}
	// The directory's administrators set the mail attribute (the example
	// ACL does not let people write their own entry).
	id.EmailVerified = id.Email != ""
	if id.Username == "" {
		return nil, unavailable("entry %s has no %s (user_search.username_attr)", e.DN, us.UsernameAttr)
	}
	switch {
	case c.cfg.MemberOfAttr != "":
		for _, dn := range e.GetEqualFoldAttributeValues(c.cfg.MemberOfAttr) {
			if name := firstRDNValue(dn); name != "" {
				id.Groups = append(id.Groups, name)
			}
		}
	case c.cfg.GroupSearch != nil:
		groups, err := c.groups(ctx, e)
		if err != nil {
			return nil, err
		}
		id.Groups = groups
	}
	sort.Strings(id.Groups)
	id.Groups = compactStrings(id.Groups)
	return id, nil
}

// groups runs the group search for the user entry e.
func (c *Connector) groups(ctx context.Context, e *goldap.Entry) ([]string, error) {
	gs := c.cfg.GroupSearch
	member := e.DN
	if gs.UserAttr != "" {
		if member = e.GetEqualFoldAttributeValue(gs.UserAttr); member == "" {
			return nil, nil // nothing a group could name
		}
	}
	// With member_attr "member:1.2.840.113556.1.4.1941:" this is the
	// extensible-match form (member:rule:=value).
	filter := "(&" + gs.Filter + "(" + gs.MemberAttr + "=" + goldap.EscapeFilter(member) + "))"
	req := goldap.NewSearchRequest(gs.BaseDN, scopeOf(gs.Scope), goldap.NeverDerefAliases, 0, 0, false, filter, []string{gs.NameAttr}, nil)
	var res *goldap.SearchResult
	err := c.search.with(ctx, c.cfg.RequestTimeout, func(l *goldap.Conn) error {
		c.counter.search()
		var err error
		res, err = l.Search(req)
		return err
	})
	if err != nil {
		return nil, unavailable("group search under %s: %v", gs.BaseDN, err)
	}
	var names []string
	for _, g := range res.Entries {
		names = append(names, g.GetEqualFoldAttributeValues(gs.NameAttr)...)
	}
	return names, nil
}

// firstRDNValue is the value of a DN's first RDN: ops-admins for
// CN=ops-admins,OU=Groups,DC=example,DC=org.
func firstRDNValue(dn string) string {
	d, err := goldap.ParseDN(dn)
	if err != nil || len(d.RDNs) == 0 || len(d.RDNs[0].Attributes) == 0 {
		return ""
	}
	return d.RDNs[0].Attributes[0].Value
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// subjectString is the text form of an id attribute's value: objectGUID
// (16 bytes) as Active Directory prints it
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, the first three groups
// little-endian), anything else as its UTF-8 text.
func subjectString(attr string, raw []byte) (string, error) {
	if strings.EqualFold(attr, "objectGUID") {
		if len(raw) != 16 {
			return "", fmt.Errorf("objectGUID is %d bytes, not 16", len(raw))
		}
		return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
			binary.LittleEndian.Uint32(raw[0:4]), binary.LittleEndian.Uint16(raw[4:6]),
			binary.LittleEndian.Uint16(raw[6:8]), raw[8:10], raw[10:16]), nil
	}
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("%s (user_search.id_attr) holds binary data: use entryUUID, objectGUID or a text attribute", attr)
	}
	return string(raw), nil
}

// subjectFilterValue turns a subject back into the escaped assertion
// value of a filter on the id attribute.
func subjectFilterValue(attr, subject string) (string, error) {
	if !strings.EqualFold(attr, "objectGUID") {
		return goldap.EscapeFilter(subject), nil
	}
	h := strings.ReplaceAll(subject, "-", "")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 16 || len(subject) != 36 {
		return "", fmt.Errorf("subject %q is not a GUID", subject)
	}
	// Undo the little-endian first three groups.
	raw := make([]byte, 16)
	binary.LittleEndian.PutUint32(raw[0:4], binary.BigEndian.Uint32(b[0:4]))
	binary.LittleEndian.PutUint16(raw[4:6], binary.BigEndian.Uint16(b[4:6]))
	binary.LittleEndian.PutUint16(raw[6:8], binary.BigEndian.Uint16(b[6:8]))
	copy(raw[8:], b[8:])
	var sb strings.Builder
	for _, c := range raw {
		fmt.Fprintf(&sb, "\\%02x", c)
	}
	return sb.String(), nil
}
