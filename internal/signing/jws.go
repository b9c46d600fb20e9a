package signing

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Errors returned (wrapped) by Verify and Sign; compare with errors.Is.
var (
	// ErrMalformed: not a compact JWS this package accepts.
	ErrMalformed = errors.New("signing: malformed token")
	// ErrBadType: the typ header is not the expected one (RFC 8725 §3.11).
	ErrBadType = errors.New("signing: wrong token type")
	// ErrUnknownKey: no kid, or a kid that is not published now (never
	// existed, or rotated out and past its retention).
	ErrUnknownKey = errors.New("signing: unknown signing key")
	// ErrBadSignature: alg differs from the key's algorithm (including
	// "none" and HMAC), or the signature does not verify.
	ErrBadSignature = errors.New("signing: bad signature")
	// ErrNoSigningKey: Sign found no key that may sign now (Init was not
	// called, or every key is retired).
	ErrNoSigningKey = errors.New("signing: no signing key")
)

// Token types for the typ header.
const (
	TypeAccessToken = "at+jwt" // RFC 9068 §2.1
	TypeIDToken     = "JWT"
)

// maxTokenLen bounds the tokens Verify looks at.
const maxTokenLen = 64 << 10

var b64 = base64.RawURLEncoding.Strict()

// Sign returns a compact JWS of claims (marshalled with encoding/json)
// signed with the current signing key, with the protected header
// {"alg":..., "kid":..., "typ": typ}; typ is left out when empty.
func (m *Manager) Sign(typ string, claims any) (string, error) {
	s := m.current(m.clk.Now()).signer
	if s == nil {
		return "", ErrNoSigningKey
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("signing: encode claims: %w", err)
	}
	h := s.header(typ)
	buf := make([]byte, 0, len(h)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(64))
	buf = append(buf, h...)
	buf = b64.AppendEncode(buf, payload)
	sig, err := s.sign(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// Verify checks a compact JWS made by Sign and returns its payload, the
// claims JSON object. It requires, in this order:
//
//   - a well-formed compact JWS: three unpadded base64url parts, a JSON
//     object header without "crit" or duplicate members (ErrMalformed);
//   - header typ equal to typ, ignoring case and an "application/" prefix
//     (RFC 7515 §4.1.9), so "application/at+jwt" passes for "at+jwt"
//     (ErrBadType);
//   - a kid published now (ErrUnknownKey);
//   - alg equal to that key's algorithm, and a valid signature
//     (ErrBadSignature);
//   - a payload that is a JSON object (ErrMalformed).
//
// It does not look at any claim: exp, nbf, iss and aud are the caller's.
func (m *Manager) Verify(token, typ string) ([]byte, error) {
	if len(token) > maxTokenLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, maxTokenLen)
	}
	// The base64 decoder skips CR and LF; allowing only the alphabet
	// keeps one token from having several spellings.
	dots := 0
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case c == '.':
			dots++
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return nil, fmt.Errorf("%w: character %q", ErrMalformed, c)
		}
	}
	if dots != 2 {
		return nil, fmt.Errorf("%w: want three dot-separated parts", ErrMalformed)
	}
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	headerPart, payloadPart, sigPart := token[:first], token[first+1:last], token[last+1:]

	hb, err := b64.DecodeString(headerPart)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	hdr, err := parseHeader(hb)
	if err != nil {
		return nil, err
	}
	if normType(hdr.typ) != normType(typ) {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrBadType, hdr.typ, typ)
	}
	v := m.current(m.clk.Now())
	k, ok := v.published[hdr.kid]
	if !ok || hdr.kid == "" {
		return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, hdr.kid)
	}
	if hdr.alg != k.row.Algorithm {
		return nil, fmt.Errorf("%w: alg %q is not the key's %s", ErrBadSignature, hdr.alg, k.row.Algorithm)
	}
	sig, err := b64.DecodeString(sigPart)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if err := verifySignature(k.row.Algorithm, k.pub, []byte(token[:last]), sig); err != nil {
		return nil, err
	}
	payload, err := b64.DecodeString(payloadPart)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if p := bytes.TrimLeft(payload, " \t\r\n"); len(p) == 0 || p[0] != '{' || !json.Valid(payload) {
		return nil, fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	return payload, nil
}

// normType folds a typ value for comparison: RFC 7515 §4.1.9 says media
// type names are case-insensitive and the "application/" prefix may be
// omitted.
func normType(t string) string {
	t = strings.ToLower(t)
	if rest, ok := strings.CutPrefix(t, "application/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return t
}

type header struct{ alg, kid, typ string }

// parseHeader reads the JOSE header members Verify uses. Duplicate member
// names are refused (RFC 7515 §4 lets a parser reject them, and parsers
// that keep the first and the last would disagree), and so is "crit":
// no extension is understood here (RFC 7515 §4.1.11).
func parseHeader(b []byte) (header, error) {
	var h header
	bad := func(format string, args ...any) (header, error) {
		return header{}, fmt.Errorf("%w: header: "+format, append([]any{ErrMalformed}, args...)...)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return bad("not a JSON object")
	}
	seen := make(map[string]bool, 4)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad("%v", err)
		}
		name, _ := t.(string)
		if seen[name] {
			return bad("duplicate member %q", name)
		}
		seen[name] = true
		switch name {
		case "alg", "kid", "typ":
			var s string
			if err := dec.Decode(&s); err != nil {
				return bad("%s is not a string", name)
			}
			switch name {
			case "alg":
				h.alg = s
			case "kid":
				h.kid = s
			default:
				h.typ = s
			}
		case "crit":
			return bad(`"crit" is not supported`)
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return bad("%v", err)
			}
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return bad("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("trailing data")
	}
	return h, nil
}
