// Package proxy is the authenticating gateway (`gatehouse proxy`): it puts
// login pages, sessions, role-based and GraphQL-aware access rules, audit
// events and rate limits in front of an unmodified web application, and lets
// scripts and command-line tools reach the same application with a bearer
// token or an API key.
//
// Every request is handled in one pass:
//
//  1. The path is normalised once (package inbound); requests with
//     ambiguous paths are refused with 400. Requests under the reserved
//     prefix /_gatehouse/ are the gateway's own (login, callback, logout,
//     health, metrics, forward-auth, the embedded authorization server) and
//     never reach the application.
//  2. The caller is identified: a bearer JWT verified against the issuer's
//     JWKS, an API key by introspection, or a session cookie whose session
//     lives server-side (package session). A session or token of a user of
//     the embedded server is judged with that user's current roles.
//  3. The policy (package policy) decides on host, normalised path, method,
//     roles and, on GraphQL endpoints, every operation of the request
//     (package graphql). Deny is the default.
//  4. The same normalised request is forwarded with every client-sent
//     identity header removed and the gateway's own identity headers and a
//     short-lived signed assertion added; WebSocket messages on GraphQL
//     endpoints are checked one by one (package wsinspect).
//
// Without an external issuer the gateway embeds the authorization server
// (package server) under /_gatehouse/auth on its own origin and is an
// OpenID Connect relying party of it; with one it is a relying party of any
// OpenID Connect provider.
package proxy
