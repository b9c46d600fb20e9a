package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// writeCacheableJSON writes a public document that caches may keep briefly.
func writeCacheableJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(v)
}

// handleHealthz reports that the process is alive.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReadyz reports whether the server can serve: the database answers,
// and Redis does when rate limits are shared through it.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness: database", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unavailable\n"))
		return
	}
	if p, ok := s.limiter.(interface{ Ping(context.Context) error }); ok {
		if err := p.Ping(ctx); err != nil {
			// Login limits fail closed without Redis, so the server
			// cannot serve logins: not ready.
			s.log.Warn("readiness: rate limiter", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("rate limiter unavailable\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}
