package inbound

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"testing"
)

var (
	identityNames    = []string{"X-Gatehouse-User", "X-Gatehouse-Email", "X-Forwarded-User", "Remote-User"}
	identityPrefixes = []string{"X-Gatehouse-", "X-Auth-Request-"}
)

// SECURITY-CASES 47: every client-sent identity header is removed, however
// it is spelt.
func TestStripHeaders(t *testing.T) {
	for _, c := range []struct {
		name    string
		set     map[string][]string // raw map keys, as the server may deliver them
		removed []string
	}{
		{"canonical", map[string][]string{"X-Gatehouse-User": {"admin"}}, []string{"X-Gatehouse-User"}},
		{"lower case", map[string][]string{"x-gatehouse-user": {"admin"}}, []string{"x-gatehouse-user"}},
		{"mixed case", map[string][]string{"X-GateHouse-USER": {"admin"}}, []string{"X-GateHouse-USER"}},
		{"underscore", map[string][]string{"X_Gatehouse_User": {"admin"}}, []string{"X_Gatehouse_User"}},
		{"underscore lower", map[string][]string{"x_gatehouse_user": {"admin"}}, []string{"x_gatehouse_user"}},
		{"mixed separators", map[string][]string{"X-Gatehouse_User": {"admin"}}, []string{"X-Gatehouse_User"}},
		{"duplicated", map[string][]string{"X-Gatehouse-User": {"admin", "root"}}, []string{"X-Gatehouse-User"}},
		{"comma-joined", map[string][]string{"X-Gatehouse-User": {"admin, root"}}, []string{"X-Gatehouse-User"}},
		{"every spelling at once", map[string][]string{
			"X-Gatehouse-User": {"a"}, "X_Gatehouse_User": {"b"}, "x_gatehouse_user": {"c"},
			"Remote-User": {"d"}, "Remote_User": {"e"},
		}, []string{"Remote-User", "Remote_User", "X-Gatehouse-User", "X_Gatehouse_User", "x_gatehouse_user"}},
		{"prefix", map[string][]string{"X-Gatehouse-Roles": {"admin"}, "X-Auth-Request-Email": {"a@b"}}, []string{"X-Auth-Request-Email", "X-Gatehouse-Roles"}},
		{"prefix underscore", map[string][]string{"X_GATEHOUSE_ROLES": {"admin"}, "X_Auth_Request_Groups": {"g"}}, []string{"X_Auth_Request_Groups", "X_GATEHOUSE_ROLES"}},
		{"unrelated kept", map[string][]string{"X-Gatehousex": {"1"}, "Accept": {"*/*"}, "X-User": {"u"}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Accept": {"text/html"}, "X-Request-Id": {"1"}}
			for k, v := range c.set {
				h[k] = v
			}
			removed := StripHeaders(h, identityNames, identityPrefixes)
			if !slices.Equal(removed, c.removed) {
				t.Errorf("removed %q, want %q", removed, c.removed)
			}
			for k := range h {
				n := strings.ReplaceAll(strings.ToLower(k), "_", "-")
				if strings.HasPrefix(n, "x-gatehouse-") || strings.HasPrefix(n, "x-auth-request-") || n == "remote-user" || n == "x-forwarded-user" {
					t.Errorf("%s survived", k)
				}
			}
			if h.Get("Accept") == "" || h.Get("X-Request-Id") != "1" {
				t.Errorf("unrelated headers lost: %v", h)
			}
		})
	}
	// Names and prefixes in the configuration are normalised too; an empty
	// prefix does not strip everything.
	h := http.Header{"X-Gatehouse-User": {"a"}, "Accept": {"*/*"}}
	StripHeaders(h, []string{"x_gatehouse_USER"}, []string{""})
	if len(h["X-Gatehouse-User"]) != 0 || h.Get("Accept") == "" {
		t.Errorf("after strip: %v", h)
	}
}

// Headers exactly as net/http's server delivers them: underscore names
// keep their spelling as map keys, so h.Del("X-Gatehouse-User") would
// miss them.
func TestStripHeadersFromServer(t *testing.T) {
	raw := "GET / HTTP/1.1\r\nHost: app\r\n" +
		"x-gatehouse-user: a\r\n" +
		"X_Gatehouse_User: b\r\n" +
		"x_gatehouse_user: c\r\n" +
		"X-GATEHOUSE-USER: d, e\r\n" +
		"X-Gatehouse-User: f\r\n" +
		"X-Gatehouse-Roles: admin\r\n\r\n"
	got := make(chan http.Header, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		StripHeaders(h, identityNames, identityPrefixes)
		got <- h
	}))
	defer srv.Close()
	sendRaw(t, srv.URL, raw)
	h := <-got
	for k := range h {
		if strings.Contains(strings.ToLower(strings.ReplaceAll(k, "_", "-")), "gatehouse") {
			t.Errorf("%s: %q survived", k, h[k])
		}
	}
}

