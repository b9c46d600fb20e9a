package proxy

import (
	"net/http"

	prom "github.com/gatehouse-auth/gatehouse/internal/metrics"
)

// metrics are the gateway's Prometheus metrics. Every label value is a
// fixed string chosen by the gateway (route names, decisions, how the
// caller was identified, status codes), never anything a client sent
// (SECURITY-CASES 53).
type metrics struct {
	reg            *prom.Registry
	http           *prom.HTTP
	decisions      *prom.CounterVec
	rejected       *prom.CounterVec
	logins         *prom.Counter
	upstreamErrors *prom.Counter
}

func newMetrics() *metrics {
	reg := prom.NewRegistry()
	reg.AddRuntimeMetrics()
	return &metrics{
		reg:  reg,
		http: reg.NewHTTP("gatehouse_proxy", "requests (route upstream: to the application, upstream time included)"),
		decisions: reg.NewCounterVec("gatehouse_proxy_decisions_total",
			"Access decisions by outcome and by how the caller was identified.", "decision", "via"),
		rejected: reg.NewCounterVec("gatehouse_proxy_rejected_requests_total",
			"Requests refused before the policy, by reason.", "reason"),
		logins: reg.NewCounterVec("gatehouse_proxy_logins_total", "Completed browser logins.").WithLabelValues(),
		upstreamErrors: reg.NewCounterVec("gatehouse_proxy_upstream_errors_total",
			"Requests the upstream did not answer.").WithLabelValues(),
	}
}

func (m *metrics) handler() http.Handler { return m.reg.Handler() }

// instrument counts and times the requests of one route.
func (m *metrics) instrument(route string, next http.Handler) http.Handler {
	return m.http.Instrument(route, next)
}
