package metrics

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPInstrument(t *testing.T) {
	r := NewRegistry()
	m := r.NewHTTP("test", "test requests")
	h := m.Instrument("things", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/created" {
			w.WriteHeader(http.StatusCreated)
		}
		_, _ = w.Write([]byte("x"))
		// Streaming handlers reach the real writer through Unwrap.
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("flush through the recorder: %v", err)
		}
	}))
	for _, p := range []string{"/created", "/ok", "/ok"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`test_requests_total{route="things",code="201"} 1`,
		`test_requests_total{route="things",code="200"} 2`,
		`test_request_duration_seconds_count{route="things"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %s in\n%s", want, out)
		}
	}
}
