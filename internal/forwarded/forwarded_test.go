package forwarded

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func mustNew(t *testing.T, cidrs ...string) *Trusted {
	t.Helper()
	tr, err := New(cidrs)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func request(remote string, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	return r
}

func TestNew(t *testing.T) {
	tr := mustNew(t, "10.0.0.0/8", " 192.0.2.7 ", "2001:db8::1", "::ffff:198.51.100.0/120", "10.1.2.3/8")
	for _, c := range []struct {
		addr string
		want bool
	}{
		{"10.9.9.9", true},
		{"11.0.0.1", false},
		{"192.0.2.7", true},
		{"192.0.2.8", false}, // a bare IP is /32, not a network
		{"2001:db8::1", true},
		{"2001:db8::2", false}, // and /128
		{"198.51.100.200", true},
		{"::ffff:10.0.0.1", true}, // mapped addresses match their IPv4 form
		{"198.51.101.1", false},
	} {
		if got := tr.Contains(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("Contains(%s) = %v, want %v", c.addr, got, c.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0.0/8/8", "", "fe80::1%eth0", "10.0.0"} {
		_, err := New([]string{"10.0.0.0/8", bad})
		if err == nil {
			t.Errorf("New(%q): no error", bad)
			continue
		}
		if !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Errorf("New(%q): error %q does not name the entry", bad, err)
		}
	}
	var none *Trusted
	if none.Contains(netip.MustParseAddr("10.0.0.1")) {
		t.Error("nil Trusted trusts someone")
	}
}

// SECURITY-CASES 46: nothing an untrusted peer sends changes any answer.
func TestUntrustedPeerChangesNothing(t *testing.T) {
	spoof := []string{
		"X-Forwarded-For", "203.0.113.9",
		"X-Forwarded-For", "10.0.0.1, 203.0.113.10",
		"X-Forwarded-Host", "evil.example",
		"X-Forwarded-Proto", "https",
		"X-Forwarded-Uri", "/admin",
		"X-Forwarded-Prefix", "/admin",
		"X-Original-URL", "/admin",
		"X-Rewrite-URL", "/admin",
		"X-Real-IP", "203.0.113.11",
		"Forwarded", "for=203.0.113.12;host=evil.example;proto=https",
		"Connection", "X-Forwarded-Host, X-Forwarded-For, X-Forwarded-Proto",
	}
	for _, tc := range []struct {
		name    string
		trusted []string
		remote  string
	}{
		{"no trusted proxies", nil, "198.51.100.4:5555"},
		{"peer outside the trusted list", []string{"10.0.0.0/8"}, "198.51.100.4:5555"},
		{"ipv6 peer outside the list", []string{"10.0.0.0/8", "::1"}, "[2001:db8::4]:443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := mustNew(t, tc.trusted...)
			plain := request(tc.remote)
			spoofed := request(tc.remote, spoof...)
			if got, want := tr.ClientIP(spoofed), tr.ClientIP(plain); got != want || !want.IsValid() {
				t.Errorf("ClientIP = %v, want %v", got, want)
			}
			if got := tr.Proto(spoofed); got != "http" {
				t.Errorf("Proto = %q, want http", got)
			}
			if got := tr.Host(spoofed); got != "app.example.com" {
				t.Errorf("Host = %q, want app.example.com", got)
			}
			if _, ok := tr.Peer(spoofed); ok {
				t.Error("Peer trusted")
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	tr := mustNew(t, "10.0.0.0/8", "2001:db8:ffff::/48")
	for _, c := range []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"untrusted peer", "203.0.113.1:1", []string{"198.51.100.1"}, "203.0.113.1"},
		{"trusted peer, no header", "10.0.0.1:1", nil, "10.0.0.1"},
		{"trusted peer", "10.0.0.1:1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted wins", "10.0.0.1:1", []string{"1.1.1.1, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"client-written left part ignored", "10.0.0.1:1", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"},
		{"multiple header lines in order", "10.0.0.1:1", []string{"198.51.100.1", "10.0.0.3"}, "198.51.100.1"},
		{"garbage stops the walk at the last trusted hop", "10.0.0.1:1", []string{"198.51.100.1, garbage, 10.0.0.2"}, "10.0.0.2"},
		{"garbage right away", "10.0.0.1:1", []string{"unknown"}, "10.0.0.1"},
		{"all trusted", "10.0.0.1:1", []string{"10.0.0.5, 10.0.0.4"}, "10.0.0.5"},
		{"mapped entries unmapped", "[::ffff:10.0.0.1]:1", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"ipv6", "[2001:db8:ffff::1]:1", []string{"2001:db8::7"}, "2001:db8::7"},
		{"spaces", "10.0.0.1:1", []string{"  198.51.100.1 ,10.0.0.2 "}, "198.51.100.1"},
		{"bare remote addr", "10.0.0.1", []string{"198.51.100.1"}, "198.51.100.1"},
		{"ports in XFF are not addresses", "10.0.0.1:1", []string{"198.51.100.1:80"}, "10.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := request(c.remote)
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tr.ClientIP(r); got.String() != c.want {
				t.Errorf("ClientIP = %v, want %s", got, c.want)
			}
		})
	}
	// X-Real-IP and Forwarded are never read, even from a trusted peer.
	r := request("10.0.0.1:1", "X-Real-IP", "198.51.100.1", "Forwarded", "for=198.51.100.2")
	if got := tr.ClientIP(r); got.String() != "10.0.0.1" {
		t.Errorf("ClientIP with X-Real-IP/Forwarded = %v", got)
	}
	for _, bad := range []string{"", "pipe", "@unix", "[::1"} {
		r := request(bad, "X-Forwarded-For", "198.51.100.1")
		if got := tr.ClientIP(r); got.IsValid() {
			t.Errorf("ClientIP with RemoteAddr %q = %v, want the zero Addr", bad, got)
		}
	}
}

func TestProto(t *testing.T) {
	tr := mustNew(t, "10.0.0.0/8")
	for _, c := range []struct {
		name   string
		remote string
		tls    bool
		xfp    []string
		want   string
	}{
		{"plain", "10.0.0.1:1", false, nil, "http"},
		{"tls", "203.0.113.1:1", true, nil, "https"},
		{"tls beats a header", "10.0.0.1:1", true, []string{"http"}, "https"},
		{"trusted https", "10.0.0.1:1", false, []string{"https"}, "https"},
		{"trusted HTTPS upper case", "10.0.0.1:1", false, []string{"HTTPS"}, "https"},
		{"trusted http", "10.0.0.1:1", false, []string{"http"}, "http"},
		{"first value", "10.0.0.1:1", false, []string{"https, http"}, "https"},
		{"first header", "10.0.0.1:1", false, []string{"http", "https"}, "http"},
		{"other scheme", "10.0.0.1:1", false, []string{"javascript"}, "http"},
		{"untrusted https", "203.0.113.1:1", false, []string{"https"}, "http"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := request(c.remote)
			if c.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, v := range c.xfp {
				r.Header.Add("X-Forwarded-Proto", v)
			}
			if got := tr.Proto(r); got != c.want {
				t.Errorf("Proto = %q, want %q", got, c.want)
			}
		})
	}
}

func TestHost(t *testing.T) {
	tr := mustNew(t, "10.0.0.0/8")
	for _, c := range []struct {
		name   string
		remote string
		xfh    []string
		want   string
	}{
		{"no header", "10.0.0.1:1", nil, "app.example.com"},
		{"trusted", "10.0.0.1:1", []string{"Public.Example.COM"}, "public.example.com"},
		{"trusted with port", "10.0.0.1:1", []string{"public.example.com:8443"}, "public.example.com:8443"},
		{"first value", "10.0.0.1:1", []string{"a.example, b.example"}, "a.example"},
		{"ipv4", "10.0.0.1:1", []string{"192.0.2.1:80"}, "192.0.2.1:80"},
		{"ipv6", "10.0.0.1:1", []string{"[2001:DB8::1]:443"}, "[2001:db8::1]:443"},
		{"trailing dot", "10.0.0.1:1", []string{"public.example."}, "public.example."},
		{"untrusted", "203.0.113.1:1", []string{"evil.example"}, "app.example.com"},
		{"empty", "10.0.0.1:1", []string{""}, "app.example.com"},
		{"userinfo", "10.0.0.1:1", []string{"user@evil.example"}, "app.example.com"},
		{"path", "10.0.0.1:1", []string{"evil.example/x"}, "app.example.com"},
		{"slash slash", "10.0.0.1:1", []string{"//evil.example"}, "app.example.com"},
		{"space", "10.0.0.1:1", []string{"evil example"}, "app.example.com"},
		{"CRLF", "10.0.0.1:1", []string{"evil.example\r\nX: y"}, "app.example.com"},
		{"bad port", "10.0.0.1:1", []string{"evil.example:99999"}, "app.example.com"},
		{"empty port", "10.0.0.1:1", []string{"evil.example:"}, "app.example.com"},
		{"two colons", "10.0.0.1:1", []string{"evil.example:1:2"}, "app.example.com"},
		{"bare ipv6", "10.0.0.1:1", []string{"2001:db8::1"}, "app.example.com"},
		{"ipv6 zone", "10.0.0.1:1", []string{"[fe80::1%25eth0]"}, "app.example.com"},
		{"ipv6 junk after bracket", "10.0.0.1:1", []string{"[2001:db8::1]x"}, "app.example.com"},
		{"empty label", "10.0.0.1:1", []string{"a..example"}, "app.example.com"},
		{"leading hyphen", "10.0.0.1:1", []string{"-a.example"}, "app.example.com"},
		{"underscore", "10.0.0.1:1", []string{"a_b.example"}, "app.example.com"},
		{"backslash", "10.0.0.1:1", []string{"evil.example\\app.example.com"}, "app.example.com"},
		{"long label", "10.0.0.1:1", []string{strings.Repeat("a", 64) + ".example"}, "app.example.com"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := request(c.remote)
			r.Header["X-Forwarded-Host"] = append(r.Header["X-Forwarded-Host"], c.xfh...)
			if got := tr.Host(r); got != c.want {
				t.Errorf("Host = %q, want %q", got, c.want)
			}
		})
	}
}

// A Connection header naming the forwarding headers alters no answer, from
// a trusted peer or not.
func TestConnectionHeaderChangesNothing(t *testing.T) {
	tr := mustNew(t, "10.0.0.0/8")
	for _, remote := range []string{"10.0.0.1:1", "203.0.113.1:1"} {
		base := []string{"X-Forwarded-For", "198.51.100.1", "X-Forwarded-Host", "public.example", "X-Forwarded-Proto", "https"}
		plain := request(remote, base...)
		withConn := request(remote, append(base, "Connection", "X-Forwarded-Host, X-Forwarded-For", "Connection", "X-Forwarded-Proto")...)
		if a, b := tr.ClientIP(plain), tr.ClientIP(withConn); a != b {
			t.Errorf("%s: ClientIP %v vs %v", remote, a, b)
		}
		if a, b := tr.Host(plain), tr.Host(withConn); a != b {
			t.Errorf("%s: Host %q vs %q", remote, a, b)
		}
		if a, b := tr.Proto(plain), tr.Proto(withConn); a != b {
			t.Errorf("%s: Proto %q vs %q", remote, a, b)
		}
	}
}

func TestPeer(t *testing.T) {
	tr := mustNew(t, "10.0.0.0/8")
	if a, ok := tr.Peer(request("10.1.1.1:9", "X-Forwarded-For", "198.51.100.1")); !ok || a.String() != "10.1.1.1" {
		t.Errorf("Peer = %v, %v", a, ok)
	}
	if a, ok := tr.Peer(request("198.51.100.1:9", "X-Real-IP", "10.0.0.1")); ok || a.String() != "198.51.100.1" {
		t.Errorf("Peer = %v, %v", a, ok)
	}
	if a, ok := tr.Peer(request("[fe80::1%eth0]:9")); ok || a.String() != "fe80::1" {
		t.Errorf("Peer = %v, %v", a, ok)
	}
}
