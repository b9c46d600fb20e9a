package cliauth

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// debugClient returns c, or with --debug a copy that logs each request.
func (a *App) debugClient(c *http.Client) *http.Client {
	if !a.debug {
		return c
	}
	d := *c
	d.Transport = &debugTransport{base: c.Transport, log: a.logger(), clk: a.clock()}
	return &d
}

// logger writes --debug lines to stderr; without --debug it discards.
func (a *App) logger() *slog.Logger {
	if !a.debug {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(a.IO.errOut(), &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, at slog.Attr) slog.Attr {
			if at.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return at
		},
	}))
}

// debugTransport logs method, URL (without query) and outcome of each
// request. Headers and bodies, where the secrets are, are never logged.
type debugTransport struct {
	base http.RoundTripper
	log  *slog.Logger
	clk  clock.Clock
}

func (t *debugTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	start := t.clk.Now()
	u := *req.URL
	u.RawQuery, u.Fragment, u.User = "", "", nil
	resp, err := base.RoundTrip(req)
	took := t.clk.Now().Sub(start).Round(time.Millisecond)
	if err != nil {
		t.log.Info("http", "method", req.Method, "url", u.String(), "error", err, "took", took)
		return nil, err
	}
	t.log.Info("http", "method", req.Method, "url", u.String(), "status", resp.StatusCode, "took", took)
	return resp, nil
}
