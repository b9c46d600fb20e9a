package faultnet

import (
	"io"
	"net"
	"testing"
	"time"
)

func echoServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func roundTrip(c net.Conn, d time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	_, err := io.ReadFull(c, buf)
	return err
}

func TestProxy(t *testing.T) {
	p := Start(t, echoServer(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := roundTrip(c, 2*time.Second); err != nil {
		t.Fatalf("pass: %v", err)
	}
	p.Stall()
	if err := roundTrip(c, 200*time.Millisecond); err == nil {
		t.Fatal("stalled link answered")
	}
	p.Resume()
	// The stalled "ping" arrives now, then a fresh one.
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	if err := roundTrip(c, 2*time.Second); err != nil {
		t.Fatalf("after resume: %v", err)
	}
	p.Cut()
	if err := roundTrip(c, 2*time.Second); err == nil {
		t.Fatal("cut link answered")
	}
	if c2, err := net.Dial("tcp", p.Addr()); err == nil {
		if roundTrip(c2, 500*time.Millisecond) == nil {
			t.Fatal("a new connection through a cut link answered")
		}
		c2.Close()
	}
	p.Resume()
	c3, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := roundTrip(c3, 2*time.Second); err != nil {
		t.Fatalf("new connection after resume: %v", err)
	}
}
