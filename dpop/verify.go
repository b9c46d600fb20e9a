package dpop

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// DefaultAlgorithms are the proof algorithms a Verifier accepts by
// default: ES256 (what NewKey's keys sign with), EdDSA, RS256 and PS256.
// "none" and the HMAC algorithms are never accepted: RFC 9449 §4.3 says
// alg must not be "none" or "an identifier for a symmetric algorithm".
var DefaultAlgorithms = []string{jwt.ES256, jwt.EdDSA, jwt.RS256, jwt.PS256}

// DefaultWindow is how far a proof's iat may be from the verifier's clock,
// either way.
const DefaultWindow = 60 * time.Second

// MaxProofSize bounds the proofs Verify reads, in bytes. A proof with a
// 4096-bit RSA key is about 2 KiB.
const MaxProofSize = 8 << 10

// maxJTI bounds the jti of a proof.
const maxJTI = 256

// Config configures a Verifier; the zero Config is usable.
type Config struct {
	// Algorithms is the allow-list of proof algorithms (default
	// DefaultAlgorithms). Symmetric algorithms are refused.
	Algorithms []string
	// Window is the largest difference between a proof's iat and the
	// clock, either way (default DefaultWindow).
	Window time.Duration
	// Clock tells the time (default clock.System).
	Clock clock.Clock
	// Replay remembers accepted proofs. Default: a MemoryReplayCache of
	// DefaultReplayCapacity; verifiers behind one load balancer need a
	// shared one.
	Replay ReplayCache
	// Nonces checks the nonce of a proof that carries one, and with
	// RequireNonce makes every proof carry one. A proof whose nonce is
	// missing (when required) or not valid is refused with ErrUseNonce,
	// and the caller answers with a fresh Nonces.Nonce().
	Nonces *Nonces
	// RequireNonce refuses proofs without a valid nonce. It needs Nonces.
	RequireNonce bool
}

// Verifier checks proofs. It is safe for concurrent use.
type Verifier struct {
	cfg  Config
	keys *lru.Cache[string, parsedKey] // raw jwk → key and jkt
}

type parsedKey struct {
	key *jwt.Key
	jkt string
}

// keyCacheSize bounds the cache of parsed proof keys.
const keyCacheSize = 4096

// NewVerifier checks cfg and returns a Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	if len(cfg.Algorithms) == 0 {
		cfg.Algorithms = DefaultAlgorithms
	}
	for _, a := range cfg.Algorithms {
		// jwt.DefaultAlgorithms lists every asymmetric algorithm jwt
		// implements: never "none", never HMAC.
		if !slices.Contains(jwt.DefaultAlgorithms, a) {
			return nil, fmt.Errorf("dpop: algorithm %q is not allowed for proofs: use asymmetric ones such as %s (RFC 9449 §4.3)", a, strings.Join(DefaultAlgorithms, ", "))
		}
	}
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	if cfg.RequireNonce && cfg.Nonces == nil {
		return nil, errors.New("dpop: RequireNonce needs Nonces")
	}
	if cfg.Replay == nil {
		cfg.Replay = NewMemoryReplayCache(0, cfg.Clock)
	}
	keys, err := lru.New[string, parsedKey](keyCacheSize)
	if err != nil {
		return nil, fmt.Errorf("dpop: %w", err)
	}
	return &Verifier{cfg: cfg, keys: keys}, nil
}

// Algorithms returns the accepted proof algorithms, for
// dpop_signing_alg_values_supported and the algs of a WWW-Authenticate
// challenge.
func (v *Verifier) Algorithms() []string { return slices.Clone(v.cfg.Algorithms) }

// Nonces returns the configured Nonces (nil when none).
func (v *Verifier) Nonces() *Nonces { return v.cfg.Nonces }

