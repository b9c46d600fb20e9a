package proxy

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// maxMenuPage is the largest HTML page the menu is injected into; larger
// pages pass through untouched.
const maxMenuPage = 4 << 20

// menuTag is inserted before the page's last </body>.
var menuTag = []byte(`<script src="/_gatehouse/static/menu.js" defer></script>`)

// injectMenu adds the user menu script to an uncompressed HTML page. It
// reads the body (up to maxMenuPage) and leaves everything else, including
// streamed or compressed responses, as it was.
func injectMenu(res *http.Response) error {
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil || mt != "text/html" {
		return nil
	}
	if res.ContentLength > maxMenuPage {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxMenuPage+1))
	if err != nil {
		return err
	}
	if len(body) > maxMenuPage {
		// Too big after all: send what was read followed by the rest.
		res.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), res.Body), res.Body}
		return nil
	}
	res.Body.Close()
	if i := lastIndexFold(body, []byte("</body>")); i >= 0 {
		out := make([]byte, 0, len(body)+len(menuTag))
		out = append(out, body[:i]...)
		out = append(out, menuTag...)
		body = append(out, body[i:]...)
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	res.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// lastIndexFold is bytes.LastIndex ignoring ASCII case.
func lastIndexFold(s, sep []byte) int {
	for i := len(s) - len(sep); i >= 0; i-- {
		if bytes.EqualFold(s[i:i+len(sep)], sep) {
			return i
		}
	}
	return -1
}
