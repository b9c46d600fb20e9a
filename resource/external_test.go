package resource_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/jwt"
	"github.com/gatehouse-auth/gatehouse/resource"
)

// Tests for issuers other than Gatehouse: their spelling of a bare-origin
// issuer, their typ values, and endpoints taken from discovery only.

func TestBareOriginIssuer(t *testing.T) {
	t.Run("configured without slash, document with", func(t *testing.T) {
		is := newTestIssuer(t)
		is.docIssuer = is.url + "/"
		v := is.verifier()
		c := is.claims()
		c["iss"] = is.url + "/"
		k := is.key(0)
		if _, err := v.Verify(ctx, sign(t, k, header(k), c)); err != nil {
			t.Fatalf("token with the document's iss: %v", err)
		}
		// Tokens are compared with the document's spelling byte for byte.
		c["iss"], c["jti"] = is.url, "tok-2"
		if _, err := v.Verify(ctx, sign(t, k, header(k), c)); !errors.Is(err, jwt.ErrIssuer) {
			t.Fatalf("token without the slash: err = %v, want ErrIssuer", err)
		}
	})
	t.Run("configured with slash, document without", func(t *testing.T) {
		is := newTestIssuer(t)
		v := is.verifier(func(c *resource.Config) { c.Issuer = is.url + "/" })
		if _, err := v.Verify(ctx, is.token()); err != nil {
			t.Fatalf("token with the document's iss: %v", err)
		}
		c := is.claims()
		c["iss"], c["jti"] = is.url+"/", "tok-2"
		k := is.key(0)
		if _, err := v.Verify(ctx, sign(t, k, header(k), c)); !errors.Is(err, jwt.ErrIssuer) {
			t.Fatalf("token with the configured spelling: err = %v, want ErrIssuer", err)
		}
	})
	t.Run("a path is part of the issuer", func(t *testing.T) {
		is := newTestIssuer(t)
		is.docIssuer = is.url + "/realms/main/"
		_, err := resource.NewVerifier(ctx, resource.Config{Issuer: is.url, Audience: []string{is.url}, HTTPClient: is.srv.Client()})
		if err == nil || !strings.Contains(err.Error(), "issuer") {
			t.Fatalf("err = %v, want a mismatch", err)
		}
	})
}

// externalTypes is what a gateway accepts from another identity provider.
var externalTypes = []string{resource.TypeAccessToken, resource.TypeJWT, resource.TypeNone}

func TestTypes(t *testing.T) {
	is := newTestIssuer(t)
	k := is.key(0)
	// An OpenID Connect provider's token: typ JWT, azp instead of
	// client_id, no jti.
	oidcClaims := func() map[string]any {
		c := is.claims()
		delete(c, "client_id")
		delete(c, "jti")
		c["azp"] = "dagster"
		return c
	}
	withTyp := func(typ string) map[string]any {
		h := header(k)
		if typ == "" {
			delete(h, "typ")
		} else {
			h["typ"] = typ
		}
		return h
	}
	t.Run("default: at+jwt only", func(t *testing.T) {
		v := is.verifier()
		for _, typ := range []string{"JWT", ""} {
			if _, err := v.Verify(ctx, sign(t, k, withTyp(typ), is.claims())); !errors.Is(err, jwt.ErrType) {
				t.Errorf("typ %q: err = %v, want ErrType", typ, err)
			}
		}
	})
	t.Run("widened", func(t *testing.T) {
		v := is.verifier(func(c *resource.Config) { c.Types = externalTypes })
		for _, typ := range []string{"JWT", "", "application/jwt"} {
			id, err := v.Verify(ctx, sign(t, k, withTyp(typ), oidcClaims()))
			if err != nil {
				t.Fatalf("typ %q: %v", typ, err)
			}
			if id.ClientID != "dagster" || id.Subject != "user-1" {
				t.Errorf("typ %q: client %q subject %q", typ, id.ClientID, id.Subject)
			}
		}
		if _, err := v.Verify(ctx, sign(t, k, withTyp("id_token+jwt"), oidcClaims())); !errors.Is(err, jwt.ErrType) {
			t.Errorf("typ not listed: err = %v, want ErrType", err)
		}
		// at+jwt still promises RFC 9068's claims.
		if _, err := v.Verify(ctx, sign(t, k, withTyp("at+jwt"), oidcClaims())); !errors.Is(err, resource.ErrInvalidToken) {
			t.Errorf("at+jwt without client_id: err = %v, want ErrInvalidToken", err)
		}
		c := oidcClaims()
		delete(c, "sub")
		if _, err := v.Verify(ctx, sign(t, k, withTyp("JWT"), c)); !errors.Is(err, resource.ErrInvalidToken) {
			t.Errorf("JWT without sub: err = %v, want ErrInvalidToken", err)
		}
	})
}

