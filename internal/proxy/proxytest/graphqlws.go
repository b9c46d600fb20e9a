package proxytest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
)

// GraphQL over WebSocket subprotocols.
const (
	// ProtocolTransportWS is graphql-transport-ws (the graphql-ws library).
	ProtocolTransportWS = "graphql-transport-ws"
	// ProtocolLegacyWS is graphql-ws, the older subscriptions-transport-ws.
	ProtocolLegacyWS = "graphql-ws"
)

// Subscription events: runEvents sends SubscriptionEvents values,
// SubscriptionInterval apart, then completes.
const (
	SubscriptionEvents   = 3
	SubscriptionInterval = 10 * time.Millisecond
)

// Close codes of graphql-transport-ws.
const (
	closeBadMessage       websocket.StatusCode = 4400
	closeUnauthorized     websocket.StatusCode = 4401
	closeBadSubprotocol   websocket.StatusCode = 4406
	closeDuplicateID      websocket.StatusCode = 4409
	closeTooManyInitCalls websocket.StatusCode = 4429
)

// wsMessage is a message of either protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// wsDialect names the message types that differ between the protocols.
type wsDialect struct {
	subscribe string // client starts an operation
	stop      string // client stops one
	next      string // server sends a result
	legacy    bool
}

var dialects = map[string]wsDialect{
	ProtocolTransportWS: {subscribe: "subscribe", stop: "complete", next: "next"},
	ProtocolLegacyWS:    {subscribe: "start", stop: "stop", next: "data", legacy: true},
}

// wsSession is one GraphQL WebSocket connection.
type wsSession struct {
	app *App
	c   *websocket.Conn
	d   wsDialect

	mu   sync.Mutex
	subs map[string]context.CancelFunc
	wg   sync.WaitGroup
}

// serveGraphQLWS speaks graphql-transport-ws or graphql-ws, whichever the
// client offered. Queries and mutations sent as subscribe messages run at
// once (mutations are recorded); subscriptions stream in the background.
func (a *App) serveGraphQLWS(w http.ResponseWriter, r *http.Request) {
	c, err := accept(w, r, ProtocolTransportWS, ProtocolLegacyWS)
	if err != nil {
		return
	}
	defer c.CloseNow()
	d, ok := dialects[c.Subprotocol()]
	if !ok {
		c.Close(closeBadSubprotocol, "Subprotocol not acceptable")
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	s := &wsSession{app: a, c: c, d: d, subs: map[string]context.CancelFunc{}}
	defer s.wg.Wait()
	defer cancel()
	if code, reason := s.loop(ctx); code != 0 {
		c.Close(code, reason)
	}
}

// loop reads messages until the connection ends; a non-zero code is the
// close the protocol asks for.
func (s *wsSession) loop(ctx context.Context) (websocket.StatusCode, string) {
	initialised := false
	for {
		_, data, err := s.c.Read(ctx)
		if err != nil {
			return 0, ""
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil {
			return closeBadMessage, "Invalid message received"
		}
		switch m.Type {
		case "connection_init":
			if initialised {
				return closeTooManyInitCalls, "Too many initialisation requests"
			}
			initialised = true
			if err := s.send(ctx, wsMessage{Type: "connection_ack"}); err != nil {
				return 0, ""
			}
		case "ping":
			if err := s.send(ctx, wsMessage{Type: "pong", Payload: m.Payload}); err != nil {
				return 0, ""
			}
		case "pong":
		case "connection_terminate":
			return websocket.StatusNormalClosure, ""
		case s.d.subscribe:
			if !initialised {
				return closeUnauthorized, "Unauthorized"
			}
			if m.ID == "" {
				return closeBadMessage, "Invalid message received"
			}
			var q GraphQLRequest
			if err := json.Unmarshal(m.Payload, &q); err != nil {
				return closeBadMessage, "Invalid message received"
			}
			if code, reason := s.start(ctx, m.ID, q); code != 0 {
				return code, reason
			}
		case s.d.stop:
			s.mu.Lock()
			if stop, ok := s.subs[m.ID]; ok {
				stop()
			}
			s.mu.Unlock()
		default:
			return closeBadMessage, "Invalid message received"
		}
	}
}

// start runs operation id: a query or mutation at once, a subscription
// in the background.
func (s *wsSession) start(ctx context.Context, id string, q GraphQLRequest) (websocket.StatusCode, string) {
	s.mu.Lock()
	_, dup := s.subs[id]
	s.mu.Unlock()
	if dup {
		return closeDuplicateID, "Subscriber for " + id + " already exists"
	}
	op, res := prepare(q)
	if res != nil {
		_ = s.sendError(ctx, id, res)
		return 0, ""
	}
	if op.Operation != ast.Subscription {
		res := s.app.execute(op)
		if s.sendResult(ctx, id, res) == nil {
			_ = s.send(ctx, wsMessage{ID: id, Type: "complete"})
		}
		return 0, ""
	}
	subCtx, stop := context.WithCancel(ctx)
	s.mu.Lock()
	s.subs[id] = stop
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.subs, id)
			s.mu.Unlock()
			stop()
		}()
		for i := 1; i <= SubscriptionEvents; i++ {
			if i > 1 {
				t := s.app.clock.NewTimer(SubscriptionInterval)
				select {
				case <-t.C():
				case <-subCtx.Done():
					t.Stop()
					return
				}
			}
			// Written with the connection's context: coder/websocket closes
			// the connection when a write's context ends mid-write, and a
			// stopped subscription must not end the connection.
			if subCtx.Err() != nil || s.sendResult(ctx, id, op.event(i)) != nil {
				return
			}
		}
		if subCtx.Err() == nil {
			_ = s.send(ctx, wsMessage{ID: id, Type: "complete"})
		}
	}()
	return 0, ""
}

// event is the i-th result of a subscription.
func (op *operation) event(i int) *result {
	var data object
	for _, g := range op.collect(op.SelectionSet, nil) {
		f := g.fields[0]
		var v any
		switch f.Name {
		case "runEvents":
			run, _ := f.ArgumentMap(op.vars)["runId"].(string)
			if run == "" {
				run = "*"
			}
			v = fmt.Sprintf("run %s: event %d", run, i)
		case "__typename":
			v = "Subscription"
		}
		data = append(data, member{g.key, v})
	}
	raw, _ := json.Marshal(data)
	return &result{Data: raw}
}

func (s *wsSession) sendResult(ctx context.Context, id string, res *result) error {
	p, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return s.send(ctx, wsMessage{ID: id, Type: s.d.next, Payload: p})
}

// sendError sends the errors of a request that did not execute: a list in
// graphql-transport-ws, one error object in graphql-ws.
func (s *wsSession) sendError(ctx context.Context, id string, res *result) error {
	var v any = res.Errors
	if s.d.legacy {
		v = res.Errors[0]
	}
	p, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.send(ctx, wsMessage{ID: id, Type: "error", Payload: p})
}

func (s *wsSession) send(ctx context.Context, m wsMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.c.Write(ctx, websocket.MessageText, b)
}
