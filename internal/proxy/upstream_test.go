package proxy

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/coder/websocket"
)

func wsURL(h *harness, path string) string {
	return "ws" + strings.TrimPrefix(h.ts.URL, "http") + path
}

// SECURITY-CASES 51: an unauthenticated upgrade is refused and never opens
// a tunnel; a viewer's subscription cannot carry a mutation; an allowed
// WebSocket works both ways.
func TestWebSockets(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	_, res, err := websocket.Dial(ctx, wsURL(h, "/ws"), nil)
	if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous upgrade: err %v, response %v", err, res)
	}
	if got := h.seen.Requests(); len(got) != 0 {
		t.Fatalf("the app saw the refused upgrade: %v", got)
	}

	viewer := h.clientToken("viewer-client", "viewer")
	opts := &websocket.DialOptions{HTTPHeader: bearer(viewer)}
	c, _, err := websocket.Dial(ctx, wsURL(h, "/ws"), opts)
	if err != nil {
		t.Fatalf("viewer upgrade: %v", err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("ping 1")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || string(msg) != "ping 1" {
		t.Fatalf("echo: %q, %v", msg, err)
	}
	c.Close(websocket.StatusNormalClosure, "")

	// GraphQL over WebSocket: a subscription is allowed, a mutation sent
	// as a subscribe message ends the connection before the app sees it.
	gopts := &websocket.DialOptions{HTTPHeader: bearer(viewer), Subprotocols: []string{"graphql-transport-ws"}}
	g, _, err := websocket.Dial(ctx, wsURL(h, "/graphql"), gopts)
	if err != nil {
		t.Fatalf("graphql upgrade: %v", err)
	}
	send := func(v string) error { return g.Write(ctx, websocket.MessageText, []byte(v)) }
	if err := send(`{"type":"connection_init"}`); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := g.Read(ctx); err != nil || !strings.Contains(string(msg), "connection_ack") {
		t.Fatalf("ack: %q %v", msg, err)
	}
	if err := send(`{"id":"1","type":"subscribe","payload":{"query":"subscription { runEvents }"}}`); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := g.Read(ctx); err != nil || !strings.Contains(string(msg), `"next"`) {
		t.Fatalf("subscription: %q %v", msg, err)
	}
	// A refused operation gets graphql-transport-ws's error message for its
	// id; the socket stays open for the others.
	_ = send(`{"id":"2","type":"subscribe","payload":{"query":"mutation Go { launchRun(job: \"x\") { id } }"}}`)
	waitFor := func(id, typ string) string {
		t.Helper()
		for {
			_, msg, err := g.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s %s: %v", typ, id, err)
			}
			var m struct{ ID, Type string }
			json.Unmarshal(msg, &m)
			if m.ID == id && m.Type == typ {
				return string(msg)
			}
		}
	}
	if msg := waitFor("2", "error"); !strings.Contains(msg, `"payload":[{"message":"your roles do not allow the mutation Go","extensions":{"code":"FORBIDDEN"}}]`) {
		t.Fatalf("error message %s", msg)
	}
	_ = send(`{"id":"3","type":"subscribe","payload":{"query":"subscription { runEvents }"}}`)
	waitFor("3", "next")
	g.Close(websocket.StatusNormalClosure, "")
	if m := h.app.Mutations(); len(m) != 0 {
		t.Fatalf("a viewer's mutation over WebSocket reached the app: %v", m)
	}
	if !h.waitAudit("websocket") {
		t.Error("no audit event for the refused WebSocket message")
	}
}

func TestStreamingResponsesAreNotBuffered(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("viewer-client", "viewer")
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+"/stream?n=3&interval=300ms", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	line, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
		t.Fatalf("first event after %s (%q): the stream was buffered", elapsed, line)
	}
}

