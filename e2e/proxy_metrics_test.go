package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGatewayMetricsListener: with --metrics-addr the metrics are served
// there, and not on the application's public origin (SECURITY-CASES 69).
func TestGatewayMetricsListener(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	gw := startGateway(t, "--metrics-addr", metricsAddr)
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Get(gw.URL + "/_gatehouse/metrics")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("metrics on the public origin: %d", res.StatusCode)
	}
	res, err = c.Get("http://" + metricsAddr + "/_gatehouse/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "gatehouse_proxy_requests_total") {
		t.Fatalf("metrics listener: %d", res.StatusCode)
	}
}
