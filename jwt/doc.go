// Package jwt makes and checks JSON Web Tokens (RFC 7519) in the compact
// JWS serialization (RFC 7515 §7.1). It is the one JWS implementation of
// Gatehouse: the server's signer, the resource/ verifier and the CLI's jwt
// commands all use it, and any Go program may import it without pulling in
// the server.
//
// Three calls cover most uses:
//
//   - Signer.Sign signs claims with a key whose type fixes the algorithm
//     (NewSigner; HS256 only with NewHMACSigner);
//   - Verifier.Verify checks the signature with a key from a KeySource
//     (a remote JWKS, a JWKS file, a PEM key) and an algorithm allow-list,
//     then iss, aud, exp, nbf and iat;
//   - DecodeUnverified reads header and claims without checking anything.
//
// The header rules live in one place (parse.go): a token is three unpadded
// base64url parts; its header is a JSON object without duplicate members;
// "crit" is refused (RFC 7515 §4.1.11: no extension is understood here);
// "jku", "x5u", "jwk" and "x5c" are never used to find a key (RFC 8725
// §3.10) — except by VerifyEmbeddedKey, for proof-of-possession tokens
// such as DPoP proofs whose point is the key they carry; alg must be on the allow-list and fit the key, so the token never
// chooses the key type (RFC 8725 §3.1); "none" never verifies.
//
// Errors wrap one of the Err values below; branch with errors.Is.
package jwt
