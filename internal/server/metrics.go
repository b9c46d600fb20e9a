package server

import (
	"net/http"

	prom "github.com/gatehouse-auth/gatehouse/internal/metrics"
)

// metrics are the server's Prometheus metrics. Label values are fixed
// strings chosen by the server (route names, grant types, status codes),
// never anything a client sent.
type metrics struct {
	reg     *prom.Registry
	http    *prom.HTTP
	tokens  *prom.CounterVec
	refused *prom.CounterVec
}

func newMetrics() *metrics {
	reg := prom.NewRegistry()
	reg.AddRuntimeMetrics()
	return &metrics{
		reg:  reg,
		http: reg.NewHTTP("gatehouse_http", "HTTP requests"),
		tokens: reg.NewCounterVec("gatehouse_tokens_issued_total",
			"Token responses issued by grant type.", "grant_type"),
		refused: reg.NewCounterVec("gatehouse_token_errors_total",
			"Token endpoint errors by OAuth error code.", "error"),
	}
}

func (m *metrics) handler() http.Handler { return m.reg.Handler() }

// instrument counts and times requests of one route.
func (m *metrics) instrument(route string, next http.Handler) http.Handler {
	return m.http.Instrument(route, next)
}

// knownErrorCode reports whether code is one of the values allowed for
// the error label of gatehouse_token_errors_total, which bounds them. (A
// switch, not a map: nothing to build at start-up.)
func knownErrorCode(code string) bool {
	switch code {
	case "invalid_request", "invalid_client", "invalid_grant",
		"unauthorized_client", "unsupported_grant_type", "invalid_scope",
		"access_denied", "server_error", "authorization_pending",
		"slow_down", "expired_token", "too_many_requests", "mfa_required":
		return true
	}
	return false
}

func (m *metrics) tokenError(code string) {
	if !knownErrorCode(code) {
		code = "other"
	}
	m.refused.WithLabelValues(code).Inc()
}
