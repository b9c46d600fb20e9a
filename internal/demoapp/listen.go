package demoapp

import (
	"fmt"
	"net"
)

// Listen listens on addr, which must be a loopback address (127.0.0.1,
// ::1 or localhost, any port; port 0 picks a free one). The app believes
// the identity headers of every request, so anything that could reach it
// around the gateway could claim to be anyone.
func Listen(addr string) (net.Listener, error) {
	if err := CheckAddr(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckAddr says why addr is not an address Listen accepts, or nil.
func CheckAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q is not HOST:PORT; give a loopback address such as 127.0.0.1:3000", addr)
	}
	if !isLoopback(host) {
		return fmt.Errorf("--addr %q is not a loopback address: the demo app believes the identity headers of anyone who reaches it, so it listens only on 127.0.0.1, ::1 or localhost; give one of those and let gatehouse proxy be the way in", addr)
	}
	return nil
}
