package wsinspect

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// inspecting wraps the upstream side of a 101 response the way the
// gateway does, so ReverseProxy writes the client's bytes through a Writer.
type inspecting struct {
	base  http.RoundTripper
	check func(int, []byte) error
}

func (t inspecting) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		return res, err
	}
	rwc, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		res.Body.Close()
		return nil, errors.New("101 body not writable")
	}
	res.Body = WrapConn(rwc, NewWriter(rwc, 1<<20, t.check))
	return res, nil
}

// startGateway starts a real coder/websocket upstream that reports every
// message it receives on the returned channel (closed when its read
// fails), behind an httputil.ReverseProxy that inspects client messages.
func startGateway(t *testing.T, check func(int, []byte) error) (wsURL string, received <-chan string) {
	t.Helper()
	got := make(chan string, 100)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			close(got)
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			_, msg, err := c.Read(r.Context())
			if err != nil {
				close(got)
				return
			}
			got <- string(msg)
		}
	}))
	t.Cleanup(upstream.Close)
	target, err := url.Parse(upstream.URL)
	if err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// As the gateway does: no extension is ever negotiated.
			pr.Out.Header.Del("Sec-WebSocket-Extensions")
		},
		Transport: inspecting{base: transport, check: check},
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	return "ws" + strings.TrimPrefix(front.URL, "http"), got
}

func next(t *testing.T, received <-chan string) (string, bool) {
	t.Helper()
	select {
	case m, ok := <-received:
		return m, ok
	case <-time.After(10 * time.Second):
		t.Fatal("upstream received nothing in 10s")
		return "", false
	}
}

// TestRealClientThroughReverseProxy drives the Writer with a real client
// library through httputil.ReverseProxy: subscriptions (one frame, a
// fragmented message with 64-bit lengths, a ping in between) reach the
// upstream unchanged; a subscribe message carrying a mutation closes the
// tunnel and never reaches it (SECURITY-CASES 51).
func TestRealClientThroughReverseProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL, received := startGateway(t, denyMutations)

	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	ctx = c.CloseRead(ctx) // handles pongs; the upstream sends no data

	send := func(msg string) {
		t.Helper()
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	init := `{"type":"connection_init","payload":{}}`
	sub := `{"type":"subscribe","id":"1","payload":{"query":"subscription { runs }"}}`
	send(init)
	send(sub)
	for _, want := range []string{init, sub} {
		if got, ok := next(t, received); !ok || got != want {
			t.Fatalf("upstream received %q (open %v), want %q", got, ok, want)
		}
	}

	// A fragmented message: each Write of a message writer is one frame.
	pad := strings.Repeat("p", 70000)
	parts := []string{`{"type":"subscribe","id":"2","payload":{"query":"subscription { runs }",`, `"variables":{"pad":"` + pad, `"}}}`}
	mw, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range parts {
		if _, err := mw.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("ping in the middle of a fragmented message: %v", err)
			}
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	if got, ok := next(t, received); !ok || got != strings.Join(parts, "") {
		t.Fatalf("fragmented message arrived as %d bytes (open %v), want %d", len(got), ok, len(strings.Join(parts, "")))
	}

	send(`{"type":"subscribe","id":"3","payload":{"query":"mutation { launchRun }"}}`)
	// The tunnel may already be closed; either way nothing more arrives.
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe","id":"4","payload":{"query":"subscription { runs }"}}`))
	if got, ok := next(t, received); ok {
		t.Fatalf("upstream received %q after a mutation; want the tunnel closed", got)
	}
}
