package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// responseBuffer is the http.ResponseWriter of an in-process round trip
// (see inProcess): it keeps the status, the header as it was when the
// status was written, and the body, and turns them into an *http.Response.
// It does what net/http's server does for a handler that did not say:
// status 200 on the first Write and a sniffed Content-Type.
type responseBuffer struct {
	header      http.Header
	sent        http.Header // the header when WriteHeader ran
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func newResponseBuffer() *responseBuffer {
	return &responseBuffer{header: make(http.Header)}
}

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(code int) {
	if b.wroteHeader {
		return
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		return // informational (103 Early Hints): not the response
	}
	b.status, b.wroteHeader = code, true
	b.sent = b.header.Clone()
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	if !b.wroteHeader {
		if _, ok := b.header["Content-Type"]; !ok && b.header.Get("Transfer-Encoding") == "" {
			b.header.Set("Content-Type", http.DetectContentType(p))
		}
		b.WriteHeader(http.StatusOK)
	}
	return b.body.Write(p)
}

// Flush does nothing: the whole body is handed over at the end.
func (b *responseBuffer) Flush() {}

// result is the response the handler wrote, for req.
func (b *responseBuffer) result(req *http.Request) *http.Response {
	if !b.wroteHeader {
		b.WriteHeader(http.StatusOK)
	}
	res := &http.Response{
		Status:        strconv.Itoa(b.status) + " " + http.StatusText(b.status),
		StatusCode:    b.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        b.sent,
		Body:          io.NopCloser(bytes.NewReader(b.body.Bytes())),
		ContentLength: -1,
		Request:       req,
	}
	if n, err := strconv.ParseInt(b.sent.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		res.ContentLength = n
	}
	return res
}
