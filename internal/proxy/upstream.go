package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/proxy/graphql"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/inbound"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/policy"
	"github.com/gatehouse-auth/gatehouse/internal/proxy/wsinspect"
)

// Identity headers the gateway sets on requests to the application.
const (
	HeaderUser      = "X-Gatehouse-User"
	HeaderUserID    = "X-Gatehouse-User-Id"
	HeaderEmail     = "X-Gatehouse-Email"
	HeaderRoles     = "X-Gatehouse-Roles"
	HeaderAuth      = "X-Gatehouse-Auth"
	HeaderAssertion = "X-Gatehouse-Assertion"
	// Compatible spellings many applications read (oauth2-proxy's).
	HeaderForwardedUser  = "X-Forwarded-User"
	HeaderForwardedEmail = "X-Forwarded-Email"
)

// strippedHeaders are removed from every request before it is forwarded,
// in every spelling (case, '_' for '-'): identity headers that an
// application might believe, and forwarding headers whose only trusted
// source is the gateway itself (SECURITY-CASES 46, 47).
var strippedHeaders = []string{
	"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "X-Forwarded-Preferred-Username",
	"X-Forwarded-Access-Token", "X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Groups",
	"X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token", "Remote-User", "Remote-Email",
	"Remote-Groups", "Remote-Name", "X-Remote-User", "X-Remote-Group", "X-WEBAUTH-USER", "X-Webauth-Email",
	"X-Webauth-Name", "X-User", "X-Email", "X-Username", "X-Roles", "X-Groups",
	"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Forwarded-Uri",
	"X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Method", "X-Forwarded-Ssl", "Forwarded",
	"X-Original-URL", "X-Original-URI", "X-Original-Method", "X-Rewrite-URL", "X-Real-IP", "X-Client-IP",
	"True-Client-IP", "X-Cluster-Client-IP",
	// Method overrides: frameworks that honour them would run a method the
	// policy did not judge (a viewer's GET turned into a DELETE).
	"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override",
}

// strippedPrefixes start header names that are removed the same way.
var strippedPrefixes = []string{"X-Gatehouse-"}

// stripped is strippedHeaders and strippedPrefixes, normalised once.
var stripped = inbound.NewHeaderSet(strippedHeaders, strippedPrefixes)

// maxWSMessage bounds one inspected WebSocket message.
const maxWSMessage = 1 << 20

// upstreamProxy forwards authorised requests to the application.
type upstreamProxy struct {
	g  *Gateway
	rp *httputil.ReverseProxy
}

type forwardKey struct{}

// forwardInfo is what Rewrite needs from the authorisation step.
type forwardInfo struct {
	id   *Identity
	path string
	// host is the Host the application receives when the policy tells
	// hosts apart ("": the upstream URL's host).
	host string
}

func newUpstreamProxy(g *Gateway, base http.RoundTripper) *upstreamProxy {
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = 512
		t.MaxIdleConnsPerHost = 256
		t.IdleConnTimeout = 90 * time.Second
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		base = t
	}
	p := &upstreamProxy{g: g}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: &inspectingTransport{base: base, budget: g.inspect.bytes},
		// 0: ReverseProxy still flushes every write of a streamed response
		// (text/event-stream, or no Content-Length) at once, and buffers
		// the others, which saves a goroutine and a flush per response.
		FlushInterval:  0,
		BufferPool:     copyBuffers{},
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       nil,
	}
	return p
}

func (p *upstreamProxy) serve(w http.ResponseWriter, r *http.Request, info forwardInfo) {
	r = r.WithContext(context.WithValue(r.Context(), forwardKey{}, info))
	p.rp.ServeHTTP(w, r)
}

