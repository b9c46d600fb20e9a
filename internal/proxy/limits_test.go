package proxy

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
)

// rawRequest writes head (request line and headers, without the blank
// line) and then the first part of a body, and returns the connection
// for reading the answer.
func rawRequest(t *testing.T, addr, head, bodyStart string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, head+"\r\n\r\n"+bodyStart); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readAnswer reads one response from conn within limit.
func readAnswer(t *testing.T, conn net.Conn, limit time.Duration) (*http.Response, time.Duration) {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(limit))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", limit, err)
	}
	res.Body.Close()
	return res, time.Since(start)
}

func (h *harness) addr() string { return strings.TrimPrefix(h.ts.URL, "http://") }

// An anonymous request to a protected GraphQL path is answered before its
// body is read: the client has sent 10 bytes of a declared megabyte and
// still gets its 401 (SECURITY-CASES 67). Removing the early answer makes
// the gateway wait for the body and this test time out.
func TestAnonymousRequestsAreAnsweredWithoutReadingTheBody(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/graphql", "/echo"} {
		conn := rawRequest(t, h.addr(), "POST "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1048576", `{"query":"`)
		res, _ := readAnswer(t, conn, 3*time.Second)
		if res.StatusCode != http.StatusUnauthorized || !res.Close {
			t.Fatalf("%s: %d %v", path, res.StatusCode, res.Header)
		}
	}
	// A path a public rule may allow is still judged on its body.
	if !h.gw.policy.AnonymousMayPass("x", "/public/a", "GET") || h.gw.policy.AnonymousMayPass("x", "/graphql", "POST") {
		t.Fatal("AnonymousMayPass")
	}
}

func TestAnonymousMayPass(t *testing.T) {
	p, err := policy.Parse([]byte(`
version: 1
graphql: {paths: ["/graphql"]}
rules:
  - {name: closed, paths: ["/public/closed/**"], action: deny}
  - {name: public, paths: ["/public/**"], public: true}
  - {name: public graphql, paths: ["/graphql"], public: true, graphql: {types: [query]}}
  - {name: members, roles: [viewer]}
`), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want bool
	}{{"/public/a", true}, {"/public/closed/a", false}, {"/graphql", true}, {"/other", false}} {
		if got := p.AnonymousMayPass("h", c.path, "POST"); got != c.want {
			t.Errorf("%s: %v, want %v", c.path, got, c.want)
		}
		// Whatever AnonymousMayPass says, Decide agrees when it says no.
		if !c.want && p.Decide(policy.Input{Host: "h", Path: c.path, Method: "POST"}).Allow {
			t.Errorf("%s: Decide allows what AnonymousMayPass refused", c.path)
		}
	}
}

// A stalled upload is cut at the body timeout, on a GraphQL path (where
// the gateway reads it) and elsewhere (where the copy to the application
// reads it).
func TestStalledUploadsAreCutAtTheBodyTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.BodyTimeout = 300 * time.Millisecond })
	admin := h.clientToken("admin-client", "admin")
	for _, path := range []string{"/graphql", "/echo"} {
		conn := rawRequest(t, h.addr(), "POST "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "+admin+
			"\r\nContent-Type: application/json\r\nContent-Length: 1000", `{"query":"`)
		start := time.Now()
		conn.SetReadDeadline(start.Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		took := time.Since(start)
		if err == nil {
			res.Body.Close()
			if res.StatusCode < 400 {
				t.Fatalf("%s: %d", path, res.StatusCode)
			}
		}
		if took < 250*time.Millisecond || took > 3*time.Second {
			t.Fatalf("%s: cut after %s (err %v)", path, took, err)
		}
	}
}

// A client that never finishes its headers is cut at the header timeout.
func TestSlowHeadersAreCut(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.ReadHeaderTimeout = 200 * time.Millisecond })
	srv := h.gw.Server(log.New(io.Discard, "", 0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	start := time.Now()
	conn.SetReadDeadline(start.Add(5 * time.Second))
	_, err = io.ReadAll(conn)
	if took := time.Since(start); err != nil || took > 2*time.Second {
		t.Fatalf("connection not closed at the header timeout: %s %v", took, err)
	}
	if srv.IdleTimeout != DefaultConnIdleTimeout {
		t.Fatalf("idle timeout %s", srv.IdleTimeout)
	}
}

// Bodies held for inspection at once are bounded: while one request holds
// the whole budget, the next waits InspectWait and gets 503.
func TestInspectionBudgetIsBounded(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.InspectBytes = 1000
		c.InspectWait = 100 * time.Millisecond
	})
	viewer := h.clientToken("viewer-client", "viewer")
	head := "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + viewer + "\r\nContent-Type: application/json\r\nContent-Length: "
	// Holds the budget: declares 1000 bytes and stalls.
	holder := rawRequest(t, h.addr(), head+"1000", `{"query":"`)
	_ = holder
	time.Sleep(100 * time.Millisecond)
	q := `{"query":"{ runs { id } }"}`
	conn := rawRequest(t, h.addr(), head+fmt.Sprint(len(q)), q)
	res, _ := readAnswer(t, conn, 3*time.Second)
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("over budget: %d", res.StatusCode)
	}
	holder.Close()
	// The budget comes back.
	deadline := time.Now().Add(3 * time.Second)
	for {
		conn := rawRequest(t, h.addr(), head+fmt.Sprint(len(q)), q)
		res, _ := readAnswer(t, conn, 3*time.Second)
		if res.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("budget not released: %d", res.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The forward-auth endpoint, too, answers an anonymous request without
// reading the body a proxy forwarded (Traefik's forwardBody).
func TestForwardAuthAnonymousBodiesAreNotRead(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.TrustedProxies = []string{"127.0.0.0/8"} })
	conn := rawRequest(t, h.addr(), "POST "+PathForwardAuth+" HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-Uri: /graphql\r\nX-Forwarded-Method: POST"+
		"\r\nContent-Type: application/json\r\nContent-Length: 60000", `{"query":"`)
	res, _ := readAnswer(t, conn, 3*time.Second)
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous forward-auth: %d", res.StatusCode)
	}
}
