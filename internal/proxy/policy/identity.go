package policy

import (
	"errors"
	"strings"
)

// An identity matcher of a rule: emails:, email_domains: and groups:, next
// to roles:. Each list matches when the caller has any of its values; a
// rule with several of them applies only to a caller matching every one
// (like hosts:, paths: and methods:).
//
// Emails and email domains are judged only on a verified address
// (Input.EmailVerified): a provider that says email_verified: false gives
// an address anyone could have typed in (OIDC Core §5.1), so it matches
// no emails: or email_domains: list.

// emailPattern is a compiled entry of email_domains: an exact domain
// ("example.com"), or "*.example.com" for its subdomains at any depth
// (a.example.com, a.b.example.com), not example.com itself.
type emailPattern struct {
	domain string // lower case, without "*."
	sub    bool   // written "*.domain"
}

// parseEmail checks an entry of emails: and returns it in lower case.
func parseEmail(s string) (string, error) {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", errors.New("is not an email address (no @); for a whole domain use email_domains")
	}
	if at == 0 {
		return "", errors.New("has nothing before the @")
	}
	if strings.Count(s, "@") > 1 {
		return "", errors.New("has more than one @")
	}
	if strings.ContainsAny(s, " \t\r\n<>,;") {
		return "", errors.New("contains a space or one of < > , ; (write the bare address)")
	}
	if _, err := parseDomain(s[at+1:]); err != nil {
		return "", err
	}
	return strings.ToLower(s), nil
}

// parseEmailDomain compiles an entry of email_domains:.
func parseEmailDomain(s string) (emailPattern, error) {
	var p emailPattern
	rest, sub := strings.CutPrefix(s, "*.")
	if strings.Contains(s, "@") {
		return p, errors.New("contains @: write the domain alone (example.com), or the address under emails")
	}
	d, err := parseDomain(rest)
	if err != nil {
		return p, err
	}
	return emailPattern{domain: d, sub: sub}, nil
}

// parseDomain checks the domain of an email address: DNS labels of
// letters, digits, '-' and '_' (and non-ASCII letters of an IDN), no
// scheme, port, path or wildcard. It returns it in lower case.
func parseDomain(s string) (string, error) {
	switch {
	case s == "":
		return "", errors.New("has no domain")
	case strings.Contains(s, "://"):
		return "", errors.New("is a URL: write the domain alone (example.com)")
	case strings.Contains(s, "*"):
		return "", errors.New(`has a * that is not a leading "*." (write "*.example.com" for subdomains)`)
	case strings.ContainsAny(s, "/:?#"):
		return "", errors.New("contains / : ? or #: write the domain alone (example.com)")
	case strings.HasPrefix(s, ".") || strings.HasSuffix(s, "."):
		return "", errors.New("starts or ends with a dot")
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" {
			return "", errors.New("has an empty label (..)")
		}
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "", errors.New("has a label that starts or ends with -")
		}
		for _, r := range label {
			if r < 0x80 && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return "", errors.New("is not a domain name (letters, digits, - and . only)")
			}
		}
	}
	return strings.ToLower(s), nil
}

// match reports whether the (lower-case) domain of an address matches p:
// equal, or for "*.d" ending in ".d". A suffix alone is never enough:
// "evilexample.com" is not under "example.com".
func (p emailPattern) match(domain string) bool {
	if p.sub {
		return strings.HasSuffix(domain, "."+p.domain)
	}
	return domain == p.domain
}

// emailDomain is the lower-case domain of a (verified) address, "" when
// it has none.
func emailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return ""
	}
	return strings.ToLower(email[at+1:])
}

// identity reports whether the caller of req matches r's identity
// matchers (roles, emails, email_domains, groups); a rule with none
// matches any caller. The caller is authenticated when any is set.
func (r *rule) identity(req *request) bool {
	if r.roles != nil && !anyIn(req.roles, r.roles) {
		return false
	}
	if r.groups != nil && !anyIn(req.groups, r.groups) {
		return false
	}
	if r.emails != nil && (req.email == "" || !r.emails[req.email]) {
		return false
	}
	if r.domains != nil {
		d := emailDomain(req.email)
		if d == "" {
			return false
		}
		ok := false
		for _, p := range r.domains {
			if p.match(d) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// hasIdentity reports whether r names who it applies to (any identity
// matcher).
func (r *rule) hasIdentity() bool {
	return r.roles != nil || r.groups != nil || r.emails != nil || r.domains != nil
}

func anyIn(have []string, want map[string]bool) bool {
	for _, v := range have {
		if want[v] {
			return true
		}
	}
	return false
}
