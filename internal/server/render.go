package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// writeJSON writes v as a JSON response that no cache may store
// (RFC 6749 §5.1: Cache-Control: no-store).
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

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

// writeBearerError answers a protected-resource request (RFC 6750 §3).
func writeBearerError(w http.ResponseWriter, pe *protocol.Error) {
	v := `Bearer realm="gatehouse"`
	if pe.Code != "" {
		v += `, error="` + pe.Code + `"`
	}
	if pe.Description != "" {
		v += `, error_description="` + sanitizeHeaderValue(pe.Description) + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	writeJSON(w, pe.HTTPStatus(), pe)
}

// sanitizeHeaderValue keeps a description safe inside a quoted header
// parameter (RFC 6750 §3 restricts it to %x20-21 / %x23-5B / %x5D-7E).
func sanitizeHeaderValue(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' {
			b = append(b, c)
		}
	}
	return string(b)
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, &protocol.Error{Code: "not_found", Description: "no such endpoint"})
}
