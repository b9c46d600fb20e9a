// Package servercmd holds the commands that run a long-lived process:
// `gatehouse server` (the authorization server), `gatehouse proxy` (the
// authenticating gateway, which embeds the server unless given an
// issuer), `gatehouse demo-app` (an app to put behind the gateway) and
// `gatehouse healthcheck` (the probe of a container's health check). They
// share the first admin's bootstrap variables and the reading of the
// server configuration (package config).
package servercmd
