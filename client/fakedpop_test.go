package client

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/dpop"
	"github.com/gatehouse-auth/gatehouse/protocol"
)

// fakeDPoP is the fake server's DPoP support (RFC 9449): proofs are
// checked with the dpop package's Verifier (signature, typ, htm, htu,
// iat, ath, jkt, replay), nonces by the fake itself, and every proof
// received is recorded for the tests to inspect. Its fields are guarded
// by the fakeAS's mutex.
type fakeDPoP struct {
	v *dpop.Verifier
	// tokenNonce and apiNonce make the token endpoint and /api demand
	// the current nonce; nonce is that nonce.
	tokenNonce, apiNonce bool
	nonce                string
	// sendNonce adds the current nonce to every answer of the token
	// endpoint (RFC 9449 §8.2), challenge or not.
	sendNonce bool
	// bound maps a token (access or refresh) to the jkt it is bound to.
	bound map[string]string
	// proofs are the proofs received, in order.
	proofs []seenProof
	// challenges counts the nonce challenges answered.
	challenges int
}

// seenProof is one proof the fake server received, decoded.
type seenProof struct {
	where  string // "token" or "api"
	header map[string]any
	claims map[string]any
	jkt    string
}

func (p seenProof) claim(name string) string { s, _ := p.claims[name].(string); return s }

// enableDPoP makes the fake server a DPoP server: its metadata announces
// ES256 and it binds the tokens of every token request with a proof.
func (as *fakeAS) enableDPoP(t *testing.T, clk clock.Clock) *fakeDPoP {
	t.Helper()
	v, err := dpop.NewVerifier(dpop.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDPoP{v: v, nonce: "nonce-1", bound: map[string]string{}}
	as.set(func() { as.dpop = d })
	return d
}

// boundTo is the jkt token is bound to, "" if none. The caller holds as.mu.
func (as *fakeAS) boundTo(token string) string {
	if as.dpop == nil {
		return ""
	}
	return as.dpop.bound[token]
}

// proofs returns the proofs received so far.
func (as *fakeAS) proofs() []seenProof {
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.dpop == nil {
		return nil
	}
	return append([]seenProof(nil), as.dpop.proofs...)
}

// record decodes and records a proof.
func (as *fakeAS) record(where, proof, jkt string) {
	parts := strings.Split(proof, ".")
	sp := seenProof{where: where, jkt: jkt}
	if len(parts) == 3 {
		for i, dst := range []*map[string]any{&sp.header, &sp.claims} {
			b, _ := base64.RawURLEncoding.DecodeString(parts[i])
			_ = json.Unmarshal(b, dst)
		}
	}
	as.mu.Lock()
	as.dpop.proofs = append(as.dpop.proofs, sp)
	as.mu.Unlock()
}

// tokenProof checks the DPoP proof of a token request: the jkt to bind
// the tokens to ("" without a proof), and false when it answered the
// request itself (a bad proof, or a nonce challenge).
func (as *fakeAS) tokenProof(w http.ResponseWriter, r *http.Request) (string, bool) {
	as.mu.Lock()
	d := as.dpop
	as.mu.Unlock()
	if d == nil {
		return "", true
	}
	if d.sendNonce {
		w.Header().Set("DPoP-Nonce", d.nonce)
	}
	raw, ok, err := dpop.FromHeader(r.Header)
	if err != nil {
		writeError(w, protocol.NewError("invalid_dpop_proof", err.Error()))
		return "", false
	}
	if !ok {
		return "", true
	}
	p, err := d.v.Verify(r.Context(), raw, dpop.Request{Method: r.Method, URL: as.issuer + r.URL.Path})
	if err != nil {
		writeError(w, protocol.NewError("invalid_dpop_proof", err.Error()))
		return "", false
	}
	as.record("token", raw, p.JKT)
	if d.tokenNonce && p.Nonce != d.nonce {
		// RFC 9449 §8: 400 use_dpop_nonce with the nonce to use.
		as.set(func() { d.challenges++ })
		w.Header().Set("DPoP-Nonce", d.nonce)
		writeError(w, protocol.NewError("use_dpop_nonce", "Authorization server requires nonce in DPoP proof"))
		return "", false
	}
	return p.JKT, true
}

// resourceProof checks the authorization of a request to /api: a
// DPoP-bound token must come as "Authorization: DPoP <token>" with a proof
// of its key for this request; tok is set to the token. False when it
// answered the request itself.
func (as *fakeAS) resourceProof(w http.ResponseWriter, r *http.Request, tok *string) bool {
	as.mu.Lock()
	d := as.dpop
	var jkt string
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if d != nil {
		jkt = d.bound[value]
	}
	as.mu.Unlock()
	if d == nil {
		return true
	}
	*tok = value
	refuse := func(code string) bool {
		w.Header().Set("WWW-Authenticate", `DPoP error="`+code+`", algs="ES256"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return false
	}
	switch {
	case jkt == "" && scheme == "Bearer":
		return true
	case jkt == "" || scheme != "DPoP":
		// RFC 9449 §7.2: a bound token as a bearer token is refused.
		return refuse("invalid_token")
	}
	raw, ok, err := dpop.FromHeader(r.Header)
	if err != nil || !ok {
		return refuse("invalid_dpop_proof")
	}
	p, err := d.v.Verify(r.Context(), raw, dpop.Request{Method: r.Method, URL: as.issuer + r.URL.Path, AccessToken: value, JKT: jkt})
	if err != nil {
		return refuse("invalid_dpop_proof")
	}
	as.record("api", raw, p.JKT)
	if d.apiNonce && p.Nonce != d.nonce {
		as.set(func() { d.challenges++ })
		w.Header().Set("DPoP-Nonce", d.nonce)
		return refuse("use_dpop_nonce")
	}
	return true
}