// Request is what a proof must match.
type Request struct {
	// Method is the HTTP method (htm).
	Method string
	// URL is the request's URI as the server sees it (htu); only its
	// scheme, host, port and path count.
	URL string
	// AccessToken, when not empty, is the access token sent with the
	// proof; the proof must carry its ath (RFC 9449 §4.3 step 11). Empty
	// at the token endpoint.
	AccessToken string
	// JKT, when not empty, is the thumbprint the proof's key must have:
	// the cnf.jkt of the access token, or the key a refresh token is bound
	// to (RFC 9449 §4.3 step 12).
	JKT string
}

// Proof is a proof that passed every check.
type Proof struct {
	// JKT is the RFC 7638 thumbprint of the proof's key, base64url.
	JKT string
	// ID is the jti.
	ID string
	// IssuedAt is the iat.
	IssuedAt time.Time
	// Algorithm is the alg the proof was signed with.
	Algorithm string
	// Nonce is the nonce claim, when present.
	Nonce string
}

// FromHeader returns the one DPoP header of h. RFC 9449 §4.3: the request
// must have "not more than one DPoP HTTP request header field"; ok is
// false when there is none, and err is an invalid_dpop_proof error when
// there are several (or one that is empty).
func FromHeader(h http.Header) (proof string, ok bool, err error) {
	vs := h.Values(Header)
	switch {
	case len(vs) == 0:
		return "", false, nil
	case len(vs) > 1:
		return "", false, invalid(nil, "more than one DPoP header")
	case strings.TrimSpace(vs[0]) == "":
		return "", false, invalid(nil, "empty DPoP header")
	}
	return strings.TrimSpace(vs[0]), true, nil
}

// VerifyRequest reads the one DPoP header of r and verifies it with
// Verify against r's method and url (the request's URI as the server
// sees it: see RequestURL). A request without the header is refused with
// an invalid_dpop_proof error whose cause is ErrNoProof.
func (v *Verifier) VerifyRequest(r *http.Request, url, accessToken, jkt string) (*Proof, error) {
	proof, ok, err := FromHeader(r.Header)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invalid(ErrNoProof, "the request has no DPoP header")
	}
	return v.Verify(r.Context(), proof, Request{Method: r.Method, URL: url, AccessToken: accessToken, JKT: jkt})
}

