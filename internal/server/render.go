package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/server/respond"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// writeJSON is respond.JSON: v as a JSON response no cache may store.
func writeJSON(w http.ResponseWriter, status int, v any) { respond.JSON(w, status, v) }

// writeError renders err as an RFC 6749 §5.2 error response. Errors that are
// not *protocol.Error are logged and become a bare server_error.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
	case unavailable(err):
		s.log.Warn("dependency unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		pe = s.unavailableError()
	default:
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if pe == nil {
		pe = protocol.AsError(err)
	}
	status := pe.HTTPStatus()
	if status == http.StatusUnauthorized {
		// RFC 6749 §5.2: a 401 invalid_client carries WWW-Authenticate
		// matching the scheme the client used.
		w.Header().Set("WWW-Authenticate", `Basic realm="gatehouse", charset="UTF-8"`)
	}
	if pe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(pe.RetryAfter))
	}
	if pe.DPoPNonce != "" {
		w.Header().Set(dpop.NonceHeader, pe.DPoPNonce)
	}
	writeJSON(w, status, pe)
}

// writeBearerError is respond.BearerError: a protected-resource error
// with its Bearer challenge (RFC 6750 §3).
func writeBearerError(w http.ResponseWriter, pe *protocol.Error) { respond.BearerError(w, pe) }

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, &protocol.Error{Code: "not_found", Description: "no such endpoint"})
}
