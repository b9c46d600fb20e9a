package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// reservedSegment is the first path segment of the gateway's own routes
// (/_gatehouse/...). They never reach the policy, no pattern may name them
// and Decide denies them should they ever be asked about.
const reservedSegment = "_gatehouse"

// pathPattern is a compiled path pattern: literal segments and "*" (one
// segment), optionally ending in "**" (any depth, including none).
type pathPattern struct {
	raw  string
	segs []string // literal segments or "*"
	tail bool     // ended in "/**"
}

// parsePathPattern compiles a pattern such as "/static/**", "/runs/*" or
// "/favicon.ico".
func parsePathPattern(s string) (pathPattern, error) {
	p := pathPattern{raw: s}
	if !strings.HasPrefix(s, "/") {
		return p, errors.New("must start with /")
	}
	if !utf8.ValidString(s) {
		return p, errors.New("is not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case r < 0x20 || r == 0x7f || r == ' ':
			return p, errors.New("contains a space or control character")
		case r == '?' || r == '#':
			return p, errors.New("contains ? or #: patterns match the path only, never the query or fragment")
		case r == '%':
			return p, errors.New("contains %: patterns match the decoded path, write characters unencoded")
		case r == '\\' || r == ';':
			return p, fmt.Errorf("contains %q, which the gateway never lets through in a path", r)
		}
	}
	if s == "/" {
		return p, nil
	}
	segs := strings.Split(strings.TrimSuffix(s[1:], "/"), "/")
	for i, seg := range segs {
		switch {
		case seg == "":
			return p, errors.New("has an empty segment (//)")
		case seg == "." || seg == "..":
			return p, errors.New("has a . or .. segment")
		case seg == "**":
			if i != len(segs)-1 {
				return p, errors.New("** is only allowed as the last segment")
			}
			p.tail = true
			continue
		case seg != "*" && strings.Contains(seg, "*"):
			return p, errors.New("* and ** must be whole segments (/a/*/b, /a/**)")
		case i == 0 && strings.EqualFold(seg, reservedSegment):
			return p, errors.New("/_gatehouse/ is reserved for the gateway's own routes")
		}
		p.segs = append(p.segs, seg)
	}
	return p, nil
}

// match reports whether the path, split by splitPath, matches. Literal
// segments compare case-insensitively.
func (p pathPattern) match(segs []string) bool {
	if len(segs) < len(p.segs) || (!p.tail && len(segs) != len(p.segs)) {
		return false
	}
	for i, ps := range p.segs {
		if ps == "*" {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if !strings.EqualFold(ps, segs[i]) {
			return false
		}
	}
	return true
}

// splitPath splits an absolute path into its segments; a trailing slash is
// not significant ("/a/" is "/a"), and "/" has none.
func splitPath(path string) []string {
	path = strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

// pathProblem says why path is not a normalised path the policy can judge
// ("" when it is one). The gateway normalises every path before asking;
// this is the policy failing closed should a caller ever forget.
func pathProblem(path string) string {
	if !strings.HasPrefix(path, "/") {
		return "path is not absolute"
	}
	if !utf8.ValidString(path) {
		return "path is not valid UTF-8"
	}
	for _, r := range path {
		if r < 0x20 || r == 0x7f || r == '\\' || r == ';' {
			return "path contains a character the gateway does not forward"
		}
	}
	segs := splitPath(path)
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "path is not normalised"
		}
	}
	if len(segs) > 0 && strings.EqualFold(segs[0], reservedSegment) {
		return "path is reserved for the gateway"
	}
	return ""
}

// hostPattern is an exact host name or IP address, or "*.domain" which
// matches exactly one more label in front of domain.
type hostPattern struct {
	raw      string
	name     string // lower case, without brackets
	wildcard bool
}

// parseHostPattern compiles a host pattern such as "dagster.example.com",
// "*.example.com" or "10.0.0.1".
func parseHostPattern(s string) (hostPattern, error) {
	h := hostPattern{raw: s}
	name := normHost(s)
	if name == "" {
		return h, errors.New("is empty")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		h.name = name
		return h, nil
	}
	if strings.ContainsAny(name, "/@") {
		return h, errors.New("must be a host name, *.domain or an IP address, without scheme or path")
	}
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		h.wildcard = true
		name = rest
	}
	labels := strings.Split(name, ".")
	if h.wildcard && len(labels) < 2 {
		return h, errors.New("a wildcard needs a domain of at least two labels (*.example.com)")
	}
	for _, l := range labels {
		if l == "" {
			return h, errors.New("has an empty label")
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				if r == ':' {
					return h, errors.New("must not include a port")
				}
				return h, errors.New("must be a host name, *.domain or an IP address")
			}
		}
	}
	h.name = name
	return h, nil
}

// match reports whether host (normalised by normHost) matches.
func (h hostPattern) match(host string) bool {
	if !h.wildcard {
		return host == h.name
	}
	label, ok := strings.CutSuffix(host, "."+h.name)
	return ok && label != "" && !strings.Contains(label, ".")
}

// normHost lower-cases a host and removes IPv6 brackets and a trailing dot.
func normHost(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return strings.TrimSuffix(host, ".")
}
