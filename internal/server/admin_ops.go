package server

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// adminOps is the admin layer (internal/admin) on this server's store,
// hasher, clock, connectors and issuer; the admin API's handlers
// only decode, call it, record its event and answer.
func (s *Server) adminOps() *admin.Service {
	return admin.New(s.store, admin.Options{Hasher: s.hasher, Clock: s.clock, Connectors: s.connectorIDs(),
		CheckClient: s.checkClientRegistration})
}

// adminFail answers an error of the admin layer: 400, 404 or 409 with
// its message, anything else as a server error.
func (s *Server) adminFail(w http.ResponseWriter, r *http.Request, err error) {
	switch admin.KindOf(err) {
	case admin.Invalid:
		adminError(w, http.StatusBadRequest, protocol.ErrInvalidRequest, err.Error())
	case admin.NotFound:
		adminError(w, http.StatusNotFound, adminErrNotFound, err.Error())
	case admin.Conflict:
		adminError(w, http.StatusConflict, adminErrConflict, err.Error())
	default:
		s.writeError(w, r, err)
	}
}

// adminRecord records the event of an admin operation as done by p; an
// empty event (nothing changed) is not recorded.
func (s *Server) adminRecord(p *adminPrincipal, ev audit.Event) {
	if ev.Type == "" {
		return
	}
	ev.Actor = p.actor
	s.audit.Log(ev)
}
