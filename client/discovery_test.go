package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-auth/gatehouse/protocol"
)

// docServer serves discovery documents by path; the issuer in each
// document is produced from the server's URL by issuer.
func docServer(t *testing.T, docs map[string]func(base string) string) (*httptest.Server, *[]string) {
	t.Helper()
	var hits []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		f, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(protocol.Metadata{Issuer: f(srv.URL), TokenEndpoint: srv.URL + "/token"})
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func same(base string) string { return base }

func TestDiscoverRFC8414(t *testing.T) {
	srv, hits := docServer(t, map[string]func(string) string{wellKnownOAuth: same})
	md, err := Discover(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if md.Issuer != srv.URL || md.TokenEndpoint != srv.URL+"/token" {
		t.Errorf("metadata = %+v", md)
	}
	if diff := cmp.Diff([]string{wellKnownOAuth}, *hits); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestDiscoverFallsBackToOpenIDConfiguration(t *testing.T) {
	srv, hits := docServer(t, map[string]func(string) string{wellKnownOIDC: same})
	md, err := Discover(context.Background(), srv.Client(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if md.Issuer != srv.URL {
		t.Errorf("issuer = %q", md.Issuer)
	}
	if diff := cmp.Diff([]string{wellKnownOAuth, wellKnownOIDC}, *hits); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestDiscoverIssuerWithPath(t *testing.T) {
	// RFC 8414 places the well-known segment before the path; OpenID
	// Connect (Keycloak realms, Auth0 tenants...) after it.
	for name, path := range map[string]string{
		"rfc8414": wellKnownOAuth + "/realms/dev",
		"oidc":    "/realms/dev" + wellKnownOIDC,
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := docServer(t, map[string]func(string) string{path: func(b string) string { return b + "/realms/dev" }})
			md, err := Discover(context.Background(), srv.Client(), srv.URL+"/realms/dev")
			if err != nil {
				t.Fatal(err)
			}
			if md.Issuer != srv.URL+"/realms/dev" {
				t.Errorf("issuer = %q", md.Issuer)
			}
		})
	}
}

// SECURITY-CASES 39: a document naming another issuer is refused, and no
// other document is tried instead.
func TestDiscoverIssuerMismatchRefused(t *testing.T) {
	for name, issuer := range map[string]func(string) string{
		"other host":   func(string) string { return "https://attacker.example" },
		"double slash": func(b string) string { return b + "//" },
		"upper case":   func(b string) string { return strings.ToUpper(b) },
		"other path":   func(b string) string { return b + "/other" },
		"empty":        func(string) string { return "" },
	} {
		t.Run(name, func(t *testing.T) {
			srv, hits := docServer(t, map[string]func(string) string{wellKnownOAuth: issuer, wellKnownOIDC: same})
			md, err := Discover(context.Background(), srv.Client(), srv.URL)
			if !errors.Is(err, ErrIssuerMismatch) {
				t.Fatalf("Discover = %+v, %v; want ErrIssuerMismatch", md, err)
			}
			if md != nil {
				t.Error("metadata returned with the error")
			}
			if len(*hits) != 1 {
				t.Errorf("requests = %v; want the first document only", *hits)
			}
		})
	}
}

func TestDiscoverFailures(t *testing.T) {
	srv, _ := docServer(t, nil)
	if _, err := Discover(context.Background(), srv.Client(), srv.URL); err == nil || errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("no documents: err = %v", err)
	}
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	if _, err := Discover(context.Background(), broken.Client(), broken.URL); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("server error: err = %v", err)
	}
	for _, bad := range []string{"ftp://x", "not a url", "https://x/?q=1", "https://x/#f", "/relative"} {
		if _, err := Discover(context.Background(), nil, bad); err == nil {
			t.Errorf("Discover(%q) succeeded", bad)
		}
	}
}

func TestDiscoveryURLs(t *testing.T) {
	for issuer, want := range map[string][]string{
		"https://a.example":             {"https://a.example" + wellKnownOAuth, "https://a.example" + wellKnownOIDC},
		"https://a.example/":            {"https://a.example" + wellKnownOAuth, "https://a.example" + wellKnownOIDC},
		"https://a.example:8443/t/1":    {"https://a.example:8443" + wellKnownOAuth + "/t/1", "https://a.example:8443/t/1" + wellKnownOIDC, "https://a.example:8443/t/1" + wellKnownOAuth},
		"http://127.0.0.1:9000/tenant/": {"http://127.0.0.1:9000" + wellKnownOAuth + "/tenant", "http://127.0.0.1:9000/tenant" + wellKnownOIDC, "http://127.0.0.1:9000/tenant" + wellKnownOAuth},
	} {
		got, err := discoveryURLs(issuer)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", issuer, diff)
		}
	}
}

func TestEndpoint(t *testing.T) {
	md := &protocol.Metadata{AuthorizationEndpoint: "a", TokenEndpoint: "t", DeviceAuthorizationEndpoint: "d"}
	for _, tc := range []struct {
		methods []string
		want    oauth2.AuthStyle
	}{
		{nil, oauth2.AuthStyleInHeader},
		{[]string{"client_secret_basic", "client_secret_post"}, oauth2.AuthStyleInHeader},
		{[]string{"client_secret_post"}, oauth2.AuthStyleInParams},
		{[]string{"private_key_jwt"}, oauth2.AuthStyleInHeader},
	} {
		md.TokenEndpointAuthMethodsSupported = tc.methods
		want := oauth2.Endpoint{AuthURL: "a", TokenURL: "t", DeviceAuthURL: "d", AuthStyle: tc.want}
		if got := Endpoint(md); got != want {
			t.Errorf("methods %v: Endpoint = %+v, want %+v", tc.methods, got, want)
		}
		// A public client always sends client_id in the body.
		if got := endpointFor(md, ""); got.AuthStyle != oauth2.AuthStyleInParams {
			t.Errorf("methods %v: public client style = %v", tc.methods, got.AuthStyle)
		}
	}
}

// An issuer that is a bare origin is the same issuer with or without its
// trailing slash (Hydra's default, Auth0 tenants): discovery adopts the
// document's spelling. With a path, the slash is part of the identifier.
func TestDiscoverBareOriginTrailingSlash(t *testing.T) {
	slash := func(b string) string { return b + "/" }
	srv, _ := docServer(t, map[string]func(string) string{wellKnownOAuth: slash})
	for _, typed := range []string{srv.URL, srv.URL + "/"} {
		md, err := Discover(context.Background(), srv.Client(), typed)
		if err != nil {
			t.Fatalf("Discover(%q): %v", typed, err)
		}
		if md.Issuer != srv.URL+"/" {
			t.Errorf("Discover(%q): issuer %q, want the document's %q", typed, md.Issuer, srv.URL+"/")
		}
	}
	bare, _ := docServer(t, map[string]func(string) string{wellKnownOAuth: same})
	if md, err := Discover(context.Background(), bare.Client(), bare.URL+"/"); err != nil || md.Issuer != bare.URL {
		t.Errorf("typed with a slash, published without: %+v %v", md, err)
	}
	path, _ := docServer(t, map[string]func(string) string{wellKnownOAuth + "/realms/dev": func(b string) string { return b + "/realms/dev/" }})
	if _, err := Discover(context.Background(), path.Client(), path.URL+"/realms/dev"); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("an issuer with a path and another slash: %v, want ErrIssuerMismatch", err)
	}
}

func TestSameBareOrigin(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"https://a.example", "https://a.example/", true},
		{"https://a.example/", "https://a.example/", true},
		{"https://a.example/x", "https://a.example/x/", false},
		{"https://a.example", "https://b.example/", false},
		{"https://a.example//", "https://a.example", false},
		{"https://a.example/?q", "https://a.example", false},
	} {
		if got := SameBareOrigin(tt.a, tt.b); got != tt.want {
			t.Errorf("SameBareOrigin(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
