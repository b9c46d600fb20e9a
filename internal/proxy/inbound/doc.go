// Package inbound normalises what the gateway receives before anything
// looks at it.
//
// Normalise once, authorise and forward the same thing. A gateway that lets
// its policy see one spelling of a request and its upstream another can be
// walked around: "/public/..%2fadmin", "/admin;x", "//admin" or
// "/%61dmin" match no protected rule, yet an upstream that decodes,
// collapses or strips path parameters serves /admin. So the gateway calls
// Path exactly once per request, answers 400 when it fails, hands the result
// to the policy, and sends the upstream exactly that result (re-escaped with
// Escape) — never the original request-target. Inputs that different
// servers read differently (encoded slashes, backslashes, ';' parameters,
// NUL and other control characters, invalid or overlong UTF-8) are refused
// rather than guessed at.
//
// The same rule covers headers: identity headers a client sends are removed
// (StripHeaders) before the gateway adds its own, and the Connection header
// is cut down to harmless tokens (SanitizeConnection) so that a client
// cannot name a gateway-set header as hop-by-hop and have the forwarding
// proxy drop it. RedirectTarget reduces a post-login or post-logout return
// address to a same-origin relative reference.
//
// All functions are pure: no I/O, no clock, safe for concurrent use.
package inbound
