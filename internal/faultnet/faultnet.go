// Package faultnet is a TCP proxy for tests that puts faults between a
// program and a dependency (PostgreSQL, Redis): it forwards connections to
// a target until told to Stall (bytes stop flowing both ways, connections
// stay open, like a hung server or a dropped route), Cut (every connection
// is reset and new ones are refused, like a crashed server), or Resume.
package faultnet

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// Mode is what the proxy does with traffic.
type Mode int

// Modes.
const (
	Pass  Mode = iota // forward
	Stall             // hold every byte; accept connections but never answer
	Cut               // close every connection; refuse new ones
)

// Proxy forwards TCP connections from its listener to a target.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	mode   Mode
	resume chan struct{} // closed when a stall ends
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start listens on 127.0.0.1 and forwards to target; the test's cleanup
// closes it.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultnet: listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, resume: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's address (host:port) to give the program instead of
// the target's.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stall stops every byte in both directions, on open and new connections,
// until Resume.
func (p *Proxy) Stall() { p.set(Stall) }

// Cut closes every open connection and refuses new ones until Resume.
func (p *Proxy) Cut() { p.set(Cut) }

// Resume forwards again. Connections cut before stay closed; stalled ones
// carry on with the bytes they held.
func (p *Proxy) Resume() { p.set(Pass) }

func (p *Proxy) set(m Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := p.mode
	p.mode = m
	if m == Cut {
		for c := range p.conns {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset, not an orderly close
			}
			_ = c.Close()
		}
	}
	if prev == Stall && m != Stall {
		close(p.resume)
	}
	if m == Stall && prev != Stall {
		p.resume = make(chan struct{})
	}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	_ = p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	if p.mode == Stall {
		close(p.resume)
		p.mode = Pass
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == Cut {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer p.untrack(c)
	if !p.wait() {
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	go func() { p.pipe(up, c); done <- struct{}{} }()
	go func() { p.pipe(c, up); done <- struct{}{} }()
	<-done
	_ = c.Close()
	_ = up.Close()
	<-done
}

// wait blocks while the proxy is stalled; it reports false once the
// connection should be dropped (cut or closed).
func (p *Proxy) wait() bool {
	for {
		p.mu.Lock()
		mode, resume, closed := p.mode, p.resume, p.closed
		p.mu.Unlock()
		switch {
		case closed || mode == Cut:
			return false
		case mode == Pass:
			return true
		}
		<-resume
	}
}

// pipe copies src to dst, holding each chunk while the proxy is stalled.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				return
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			return
		}
	}
}
