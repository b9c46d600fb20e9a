// Package e2e holds the end-to-end and interoperability tests of Gatehouse.
//
// The tests build the real gatehouse binary once, start `gatehouse server`
// processes on loopback ports with their own data directories, create
// clients and users with the admin commands, and then talk to the server
// only over HTTP, with clients that Gatehouse did not write:
// golang.org/x/oauth2 (client credentials, authorization code with PKCE,
// refresh, device flow), github.com/coreos/go-oidc/v3 (discovery, JWKS,
// ID and access token verification), a cookie-jar HTTP "browser" that
// submits the HTML forms, and a headless Chromium driven by chromedp.
//
// Operations are covered too: SIGTERM drains in-flight requests and exits
// 0, a restart on the same data directory keeps users, clients and signing
// keys, and the audit output never contains a secret. With
// GATEHOUSE_TEST_POSTGRES_DSN set the main flows also run against
// PostgreSQL; without `chromium` on PATH the browser tests are skipped.
//
// The package has no non-test code; run it with `go test ./e2e/`.
package e2e
