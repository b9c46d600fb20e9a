package proxy

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/inbound"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
)

// handleForwardAuth is the forward-auth endpoint for reverse proxies that
// ask before forwarding: nginx `auth_request`, Traefik ForwardAuth and
// Caddy `forward_auth`. It judges the request the proxy describes with the
// same identification and policy as the gateway itself and answers
//
//   - 200 with the identity headers (X-Gatehouse-*) for the proxy to copy
//     to the application;
//   - for an anonymous browser: 302 to the login page (Traefik, Caddy pass
//     it to the browser), or 401 when the caller is nginx (it sends
//     X-Original-URI; use `error_page 401` to redirect);
//   - 401 for other anonymous callers and refused credentials, 403 for a
//     refusal of an identified caller, 400 for an unacceptable path.
//
// The original method, host and URI come from X-Forwarded-Method/-Host/-Uri
// (Traefik, Caddy) or X-Original-Method/-URI (nginx). They are believed only
// from a peer in --trusted-proxy: anyone else gets 403, since a caller that
// could describe any request would learn decisions for requests it never
// makes.
//
// GraphQL: the operations are judged when the proxy forwards the body
// (Traefik's forwardBody) or the query is in the URI; a GraphQL POST whose
// body the proxy did not send is judged as an operation of unknown type,
// which only rules without a graphql section can allow.
func (g *Gateway) handleForwardAuth(w http.ResponseWriter, r *http.Request) {
	if _, trusted := g.trusted.Peer(r); !trusted {
		g.auditDeny(r, nil, "", "forward-auth caller is not a trusted proxy")
		writeJSONError(w, http.StatusForbidden, "forbidden", "forward-auth callers must be listed in --trusted-proxy")
		return
	}
	nginx := r.Header.Get("X-Original-URI") != ""
	orig, err := describedRequest(r)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	path, err := inbound.Path(orig.URL.EscapedPath())
	if err != nil {
		g.auditDeny(r, nil, "", "bad path")
		writeJSONError(w, http.StatusBadRequest, "bad_request", "the request path is not acceptable")
		return
	}
	orig = withNormalPath(orig, path)
	if path == Prefix || strings.HasPrefix(path, Prefix+"/") {
		// The gateway's own routes are public by construction.
		w.WriteHeader(http.StatusOK)
		return
	}
	id, err := g.identify(orig)
	if errors.Is(err, errBadCredential) {
		g.refuseCredential(w, orig, err)
		return
	}
	if err != nil {
		g.serverError(w, r, err)
		return
	}
	host := g.host(orig)
	in := policyInput(id, host, path, orig.Method)
	isGraphQL := g.policy.IsGraphQL(host, path)
	if id == nil && !g.policy.AnonymousMayPass(host, path, orig.Method) {
		// As in the gateway itself: an anonymous request no public rule
		// could allow costs no body read or parse (a forwarded body).
		g.refuseAnonymous(w, orig, path, nginx)
		return
	}
	if isGraphQL && describesUpgrade(orig) && !g.cfg.ForwardAuthUninspectedWebSockets {
		// The proxy that asks cannot show the gateway the messages of the
		// WebSocket it would open: a viewer's socket could carry any
		// mutation. Route GraphQL WebSockets through the gateway itself
		// (docs/gateway.md), or opt in with
		// --forward-auth-uninspected-websockets.
		g.metrics.decisions.WithLabelValues("deny", via(id)).Inc()
		g.auditDenyOps(orig, id, "", "forward-auth: websocket on a graphql path cannot be inspected", nil)
		writeJSONError(w, http.StatusForbidden, "forbidden", "WebSockets on GraphQL paths must go through the gateway itself, which inspects their messages")
		return
	}
	if isGraphQL && !describesUpgrade(orig) {
		ops, release, err := g.forwardedOperations(orig, r, g.policy.MaxBody(host, path))
		defer release()
		if errors.Is(err, errBusy) {
			w.Header().Set("Retry-After", "1")
			writeJSONError(w, http.StatusServiceUnavailable, "busy", "too many requests are being inspected")
			return
		}
		if err != nil {
			g.deny(w, orig, id, path, policy.Decision{Reason: "graphql: " + graphqlReason(err)})
			return
		}
		in.GraphQL = ops
	}
	d := g.policy.Decide(in)
	if !d.Allow {
		if id == nil {
			g.refuseAnonymous(w, orig, path, nginx)
			return
		}
		g.denyOps(w, orig, id, path, d, in.GraphQL)
		return
	}
	g.metrics.decisions.WithLabelValues("allow", via(id)).Inc()
	// The request's cookies without the gateway's (and its embedded
	// server's): the proxy forwards this as the Cookie header, so the
	// application never sees a session id (SECURITY-CASES 49).
	kept := http.Header{"Cookie": orig.Header.Values("Cookie")}
	removeGatewayCookies(kept)
	w.Header().Set(HeaderCookie, headerValue(kept.Get("Cookie")))
	if id != nil {
		h := w.Header()
		h.Set(HeaderUser, headerValue(id.Username))
		h.Set(HeaderUserID, headerValue(id.Subject))
		h.Set(HeaderRoles, headerValue(strings.Join(id.Roles, ",")))
		h.Set(HeaderAuth, id.Via)
		h.Set(HeaderForwardedUser, headerValue(id.Username))
		if id.Email != "" {
			h.Set(HeaderEmail, headerValue(id.Email))
			h.Set(HeaderForwardedEmail, headerValue(id.Email))
		}
		if a, err := g.assertion.sign(id); err == nil {
			h.Set(HeaderAssertion, a)
		}
	}
	w.WriteHeader(http.StatusOK)
}

