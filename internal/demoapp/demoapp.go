// Package demoapp is the web application `gatehouse demo-app` serves: a
// few pages that show who the gateway (`gatehouse proxy`) says is signed
// in, so the gateway can be tried without an application of one's own.
//
// Like any application behind the gateway, it believes the identity
// headers of every request (X-Gatehouse-User, -User-Id, -Email, -Roles,
// -Auth): the gateway removes the ones a client sends and sets its own.
// That trust is only sound when nothing but the gateway can reach the
// app, which is why the command listens on loopback addresses only.
//
// Paths:
//
//	/          who is signed in: an HTML page for browsers, one line of text otherwise
//	/api/me    the same as JSON (Identity)
//	/admin     a page the demo policy (--preset demo) keeps for the admin role
//	/healthz   "ok", public in the demo policy
//
// Any other path is 404.
package demoapp

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/internal/proxy"
)

// Identity is what the gateway said about the caller of one request.
// User is empty when the request did not come through the gateway (or
// came anonymously through a public rule).
type Identity struct {
	User   string   `json:"user"`
	UserID string   `json:"user_id,omitempty"`
	Email  string   `json:"email,omitempty"`
	Roles  []string `json:"roles"`
	// Auth is how the caller proved it: session, jwt or api_key.
	Auth string `json:"auth,omitempty"`
	// Asserted says whether the request carried the gateway's signed
	// X-Gatehouse-Assertion (which this app shows but does not verify).
	Asserted bool `json:"asserted"`
}

// IdentityFrom reads the gateway's identity headers.
func IdentityFrom(h http.Header) Identity {
	id := Identity{
		User:     h.Get(proxy.HeaderUser),
		UserID:   h.Get(proxy.HeaderUserID),
		Email:    h.Get(proxy.HeaderEmail),
		Auth:     h.Get(proxy.HeaderAuth),
		Asserted: h.Get(proxy.HeaderAssertion) != "",
		Roles:    []string{},
	}
	for _, r := range strings.Split(h.Get(proxy.HeaderRoles), ",") {
		if r = strings.TrimSpace(r); r != "" {
			id.Roles = append(id.Roles, r)
		}
	}
	return id
}

// Summary is the one line the text answer of / gives.
func (id Identity) Summary() string {
	if id.User == "" {
		return "No one is signed in: this request did not come through gatehouse proxy with a credential."
	}
	roles := "no roles"
	if len(id.Roles) > 0 {
		roles = "roles " + strings.Join(id.Roles, ", ")
	}
	return fmt.Sprintf("Hello %s (%s; signed in with %s).", id.User, roles, authName(id.Auth))
}

// authName spells the X-Gatehouse-Auth value for people.
func authName(auth string) string {
	switch auth {
	case "session":
		return "a browser session"
	case "jwt":
		return "an access token"
	case "api_key":
		return "an API key"
	case "":
		return "an unnamed credential"
	}
	return auth
}

// Handler returns the app.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", serveHome)
	mux.HandleFunc("GET /api/me", serveMe)
	mux.HandleFunc("GET /admin", serveAdmin)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	return mux
}

func serveHome(w http.ResponseWriter, r *http.Request) {
	id := IdentityFrom(r.Header)
	if !wantsHTML(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, id.Summary())
		return
	}
	render(w, "Demo app", id, "")
}

func serveAdmin(w http.ResponseWriter, r *http.Request) {
	id := IdentityFrom(r.Header)
	const note = "The admin area. With --preset demo the gateway lets only the admin role in here."
	if !wantsHTML(r) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, note)
		fmt.Fprintln(w, id.Summary())
		return
	}
	render(w, "Admin area", id, note)
}

func serveMe(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(IdentityFrom(r.Header))
}

// wantsHTML says whether the caller is a browser (it asks for HTML).
func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, sans-serif; font-size: 1rem; line-height: 1.5; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.75rem; }
dt { font-weight: 600; }
dd { margin: 0 0 .5rem 0; }
code { font-size: .95em; }
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .Note}}<p>{{.Note}}</p>{{end}}
<p>{{.ID.Summary}}</p>
{{if .ID.User}}
<dl>
<dt>User (X-Gatehouse-User)</dt><dd>{{.ID.User}}</dd>
<dt>Subject (X-Gatehouse-User-Id)</dt><dd>{{.ID.UserID}}</dd>
{{if .ID.Email}}<dt>E-mail (X-Gatehouse-Email)</dt><dd>{{.ID.Email}}</dd>{{end}}
<dt>Roles (X-Gatehouse-Roles)</dt><dd>{{range $i, $r := .ID.Roles}}{{if $i}}, {{end}}{{$r}}{{else}}none{{end}}</dd>
<dt>Signed assertion (X-Gatehouse-Assertion)</dt><dd>{{if .ID.Asserted}}present: a JWT the gateway signed, verifiable with its key at <code>/_gatehouse/jwks</code>{{else}}absent{{end}}</dd>
</dl>
{{end}}
<nav>
<p><a href="/">Home</a> · <a href="/admin">Admin area</a> · <a href="/api/me">/api/me (JSON)</a> · <a href="/_gatehouse/logout">Sign out</a></p>
</nav>
</main>
</body>
</html>
`))

func render(w http.ResponseWriter, title string, id Identity, note string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, struct {
		Title, Note string
		ID          Identity
	}{title, note, id})
}
