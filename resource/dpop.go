package resource

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-auth/gatehouse/dpop"
)

// DPoP-bound tokens (RFC 9449 §7).
//
// A token whose claims (or introspection answer) carry cnf.jkt is bound
// to a key: it is accepted only as "Authorization: DPoP <token>" with a
// DPoP header holding a proof, signed by that key, for this very request
// (htm, htu, ath, iat, a jti not seen before). Verify, which sees only the
// token, refuses bound tokens; Middleware and VerifyRequest check the
// proof.

var (
	// ErrBoundToken: a DPoP-bound token presented as a bearer token (RFC
	// 9449 §7.2). It is also an ErrInvalidToken.
	ErrBoundToken = fmt.Errorf("%w: the token is DPoP-bound; present it with the DPoP scheme and a proof", ErrInvalidToken)
	// ErrInvalidProof: the DPoP proof of a bound token is missing, invalid,
	// replayed, or made with another key (invalid_dpop_proof, HTTP 401).
	ErrInvalidProof = errors.New("resource: invalid DPoP proof")
)

// newProofVerifier builds the DPoP proof verifier of a Verifier.
func newProofVerifier(s *settings) (*dpop.Verifier, error) {
	replay := s.dpop.Replay
	if replay == nil {
		replay = dpop.NewMemoryReplayCache(0, s.clock)
	}
	v, err := dpop.NewVerifier(dpop.Config{
		Algorithms: s.dpop.Algorithms,
		Window:     s.dpop.Window,
		Clock:      s.clock,
		Replay:     replay,
	})
	if err != nil {
		return nil, fmt.Errorf("resource: config: dpop: %w", err)
	}
	return v, nil
}

// confirmation reads cnf (RFC 7800) from claims or an introspection
// answer: the DPoP jkt when present. A cnf this package cannot check (an
// mTLS x5t#S256, say) makes the token unusable here rather than unbound.
func confirmation(c map[string]any) (string, error) {
	raw, present := c["cnf"]
	if !present {
		return "", nil
	}
	cnf, ok := raw.(map[string]any)
	if !ok {
		return "", invalidf("cnf is not an object")
	}
	jkt, ok := cnf["jkt"].(string)
	if !ok || jkt == "" {
		return "", invalidf("cnf has no DPoP jkt; other confirmation methods are not supported")
	}
	return jkt, nil
}

// credential is the access token of a request and its scheme.
type credential struct {
	token string
	dpop  bool // "Authorization: DPoP"
}

// VerifyRequest checks the credential of r: "Authorization: Bearer
// <token>" for an unbound token, or "Authorization: DPoP <token>" with a
// DPoP proof for a DPoP-bound one (RFC 9449 §7.1), and returns whom it
// speaks for. The proof must be signed by the key of the token's cnf.jkt
// and match r's method, r's URI as DPoPConfig.RequestURL gives it, the
// token (ath), the iat window, and be new (its jti is remembered). Errors
// wrap those of Verify, ErrBoundToken or ErrInvalidProof.
func (v *Verifier) VerifyRequest(r *http.Request) (*Identity, error) {
	return v.VerifyRequestAt(r, v.requestURL(r))
}

// VerifyRequestAt is VerifyRequest with the request's URI (for the htu
// check) given by the caller: a proxy that knows, from trusted forwarded
// headers, which URL the client addressed.
func (v *Verifier) VerifyRequestAt(r *http.Request, requestURL string) (*Identity, error) {
	c, f := credentialOf(r)
	if f != nil {
		if f.desc == "" {
			f.desc = "no Bearer or DPoP credential in the Authorization header"
		}
		return nil, fmt.Errorf("%w: %s", ErrInvalidToken, strings.ToLower(f.desc))
	}
	return v.verifyCredential(r, c, requestURL)
}

func (v *Verifier) verifyCredential(r *http.Request, c credential, requestURL string) (*Identity, error) {
	id, err := v.lookup(r.Context(), c.token)
	if err != nil {
		return nil, err
	}
	switch {
	case id.JKT != "" && !c.dpop:
		return nil, ErrBoundToken
	case id.JKT == "" && c.dpop:
		return nil, invalidf("the token is not DPoP-bound; present it as a Bearer token")
	case id.JKT != "":
		if _, err := v.proofs.VerifyRequest(r, requestURL, c.token, id.JKT); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidProof, err)
		}
	}
	return v.authorize(id)
}

// requestURL is the URI of r for the htu check.
func (v *Verifier) requestURL(r *http.Request) string {
	if v.dpop.RequestURL != nil {
		return v.dpop.RequestURL(r)
	}
	return dpop.RequestURL(r, "", "")
}

// DPoPAlgorithms returns the proof algorithms accepted, for the algs of a
// WWW-Authenticate: DPoP challenge.
func (v *Verifier) DPoPAlgorithms() []string { return v.proofs.Algorithms() }
