package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/internal/audit"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
	"github.com/gatehouse-auth/gatehouse/protocol"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// maxAuditPath bounds the path written into a deny event.
const maxAuditPath = 256

// serveApp authenticates and authorises a request for the application and
// forwards it. r's context carries the normalised path.
func (g *Gateway) serveApp(w http.ResponseWriter, r *http.Request) {
	path := normalPath(r)
	// The policy compares methods in upper case; the application gets the
	// method in that same form ("delete" is judged and sent as DELETE).
	r.Method = strings.ToUpper(r.Method)
	if isUpgrade(r) && !strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), "websocket") {
		// Only WebSockets are forwarded as upgrades: an h2c upgrade would
		// open an HTTP/2 connection to the application past the gateway.
		g.metrics.rejected.WithLabelValues("bad_upgrade").Inc()
		closeUnread(w, r)
		g.auditDeny(r, nil, "", "upgrade to another protocol than websocket")
		writeJSONError(w, http.StatusBadRequest, "bad_request", "only WebSocket upgrades are accepted")
		return
	}
	upHost, judged := "", ""
	if g.policy.UsesHosts() {
		// The policy tells hosts apart, so the application must receive
		// the host that was judged, and only hosts the policy knows.
		name, hostport, ok := g.judgedHost(r)
		if !ok || !(g.policy.NamesHost(name) || name == g.public.Hostname()) {
			g.metrics.rejected.WithLabelValues("unknown_host").Inc()
			closeUnread(w, r)
			g.auditDeny(r, nil, "", "host not named by the policy")
			writeJSONError(w, http.StatusMisdirectedRequest, "misdirected_request", "this gateway does not serve that host")
			return
		}
		upHost, judged = hostport, name
	}
	id, err := g.identify(r)
	if errors.Is(err, errBadCredential) {
		g.refuseCredential(w, r, err)
		return
	}
	if err != nil {
		g.serverError(w, r, err)
		return
	}
	host := g.host(r)
	if judged != "" {
		host = judged
	}
	in := policy.Input{Host: host, Path: path, Method: r.Method, Authenticated: id != nil}
	if id != nil {
		in.Roles = id.Roles
	}

	if id == nil && !g.policy.AnonymousMayPass(host, path, r.Method) {
		// No rule lets an anonymous caller through here, whatever the
		// body says: answer before reading or parsing any of it
		// (SECURITY-CASES 67).
		g.deny(w, r, nil, path, policy.Decision{Reason: "login required"})
		return
	}

	upgrade := isUpgrade(r)
	isGraphQL := g.policy.IsGraphQL(host, path)
	ide := false
	if isGraphQL && !upgrade && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) && !r.URL.Query().Has("query") {
		// A browser opening the endpoint: GraphQL servers answer with
		// their IDE, which any caller who may query may open.
		ide = true
	} else if isGraphQL && !upgrade {
		ops, body, release, err := g.inspect.operations(r, g.policy.MaxBody(host, path))
		defer release()
		switch {
		case errors.Is(err, errBusy):
			g.metrics.rejected.WithLabelValues("busy").Inc()
			closeUnread(w, r)
			w.Header().Set("Retry-After", "1")
			g.writeStatus(w, r, http.StatusServiceUnavailable, "Busy", "Too many requests are being inspected. Try again shortly.")
			return
		case errors.Is(err, graphql.ErrTooLarge):
			g.metrics.rejected.WithLabelValues("too_large").Inc()
			closeUnread(w, r)
			g.writeStatus(w, r, http.StatusRequestEntityTooLarge, "Request too large", "The request body is larger than allowed.")
			return
		case errors.Is(err, errBodyRead):
			g.metrics.rejected.WithLabelValues("body_timeout").Inc()
			closeUnread(w, r)
			g.writeStatus(w, r, http.StatusRequestTimeout, "Request timeout", "The request body did not arrive in time.")
			return
		case err != nil:
			g.deny(w, r, id, path, policy.Decision{Reason: "graphql: " + graphqlReason(err)})
			return
		}
		// The exact bytes that were judged go upstream, with their length
		// (the transport writes Content-Length from ContentLength).
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
		in.GraphQL = ops
	} else if max := g.policy.MaxBody(host, path); max > 0 && r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength > max {
			g.metrics.rejected.WithLabelValues("too_large").Inc()
			closeUnread(w, r)
			g.writeStatus(w, r, http.StatusRequestEntityTooLarge, "Request too large", "The request body is larger than allowed.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
	}

	var d policy.Decision
	if ide {
		d = g.policy.DecideIDE(in)
	} else {
		d = g.policy.Decide(in)
	}
	if !d.Allow {
		g.denyOps(w, r, id, path, d, in.GraphQL)
		return
	}
	g.metrics.decisions.WithLabelValues("allow", via(id)).Inc()
	if isGraphQL {
		// Every protocol switch on a GraphQL path is inspected (the
		// transport applies the check to any 101 answer).
		r = withMessageCheck(r, g.wsCheck(r, id, in))
	}
	g.proxy.serve(w, r, forwardInfo{id: id, path: path, host: upHost})
}