// describedRequest rebuilds the request a forward-auth caller describes.
// Its cookies and Authorization header are the forward-auth request's own
// (every proxy copies them).
func describedRequest(r *http.Request) (*http.Request, error) {
	method := firstNonEmpty(r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Original-Method"), http.MethodGet)
	rawURI := firstNonEmpty(r.Header.Get("X-Forwarded-Uri"), r.Header.Get("X-Original-URI"))
	if rawURI == "" || rawURI[0] != '/' {
		return nil, errors.New("forward-auth needs X-Forwarded-Uri or X-Original-URI with the original path")
	}
	u, err := url.ParseRequestURI(rawURI)
	if err != nil {
		return nil, errors.New("the original URI is not acceptable")
	}
	orig := r.Clone(r.Context())
	orig.Method = strings.ToUpper(method)
	orig.URL = u
	orig.RequestURI = rawURI
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		orig.Host = h
	}
	// The original request's own upgrade headers, if the proxy copied them,
	// are what tells a WebSocket from a page.
	return orig, nil
}

// refuseAnonymous answers an anonymous request the policy refuses: 401
// for nginx (whose error_page redirects browsers to the login URL the
// gateway names), else the gateway's own answer (302 for browsers).
func (g *Gateway) refuseAnonymous(w http.ResponseWriter, orig *http.Request, path string, nginx bool) {
	closeUnread(w, orig)
	if !nginx {
		g.deny(w, orig, nil, path, policy.Decision{Reason: "login required"})
		return
	}
	g.metrics.decisions.WithLabelValues("login_required", "anonymous").Inc()
	if wantsHTML(orig) {
		// nginx turns the 401 into a redirect with error_page; it cannot
		// URL-encode, so the gateway names the login URL.
		w.Header().Set(HeaderLogin, loginURL(originalTarget(orig, path)))
	}
	writeJSONError(w, http.StatusUnauthorized, "unauthorized", "authentication required")
}

// forwardedOperations are the GraphQL operations of a described request:
// from the URI's query, or from the body when the proxy forwarded it
// (read within the inspection budget); an operation of unknown type for a
// POST whose body the proxy kept.
func (g *Gateway) forwardedOperations(orig, r *http.Request, maxBody int64) ([]graphql.Operation, func(), error) {
	if orig.Method == http.MethodGet || orig.Method == http.MethodHead {
		orig.Body, orig.ContentLength = http.NoBody, 0
	} else if r.ContentLength == 0 {
		return []graphql.Operation{{Type: "unknown"}}, func() {}, nil
	}
	ops, _, release, err := g.inspect.operations(orig, maxBody)
	return ops, release, err
}

// HeaderLogin is the login URL the forward-auth endpoint gives nginx with
// the 401 of an anonymous browser (nginx redirects to it).
const HeaderLogin = "X-Gatehouse-Login"

// HeaderCookie is the Cookie header the forward-auth endpoint tells the
// proxy to forward: the request's, without the gateway's own cookies.
const HeaderCookie = "X-Gatehouse-Cookie"

// describesUpgrade reports whether a described request opens a WebSocket
// (or another protocol). Proxies differ in what they copy to the
// forward-auth request: Caddy and Traefik send the Upgrade and Connection
// headers, nginx drops them but keeps Sec-WebSocket-Key.
func describesUpgrade(orig *http.Request) bool {
	return isUpgrade(orig) || orig.Header.Get("Upgrade") != "" || orig.Header.Get("Sec-WebSocket-Key") != "" ||
		orig.Header.Get("Sec-WebSocket-Version") != ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
