package ldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-auth/gatehouse/internal/connector"
)

// conn is one connection to the directory. Its raw TCP connection is kept
// so that every operation runs under a deadline on the socket itself: a
// server that accepts connections but never answers cannot hold a caller
// longer than the timeout, whatever go-ldap does.
type conn struct {
	l   *goldap.Conn
	raw net.Conn
	// reused is set when the connection came from the idle list rather
	// than being dialled for this caller.
	reused bool
}

// do runs op with the socket's deadline at now+timeout or ctx's deadline,
// whichever is first, and aborts it when ctx is cancelled. broken says the
// connection must not be used again: a network error, a timeout, or a
// cancellation that may have cut an exchange in half.
func (c *conn) do(ctx context.Context, timeout time.Duration, op func() error) (broken bool, err error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.raw.SetDeadline(time.Unix(1, 0)) })
	err = op()
	if !stop() || isNetworkError(err) {
		return true, err
	}
	// An answer (success or an LDAP result code): the connection is in
	// step, and idles without a deadline.
	c.raw.SetDeadline(time.Time{})
	return false, err
}

func (c *conn) close() {
	// Close waits for go-ldap's goroutines: bound it, the server may be
	// stalled.
	c.raw.SetDeadline(time.Unix(1, 0))
	c.l.Close()
}

// dialer makes connections: TCP, then TLS (ldaps) or StartTLS, then, for
// the search pool, the service bind; all within the dial timeout.
type dialer struct {
	cfg     *resolved
	tls     *tls.Config
	binds   bool // bind as the service account after connecting
	counter *opCounter
}

func (d *dialer) dial(ctx context.Context) (*conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.DialTimeout)
	defer cancel()
	addr := d.cfg.url.Host
	if d.cfg.url.Port() == "" {
		port := "389"
		if d.cfg.url.Scheme == "ldaps" {
			port = "636"
		}
		addr = net.JoinHostPort(d.cfg.url.Hostname(), port)
	}
	var nd net.Dialer
	raw, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, unavailable("connect to %s: %v", addr, err)
	}
	deadline, _ := ctx.Deadline()
	raw.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	var l *goldap.Conn
	if d.cfg.url.Scheme == "ldaps" {
		tc := tls.Client(raw, d.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, unavailable("TLS with %s: %v", addr, err)
		}
		l = goldap.NewConn(tc, true)
	} else {
		l = goldap.NewConn(raw, false)
	}
	l.Start()
	l.SetTimeout(d.cfg.RequestTimeout)
	c := &conn{l: l, raw: raw}
	if d.cfg.StartTLS {
		if err := l.StartTLS(d.tls); err != nil {
			c.close()
			return nil, unavailable("StartTLS with %s: %v", addr, err)
		}
	}
	if d.binds {
		d.counter.bind()
		if err := l.Bind(d.cfg.BindDN, d.cfg.bindPassword); err != nil {
			c.close()
			if goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials) {
				return nil, unavailable("the directory refused the service account's bind as %s: check ldap.bind_dn and its password", d.cfg.BindDN)
			}
			return nil, unavailable("bind as %s: %v", d.cfg.BindDN, err)
		}
	}
	if !stop() {
		c.close()
		return nil, unavailable("connect to %s: %v", addr, ctx.Err())
	}
	raw.SetDeadline(time.Time{})
	return c, nil
}

// pool keeps up to size open connections of one kind: idle ones wait in
// idle, and slots counts the open ones.
type pool struct {
	d     *dialer
	idle  chan *conn
	slots chan struct{}

	mu     sync.Mutex
	closed bool
}

func newPool(d *dialer, size int) *pool {
	return &pool{d: d, idle: make(chan *conn, size), slots: make(chan struct{}, size)}
}

// get returns an idle connection, or a new one if fewer than size are
// open, or waits for one to be put back, at most wait.
func (p *pool) get(ctx context.Context, wait time.Duration) (*conn, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, unavailable("the connector is closed")
	}
	var timeout <-chan time.Time
	for {
		select {
		case c := <-p.idle:
			if c.l.IsClosing() { // the server closed it meanwhile
				p.discard(c)
				continue
			}
			c.reused = true
			return c, nil
		default:
		}
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case c := <-p.idle:
			if c.l.IsClosing() {
				p.discard(c)
				continue
			}
			c.reused = true
			return c, nil
		case p.slots <- struct{}{}:
			c, err := p.d.dial(ctx)
			if err != nil {
				<-p.slots
				return nil, err
			}
			return c, nil
		case <-ctx.Done():
			return nil, unavailable("waiting for a free connection: %v", ctx.Err())
		case <-timeout:
			return nil, unavailable("no free connection within %s: all %d are busy (raise ldap.pool_size, or the directory is slow)", wait, cap(p.slots))
		}
	}
}

// put returns c to the idle list, or closes it when broken says the
// connection can no longer be trusted (a network error or timeout: an
// answer may still be on its way).
func (p *pool) put(c *conn, broken bool) {
	p.mu.Lock()
	if !broken && !p.closed && !c.l.IsClosing() {
		c.reused = false
		p.idle <- c // never blocks: idle holds as many as there are slots
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.discard(c)
}

func (p *pool) discard(c *conn) {
	c.close()
	<-p.slots
}

// close closes the idle connections and makes put close the others.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	// No put adds to idle from here on.
	for {
		select {
		case c := <-p.idle:
			p.discard(c)
		default:
			return
		}
	}
}

// with runs op on a pooled connection. A network failure closes the
// connection; when it happened on a connection that sat idle (the server
// may have restarted since) and was not a timeout, op runs once more on a
// freshly dialled one.
func (p *pool) with(ctx context.Context, timeout time.Duration, op func(*goldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		// Waiting for a busy connection is bounded like an operation.
		c, err := p.get(ctx, timeout)
		if err != nil {
			return err
		}
		reused := c.reused
		var broken bool
		broken, err = c.do(ctx, timeout, func() error { return op(c.l) })
		p.put(c, broken)
		if broken && reused && attempt == 0 && ctx.Err() == nil && !isTimeout(err) {
			continue
		}
		return err
	}
}

// isNetworkError says whether err leaves the connection in doubt: anything
// but an answer of the server (an LDAP result code below go-ldap's own
// codes) closes it.
func isNetworkError(err error) bool {
	if err == nil {
		return false
	}
	var le *goldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case goldap.ErrorFilterCompile, goldap.ErrorFilterDecompile, goldap.ErrorEmptyPassword:
			return false
		}
		return le.ResultCode >= goldap.ErrorNetwork
	}
	return true
}

func isTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return err != nil && (strings.Contains(err.Error(), "timed out") || strings.Contains(err.Error(), "timeout"))
}

// unavailable is an ErrUnavailable with what went wrong.
func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", connector.ErrUnavailable, fmt.Sprintf(format, args...))
}
