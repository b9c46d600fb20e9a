package inbound

import (
	"net/http"
	"sort"
	"strings"
)

// StripHeaders removes from h every header whose normalised name equals a
// normalised entry of names or starts with a normalised entry of prefixes,
// and returns the removed keys, sorted, for debug logs. Normalising lowers
// the case and turns '_' into '-', so "X_Gatehouse_User" and
// "x-gatehouse-user" are the same header: many upstream frameworks (CGI,
// PHP, Rack, WSGI) read both as HTTP_X_GATEHOUSE_USER, and Go keeps keys
// with an underscore out of canonical form, so h.Del alone would miss them.
// Deleting a key removes all its values, duplicated or comma-joined. Empty
// prefixes are ignored.
func StripHeaders(h http.Header, names []string, prefixes []string) []string {
	return NewHeaderSet(names, prefixes).Strip(h)
}

// HeaderSet is a set of header names and name prefixes, normalised once,
// for stripping the same headers from many requests (StripHeaders builds
// one per call).
type HeaderSet struct {
	names    map[string]bool
	prefixes []string
}

// NewHeaderSet normalises names and prefixes (empty prefixes are ignored).
func NewHeaderSet(names, prefixes []string) *HeaderSet {
	s := &HeaderSet{names: make(map[string]bool, len(names))}
	for _, n := range names {
		s.names[normalise(n)] = true
	}
	for _, p := range prefixes {
		if p = normalise(p); p != "" {
			s.prefixes = append(s.prefixes, p)
		}
	}
	return s
}

// Strip removes from h every header in the set, as StripHeaders
// describes, and returns the removed keys, sorted.
func (s *HeaderSet) Strip(h http.Header) []string {
	var removed []string
	for k := range h {
		n := normalise(k)
		hit := s.names[n]
		for _, p := range s.prefixes {
			hit = hit || strings.HasPrefix(n, p)
		}
		if hit {
			delete(h, k)
			removed = append(removed, k)
		}
	}
	sort.Strings(removed)
	return removed
}

func normalise(name string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-")
}

// ConnectionTokens returns the lower-cased, trimmed, non-empty tokens of
// every Connection header in h, in order, whatever the case of the key.
func ConnectionTokens(h http.Header) []string {
	var toks []string
	for k, vs := range h {
		if !strings.EqualFold(k, "Connection") {
			continue
		}
		for _, v := range vs {
			for _, t := range strings.Split(v, ",") {
				if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
					toks = append(toks, t)
				}
			}
		}
	}
	return toks
}

// SanitizeConnection rewrites the Connection header of h to hold only the
// tokens keep accepts (keep receives lower-cased tokens), dropping it when
// none remain. A forwarding proxy deletes every header the Connection
// header names (RFC 9110 §7.6.1), so without this a client sending
// "Connection: X-Gatehouse-User" could make net/http/httputil drop a header
// the gateway sets. The gateway keeps only "upgrade", "keep-alive" and
// "close".
func SanitizeConnection(h http.Header, keep func(token string) bool) {
	var kept []string
	seen := map[string]bool{}
	for _, t := range ConnectionTokens(h) {
		if keep(t) && !seen[t] {
			seen[t] = true
			kept = append(kept, t)
		}
	}
	for k := range h {
		if strings.EqualFold(k, "Connection") {
			delete(h, k)
		}
	}
	if len(kept) > 0 {
		h["Connection"] = []string{strings.Join(kept, ", ")}
	}
}
