package proxy

import (
	"net/http"
	"strconv"
	"time"

	prom "github.com/gatehouse-auth/gatehouse/internal/metrics"
)

// metrics are the gateway's Prometheus metrics. Every label value is a
// fixed string chosen by the gateway (route names, decisions, how the
// caller was identified, status codes), never anything a client sent
// (SECURITY-CASES 53).
type metrics struct {
	reg            *prom.Registry
	requests       *prom.CounterVec
	latency        *prom.HistogramVec
	decisions      *prom.CounterVec
	rejected       *prom.CounterVec
	logins         *prom.Counter
	upstreamErrors *prom.Counter
}

func newMetrics() *metrics {
	reg := prom.NewRegistry()
	reg.AddRuntimeMetrics()
	return &metrics{
		reg: reg,
		requests: reg.NewCounterVec("gatehouse_proxy_requests_total",
			"Requests by route (upstream or a gateway route) and status code.", "route", "code"),
		latency: reg.NewHistogramVec("gatehouse_proxy_request_duration_seconds",
			"Request latency by route, including the upstream's time.",
			[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}, "route"),
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

// Flush lets streamed responses through at once.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController (WebSocket hijacking) the writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts and times the requests of one route.
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
		m.requests.WithLabelValues(route, statusLabel(rec.status)).Inc()
	})
}

// statusLabel keeps the label set small: known codes as themselves.
func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}
