package server

import (
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/admin"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// adminOps is the admin layer (internal/admin) on this server's store,
// hasher, clock and connectors; the admin API's user and role handlers
// only decode, call it, record its event and answer.
func (s *Server) adminOps() *admin.Service {
	return admin.New(s.store, admin.Options{Hasher: s.hasher, Clock: s.clock, Connectors: s.connectorIDs()})
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

// adminCheckRoles answers 400 (and returns false) when roles names a role
// that does not exist.
func (s *Server) adminCheckRoles(w http.ResponseWriter, r *http.Request, roles []string) bool {
	if err := s.adminOps().CheckRolesExist(r.Context(), roles); err != nil {
		s.adminFail(w, r, err)
		return false
	}
	return true
}
