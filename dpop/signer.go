package dpop

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// Signer makes proofs with one key. It is safe for concurrent use.
type Signer struct {
	s     *jwt.Signer
	key   crypto.Signer
	jkt   string
	clock clock.Clock
}

// SignerOption configures a Signer.
type SignerOption func(*Signer)

// WithClock sets the clock that gives iat (default clock.System).
func WithClock(c clock.Clock) SignerOption { return func(s *Signer) { s.clock = c } }

// NewSigner returns a Signer for key: an EC key (P-256 gives ES256), an
// Ed25519 key (EdDSA) or an RSA key of 2048 bits or more (RS256).
func NewSigner(key crypto.Signer, opts ...SignerOption) (*Signer, error) {
	if key == nil {
		return nil, fmt.Errorf("dpop: no key")
	}
	js, err := jwt.NewSigner(key, "", "")
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	jkt, err := jwt.Thumbprint(key.Public())
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	s := &Signer{s: js, key: key, jkt: jkt, clock: clock.System}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Thumbprint returns the jkt of the Signer's key (RFC 7638, base64url):
// what a server writes in cnf.jkt of the tokens bound to it, and the
// dpop_jkt parameter of an authorization request (RFC 9449 §10).
func (s *Signer) Thumbprint() string { return s.jkt }

// Algorithm returns the alg of the Signer's proofs.
func (s *Signer) Algorithm() string { return s.s.Algorithm() }

// Key returns the private key.
func (s *Signer) Key() crypto.Signer { return s.key }

// Proof returns a proof for one request (RFC 9449 §4.2): header typ
// dpop+jwt, the alg and the public jwk; claims a random jti, iat now, htm
// = method, htu = rawURL without its query and fragment, ath = the
// base64url SHA-256 of accessToken when one is given (a request to a
// resource), and nonce when the server gave one.
func (s *Signer) Proof(method, rawURL, accessToken, nonce string) (string, error) {
	if method == "" {
		return "", fmt.Errorf("dpop: proof: no HTTP method")
	}
	htu, err := proofURL(rawURL)
	if err != nil {
		return "", err
	}
	jti, err := jwt.RandomID()
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	c := proofClaims{ID: jti, Method: method, URL: htu, IssuedAt: s.clock.Now().Unix(), Nonce: nonce}
	if accessToken != "" {
		c.AccessTokenHash = AccessTokenHash(accessToken)
	}
	tok, err := s.s.SignEmbeddedKey(JWTType, c)
	if err != nil {
		return "", fmt.Errorf("dpop: %w", err)
	}
	return tok, nil
}

// proofClaims are the claims of a proof (RFC 9449 §4.2). A struct, not
// jwt.Claims with Extra: a client signs one proof per request, and a map
// cost it more to encode than everything but the signature.
type proofClaims struct {
	ID              string `json:"jti"`
	Method          string `json:"htm"`
	URL             string `json:"htu"`
	IssuedAt        int64  `json:"iat"` // NumericDate, whole seconds
	AccessTokenHash string `json:"ath,omitempty"`
	Nonce           string `json:"nonce,omitempty"`
}

// proofURL is the htu a client writes: the absolute URL without query
// and fragment (RFC 9449 §4.2: "without query and fragment parts").
func proofURL(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", fmt.Errorf("dpop: proof: %.200q is not an absolute http(s) URL", rawURL)
	}
	if u.Scheme != "https" && u.Scheme != "http" && !strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http") {
		return "", fmt.Errorf("dpop: proof: %.200q is not an http(s) URL", rawURL)
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String(), nil
}

// AccessTokenHash is the ath of a proof sent with accessToken: the
// base64url SHA-256 of its ASCII encoding (RFC 9449 §4.2).
func AccessTokenHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