func TestAssertionVerifiesWithTheGatewayKeys(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("viewer-client", "viewer")
	e := echo(t, h.get(h.client(), "/echo", bearer(tok)))
	jwt := e.Header(HeaderAssertion)
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q", jwt)
	}
	res := h.get(h.client(), PathJWKS, nil)
	var set struct {
		Keys []struct{ Kid, X string } `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %v %v", set, err)
	}
	pub, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
		t.Fatal("the assertion does not verify with the published key")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims assertionClaims
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Subject != "viewer-client" || claims.Audience != h.appURL || claims.Issuer != h.gw.public.String() ||
		claims.Expires-claims.IssuedAt != int64(DefaultAssertionTTL/time.Second) {
		t.Fatalf("claims %+v", claims)
	}
}

// SECURITY-CASES 53: metrics carry no value a client chose.
func TestMetricsCarryNoClientValues(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for _, p := range []string{"/evil-path-label", "/%2fevil", "/graphql?query=evilquery"} {
		h.get(c, p, http.Header{"User-Agent": {"evil-agent"}, "Authorization": {"Bearer evil-token-label"}})
	}
	h.do(c, "EVILMETHOD", "/echo", nil, nil)
	h.login(c, h.srv.AddUser(t, "evil-username", "pw-evil-12345", "viewer"), "/evil-rd")
	body, _ := io.ReadAll(h.get(h.client(), PathMetrics, bearer(h.clientToken("metrics-admin", "admin"))).Body)
	for _, s := range []string{"evil", "EVILMETHOD"} {
		if strings.Contains(string(body), s) {
			t.Fatalf("metrics contain %q:\n%s", s, body)
		}
	}
	if !strings.Contains(string(body), "gatehouse_proxy_decisions_total") {
		t.Fatal("no decision metric")
	}
}

// Metrics are not served anonymously on the public origin: admins only,
// or nobody there when they have a listener of their own.
func TestMetricsAreNotPublic(t *testing.T) {
	h := newHarness(t)
	if res := h.get(h.client(), PathMetrics, nil); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous metrics: %d", res.StatusCode)
	}
	if res := h.get(h.client(), PathMetrics, bearer(h.clientToken("viewer-client", "viewer"))); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer metrics: %d", res.StatusCode)
	}
	if res := h.get(h.client(), PathMetrics, bearer(h.clientToken("admin-client", "admin"))); res.StatusCode != http.StatusOK {
		t.Fatalf("admin metrics: %d", res.StatusCode)
	}

	h2 := newHarness(t, func(c *Config, _ *Deps) { c.MetricsAddr = "127.0.0.1:0" })
	if res := h2.get(h2.client(), PathMetrics, bearer(h2.clientToken("admin-client", "admin"))); res.StatusCode != http.StatusNotFound {
		t.Fatalf("public metrics with a metrics listener: %d", res.StatusCode)
	}
	rec := httptest.NewRecorder()
	h2.gw.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathMetrics, nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "gatehouse_proxy_") {
		t.Fatalf("metrics handler: %d", rec.Code)
	}
}

func TestForwardAuth(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.TrustedProxies = []string{"127.0.0.0/8"} })
	viewer := h.clientToken("viewer-client", "viewer")
	ask := func(hdr http.Header) *http.Response {
		return h.get(h.client(), PathForwardAuth, hdr)
	}
	// nginx: anonymous → 401 (error_page 401 sends the browser to login).
	if res := ask(http.Header{"X-Original-Uri": {"/echo"}, "Accept": {"text/html"}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("nginx anonymous: %d", res.StatusCode)
	}
	// Traefik/Caddy: anonymous browser → 302 to login with the original URI.
	res := ask(http.Header{"X-Forwarded-Uri": {"/runs?x=1"}, "X-Forwarded-Method": {"GET"}, "Accept": {"text/html"}})
	if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "rd=%2Fruns%3Fx%3D1") {
		t.Fatalf("traefik anonymous: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// Allowed: identity headers for the proxy to copy.
	hdr := bearer(viewer)
	hdr.Set("X-Forwarded-Uri", "/echo")
	res = ask(hdr)
	if res.StatusCode != http.StatusOK || res.Header.Get(HeaderUser) != "viewer-client" || res.Header.Get(HeaderAssertion) == "" {
		t.Fatalf("allowed: %d %v", res.StatusCode, res.Header)
	}
	// Same policy: a viewer's POST and GraphQL mutation are refused.
	hdr.Set("X-Forwarded-Method", "POST")
	if res := ask(hdr); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer POST: %d", res.StatusCode)
	}
	hdr.Set("X-Forwarded-Method", "GET")
	hdr.Set("X-Forwarded-Uri", "/graphql?query="+strings.ReplaceAll(`mutation{launchRun(job:"a"){id}}`, " ", "%20"))
	if res := ask(hdr); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer GET mutation: %d", res.StatusCode)
	}
	hdr.Set("X-Forwarded-Uri", "/public/%2e%2e/echo/../..%2f")
	if res := ask(hdr); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad path: %d", res.StatusCode)
	}
}

func TestForwardAuthRefusesUntrustedCallers(t *testing.T) {
	h := newHarness(t) // no trusted proxies
	tok := h.clientToken("admin-client", "admin")
	hdr := bearer(tok)
	hdr.Set("X-Forwarded-Uri", "/echo")
	if res := h.get(h.client(), PathForwardAuth, hdr); res.StatusCode != http.StatusForbidden {
		t.Fatalf("untrusted forward-auth caller: %d, want 403", res.StatusCode)
	}
}

func TestMenuInjectedIntoHTMLPages(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.Menu = true })
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	c := h.client()
	h.login(c, u, "/")
	res := h.get(c, "/", htmlAccept())
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `/_gatehouse/static/menu.js`) {
		t.Fatalf("page %d without menu: %s", res.StatusCode, body)
	}
	if res := h.get(c, PathStatic+"menu.js", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("menu.js: %d", res.StatusCode)
	}
	var me whoami
	if err := json.NewDecoder(h.get(c, PathWhoami, nil).Body).Decode(&me); err != nil || me.User != "alice" {
		t.Fatalf("whoami %+v %v", me, err)
	}
	// JSON answers are left alone.
	body, _ = io.ReadAll(h.get(c, "/echo", nil).Body)
	if strings.Contains(string(body), "menu.js") {
		t.Fatal("menu injected into JSON")
	}
}

func TestGatewayPagesEscapeAndCarryCSP(t *testing.T) {
	h := newHarness(t)
	u := h.srv.AddUser(t, "<b>mallory</b>", "pw-mallory-123", "viewer")
	c := h.client()
	h.login(c, u, "/")
	res := h.get(c, "/admin/x", htmlAccept())
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", res.StatusCode)
	}
	if strings.Contains(string(body), "<b>mallory") || !strings.Contains(string(body), "&lt;b&gt;mallory") {
		t.Fatalf("username not escaped: %s", body)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Fatalf("CSP %q", csp)
	}
}

func TestReadyz(t *testing.T) {
	h := newHarness(t)
	res := h.get(h.client(), PathReadyz, nil)
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("readyz %d %s", res.StatusCode, body)
	}
}

// An upgrade that httputil would forward but that is not exactly a
// WebSocket ("Upgrade: websocket, x", h2c) is never forwarded, on any path
// (SECURITY-CASES 69: no h2c smuggling past the gateway).
func TestOtherUpgradesAreRefused(t *testing.T) {
	h := newHarness(t)
	tok := h.clientToken("admin-client", "admin")
	for _, c := range []struct{ path, up string }{
		{"/graphql?query=%7Bruns%7Bid%7D%7D", "websocket, h2c"}, {"/graphql?query=%7Bruns%7Bid%7D%7D", "h2c"},
		{"/graphql?query=%7Bruns%7Bid%7D%7D", "WebSocket/13"}, {"/echo", "h2c"}, {"/ws", "h2c, websocket"},
	} {
		up := c.up
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.ts.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		req := "GET " + c.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + tok +
			"\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: " + up + "\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA" +
			"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s Upgrade: %s: status %d, want 400", c.path, up, res.StatusCode)
		}
	}
	if got := h.seen.Requests(); len(got) != 0 {
		t.Fatalf("the app saw %v", got)
	}
}

// The menu goes into pages of any size without buffering them: a 5 MiB
// page (over the old 4 MiB limit) and a streamed one get it, right after
// <head>, and arrive whole.
func TestMenuInLargeAndStreamedPages(t *testing.T) {
	h := newHarness(t, func(c *Config, _ *Deps) { c.Menu = true })
	u := h.srv.AddUser(t, "alice", "pw-alice-123", "viewer")
	c := h.client()
	h.login(c, u, "/")
	const size = 5 << 20
	res := h.get(c, fmt.Sprintf("/big?html=1&bytes=%d", size), htmlAccept())
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || len(body) != size+len(menuTag) ||
		!strings.HasPrefix(string(body), "<!doctype html><html><head>"+string(menuTag)+"<title>") {
		t.Fatalf("big page: %d, %d bytes, starts %q", res.StatusCode, len(body), body[:min(len(body), 120)])
	}
	for _, page := range []string{"<html><HEAD lang=en><title>x</title></head><body>x</body></html>", "<header>no head</header><body>x</body>"} {
		r := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/html"}}, ContentLength: -1,
			Body: io.NopCloser(iotest.OneByteReader(strings.NewReader(page)))}
		if err := injectMenu(r); err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r.Body)
		if strings.Count(string(got), string(menuTag)) != 1 || strings.ReplaceAll(string(got), string(menuTag), "") != page {
			t.Errorf("streamed page %q became %q", page, got)
		}
	}
}

// The menu can be collapsed and its controls are at least 24 px.
func TestMenuIsCollapsibleWithLargeTargets(t *testing.T) {
	js, _ := staticFS.ReadFile("static/menu.js")
	css, _ := staticFS.ReadFile("static/menu.css")
	for _, want := range []string{`aria-expanded`, `gatehouse-menu-collapsed`, `body.hidden = collapsed`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("menu.js lacks %q", want)
		}
	}
	if !strings.Contains(string(css), "min-width: 24px; min-height: 24px") {
		t.Error("menu buttons are not at least 24 x 24 px")
	}
}
