// Package admincmd is the admin command groups of gatehouse: clients,
// users, roles, apikeys, keys and audit. Each command is a
// NewCmdX(f, runF) constructor with an exported XOptions struct (see
// package command); its run function works on an adminbackend.Backend,
// the database or a server's admin API, which adminbackend.Run picks.
//
// The six groups share one package: they print with the same table and
// JSON helpers (output.go), one group's output is another's input (a
// user's roles, the owner of an API key), and their tests run them
// together, above all TestAdminParity, which drives one table of requests
// through the admin layer, the admin API and these commands in both
// modes. Files are named by group (clients_*.go, users_*.go, ...).
package admincmd