// rewrite builds the upstream request: the normalised path under the
// upstream URL, the query unchanged, no client-sent identity or
// forwarding headers, no gateway cookies, and the gateway's own headers.
func (p *upstreamProxy) rewrite(pr *httputil.ProxyRequest) {
	g := p.g
	info, _ := pr.In.Context().Value(forwardKey{}).(forwardInfo)
	out := pr.Out
	// Path set and RawPath cleared: the upstream receives the normalised
	// path in its default escaping, the very path the policy judged.
	out.URL.Path, out.URL.RawPath = info.path, ""
	pr.SetURL(g.upstream)

	stripped.Strip(out.Header)
	if !strings.EqualFold(strings.TrimSpace(out.Header.Get("Upgrade")), "websocket") {
		// Never an upgrade to anything but a WebSocket (h2c smuggling).
		out.Header.Del("Upgrade")
	}
	inbound.SanitizeConnection(out.Header, func(tok string) bool {
		return tok == "upgrade" || tok == "keep-alive" || tok == "close"
	})
	if !g.cfg.PassAuthorization {
		out.Header.Del("Authorization")
	}
	removeGatewayCookies(out.Header)
	if isUpgrade(pr.In) && messageCheckFrom(pr.In.Context()) != nil {
		// Inspected WebSockets carry plain frames: no compression.
		out.Header.Del("Sec-WebSocket-Extensions")
	}
	if g.cfg.Menu && wantsHTML(pr.In) {
		// The menu is injected into uncompressed HTML only.
		out.Header.Del("Accept-Encoding")
	}

	ip := g.clientIP(pr.In)
	out.Header.Set("X-Forwarded-For", ip)
	out.Header.Set("X-Real-IP", ip)
	out.Header.Set("X-Forwarded-Host", g.public.Host)
	if info.host != "" {
		// The host the policy judged is the host the application serves.
		out.Host = info.host
		out.Header.Set("X-Forwarded-Host", info.host)
	}
	out.Header.Set("X-Forwarded-Proto", g.public.Scheme)

	if id := info.id; id != nil {
		h := out.Header
		h.Set(HeaderUser, headerValue(id.Username))
		h.Set(HeaderUserID, headerValue(id.Subject))
		if id.Email != "" {
			h.Set(HeaderEmail, headerValue(id.Email))
			h.Set(HeaderForwardedEmail, headerValue(id.Email))
		}
		h.Set(HeaderRoles, headerValue(strings.Join(id.Roles, ",")))
		h.Set(HeaderAuth, id.Via)
		h.Set(HeaderForwardedUser, headerValue(id.Username))
		if a, err := g.assertion.sign(id); err == nil {
			h.Set(HeaderAssertion, a)
		} else {
			g.log.Error("sign upstream assertion", "err", err)
		}
	}
}

// headerValue drops characters that cannot appear in a header value.
func headerValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// removeGatewayCookies takes the gateway's (and its embedded server's)
// cookies out of the Cookie header: the application never sees a session
// id (SECURITY-CASES 49).
func removeGatewayCookies(h http.Header) {
	values := h.Values("Cookie")
	if len(values) == 0 {
		return
	}
	var kept []string
	for _, v := range values {
		for _, part := range strings.Split(v, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, _, _ := strings.Cut(part, "=")
			if isGatewayCookie(strings.TrimSpace(name)) {
				continue
			}
			kept = append(kept, part)
		}
	}
	h.Del("Cookie")
	if len(kept) > 0 {
		h.Set("Cookie", strings.Join(kept, "; "))
	}
}

// modifyResponse keeps the application from setting the gateway's cookies
// and injects the user menu when enabled.
func (p *upstreamProxy) modifyResponse(res *http.Response) error {
	if cs := res.Header.Values("Set-Cookie"); len(cs) > 0 {
		res.Header.Del("Set-Cookie")
		for _, c := range cs {
			name, _, _ := strings.Cut(c, "=")
			if !isGatewayCookie(strings.TrimSpace(name)) {
				res.Header.Add("Set-Cookie", c)
			}
		}
	}
	if p.g.cfg.Menu {
		info, _ := res.Request.Context().Value(forwardKey{}).(forwardInfo)
		if info.id != nil {
			return injectMenu(res)
		}
	}
	return nil
}

func (p *upstreamProxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		w.WriteHeader(499) // the client went away; nobody reads this
		return
	}
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		p.g.writeStatus(w, r, http.StatusRequestEntityTooLarge, "Request too large", "The request body is larger than allowed.")
		return
	}
	p.g.metrics.upstreamErrors.Inc()
	p.g.log.Warn("upstream request failed", "err", err)
	p.g.writeStatus(w, r, http.StatusBadGateway, "Application unavailable", "The application did not answer. Try again shortly.")
}

// copyBufferSize is the size of the buffers responses are copied with.
const copyBufferSize = 32 << 10

var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// copyBuffers lends ReverseProxy its copy buffers from a pool instead of
// allocating 32 KiB per response.
type copyBuffers struct{}

