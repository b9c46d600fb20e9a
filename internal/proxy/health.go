package proxy

import (
	"context"
	"net"
	"net/http"
	"time"
)

// readyTimeout bounds each readiness check.
const readyTimeout = 2 * time.Second

// handleHealthz says the process is up. It never looks at the request
// beyond its route and opens nothing (SECURITY-CASES 48).
func (g *Gateway) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReadyz checks the session store, the extra checks (the embedded
// server's database) and that the upstream accepts connections. It
// answers 503 naming the failed checks, never their error text.
func (g *Gateway) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	checks := append([]ReadyCheck{
		{Name: "sessions", Check: g.sessions.store.Ping},
		{Name: "upstream", Check: g.dialUpstream},
	}, g.ready...)
	status := map[string]string{}
	code := http.StatusOK
	for _, c := range checks {
		if err := c.Check(ctx); err != nil {
			g.log.Warn("readiness check failed", "check", c.Name, "err", err)
			status[c.Name] = "fail"
			code = http.StatusServiceUnavailable
		} else {
			status[c.Name] = "ok"
		}
	}
	writeJSON(w, code, map[string]any{"ready": code == http.StatusOK, "checks": status})
}

// dialUpstream checks that the upstream accepts TCP connections.
func (g *Gateway) dialUpstream(ctx context.Context) error {
	addr := g.upstream.Host
	if g.upstream.Port() == "" {
		port := "80"
		if g.upstream.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(g.upstream.Hostname(), port)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// whoami is the answer of /_gatehouse/whoami.
type whoami struct {
	User    string   `json:"user"`
	Subject string   `json:"sub"`
	Email   string   `json:"email,omitempty"`
	Roles   []string `json:"roles"`
	Groups  []string `json:"groups,omitempty"`
	Via     string   `json:"via"`
}

// handleWhoami tells the caller who the gateway thinks they are (the user
// menu reads it; scripts can check their credentials with it).
func (g *Gateway) handleWhoami(w http.ResponseWriter, r *http.Request) {
	id, err := g.identify(r)
	if err != nil || id == nil {
		writeJSONError(w, http.StatusUnauthorized, "unauthorized", "not signed in")
		return
	}
	roles := id.Roles
	if roles == nil {
		roles = []string{}
	}
	writeJSON(w, http.StatusOK, whoami{User: id.Username, Subject: id.Subject, Email: id.Email, Roles: roles, Groups: id.Groups, Via: id.Via})
}
