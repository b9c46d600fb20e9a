// Command bareproxy is the floor of the gateway benchmark (go run ./bench
// --gateway): a reverse proxy with nothing but net/http/httputil, with the
// same upstream connection pool as `gatehouse proxy`, so that the cost of
// proxying in Go on its own can be told apart from what the gateway adds
// (sessions, policy, header hygiene, assertions, metrics).
//
//	bareproxy --upstream http://127.0.0.1:PORT [--addr 127.0.0.1:0]
//
// It prints "listening on ADDR" (the address actually bound) to stdout
// once it accepts connections, and serves until killed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "`URL` to forward every request to")
	flag.Parse()
	if err := run(*addr, *upstream); err != nil {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(1)
	}
}

func run(addr, upstream string) error {
	target, err := url.Parse(upstream)
	if err != nil || target.Scheme != "http" || target.Host == "" {
		return fmt.Errorf("--upstream: want http://HOST:PORT, got %q", upstream)
	}
	// The same pool as the gateway's default transport.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	tr.IdleConnTimeout = 90 * time.Second
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: tr,
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("listening on %s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
