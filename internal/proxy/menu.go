package proxy

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// maxMenuPrefix is how much of an HTML page the gateway reads to find
// where the menu goes (right after the <head> tag, or before <body> when
// there is no head). The rest of the page, however large or slow, streams
// through untouched; a page whose first 64 KiB have neither tag gets no
// menu.
const maxMenuPrefix = 64 << 10

// menuTag is inserted after the page's <head> tag. The script is deferred,
// so it runs once the page is parsed, whatever its size.
var menuTag = []byte(`<script src="/_gatehouse/static/menu.js" defer></script>`)

// injectMenu adds the user menu script to an uncompressed HTML page,
// reading only the page's beginning: large and streamed pages get the
// menu too, without being buffered.
func injectMenu(res *http.Response) error {
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "text/html" {
		return nil
	}
	prefix := make([]byte, 0, 4096)
	buf := make([]byte, 4096)
	at := -1
	var readErr error
	for len(prefix) < maxMenuPrefix {
		n, err := res.Body.Read(buf[:min(len(buf), maxMenuPrefix-len(prefix))])
		prefix = append(prefix, buf[:n]...)
		if at = menuPosition(prefix); at >= 0 || err != nil {
			readErr = err
			break
		}
	}
	rest := io.MultiReader(bytes.NewReader(prefix), res.Body)
	if at >= 0 {
		rest = io.MultiReader(bytes.NewReader(prefix[:at]), bytes.NewReader(menuTag), bytes.NewReader(prefix[at:]), res.Body)
		if res.ContentLength >= 0 {
			res.ContentLength += int64(len(menuTag))
			res.Header.Set("Content-Length", strconv.FormatInt(res.ContentLength, 10))
		}
	}
	if readErr != nil && readErr != io.EOF {
		return readErr
	}
	res.Body = struct {
		io.Reader
		io.Closer
	}{rest, res.Body}
	return nil
}

// menuPosition is the offset just after the first <head> tag of page, or
// of its first <body tag when no <head> comes before it; -1 when neither is
// (completely) there yet.
func menuPosition(page []byte) int {
	head := indexTagFold(page, "<head")
	body := indexTagFold(page, "<body")
	switch {
	case head >= 0 && (body < 0 || head < body):
		if end := bytes.IndexByte(page[head:], '>'); end >= 0 {
			return head + end + 1
		}
	case body >= 0:
		return body
	}
	return -1
}

// indexTagFold finds the tag name (such as "<head") ignoring ASCII case,
// followed by '>', a space or '/', so that <header> is not <head>.
func indexTagFold(s []byte, tag string) int {
	for i := 0; i+len(tag) < len(s); i++ {
		if bytes.EqualFold(s[i:i+len(tag)], []byte(tag)) {
			switch s[i+len(tag)] {
			case '>', ' ', '\t', '\n', '\r', '/':
				return i
			}
		}
	}
	return -1
}
