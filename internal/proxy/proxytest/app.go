package proxytest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse-auth/gatehouse/clock"
)

// HeaderApp is set on every response of the app, so a test can tell an
// answer of the app from one of the gateway.
const HeaderApp = "X-Test-App"

// Run is one run of the app's in-memory run list.
type Run struct {
	ID     string
	Status string
	Job    string
}

// App is the test application. Its zero value is not usable; call NewApp.
// It is safe for concurrent use.
type App struct {
	clock clock.Clock
	// AnyCaseGraphQL routes /graphql in any letter case (/GraphQL), as
	// case-insensitive frameworks (ASP.NET, some Spring setups) do: the
	// spelling a front proxy may route differently from the gateway.
	AnyCaseGraphQL bool

	mu        sync.Mutex
	runs      []Run
	assets    []string
	nextID    int
	mutations []string
}

// Option configures an App.
type Option func(*App)

// WithClock makes the app wait on c (in /stream, /slow and between
// subscription events) instead of the system clock.
func WithClock(c clock.Clock) Option {
	return func(a *App) { a.clock = c }
}

// NewApp returns an app with a few runs and assets.
func NewApp(opts ...Option) *App {
	a := &App{clock: clock.System}
	for _, o := range opts {
		o(a)
	}
	a.Reset()
	return a
}

// Reset forgets the recorded mutations and restores the initial runs and
// assets.
func (a *App) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.runs = []Run{
		{ID: "1", Status: "SUCCESS", Job: "etl"},
		{ID: "2", Status: "FAILURE", Job: "reports"},
		{ID: "3", Status: "STARTED", Job: "etl"},
	}
	a.assets = []string{"raw_events", "daily_summary"}
	a.nextID = len(a.runs) + 1
	a.mutations = nil
}

// Mutations returns the root field names (never aliases) of every
// mutation field the app executed since NewApp or Reset, in order.
func (a *App) Mutations() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.mutations)
}

// Runs returns the current run list.
func (a *App) Runs() []Run {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.runs)
}

// Handler returns the app's HTTP handler. Paths are routed as they
// arrived: the handler never cleans a path or redirects to a cleaned one,
// so /echo reports exactly what the gateway sent.
func (a *App) Handler() http.Handler {
	return http.HandlerFunc(a.serveHTTP)
}

func (a *App) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(HeaderApp, "proxytest")
	p := r.URL.Path
	switch {
	case p == "/echo" || strings.HasPrefix(p, "/echo/"):
		a.serveEcho(w, r)
	case p == "/graphql" || a.AnyCaseGraphQL && strings.EqualFold(p, "/graphql"):
		a.serveGraphQL(w, r)
	case p == "/ws":
		a.serveWSEcho(w, r)
	case p == "/stream":
		a.serveStream(w, r)
	case strings.HasPrefix(p, "/status/"):
		serveStatus(w, r, strings.TrimPrefix(p, "/status/"))
	case p == "/slow":
		a.serveSlow(w, r)
	case p == "/big":
		serveBig(w, r)
	case p == "/login":
		serveLogin(w, r)
	case p == "/logout":
		serveLogout(w, r)
	case p == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	default:
		servePage(w, r)
	}
}

// boundedInt parses the query parameter name as an integer in [lo, hi],
// def when absent.
func boundedInt(r *http.Request, name string, def, lo, hi int64) (int64, bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, false
	}
	return n, true
}
