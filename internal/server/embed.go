package server

import (
	"context"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/audit"
)

// What another component that embeds the server in its own process (the
// gateway, `gatehouse proxy`) needs beyond Handler.

// EndBrowserSession ends the browser's session at the server, if any, and
// clears its cookie: a gateway logout also signs the user out here, so
// the next login asks for the password again.
func (s *Server) EndBrowserSession(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.End(w, r); err != nil {
		s.log.Warn("end server session", "err", err)
	}
}

// AuditLogger is the audit logger the instance's server writes to.
func (inst *Instance) AuditLogger() *audit.Logger { return inst.audit }

// RunBackground does the work Serve does besides serving — reloading
// signing keys, collecting expired rows, recording API key use — until ctx
// ends, for a process that serves Handler on its own listener.
func (inst *Instance) RunBackground(ctx context.Context) {
	go inst.Server.oauth.RecordAPIKeyUse(ctx)
	inst.background(ctx)
}