func (copyBuffers) Get() []byte { return *copyBufferPool.Get().(*[]byte) }

func (copyBuffers) Put(b []byte) {
	if cap(b) == copyBufferSize {
		b = b[:copyBufferSize]
		copyBufferPool.Put(&b)
	}
}

// messageCheckKey carries the check of WebSocket messages for a request.
type messageCheckKey struct{}

type messageCheck func(opcode int, msg []byte) error

func withMessageCheck(r *http.Request, check messageCheck) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), messageCheckKey{}, check))
}

func messageCheckFrom(ctx context.Context) messageCheck {
	c, _ := ctx.Value(messageCheckKey{}).(messageCheck)
	return c
}

// inspectingTransport wraps the upstream connection of a WebSocket whose
// messages must be checked: httputil.ReverseProxy writes the client's
// bytes into the 101 response's body, so wrapping that body puts every
// client message through the check before it reaches the application.
type inspectingTransport struct {
	base http.RoundTripper
	// budget bounds the bytes of WebSocket messages held for inspection,
	// shared with GraphQL request bodies.
	budget wsinspect.Budget
}

func (t *inspectingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil || res.StatusCode != http.StatusSwitchingProtocols {
		return res, err
	}
	check := messageCheckFrom(req.Context())
	if check == nil {
		return res, nil
	}
	rwc, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		res.Body.Close()
		return nil, fmt.Errorf("proxy: upstream upgrade body is not writable")
	}
	if ext := res.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		rwc.Close()
		return nil, fmt.Errorf("proxy: upstream negotiated WebSocket extensions %q that were not offered", ext)
	}
	res.Body = wsinspect.Wrap(rwc, maxWSMessage, check, t.budget)
	return res, nil
}

// maxWSReplyID bounds the operation id echoed in a refusal; a message
// with a longer one fails the connection instead.
const maxWSReplyID = 256

// wsRefusalReply is the server's answer to a refused subscribe (or, in the
// legacy subscriptions-transport-ws, start) message: an "error" message for
// its id, whose payload is a list of GraphQL errors in graphql-transport-ws
// and one error object in the legacy protocol. nil when msg has no id.
func wsRefusalReply(msg []byte, text string) []byte {
	var m struct {
		ID   json.RawMessage `json:"id"`
		Type string          `json:"type"`
	}
	if json.Unmarshal(msg, &m) != nil || len(m.ID) == 0 || len(m.ID) > maxWSReplyID || string(m.ID) == "null" {
		return nil
	}
	errs := newGraphQLErrors(gqlForbidden, text).Errors
	var payload any = errs
	if m.Type == "start" {
		payload = errs[0]
	}
	b, err := json.Marshal(struct {
		ID      json.RawMessage `json:"id"`
		Type    string          `json:"type"`
		Payload any             `json:"payload"`
	}{m.ID, "error", payload})
	if err != nil {
		return nil
	}
	return b
}

// wsCheck judges every GraphQL operation sent over a WebSocket with the
// roles of the upgrade request (SECURITY-CASES 51: a viewer's subscription
// cannot carry a mutation).
func (g *Gateway) wsCheck(r *http.Request, id *Identity, in policy.Input) messageCheck {
	return func(opcode int, msg []byte) error {
		if opcode != wsinspect.OpText {
			return errors.New("binary message on a GraphQL WebSocket")
		}
		ops, err := graphql.FromWSMessage(msg)
		if err != nil {
			g.metrics.decisions.WithLabelValues("deny", "websocket").Inc()
			g.auditDeny(r, id, "", "websocket: graphql message not understood")
			return err
		}
		if len(ops) == 0 {
			return nil
		}
		in2 := in
		in2.GraphQL = ops
		if d := g.policy.Decide(in2); !d.Allow {
			g.metrics.decisions.WithLabelValues("deny", "websocket").Inc()
			g.auditDenyOps(r, id, d.Rule, "websocket: "+d.Reason, ops)
			err := fmt.Errorf("proxy: operation denied: %s", d.Reason)
			if reply := wsRefusalReply(msg, refusalMessage(ops)); reply != nil {
				// The operation gets the protocol's error message and the
				// socket stays open for the others.
				return &wsinspect.Refusal{Reply: reply, Err: err}
			}
			return err
		}
		return nil
	}
}
