// Package protocol holds the OAuth 2.0 wire types shared by the Gatehouse
// client, server and gateway: server metadata (RFC 8414), token and device
// authorization responses, grant type and error code constants, and the one
// error type used for RFC 6749 §5.2 errors on both sides of the wire.
package protocol
