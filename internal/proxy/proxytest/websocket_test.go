package proxytest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func wsURL(ts *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(ts.URL, "http") + path
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestWebSocketEcho(t *testing.T) {
	_, ts := start(t)
	ctx := testContext(t)
	// A cross-site Origin is accepted: refusing it is the gateway's job.
	c, res, err := DialWS(ctx, wsURL(ts, "/ws"), http.Header{"Origin": {"https://evil.example"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get(HeaderApp) != "proxytest" {
		t.Fatalf("handshake %d %v", res.StatusCode, res.Header)
	}
	msgs := []struct {
		typ websocket.MessageType
		b   []byte
	}{
		{websocket.MessageText, []byte("hello")},
		{websocket.MessageBinary, []byte{0, 1, 2, 255}},
		{websocket.MessageText, []byte(strings.Repeat("x", 100000))},
	}
	for _, m := range msgs {
		if err := c.Write(ctx, m.typ, m.b); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Read(ctx)
		if err != nil || typ != m.typ || string(got) != string(m.b) {
			t.Fatalf("echo of %d bytes: type %v, %d bytes, %v", len(m.b), typ, len(got), err)
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	// A plain GET of /ws is refused by the handshake.
	if res, _ := get(t, http.MethodGet, ts.URL+"/ws", nil); res.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("plain GET /ws: %d", res.StatusCode)
	}
}

func TestGraphQLWSSubscription(t *testing.T) {
	app, ts := start(t)
	ctx := testContext(t)
	payloads, err := GraphQLWS(ctx, wsURL(ts, "/graphql"), nil, `subscription { e: runEvents(runId: "7") }`)
	want := []string{
		`{"data":{"e":"run 7: event 1"}}`,
		`{"data":{"e":"run 7: event 2"}}`,
		`{"data":{"e":"run 7: event 3"}}`,
	}
	if err != nil || !slices.Equal(payloads, want) {
		t.Fatalf("subscription: %v %v", payloads, err)
	}
	payloads, err = GraphQLWS(ctx, wsURL(ts, "/graphql"), nil, `{ run(id: "1") { status } }`)
	if err != nil || !slices.Equal(payloads, []string{`{"data":{"run":{"status":"SUCCESS"}}}`}) {
		t.Fatalf("query: %v %v", payloads, err)
	}
	if m := app.Mutations(); len(m) != 0 {
		t.Fatalf("mutations %v", m)
	}
}

// A mutation sent as a subscribe message executes and is recorded, so a
// gateway test can prove it stopped one.
func TestGraphQLWSMutationIsRecorded(t *testing.T) {
	app, ts := start(t)
	ctx := testContext(t)
	payloads, err := GraphQLWS(ctx, wsURL(ts, "/graphql"), nil, `mutation { launchRun(job: "ws") { id job } }`)
	if err != nil || !slices.Equal(payloads, []string{`{"data":{"launchRun":{"id":"4","job":"ws"}}}`}) {
		t.Fatalf("mutation: %v %v", payloads, err)
	}
	if m := app.Mutations(); !slices.Equal(m, []string{"launchRun"}) {
		t.Fatalf("mutations %v", m)
	}
	// An invalid document gets an error message, and GraphQLWS fails.
	_, err = GraphQLWS(ctx, wsURL(ts, "/graphql"), nil, `mutation { launchRun { id } }`)
	if !errors.Is(err, ErrGraphQLWS) || !strings.Contains(err.Error(), `argument \"job\"`) {
		t.Fatalf("invalid mutation: %v", err)
	}
	if m := app.Mutations(); len(m) != 1 {
		t.Fatalf("mutations %v", m)
	}
}

// wsConn is a raw GraphQL WebSocket client for protocol tests.
type wsConn struct {
	t   *testing.T
	ctx context.Context
	c   *websocket.Conn
}

func dialGraphQL(t *testing.T, ts *httptest.Server, protocol string) *wsConn {
	t.Helper()
	ctx := testContext(t)
	c, _, err := DialWS(ctx, wsURL(ts, "/graphql"), nil, protocol)
	if err != nil {
		t.Fatalf("dial %s: %v", protocol, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if c.Subprotocol() != protocol {
		t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), protocol)
	}
	return &wsConn{t: t, ctx: ctx, c: c}
}

func (w *wsConn) send(s string) {
	w.t.Helper()
	if err := w.c.Write(w.ctx, websocket.MessageText, []byte(s)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsConn) read() wsMessage {
	w.t.Helper()
	_, b, err := w.c.Read(w.ctx)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Fatalf("message %q: %v", b, err)
	}
	return m
}

// closed reads until the connection ends and returns its close code.
func (w *wsConn) closed() websocket.StatusCode {
	w.t.Helper()
	for {
		if _, _, err := w.c.Read(w.ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestGraphQLTransportWSProtocol(t *testing.T) {
	app, ts := start(t)

	// subscribe before connection_init: 4401.
	w := dialGraphQL(t, ts, ProtocolTransportWS)
	w.send(`{"id":"1","type":"subscribe","payload":{"query":"mutation { deleteRun(id: \"1\") }"}}`)
	if code := w.closed(); code != 4401 {
		t.Fatalf("subscribe before init: close %d", code)
	}
	if m := app.Mutations(); len(m) != 0 {
		t.Fatalf("mutation ran before connection_init: %v", m)
	}

	w = dialGraphQL(t, ts, ProtocolTransportWS)
	w.send(`{"type":"connection_init","payload":{}}`)
	if m := w.read(); m.Type != "connection_ack" {
		t.Fatalf("got %+v", m)
	}
	w.send(`{"type":"ping"}`)
	if m := w.read(); m.Type != "pong" {
		t.Fatalf("ping: %+v", m)
	}
	// Stop a subscription after its first event: no complete for it.
	w.send(`{"id":"s","type":"subscribe","payload":{"query":"subscription { runEvents }"}}`)
	if m := w.read(); m.Type != "next" || m.ID != "s" || string(m.Payload) != `{"data":{"runEvents":"run *: event 1"}}` {
		t.Fatalf("first event: %+v %s", m, m.Payload)
	}
	w.send(`{"id":"s","type":"complete"}`)
	// A mutation over the same connection; a late message of "s" may
	// arrive before its answer.
	w.send(`{"id":"m","type":"subscribe","payload":{"query":"mutation { materializeAsset(key: \"k\") }","variables":{}}}`)
	var got []string
	for len(got) < 2 {
		m := w.read()
		if m.ID == "s" {
			continue
		}
		got = append(got, m.ID+" "+m.Type+" "+string(m.Payload))
	}
	if !slices.Equal(got, []string{`m next {"data":{"materializeAsset":true}}`, "m complete "}) {
		t.Fatalf("mutation over WebSocket: %q", got)
	}
	if m := app.Mutations(); !slices.Equal(m, []string{"materializeAsset"}) {
		t.Fatalf("mutations %v", m)
	}
	// A second connection_init: 4429.
	w.send(`{"type":"connection_init"}`)
	if code := w.closed(); code != 4429 {
		t.Fatalf("second init: close %d", code)
	}

	// Garbage: 4400.
	w = dialGraphQL(t, ts, ProtocolTransportWS)
	w.send(`not json`)
	if code := w.closed(); code != 4400 {
		t.Fatalf("garbage: close %d", code)
	}
}

func TestGraphQLLegacyWSProtocol(t *testing.T) {
	app, ts := start(t)
	w := dialGraphQL(t, ts, ProtocolLegacyWS)
	w.send(`{"type":"connection_init"}`)
	if m := w.read(); m.Type != "connection_ack" {
		t.Fatalf("got %+v", m)
	}
	w.send(`{"id":"1","type":"start","payload":{"query":"subscription { runEvents(runId: \"2\") }"}}`)
	for i := 1; i <= SubscriptionEvents; i++ {
		if m := w.read(); m.Type != "data" || m.ID != "1" || !strings.Contains(string(m.Payload), "event") {
			t.Fatalf("event %d: %+v", i, m)
		}
	}
	if m := w.read(); m.Type != "complete" || m.ID != "1" {
		t.Fatalf("end: %+v", m)
	}
	w.send(`{"id":"2","type":"start","payload":{"query":"mutation { launchRun(job: \"legacy\") { id } }"}}`)
	if m := w.read(); m.Type != "data" || string(m.Payload) != `{"data":{"launchRun":{"id":"4"}}}` {
		t.Fatalf("mutation: %+v %s", m, m.Payload)
	}
	if m := w.read(); m.Type != "complete" {
		t.Fatalf("mutation end: %+v", m)
	}
	w.send(`{"id":"3","type":"start","payload":{"query":"{ nope }"}}`)
	if m := w.read(); m.Type != "error" || !strings.HasPrefix(string(m.Payload), `{"message":`) {
		t.Fatalf("error: %+v %s", m, m.Payload)
	}
	if m := app.Mutations(); !slices.Equal(m, []string{"launchRun"}) {
		t.Fatalf("mutations %v", m)
	}
	w.send(`{"type":"connection_terminate"}`)
	if code := w.closed(); code != websocket.StatusNormalClosure {
		t.Fatalf("terminate: close %d", code)
	}
}

func TestGraphQLWSWithoutSubprotocol(t *testing.T) {
	_, ts := start(t)
	ctx := testContext(t)
	c, _, err := DialWS(ctx, wsURL(ts, "/graphql"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != 4406 {
		t.Fatalf("no subprotocol: %v", err)
	}
}

// GraphQLWS fails when the connection ends before complete, as it does
// when the gateway cuts a refused operation.
func TestGraphQLWSClientFailsWithoutComplete(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := accept(w, r, ProtocolTransportWS)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		c.Read(ctx) // connection_init
		c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_ack"}`))
		c.Read(ctx) // subscribe
		c.Write(ctx, websocket.MessageText, []byte(`{"id":"1","type":"next","payload":{"data":{"runEvents":"x"}}}`))
		c.Close(websocket.StatusPolicyViolation, "refused")
	}))
	defer ts.Close()
	payloads, err := GraphQLWS(testContext(t), wsURL(ts, "/graphql"), nil, `subscription { runEvents }`)
	if !errors.Is(err, ErrGraphQLWS) || len(payloads) != 1 {
		t.Fatalf("payloads %v, err %v", payloads, err)
	}
	// A refused handshake is an error too, with the response at hand for
	// DialWS callers.
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	defer deny.Close()
	if _, err := GraphQLWS(testContext(t), wsURL(deny, "/graphql"), nil, `{ assets }`); err == nil {
		t.Fatal("GraphQLWS through a refused handshake: no error")
	}
	if _, res, err := DialWS(testContext(t), wsURL(deny, "/ws"), nil); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("DialWS refused: %v %v", res, err)
	}
}
