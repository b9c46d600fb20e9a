package server

import (
	"context"

	"github.com/gatehouse-auth/gatehouse/internal/ratelimit"
	"github.com/gatehouse-auth/gatehouse/internal/server/probes"
)

// The probes (internal/server/probes: /healthz, /readyz, /metrics) are
// wired in here. They look at the server's collaborators through
// functions, so they see the ones it has at each request.

// readyBudget is the most /readyz takes to answer.
const readyBudget = probes.ReadyBudget

// probes builds the operational endpoints on the server.
func (s *Server) probes() *probes.Probes {
	d := probes.Deps{
		Config:          s.cfg,
		PingDatabase:    func(ctx context.Context) error { return s.store.Ping(ctx) },
		DatabaseBreaker: s.dbBreaker,
		AuditHealthy:    func() bool { return s.audit.Healthy() },
		RateLimiter:     func() ratelimit.Limiter { return s.limiter },
		Logger:          s.log,
	}
	if s.cfg.MetricsAddr == "" {
		d.Metrics = s.metrics.handler()
	}
	return probes.New(d)
}
