package jwt

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// Tokens signed by the key in their own header.
//
// A few JWTs carry the public key that verifies them in the "jwk" header
// member: DPoP proofs (RFC 9449 §4.2) are the one Gatehouse uses. Such a
// token proves possession of a key, not who holds it: a verifier learns
// only that the sender holds the private half of the key it names. So
// Verifier and VerifySignature still never read "jwk" (RFC 8725 §3.10);
// only VerifyEmbeddedKey does, and its caller must compare the key (its
// thumbprint) with the one it expects.

// PublicJWK returns the JWK (RFC 7517) of the public half of key (a public
// key or a crypto.Signer), with no "kid", "use" or "alg": the members RFC
// 7638 hashes, and nothing a verifier could take as an instruction.
func PublicJWK(key crypto.PublicKey) ([]byte, error) {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	if _, ok := defaultAlgorithm(key); !ok {
		return nil, fmt.Errorf("jwt: unsupported key type %T", key)
	}
	b, err := jose.JSONWebKey{Key: key}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("jwt: jwk: %w", err)
	}
	return b, nil
}

// Thumbprint returns the RFC 7638 JWK SHA-256 thumbprint of the public
// half of key, base64url without padding: the "jkt" of RFC 9449 §6.1.
func Thumbprint(key crypto.PublicKey) (string, error) {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	if _, ok := defaultAlgorithm(key); !ok {
		return "", fmt.Errorf("jwt: unsupported key type %T", key)
	}
	jwk := jose.JSONWebKey{Key: key}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("jwt: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// ParsePublicJWK reads one JWK that must be a public signature key of a
// supported type (EC, OKP Ed25519, RSA of at least MinRSABits). A JWK
// with private members ("d", "p", ...) is refused, and so is a symmetric
// ("oct") one.
func ParsePublicJWK(raw []byte) (*Key, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("jwt: jwk: %w", err)
	}
	// RFC 7518 §6.2.2, §6.3.2 and RFC 8037 §2 list the private members.
	for _, m := range [...]string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := probe[m]; ok {
			return nil, fmt.Errorf("jwt: jwk: has private or secret member %q", m)
		}
	}
	return parseJWK(raw, false)
}

// SignEmbeddedKey is Sign with the protected header {"alg", "typ", "jwk"}:
// the public key of the Signer in the header, and no kid.
func (s *Signer) SignEmbeddedKey(typ string, claims any) (string, error) {
	if s.key == nil {
		return "", fmt.Errorf("jwt: an HMAC key cannot be embedded in a header")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwt: encode claims: %w", err)
	}
	if len(payload) == 0 || payload[0] != '{' {
		return "", errorf(ErrMalformed, "claims are not a JSON object")
	}
	h, err := s.embeddedHeader(typ)
	if err != nil {
		return "", err
	}
	return s.signWithHeader(h, payload)
}

// embeddedHeader returns the encoded {"alg","typ","jwk"} header plus '.'.
func (s *Signer) embeddedHeader(typ string) (string, error) {
	cacheKey := "\x00jwk\x00" + typ
	if h, ok := s.headers.Load(cacheKey); ok {
		return h.(string), nil
	}
	jwk, err := PublicJWK(s.key.Public())
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(struct {
		Alg string          `json:"alg"`
		Typ string          `json:"typ,omitempty"`
		JWK json.RawMessage `json:"jwk"`
	}{s.alg, typ, jwk})
	if err != nil {
		return "", fmt.Errorf("jwt: header: %w", err)
	}
	h := base64.RawURLEncoding.EncodeToString(b) + "."
	if s.nheaders.Load() < maxCachedHeaders {
		if _, loaded := s.headers.LoadOrStore(cacheKey, h); !loaded {
			s.nheaders.Add(1)
		}
	}
	return h, nil
}

// VerifyEmbeddedKey checks a token signed by the key in its own "jwk"
// header (a DPoP proof) and returns it parsed, with Token.Key the key that
// verified it. The header rules of VerifySignature apply ("crit" refused,
// typ when not empty, alg on the allow-list — nil means DefaultAlgorithms
// — and fitting the key); the "jwk" member must be a public key
// (ParsePublicJWK). resolve, when not nil, replaces ParsePublicJWK, so a
// caller can cache parsed keys; it must apply the same rules. No claim is
// checked.
func VerifyEmbeddedKey(token string, algorithms []string, typ string, resolve func(jwk []byte) (*Key, error)) (*Token, error) {
	t, err := parse(token)
	if err != nil {
		return nil, err
	}
	h := &t.Header
	if h.crit {
		return nil, errorf(ErrMalformed, `header has "crit"; no extension is understood`)
	}
	if typ != "" && normType(h.Type) != normType(typ) {
		return nil, errorf(ErrType, "typ %.32q, want %q", h.Type, typ)
	}
	if algorithms == nil {
		algorithms = DefaultAlgorithms
	}
	if !slices.Contains(algorithms, h.Algorithm) || IsSymmetric(h.Algorithm) {
		return nil, errorf(ErrAlgorithm, "alg %.32q is not allowed", h.Algorithm)
	}
	if len(h.JWK) == 0 {
		return nil, errorf(ErrMalformed, `header has no "jwk" object`)
	}
	if resolve == nil {
		resolve = ParsePublicJWK
	}
	k, err := resolve(h.JWK)
	if err != nil {
		return nil, errorf(ErrUnknownKey, "header jwk: %v", err)
	}
	if !k.Allows(h.Algorithm) {
		return nil, errorf(ErrBadSignature, "alg %s does not fit the header's %s key", h.Algorithm, keyKind(k.Public))
	}
	if !verifySignature(h.Algorithm, k.Public, nil, t.signingInput(), t.signature) {
		return nil, errorf(ErrBadSignature, "the signature does not verify")
	}
	if err := t.decodeClaims(); err != nil {
		return nil, err
	}
	t.Key = k
	return t, nil
}
