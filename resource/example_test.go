package resource_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/gatehouse-auth/gatehouse/resource"
)

// An API that accepts Gatehouse access tokens and API keys, lets every
// caller with the "api" scope read who they are, and lets only admins in
// under /admin/.
func ExampleVerifier_Middleware() {
	v, err := resource.NewVerifier(context.Background(), resource.Config{
		Issuer: "https://auth.example.com",
		// The resource indicator clients ask tokens for (RFC 8707).
		Audience:       []string{"https://api.example.com"},
		RequiredScopes: []string{"api"},
		// API keys are checked by introspection, as the client "my-api".
		Introspection: &resource.IntrospectionConfig{
			ClientID:     "my-api",
			ClientSecret: os.Getenv("MY_API_CLIENT_SECRET"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}

	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := resource.FromContext(r.Context())
		fmt.Fprintf(w, "%s (%s), roles %s\n", id.Username, id.Subject, strings.Join(id.Roles, ", "))
	})
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "welcome, admin")
	})

	mux := http.NewServeMux()
	mux.Handle("GET /me", v.Middleware(me))
	mux.Handle("/admin/", v.Middleware(resource.RequireRoles("admin")(admin)))
	log.Fatal(http.ListenAndServe(":8080", mux))
}