// Verify checks proof against req as RFC 9449 §4.3 says, in this order:
// a well-formed JWT of at most MaxProofSize bytes, typ dpop+jwt, alg on
// the allow-list (never none or HMAC), a public jwk in the header that
// verifies the signature, a jti, htm equal to req.Method, htu equal to
// req.URL (both normalized with NormalizeURL), iat within the window, ath
// when req.AccessToken is set, the key's thumbprint equal to req.JKT when
// set, the nonce when one is required or given, and last the jti not seen
// before (the replay cache records it). Errors are *Error.
func (v *Verifier) Verify(ctx context.Context, proof string, req Request) (*Proof, error) {
	if len(proof) > MaxProofSize {
		return nil, invalid(nil, "proof longer than %d bytes", MaxProofSize)
	}
	var jkt string
	t, err := jwt.VerifyEmbeddedKey(proof, v.cfg.Algorithms, JWTType, func(raw []byte) (*jwt.Key, error) {
		k, t, err := v.key(raw)
		jkt = t
		return k, err
	})
	if err != nil {
		return nil, invalid(err, "%s", strings.TrimPrefix(err.Error(), "jwt: "))
	}
	// The header's typ must be exactly dpop+jwt; jwt compares media types
	// case-insensitively and without "application/", which RFC 9449 §4.3
	// step 4 ("the typ JOSE Header Parameter has the value dpop+jwt")
	// does not allow.
	if t.Header.Type != JWTType {
		return nil, invalid(nil, "typ %.32q, want %q", t.Header.Type, JWTType)
	}
	c := t.ClaimSet
	jti, _ := c["jti"].(string)
	if jti == "" || len(jti) > maxJTI {
		return nil, invalid(nil, "jti missing, not a string, or longer than %d characters", maxJTI)
	}
	htm, _ := c["htm"].(string)
	if htm == "" || htm != req.Method {
		return nil, invalid(nil, "htm %.16q does not match the request method %s", htm, req.Method)
	}
	htu, _ := c["htu"].(string)
	want, wok := NormalizeURL(req.URL)
	// A client usually writes the very URL the server sees; the same
	// string normalizes the same, so it is parsed once.
	got, ok := want, wok
	if htu != req.URL {
		got, ok = NormalizeURL(htu)
	}
	if !ok || !wok || got != want {
		return nil, invalid(nil, "htu %.200q does not match the request URI %.200q", htu, want)
	}
	iat, ok := jwt.NumericDate(c["iat"])
	if !ok {
		return nil, invalid(nil, "iat missing or not a NumericDate")
	}
	now := v.cfg.Clock.Now()
	if d := now.Sub(iat); d > v.cfg.Window || d < -v.cfg.Window {
		return nil, invalid(nil, "iat %s is more than %s from the server's time %s", iat.UTC().Format(time.RFC3339), v.cfg.Window, now.UTC().Format(time.RFC3339))
	}
	if req.AccessToken != "" {
		ath, _ := c["ath"].(string)
		if ath == "" {
			return nil, invalid(nil, "no ath: a proof sent with an access token must carry its hash")
		}
		sum := sha256.Sum256([]byte(req.AccessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(ath), []byte(want)) != 1 {
			return nil, invalid(nil, "ath does not match the access token")
		}
	}
	if req.JKT != "" && subtle.ConstantTimeCompare([]byte(req.JKT), []byte(jkt)) != 1 {
		return nil, invalid(nil, "the proof's key is not the key the token is bound to")
	}
	nonce, hasNonce := c["nonce"]
	nonceStr, _ := nonce.(string)
	if hasNonce && nonceStr == "" {
		return nil, invalid(nil, "nonce is not a string")
	}
	if v.cfg.Nonces != nil && (nonceStr != "" || v.cfg.RequireNonce) && !v.cfg.Nonces.Valid(nonceStr) {
		d := "the server requires a DPoP nonce: retry with the one in the DPoP-Nonce header"
		if nonceStr != "" {
			d = "the nonce is stale or not the server's: retry with the one in the DPoP-Nonce header"
		}
		return nil, &Error{Code: CodeUseNonce, Description: d}
	}
	// The replay key: the key's thumbprint and the jti, hashed to a fixed
	// length. RFC 9449 §11.1 lets a server scope jti to the key; a jti
	// chosen by one client cannot block another's.
	var buf [64 + 1 + maxJTI]byte // on the stack: jkt is 43 bytes for SHA-256
	rk := sha256.Sum256(append(append(append(buf[:0], jkt...), 0), jti...))
	expires := iat.Add(v.cfg.Window + time.Second)
	var seen bool
	if m, ok := v.cfg.Replay.(*MemoryReplayCache); ok {
		// In memory, the hash itself is the key: no string to encode
		// and keep per proof.
		seen = m.seenKey(rk, expires)
	} else {
		seen, err = v.cfg.Replay.Seen(ctx, base64.RawURLEncoding.EncodeToString(rk[:]), expires)
	}
	if err != nil {
		return nil, invalid(err, "the replay cache is unavailable, so the proof cannot be checked: retry")
	}
	if seen {
		return nil, invalid(ErrReplayed, "the proof was used before: make a new proof (new jti) for every request")
	}
	return &Proof{JKT: jkt, ID: jti, IssuedAt: iat, Algorithm: t.Header.Algorithm, Nonce: nonceStr}, nil
}

// key parses the jwk of a proof header, with a cache: parsing and
// hashing a JWK costs more than everything else except the signature.
func (v *Verifier) key(raw []byte) (*jwt.Key, string, error) {
	if p, ok := v.keys.Get(string(raw)); ok {
		return p.key, p.jkt, nil
	}
	k, err := jwt.ParsePublicJWK(raw)
	if err != nil {
		return nil, "", err
	}
	jkt, err := jwt.Thumbprint(k.Public)
	if err != nil {
		return nil, "", err
	}
	v.keys.Add(string(raw), parsedKey{k, jkt})
	return k, jkt, nil
}
