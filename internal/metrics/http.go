package metrics

import (
	"net/http"
	"strconv"
	"time"
)

// HTTP counts and times the requests of an HTTP server by route: a
// counter <prefix>_requests_total{route,code} and a histogram
// <prefix>_request_duration_seconds{route}. Routes are names the server
// chooses, never anything a client sent.
type HTTP struct {
	requests *CounterVec
	latency  *HistogramVec
}

// LatencyBuckets are the upper bounds (seconds) of the request latency
// histogram.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5}

// NewHTTP registers the request metrics of one server under prefix
// ("gatehouse_http", "gatehouse_proxy") in r.
func (r *Registry) NewHTTP(prefix, what string) *HTTP {
	return &HTTP{
		requests: r.NewCounterVec(prefix+"_requests_total",
			what+" by route and status code.", "route", "code"),
		latency: r.NewHistogramVec(prefix+"_request_duration_seconds",
			"Latency of "+what+" by route.", LatencyBuckets, "route"),
	}
}

// Instrument counts and times the requests next serves as route.
func (m *HTTP) Instrument(route string, next http.Handler) http.Handler {
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

// statusLabel is the status code as a label value; codes outside 100-599
// (which a handler cannot send) are "other".
func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

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

// Unwrap lets http.ResponseController reach the writer (flushing streamed
// responses, hijacking for WebSockets).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
