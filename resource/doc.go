// Package resource lets a Go HTTP service (an OAuth 2.0 resource server)
// accept the credentials a Gatehouse server issues:
//
//   - JWT access tokens (RFC 9068, header typ "at+jwt", ES256 or EdDSA by
//     default), verified offline against the issuer's JWKS with the
//     package github.com/gatehouse-auth/gatehouse/jwt;
//   - API keys ("gatehouse_<id>_<secret>") and other opaque tokens, checked
//     by token introspection (RFC 7662) when Config.Introspection is set.
//
// Tokens of other OpenID Connect providers are accepted with
// Config.Algorithms (RS256 ...), Config.Types (typ "JWT" or none) and
// Config.RequireDiscovery (endpoints from their discovery document only).
//
// A Verifier does the checking; its Middleware reads the bearer token of a
// request (RFC 6750 §2.1), answers 401 with a WWW-Authenticate challenge
// (RFC 6750 §3) when the token is not good, and otherwise hands the request
// on with the caller's Identity in its context:
//
//	v, err := resource.NewVerifier(ctx, resource.Config{
//		Issuer:   "https://auth.example.com",
//		Audience: []string{"https://api.example.com"},
//	})
//	if err != nil { ... }
//	mux.Handle("/api/", v.Middleware(api))
//	mux.Handle("/admin/", v.Middleware(resource.RequireRoles("admin")(admin)))
//
// and a handler asks who is calling with FromContext.
//
// # Audience and algorithms
//
// Config.Audience is required: the aud values (RFC 8707 resource
// indicators) this resource server accepts. There is no default, since a
// verifier that accepted any audience would accept tokens issued for other
// services (RFC 8725 §3.9).
//
// Config.Algorithms is the signature algorithm allow-list. It defaults to
// ES256 and EdDSA, what Gatehouse servers sign with. For an issuer that
// signs with RSA, list RS256 or PS256 (or another asymmetric algorithm of
// RFC 7518); "none" and HMAC are never accepted. Whatever the list, a key
// from the JWKS verifies only the algorithms that fit its type (and its
// "alg", when the JWK names one), so a token cannot choose how its key is
// used.
//
// # How fresh the answers are
//
// A JWT stays valid until its exp: revoking the login at the server does not
// reach a resource server that checks tokens offline, which is why Gatehouse
// access tokens are short-lived. A key removed from the issuer's JWKS stops
// verifying once the verifier has fetched the JWKS again: when the JWKS
// response's Cache-Control max-age passes (DefaultJWKSRefresh without one),
// or at once when a token names a kid the verifier does not know. Unknown kids
// cause at most one JWKS fetch per MinJWKSRefetchInterval, so a stream of
// made-up kids cannot flood the issuer.
//
// An introspected credential that is revoked (an API key, say) is rejected
// at the latest Introspection.CacheTTL (default 30 s) after the revocation:
// answers, active and inactive, are cached that long.
//
// The package never logs, and its errors never contain the token.
package resource
