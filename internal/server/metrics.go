package server

import (
	"net/http"
	"strconv"
	"time"

	prom "github.com/gatehouse-auth/gatehouse/internal/metrics"
)

// metrics are the server's Prometheus metrics. Label values are fixed
// strings chosen by the server (route names, grant types, status codes),
// never anything a client sent.
type metrics struct {
	reg      *prom.Registry
	requests *prom.CounterVec
	latency  *prom.HistogramVec
	tokens   *prom.CounterVec
	refused  *prom.CounterVec
}

func newMetrics() *metrics {
	reg := prom.NewRegistry()
	reg.AddRuntimeMetrics()
	return &metrics{
		reg: reg,
		requests: reg.NewCounterVec("gatehouse_http_requests_total",
			"HTTP requests by route and status code.", "route", "code"),
		latency: reg.NewHistogramVec("gatehouse_http_request_duration_seconds",
			"HTTP request latency by route.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}, "route"),
		tokens: reg.NewCounterVec("gatehouse_tokens_issued_total",
			"Token responses issued by grant type.", "grant_type"),
		refused: reg.NewCounterVec("gatehouse_token_errors_total",
			"Token endpoint errors by OAuth error code.", "error"),
	}
}

func (m *metrics) handler() http.Handler { return m.reg.Handler() }

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts and times requests of one route.
func (m *metrics) instrument(route string, next http.Handler) http.Handler {
	lat := m.latency.WithLabelValues(route)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		lat.Observe(time.Since(start).Seconds())
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
	})
}

// knownErrorCode reports whether code is one of the values allowed for
// the error label of gatehouse_token_errors_total, which bounds them. (A
// switch, not a map: nothing to build at start-up.)
func knownErrorCode(code string) bool {
	switch code {
	case "invalid_request", "invalid_client", "invalid_grant",
		"unauthorized_client", "unsupported_grant_type", "invalid_scope",
		"access_denied", "server_error", "authorization_pending",
		"slow_down", "expired_token", "too_many_requests":
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