// judgedHost is the request's host as the policy judges it (lower case,
// no trailing dot) and as the application receives it (with the port the
// client used). ok is false for a host that is not a DNS name or an IP
// literal.
func (g *Gateway) judgedHost(r *http.Request) (name, hostport string, ok bool) {
	h := g.trusted.Host(r)
	port := ""
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		h, port = h[:i], h[i+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
			return "", "", false
		}
	}
	name = strings.TrimSuffix(strings.ToLower(h), ".")
	if name == "" || len(name) > 253 {
		return "", "", false
	}
	if strings.HasPrefix(name, "[") {
		if _, err := netip.ParseAddr(strings.Trim(name, "[]")); err != nil || !strings.HasSuffix(name, "]") {
			return "", "", false
		}
	} else if strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != "" || strings.Contains(name, "..") ||
		strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return "", "", false
	}
	hostport = name
	if port != "" {
		hostport += ":" + port
	}
	return strings.Trim(name, "[]"), hostport, true
}

// closeUnread marks the answer to a request whose body the gateway does
// not read: the connection closes after the answer, so the server does not
// read (up to 256 KiB of) the body either.
func closeUnread(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close")
	}
}

// graphqlReason is a fixed description of a GraphQL refusal.
func graphqlReason(err error) string {
	switch {
	case errors.Is(err, graphql.ErrPersistedQuery):
		return "persisted queries are not accepted"
	case errors.Is(err, graphql.ErrUnparseable):
		return "request not understood"
	}
	return "request refused"
}

func via(id *Identity) string {
	if id == nil {
		return "anonymous"
	}
	return id.Via
}

// deny answers a request the policy refused: anonymous browsers go to the
// login page and come back; anonymous API callers get 401; identified
// callers get 403. Every refusal of an identified caller, and every
// refusal of a request that was not a plain "please log in", is audited.
// On a GraphQL endpoint the answer is a GraphQL response with errors.
func (g *Gateway) deny(w http.ResponseWriter, r *http.Request, id *Identity, path string, d policy.Decision) {
	g.denyOps(w, r, id, path, d, nil)
}

// denyOps is deny for a GraphQL request with its operations.
func (g *Gateway) denyOps(w http.ResponseWriter, r *http.Request, id *Identity, path string, d policy.Decision, ops []graphql.Operation) {
	gql := !wantsHTML(r) && g.policy.IsGraphQL(g.host(r), path)
	if id == nil {
		closeUnread(w, r)
		g.metrics.decisions.WithLabelValues("login_required", "anonymous").Inc()
		switch {
		case wantsHTML(r):
			redirectFound(w, loginURL(originalTarget(r, path)))
		case gql:
			writeGraphQLError(w, http.StatusUnauthorized, gqlUnauthenticated, "authentication required: log in, or send Authorization: Bearer with a token or API key")
		default:
			writeJSONError(w, http.StatusUnauthorized, "unauthorized", "authentication required: log in, or send Authorization: Bearer with a token or API key")
		}
		return
	}
	g.metrics.decisions.WithLabelValues("deny", id.Via).Inc()
	g.auditDenyOps(r, id, d.Rule, d.Reason, ops)
	switch {
	case wantsHTML(r):
		g.pages.render(w, http.StatusForbidden, pageForbidden, pageData{
			Title: "Access denied", Brand: g.cfg.BrandName, User: id.Username, Logout: PathLogout,
			Message: "Your account does not have access to this page.",
		})
	case gql:
		writeGraphQLError(w, g.policy.GraphQLRefusalStatus(), gqlForbidden, refusalMessage(ops))
	default:
		writeJSONError(w, http.StatusForbidden, "forbidden", "your roles do not allow this request")
	}
}

// refusalMessage tells a GraphQL client what was refused.
func refusalMessage(ops []graphql.Operation) string {
	if len(ops) == 1 && ops[0].Name != "" {
		return fmt.Sprintf("your roles do not allow the %s %s", ops[0].Type, ops[0].Name)
	}
	return "your roles do not allow this operation"
}