func TestConnectionTokens(t *testing.T) {
	h := http.Header{"Connection": {"Upgrade, X-Gatehouse-User", " keep-alive ,,", "CLOSE"}, "connection": {"te"}}
	got := ConnectionTokens(h)
	slices.Sort(got)
	want := []string{"close", "keep-alive", "te", "upgrade", "x-gatehouse-user"}
	if !slices.Equal(got, want) {
		t.Errorf("ConnectionTokens = %q, want %q", got, want)
	}
	if got := ConnectionTokens(http.Header{}); got != nil {
		t.Errorf("no Connection: %q", got)
	}
}

func gatewayKeep(tok string) bool { return tok == "upgrade" || tok == "keep-alive" || tok == "close" }

func TestSanitizeConnection(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{[]string{"X-Gatehouse-User"}, nil},
		{[]string{"Upgrade, X-Gatehouse-User"}, []string{"upgrade"}},
		{[]string{"keep-alive", "X_Gatehouse_User, Close"}, []string{"keep-alive, close"}},
		{[]string{"Upgrade", "upgrade"}, []string{"upgrade"}},
		{[]string{"x-forwarded-for, x-forwarded-host, authorization, cookie"}, nil},
	} {
		h := http.Header{"Connection": c.in, "X-Other": {"1"}}
		SanitizeConnection(h, gatewayKeep)
		if !slices.Equal(h["Connection"], c.want) {
			t.Errorf("%q: Connection = %q, want %q", c.in, h["Connection"], c.want)
		}
		if h.Get("X-Other") != "1" {
			t.Errorf("%q: other header lost", c.in)
		}
	}
	h := http.Header{"connection": {"x-gatehouse-user"}}
	SanitizeConnection(h, gatewayKeep)
	if len(h) != 0 {
		t.Errorf("non-canonical key survived: %v", h)
	}
}

// SECURITY-CASES 47 end to end through net/http/httputil: a client that
// sends its own identity headers and names the gateway's header in
// Connection still leaves the upstream with exactly the gateway's value.
func TestGatewayHeaderSurvivesReverseProxy(t *testing.T) {
	type seen struct {
		user []string
		all  http.Header
	}
	got := make(chan seen, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{user: r.Header.Values("X-Gatehouse-User"), all: r.Header.Clone()}
	}))
	defer upstream.Close()
	target, _ := url.Parse(upstream.URL)

	for _, sanitize := range []bool{true, false} {
		rp := httputil.NewSingleHostReverseProxy(target)
		direct := rp.Director
		// A Director runs before httputil removes the headers Connection
		// names, which is exactly where a gateway sets its own.
		rp.Director = func(r *http.Request) {
			direct(r)
			StripHeaders(r.Header, identityNames, identityPrefixes)
			if sanitize {
				SanitizeConnection(r.Header, gatewayKeep)
			}
			r.Header.Set("X-Gatehouse-User", "alice")
		}
		gw := httptest.NewServer(rp)
		raw := "GET /x HTTP/1.1\r\nHost: app\r\n" +
			"Connection: keep-alive, X-Gatehouse-User\r\n" +
			"Connection: x_gatehouse_user\r\n" +
			"X-Gatehouse-User: admin, root\r\n" +
			"X-Gatehouse-User: root\r\n" +
			"X_Gatehouse_User: root\r\n" +
			"x-gatehouse-USER: root\r\n\r\n"
		sendRaw(t, gw.URL, raw)
		s := <-got
		gw.Close()
		if !sanitize {
			// Without SanitizeConnection the gateway's header is dropped:
			// the attack this guards against is real.
			if len(s.user) != 0 {
				t.Fatalf("unsanitised control case: upstream saw %q; the test no longer proves anything", s.user)
			}
			continue
		}
		if !slices.Equal(s.user, []string{"alice"}) {
			t.Errorf("upstream X-Gatehouse-User = %q, want exactly [alice]", s.user)
		}
		for k, v := range s.all {
			n := strings.ToLower(strings.ReplaceAll(k, "_", "-"))
			if n == "x-gatehouse-user" && k != "X-Gatehouse-User" {
				t.Errorf("upstream saw %s: %q", k, v)
			}
		}
	}
}

// sendRaw writes raw to the server at base and waits for the response, so
// header spellings reach the server exactly as written.
func sendRaw(t *testing.T, base, raw string) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := (&net.Dialer{}).Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
