package metrics

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parse reads an exposition back with Prometheus' own text parser.
func parse(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, text)
	}
	return fams
}

func write(t *testing.T, r *Registry) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// labels returns the label pairs of m as a map.
func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// find returns the metric of fam whose labels are want.
func find(t *testing.T, fam *dto.MetricFamily, want map[string]string) *dto.Metric {
	t.Helper()
	if fam == nil {
		t.Fatal("family missing")
	}
	for _, m := range fam.GetMetric() {
		if cmp.Equal(labels(m), want) {
			return m
		}
	}
	t.Fatalf("%s has no series %v", fam.GetName(), want)
	return nil
}

func TestExpositionGolden(t *testing.T) {
	r := NewRegistry()
	reqs := r.NewCounterVec("app_requests_total", "Requests by route and code.", "route", "code")
	lat := r.NewHistogramVec("app_latency_seconds", "Latency.", []float64{0.001, 0.01, 0.5}, "route")
	r.NewGaugeFunc("app_temperature", "A gauge.\nSecond line with a \\.", func() float64 { return -1.5 })
	r.NewCounterVec("app_unused_total", "Never incremented.")
	r.NewCounterFunc("app_big_total", "Big.", func() float64 { return 1e21 })

	reqs.WithLabelValues("token", "200").Add(3)
	reqs.WithLabelValues("jwks", "200").Inc()
	reqs.WithLabelValues("token", "400").Inc()
	h := lat.WithLabelValues("token")
	h.Observe(0.001) // le is inclusive: lands in the 0.001 bucket
	h.Observe(0.2)
	h.Observe(7)

	want := `# HELP app_big_total Big.
# TYPE app_big_total counter
app_big_total 1e+21
# HELP app_latency_seconds Latency.
# TYPE app_latency_seconds histogram
app_latency_seconds_bucket{route="token",le="0.001"} 1
app_latency_seconds_bucket{route="token",le="0.01"} 1
app_latency_seconds_bucket{route="token",le="0.5"} 2
app_latency_seconds_bucket{route="token",le="+Inf"} 3
app_latency_seconds_sum{route="token"} 7.201
app_latency_seconds_count{route="token"} 3
# HELP app_requests_total Requests by route and code.
# TYPE app_requests_total counter
app_requests_total{route="jwks",code="200"} 1
app_requests_total{route="token",code="200"} 3
app_requests_total{route="token",code="400"} 1
# HELP app_temperature A gauge.\nSecond line with a \\.
# TYPE app_temperature gauge
app_temperature -1.5
# HELP app_unused_total Never incremented.
# TYPE app_unused_total counter
`
	got := write(t, r)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exposition (-want +got):\n%s", diff)
	}
	parse(t, got)
}

