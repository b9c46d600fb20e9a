package proxytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/coder/websocket"
)

// ErrGraphQLWS is wrapped by every failure of GraphQLWS after the
// connection opened: an error message, a close before complete, or a
// message out of protocol.
var ErrGraphQLWS = errors.New("graphql-transport-ws")

// GraphQLWS runs query as one graphql-transport-ws operation on url:
// connection_init, subscribe, then every next payload (raw JSON) until
// complete. An error message, or the connection ending before complete
// (as when the gateway cuts a refused operation), is an error, returned
// with the payloads received until then.
func GraphQLWS(ctx context.Context, url string, header http.Header, query string) ([]string, error) {
	c, _, err := DialWS(ctx, url, header, ProtocolTransportWS)
	if err != nil {
		return nil, fmt.Errorf("graphqlws: dial: %w", err)
	}
	defer c.CloseNow()
	if c.Subprotocol() != ProtocolTransportWS {
		return nil, fmt.Errorf("graphqlws: %w: server chose subprotocol %q", ErrGraphQLWS, c.Subprotocol())
	}
	send := func(m wsMessage) error {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return c.Write(ctx, websocket.MessageText, b)
	}
	read := func() (wsMessage, error) {
		var m wsMessage
		_, b, err := c.Read(ctx)
		if err != nil {
			return m, fmt.Errorf("%w: connection ended: %w", ErrGraphQLWS, err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return m, fmt.Errorf("%w: bad message %q", ErrGraphQLWS, b)
		}
		return m, nil
	}

	if err := send(wsMessage{Type: "connection_init"}); err != nil {
		return nil, fmt.Errorf("graphqlws: init: %w", err)
	}
	for acked := false; !acked; {
		m, err := read()
		if err != nil {
			return nil, fmt.Errorf("graphqlws: init: %w", err)
		}
		switch m.Type {
		case "connection_ack":
			acked = true
		case "ping":
			if err := send(wsMessage{Type: "pong"}); err != nil {
				return nil, fmt.Errorf("graphqlws: pong: %w", err)
			}
		default:
			return nil, fmt.Errorf("graphqlws: init: %w: got %q before connection_ack", ErrGraphQLWS, m.Type)
		}
	}

	const id = "1"
	payload, _ := json.Marshal(GraphQLRequest{Query: query})
	if err := send(wsMessage{ID: id, Type: "subscribe", Payload: payload}); err != nil {
		return nil, fmt.Errorf("graphqlws: subscribe: %w", err)
	}
	var payloads []string
	for {
		m, err := read()
		if err != nil {
			return payloads, fmt.Errorf("graphqlws: %w", err)
		}
		switch {
		case m.Type == "ping":
			if err := send(wsMessage{Type: "pong"}); err != nil {
				return payloads, fmt.Errorf("graphqlws: pong: %w", err)
			}
		case m.Type == "pong":
		case m.ID != id:
			return payloads, fmt.Errorf("graphqlws: %w: %s for unknown id %q", ErrGraphQLWS, m.Type, m.ID)
		case m.Type == "next":
			payloads = append(payloads, string(m.Payload))
		case m.Type == "error":
			return payloads, fmt.Errorf("graphqlws: %w: error %s", ErrGraphQLWS, m.Payload)
		case m.Type == "complete":
			c.Close(websocket.StatusNormalClosure, "")
			return payloads, nil
		default:
			return payloads, fmt.Errorf("graphqlws: %w: unexpected %q", ErrGraphQLWS, m.Type)
		}
	}
}