// TestRejectIDTokens: with RejectIDTokens a JWT with a claim only ID
// tokens carry is refused, whatever its typ; without it, the same token
// passes (which is why the option exists).
func TestRejectIDTokens(t *testing.T) {
	is := newTestIssuer(t)
	k := is.key(0)
	h := header(k)
	h["typ"] = "JWT"
	idToken := func(name string, value any) map[string]any {
		c := is.claims()
		delete(c, "client_id")
		delete(c, "jti")
		c["azp"] = "dagster"
		if name != "" {
			c[name] = value
		}
		return c
	}
	lax := is.verifier(func(c *resource.Config) { c.Types = externalTypes })
	strict := is.verifier(func(c *resource.Config) { c.Types = externalTypes; c.RejectIDTokens = true })
	for _, tc := range []struct {
		claim string
		value any
	}{{"nonce", "n-1"}, {"at_hash", "x"}, {"c_hash", "y"}, {"s_hash", "z"}, {"typ", "ID"}} {
		tok := sign(t, k, h, idToken(tc.claim, tc.value))
		if _, err := lax.Verify(ctx, tok); err != nil {
			t.Fatalf("%s without RejectIDTokens: %v", tc.claim, err)
		}
		if _, err := strict.Verify(ctx, tok); !errors.Is(err, resource.ErrInvalidToken) {
			t.Errorf("%s with RejectIDTokens: err = %v, want ErrInvalidToken", tc.claim, err)
		}
	}
	// An access token (Keycloak says typ "Bearer" in the payload) passes.
	if _, err := strict.Verify(ctx, sign(t, k, h, idToken("typ", "Bearer"))); err != nil {
		t.Errorf("access token with RejectIDTokens: %v", err)
	}
}

func TestRequireDiscovery(t *testing.T) {
	t.Run("no document", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /oauth2/jwks", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, map[string]any{"keys": []any{}}) })
		srv := httptest.NewServer(mux)
		defer srv.Close()
		_, err := resource.NewVerifier(ctx, resource.Config{Issuer: srv.URL, Audience: []string{"x"}, HTTPClient: srv.Client(), RequireDiscovery: true})
		if err == nil || !strings.Contains(err.Error(), "no discovery document") {
			t.Fatalf("err = %v, want no discovery document (the JWKS path must not be guessed)", err)
		}
	})
	t.Run("openid-configuration", func(t *testing.T) {
		is := newTestIssuer(t)
		mux := http.NewServeMux()
		mux.HandleFunc("GET /realms/main/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, map[string]any{"issuer": is.url + "/realms/main", "jwks_uri": is.url + "/keys"})
		})
		mux.HandleFunc("GET /keys", is.serveJWKS)
		srv := httptest.NewServer(mux)
		defer srv.Close()
		is.url = srv.URL
		v := is.verifier(func(c *resource.Config) {
			c.Issuer, c.RequireDiscovery, c.HTTPClient = is.url+"/realms/main", true, srv.Client()
			withIntrospection(c)
		})
		cl := is.claims()
		cl["iss"] = is.url + "/realms/main"
		k := is.key(0)
		if _, err := v.Verify(ctx, sign(t, k, header(k), cl)); err != nil {
			t.Fatal(err)
		}
		// No introspection_endpoint: an opaque credential is refused, not
		// sent to a guessed URL.
		if _, err := v.Verify(ctx, "opaque-garbage"); !errors.Is(err, resource.ErrInvalidToken) {
			t.Fatalf("opaque: err = %v, want ErrInvalidToken", err)
		}
	})
	t.Run("introspection only when discovered", func(t *testing.T) {
		is := newTestIssuer(t)
		is.noIntrospection = true
		v := is.verifier(func(c *resource.Config) { c.RequireDiscovery = true; withIntrospection(c) })
		is.setActive("api-key-1", map[string]any{"active": true, "sub": "user-1"})
		if _, err := v.Verify(ctx, "api-key-1"); !errors.Is(err, resource.ErrInvalidToken) {
			t.Fatalf("err = %v, want ErrInvalidToken", err)
		}
		if n := is.introspectHits.Load(); n != 0 {
			t.Fatalf("introspection called %d times", n)
		}
	})
}
