// Package proxytest is a small but real web application for testing and
// benchmarking the gateway (`gatehouse proxy`): HTTP pages, an echo of
// every request, GraphQL over HTTP and WebSocket, a plain WebSocket echo,
// a streamed response, and the odd endpoints timeouts and size limits need.
// It plays the part of an unmodified upstream such as Dagster, so tests can
// assert what the gateway forwarded and that what it refused never arrived.
//
// The app deliberately protects nothing: it executes a GraphQL mutation
// however it arrives (GET, POST, batch, WebSocket subscribe), trusts every
// header, and accepts WebSocket upgrades from any Origin. Whatever a test
// sees refused was refused by the gateway.
//
// Endpoints (the path is matched as received, never cleaned or redirected):
//
//	GET /, any other GET   an HTML page "Test app" (Accept: text/html); others get 404
//	/echo, /echo/...       JSON of the request as it arrived (Echo): method, host, path,
//	                       raw_path, request_uri, query, headers (keys as received),
//	                       cookies, remote_addr, body (first MaxEchoBody bytes)
//	/graphql               GraphQL (Schema) over GET ?query=, POST application/json
//	                       (one request or a batch array) and application/graphql;
//	                       WebSocket upgrades with subprotocol graphql-transport-ws
//	                       or the older graphql-ws; executed mutations are recorded
//	                       (App.Mutations)
//	/ws                    WebSocket echo of every text and binary message
//	/stream?n=&interval=   text/event-stream of n events (default 5), each flushed,
//	                       interval apart (default 50ms)
//	/status/{code}         answers with that status (200–599); ?location= sets Location
//	/slow?d=               answers after d (default 1s, at most MaxSlow) or when the
//	                       client goes away
//	/big?bytes=            a body of that many bytes (default 1 MiB, at most MaxBig)
//	/login, /logout        the app's own login page and logout redirect, distinct
//	                       from the gateway's routes under /_gatehouse/
//	/healthz               "ok"
//
// Every response carries the header X-Test-App: proxytest, so a test can
// tell an answer of the app from one of the gateway.
//
// DialWS and GraphQLWS are WebSocket clients for tests of the app or of
// the gateway in front of it. The testapp command runs the app as its own
// process for end-to-end tests and benchmarks.
package proxytest
