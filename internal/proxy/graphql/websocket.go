package graphql

import (
	"fmt"
)

// FromWSMessage returns the operations a client→server message of GraphQL
// over WebSocket asks for, in either protocol: graphql-transport-ws
// ({"type":"subscribe","id":…,"payload":{query,…}}) or the legacy
// subscriptions-transport-ws ("start"). Both are accepted whatever
// subprotocol was negotiated, since a server may speak both.
//
// Messages that carry no operation (connection_init, ping, pong,
// complete, stop, connection_terminate) give (nil, nil). A subscribe or
// start without a parseable query, a persisted query, a message that is
// not a JSON object or of an unknown type is an error; every operation of
// the payload's document counts, as in FromRequest.
func FromWSMessage(msg []byte) ([]Operation, error) {
	v, err := decodeStrict(msg)
	if err != nil {
		return nil, fmt.Errorf("graphql: websocket message: %w: %v", ErrUnparseable, err)
	}
	raw, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("graphql: websocket message: %w: not a JSON object", ErrUnparseable)
	}
	obj := folded(raw)
	typ, ok := obj[keyType].(string)
	if !ok {
		return nil, fmt.Errorf("graphql: websocket message: %w: no type", ErrUnparseable)
	}
	switch typ {
	case "connection_init", "ping", "pong", "complete", "stop", "connection_terminate":
		return nil, nil
	case "subscribe", "start":
		ops, err := requestOps(obj[keyPayload])
		if err != nil {
			return nil, fmt.Errorf("graphql: websocket %s: %w", typ, err)
		}
		return ops, nil
	}
	return nil, fmt.Errorf("graphql: websocket message: %w: unknown type %q", ErrUnparseable, typ)
}
