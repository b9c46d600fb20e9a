package proxytest

import (
	"bytes"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bounds of the endpoints whose cost a client chooses.
const (
	// MaxSlow is the longest /slow waits.
	MaxSlow = 5 * time.Minute
	// MaxBig is the largest body /big writes.
	MaxBig = 1 << 30
	// MaxStreamEvents is the most events /stream writes.
	MaxStreamEvents = 10000
	// MaxStreamInterval is the longest pause between /stream events.
	MaxStreamInterval = time.Minute
)

// AppCookie is the cookie the app's own /login sets and /logout clears.
const AppCookie = "testapp_session"

const pageTemplate = `<!doctype html><html><head><title>Test app</title></head><body><h1>Test app</h1>
<p id="path">%s</p>
<ul><li><a href="/runs">Runs</a></li><li><a href="/assets">Assets</a></li><li><a href="/login">App login</a></li></ul>
</body></html>`

// servePage answers a GET of a page with an HTML page naming the path.
func servePage(w http.ResponseWriter, r *http.Request) {
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !strings.Contains(r.Header.Get("Accept"), "text/html") && r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = fmt.Fprintf(w, pageTemplate, html.EscapeString(r.URL.Path))
}

// serveLogin is the app's own login: a page on GET, a cookie and a
// redirect home on POST.
func serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html><head><title>Test app login</title></head><body><h1>Test app login</h1>` +
			`<form method="post" action="/login"><button type="submit">Sign in to the app</button></form></body></html>`))
	case http.MethodPost:
		http.SetCookie(w, &http.Cookie{Name: AppCookie, Value: "app-user", Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// serveLogout clears the app's cookie and redirects home.
func serveLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: AppCookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// serveStatus answers with the status named in the path.
func serveStatus(w http.ResponseWriter, r *http.Request, code string) {
	n, err := strconv.Atoi(code)
	if err != nil || n < 200 || n > 599 {
		http.Error(w, "status: want a code in 200-599", http.StatusBadRequest)
		return
	}
	if loc := r.URL.Query().Get("location"); loc != "" {
		w.Header().Set("Location", loc)
	}
	if n == http.StatusNoContent || n == http.StatusNotModified {
		w.WriteHeader(n)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(n)
	_, _ = fmt.Fprintf(w, "{\"status\":%d}\n", n)
}

// serveSlow answers after ?d= or when the client goes away.
func (a *App) serveSlow(w http.ResponseWriter, r *http.Request) {
	d := time.Second
	if s := r.URL.Query().Get("d"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil || d < 0 || d > MaxSlow {
			http.Error(w, fmt.Sprintf("slow: want a duration in [0, %s]", MaxSlow), http.StatusBadRequest)
			return
		}
	}
	t := a.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "slept %s\n", d)
}

// serveBig writes ?bytes= bytes of a repeating pattern.
func serveBig(w http.ResponseWriter, r *http.Request) {
	n, ok := boundedInt(r, "bytes", 1<<20, 0, MaxBig)
	if !ok {
		http.Error(w, fmt.Sprintf("big: want bytes in [0, %d]", MaxBig), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	var head []byte
	if r.URL.Query().Get("html") == "1" {
		// ?html=1: an HTML page of n bytes (for the menu of big pages).
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		head = []byte("<!doctype html><html><head><title>Big page</title></head><body><pre>")
		if int64(len(head)) > n {
			head = head[:n]
		}
	}
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	if r.Method == http.MethodHead {
		return
	}
	if _, err := w.Write(head); err != nil {
		return
	}
	n -= int64(len(head))
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	for n > 0 {
		c := chunk[:min(n, int64(len(chunk)))]
		if _, err := w.Write(c); err != nil {
			return
		}
		n -= int64(len(c))
	}
}

// serveStream writes ?n= server-sent events, flushing each, ?interval=
// apart.
func (a *App) serveStream(w http.ResponseWriter, r *http.Request) {
	n, ok := boundedInt(r, "n", 5, 1, MaxStreamEvents)
	if !ok {
		http.Error(w, fmt.Sprintf("stream: want n in [1, %d]", MaxStreamEvents), http.StatusBadRequest)
		return
	}
	interval := 50 * time.Millisecond
	if s := r.URL.Query().Get("interval"); s != "" {
		var err error
		if interval, err = time.ParseDuration(s); err != nil || interval < 0 || interval > MaxStreamInterval {
			http.Error(w, fmt.Sprintf("stream: want an interval in [0, %s]", MaxStreamInterval), http.StatusBadRequest)
			return
		}
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	for i := int64(1); i <= n; i++ {
		if i > 1 {
			t := a.clock.NewTimer(interval)
			select {
			case <-t.C():
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if _, err := fmt.Fprintf(w, "id: %d\ndata: event %d of %d\n\n", i, i, n); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
