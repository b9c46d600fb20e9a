package servercmd

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/internal/cli/command"
)

func TestHealthcheck(t *testing.T) {
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if r.URL.Path != "/auth/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
	h := newHarness(t)
	// A server listening on every address under an issuer path: the
	// probe goes to the loopback address and the path's /healthz.
	h.Env["GATEHOUSE_ADDR"] = "0.0.0.0:" + port
	h.Env["GATEHOUSE_ISSUER"] = "http://127.0.0.1:" + port + "/auth"
	if r := h.OK("", "healthcheck"); r.Out != "ok\n" {
		t.Errorf("out %q", r.Out)
	}
	h.Env["GATEHOUSE_ISSUER"] = "http://127.0.0.1:" + port
	h.Fail(command.ExitError, "404 Not Found", "", "healthcheck")
	ts.Close()
	h.Fail(command.ExitError, "connection refused", "", "healthcheck")
	if len(paths) != 2 || paths[0] != "/auth/healthz" || paths[1] != "/healthz" {
		t.Errorf("paths %v", paths)
	}
}
