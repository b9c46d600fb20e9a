package proxytest

import (
	"context"
	"net/http"

	"github.com/coder/websocket"
)

// MaxWSMessage is the largest WebSocket message the app reads.
const MaxWSMessage = 1 << 20

// accept upgrades r. The app checks no Origin: refusing cross-site
// WebSockets is the gateway's job, and a test must see it do so.
func accept(w http.ResponseWriter, r *http.Request, subprotocols ...string) (*websocket.Conn, error) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       subprotocols,
		InsecureSkipVerify: true,
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(MaxWSMessage)
	return c, nil
}

// serveWSEcho sends every message of the client back to it, text as
// text and binary as binary, until the client closes.
func (a *App) serveWSEcho(w http.ResponseWriter, r *http.Request) {
	c, err := accept(w, r)
	if err != nil {
		return // Accept has answered the request
	}
	defer c.CloseNow()
	ctx := r.Context()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}

// DialWS opens a WebSocket to url (ws:// or wss://) with the request
// headers header, offering subprotocols. The response is that of the
// handshake, also when it failed (e.g. a 401 from the gateway); the read
// limit is MaxWSMessage.
func DialWS(ctx context.Context, url string, header http.Header, subprotocols ...string) (*websocket.Conn, *http.Response, error) {
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header, Subprotocols: subprotocols})
	if err != nil {
		return nil, res, err
	}
	c.SetReadLimit(MaxWSMessage)
	return c, res, nil
}
