// Package dpop makes and checks DPoP proofs (OAuth 2.0 Demonstrating Proof
// of Possession, RFC 9449): short JWTs, signed by a key the client keeps,
// that bind an access or refresh token to that key so that a stolen token
// is useless without it.
//
// A client makes a key once (NewKey), keeps it (MarshalKey, UnmarshalKey),
// and sends a fresh proof with every request (Signer.Proof) in the DPoP
// header; with an access token it sends "Authorization: DPoP <token>".
//
// A server or a resource server checks a proof with Verifier.Verify (or
// Verifier.VerifyRequest, which also reads the header): typ dpop+jwt, an
// asymmetric alg from the allow-list, a public jwk that verifies the
// signature, htm and htu equal to the request's method and URI, iat within
// the window, the ath of the access token, the server's nonce when one is
// required, and a jti not seen before (a ReplayCache). It returns the JWK
// thumbprint (jkt) of the proof's key, which the caller compares with the
// token's cnf.jkt (RFC 9449 §6).
//
// Errors are *Error values whose Code is the OAuth error to answer with:
// CodeInvalidProof ("invalid_dpop_proof") or CodeUseNonce
// ("use_dpop_nonce", with a fresh nonce in the DPoP-Nonce header). Branch
// with errors.Is(err, ErrInvalidProof) and errors.Is(err, ErrUseNonce).
//
// JWS parsing and signature checks are the jwt package's; this package
// adds the DPoP rules.
package dpop

// Names from RFC 9449.
const (
	// Header is the request header that carries a proof (§4.1).
	Header = "DPoP"
	// NonceHeader is the response header that carries a server nonce
	// (§8, §9).
	NonceHeader = "DPoP-Nonce"
	// TokenType is the token_type of a DPoP-bound access token and the
	// scheme of the Authorization header that presents one (§5, §7.1).
	TokenType = "DPoP"
	// JWTType is the typ of a proof's header (§4.2).
	JWTType = "dpop+jwt"
)