// refuseCredential answers a bearer credential that did not verify, and
// rate-limits repeated failures per client IP.
func (g *Gateway) refuseCredential(w http.ResponseWriter, r *http.Request, err error) {
	closeUnread(w, r)
	g.metrics.decisions.WithLabelValues("bad_credential", "bearer").Inc()
	g.auditDeny(r, nil, "", "credential refused")
	res, lerr := g.limiter.Allow(r.Context(), "proxy-authfail-ip:"+g.clientIP(r), limitOf(g.cfg.AuthFailureRate))
	if lerr == nil && !res.Allowed {
		g.refused.limit(g.clientIP(r), res.RetryAfter)
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(res.RetryAfter.Seconds()+0.999))))
		writeJSONError(w, http.StatusTooManyRequests, "too_many_requests", "too many failed credentials; try again later")
		return
	}
	// RFC 9449 §7.1: a DPoP challenge, with the proof algorithms, for a
	// DPoP-bound token sent as Bearer or a bad proof.
	switch {
	case errors.Is(err, resource.ErrInvalidProof):
		w.Header().Set("WWW-Authenticate", g.dpopChallenge(protocol.ErrInvalidDPoPProof))
		writeJSONError(w, http.StatusUnauthorized, protocol.ErrInvalidDPoPProof, "the DPoP proof is missing, invalid, replayed or not made with the token's key")
	case errors.Is(err, resource.ErrBoundToken) || (err != nil && strings.EqualFold(strings.SplitN(r.Header.Get("Authorization"), " ", 2)[0], "DPoP")):
		w.Header().Set("WWW-Authenticate", g.dpopChallenge(protocol.ErrInvalidToken))
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "the access token was refused; a DPoP-bound token needs the DPoP scheme and a proof")
	default:
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "the bearer credential was refused")
	}
}

// auditDeny records a refused request. The path is the normalised one,
// truncated; nothing else the client sent is recorded.
func (g *Gateway) auditDeny(r *http.Request, id *Identity, rule, reason string) {
	g.auditDenyOps(r, id, rule, reason, nil)
}

// maxAuditOps bounds the operations listed in a deny event.
const maxAuditOps = 256

// auditDenyOps is auditDeny for a GraphQL request: the event also names
// its operations ("mutation DeleteRun", "query" for an anonymous one) and
// their root fields. Names and fields come from the parser, so they are
// GraphQL names, never arbitrary bytes.
func (g *Gateway) auditDenyOps(r *http.Request, id *Identity, rule, reason string, ops []graphql.Operation) {
	p := normalPath(r)
	if len(p) > maxAuditPath {
		p = p[:maxAuditPath] + "..."
	}
	e := audit.Event{Type: EventDenied, Outcome: audit.Failure, IP: g.clientIP(r), Reason: reason,
		Details: map[string]string{"method": methodLabel(r.Method), "path": p}}
	if rule != "" {
		e.Details["rule"] = rule
	}
	if id != nil {
		e.Actor = "user:" + id.Subject
		e.UserID, e.Username = id.Subject, id.Username
		e.Details["via"] = id.Via
		e.Details["roles"] = strings.Join(id.Roles, ",")
		if id.ClientID != "" {
			e.ClientID = id.ClientID
		}
	}
	if len(ops) > 0 {
		var names, fields []string
		for _, op := range ops {
			n := string(op.Type)
			if op.Name != "" {
				n += " " + op.Name
			}
			names = append(names, n)
			fields = append(fields, op.Fields...)
		}
		e.Details["operations"] = truncate(strings.Join(names, ", "), maxAuditOps)
		e.Details["fields"] = truncate(strings.Join(fields, ","), maxAuditOps)
	}
	g.audit.Log(e)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// EventDenied is the audit event type of a request the gateway refused.
const EventDenied = "proxy.denied"

// methodLabel keeps standard methods and folds anything else, so neither
// audit events nor metrics carry arbitrary client strings.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// wantsHTML reports whether r is a browser navigation that should be sent
// to the login page rather than answered with 401.
func wantsHTML(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if isUpgrade(r) {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// originalTarget is the path and query to come back to after login.
func originalTarget(r *http.Request, path string) string {
	if r.URL.RawQuery != "" {
		return path + "?" + r.URL.RawQuery
	}
	return path
}

// isUpgrade reports whether r asks to switch protocols, by the same rule
// httputil.ReverseProxy uses to forward it as an upgrade: a Connection
// token "upgrade" and any Upgrade header. (Judging upgrades by a stricter
// rule than the one that forwards them would let a request the gateway
// took for plain HTTP become a tunnel.)
func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && r.Header.Get("Upgrade") != ""
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// redirectFound answers 302 Found to loc.
func redirectFound(w http.ResponseWriter, loc string) {
	h := w.Header()
	h.Set("Location", loc)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// dpopChallenge is a WWW-Authenticate: DPoP challenge with error code.
func (g *Gateway) dpopChallenge(code string) string {
	algs := dpop.DefaultAlgorithms
	if g.verifier != nil {
		algs = g.verifier.DPoPAlgorithms()
	}
	return `DPoP algs="` + strings.Join(algs, " ") + `", error="` + code + `"`
}