func TestExpositionParsesBack(t *testing.T) {
	r := NewRegistry()
	reqs := r.NewCounterVec("gatehouse_http_requests_total", "HTTP requests.", "route", "code")
	lat := r.NewHistogramVec("gatehouse_http_request_duration_seconds", "Latency.",
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}, "route")
	odd := r.NewCounterVec("odd_total", "Odd label values.", "v")
	r.AddRuntimeMetrics()

	for range 5 {
		reqs.WithLabelValues("token", "200").Inc()
	}
	reqs.WithLabelValues("token", "401").Inc()
	for _, v := range []float64{0.0001, 0.003, 0.003, 0.07, 2} {
		lat.WithLabelValues("token").Observe(v)
	}
	tricky := "a\"quote\\back\nline é"
	odd.WithLabelValues(tricky).Add(2.5)

	fams := parse(t, write(t, r))

	if got := find(t, fams["gatehouse_http_requests_total"], map[string]string{"route": "token", "code": "200"}).GetCounter().GetValue(); got != 5 {
		t.Errorf("requests{token,200} = %v, want 5", got)
	}
	if fams["gatehouse_http_requests_total"].GetType() != dto.MetricType_COUNTER {
		t.Errorf("requests type = %v", fams["gatehouse_http_requests_total"].GetType())
	}
	if got := find(t, fams["odd_total"], map[string]string{"v": tricky}).GetCounter().GetValue(); got != 2.5 {
		t.Errorf("odd{%q} = %v, want 2.5", tricky, got)
	}

	hist := find(t, fams["gatehouse_http_request_duration_seconds"], map[string]string{"route": "token"}).GetHistogram()
	if hist.GetSampleCount() != 5 || math.Abs(hist.GetSampleSum()-2.0761) > 1e-9 {
		t.Errorf("histogram count %d sum %v, want 5 and 2.0761", hist.GetSampleCount(), hist.GetSampleSum())
	}
	cumulative := map[float64]uint64{}
	for _, b := range hist.GetBucket() {
		cumulative[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	for le, want := range map[float64]uint64{.0005: 1, .0025: 1, .005: 3, .05: 3, .1: 4, 1: 4} {
		if cumulative[le] != want {
			t.Errorf("bucket le=%v: %d, want %d", le, cumulative[le], want)
		}
	}

	if g := fams["go_goroutines"].GetMetric()[0].GetGauge().GetValue(); g < 1 {
		t.Errorf("go_goroutines = %v", g)
	}
	if v := labels(fams["go_info"].GetMetric()[0])["version"]; v != runtime.Version() {
		t.Errorf("go_info version %q, want %q", v, runtime.Version())
	}
	if heap := fams["go_memstats_heap_alloc_bytes"].GetMetric()[0].GetGauge().GetValue(); !(heap > 0) {
		t.Errorf("go_memstats_heap_alloc_bytes = %v", heap)
	}
	if runtime.GOOS == "linux" {
		for _, name := range []string{"process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds"} {
			if v := fams[name].GetMetric()[0].GetGauge().GetValue(); !(v > 0) {
				t.Errorf("%s = %v", name, v)
			}
		}
		if v := fams["process_cpu_seconds_total"].GetMetric()[0].GetCounter().GetValue(); !(v > 0) {
			t.Errorf("process_cpu_seconds_total = %v", v)
		}
	}
}

func TestConcurrentUpdates(t *testing.T) {
	r := NewRegistry()
	c := r.NewCounterVec("c_total", "C.", "k")
	h := r.NewHistogramVec("h_seconds", "H.", []float64{1, 2}, "k")
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			key := []string{"a", "b"}[g%2]
			for range each {
				c.WithLabelValues(key).Inc()
				h.WithLabelValues(key).Observe(1.5)
			}
		})
		wg.Go(func() { _ = write(t, r) })
	}
	wg.Wait()
	fams := parse(t, write(t, r))
	var total float64
	for _, m := range fams["c_total"].GetMetric() {
		total += m.GetCounter().GetValue()
	}
	if total != goroutines*each {
		t.Errorf("counter total %v, want %d", total, goroutines*each)
	}
	var n uint64
	var sum float64
	for _, m := range fams["h_seconds"].GetMetric() {
		n += m.GetHistogram().GetSampleCount()
		sum += m.GetHistogram().GetSampleSum()
	}
	if n != goroutines*each || sum != 1.5*goroutines*each {
		t.Errorf("histogram count %d sum %v, want %d and %v", n, sum, goroutines*each, 1.5*goroutines*each)
	}
}

func TestHandler(t *testing.T) {
	r := NewRegistry()
	r.NewCounterVec("hits_total", "Hits.").WithLabelValues().Inc()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != ContentType {
		t.Errorf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !strings.Contains(rec.Body.String(), "\nhits_total 1\n") {
		t.Errorf("body:\n%s", rec.Body)
	}
}

func TestProgrammingErrorsPanic(t *testing.T) {
	cases := map[string]func(r *Registry){
		"duplicate name": func(r *Registry) {
			r.NewCounterVec("x_total", "X.")
			r.NewCounterVec("x_total", "X.")
		},
		"invalid name":        func(r *Registry) { r.NewCounterVec("bad-name", "X.") },
		"invalid label":       func(r *Registry) { r.NewCounterVec("x_total", "X.", "bad label") },
		"reserved label le":   func(r *Registry) { r.NewHistogramVec("x", "X.", []float64{1}, "le") },
		"too many labels":     func(r *Registry) { r.NewCounterVec("x_total", "X.", "a", "b", "c", "d", "e") },
		"wrong value count":   func(r *Registry) { r.NewCounterVec("x_total", "X.", "a").WithLabelValues("1", "2") },
		"unsorted buckets":    func(r *Registry) { r.NewHistogramVec("x", "X.", []float64{2, 1}) },
		"infinite bucket":     func(r *Registry) { r.NewHistogramVec("x", "X.", []float64{1, math.Inf(1)}) },
		"no buckets":          func(r *Registry) { r.NewHistogramVec("x", "X.", nil) },
		"negative counter op": func(r *Registry) { r.NewCounterVec("x_total", "X.").WithLabelValues().Add(-1) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			f(NewRegistry())
		})
	}
}

// The request path does one counter lookup and one histogram observation
// per request.
func BenchmarkRequestPath(b *testing.B) {
	r := NewRegistry()
	reqs := r.NewCounterVec("r_total", "R.", "route", "code")
	lat := r.NewHistogramVec("l_seconds", "L.", []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}, "route").WithLabelValues("token")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			lat.Observe(0.003)
			reqs.WithLabelValues("token", "200").Inc()
		}
	})
}

func BenchmarkWriteTo(b *testing.B) {
	r := NewRegistry()
	reqs := r.NewCounterVec("r_total", "R.", "route", "code")
	lat := r.NewHistogramVec("l_seconds", "L.", []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}, "route")
	for _, route := range []string{"token", "jwks", "discovery", "introspect", "revoke", "authorize", "login", "device"} {
		reqs.WithLabelValues(route, "200").Inc()
		lat.WithLabelValues(route).Observe(0.01)
	}
	r.AddRuntimeMetrics()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
