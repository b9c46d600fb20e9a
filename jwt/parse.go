package jwt

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxTokenSize bounds the tokens this package parses, in bytes.
const MaxTokenSize = 64 << 10

// b64 decodes the parts of a compact JWS: unpadded base64url, strictly.
var b64 = base64.RawURLEncoding.Strict()

// Header holds the protected header of a token.
type Header struct {
	Algorithm string // alg
	KeyID     string // kid; empty when absent
	Type      string // typ; empty when absent
	// JWK is the raw "jwk" member (a JSON object) when present. Only
	// VerifyEmbeddedKey reads it; Verifier never finds a key with it.
	JWK []byte
	// Raw is the header JSON object as it was signed.
	Raw []byte

	crit bool // a "crit" member is present
}

// Token is a parsed token: by Verifier.Verify (verified) or by
// DecodeUnverified (nothing checked beyond the syntax).
type Token struct {
	// Raw is the compact serialization as given.
	Raw    string
	Header Header // the protected header
	// Claims holds the registered claims that have the JSON type RFC 7519
	// gives them; a claim of another type is left zero here (Verify refuses
	// it). Claims.Extra is nil: every claim is in ClaimSet.
	Claims Claims
	// ClaimSet holds every claim as encoding/json decodes it (numbers are
	// float64). Treat it as read-only.
	ClaimSet map[string]any
	// Payload is the claims JSON object as it was signed.
	Payload []byte
	// Key is the key that verified the signature; nil from
	// DecodeUnverified.
	Key *Key

	signature   []byte
	first, last int // the indexes of the two dots in Raw
}

// signingInput is the part of Raw the signature covers (RFC 7515 §5.1).
func (t *Token) signingInput() string { return t.Raw[:t.last] }

// compactChars maps the bytes of a compact serialization to themselves
// (non-zero) and every other byte to zero.
var compactChars = func() (t [256]byte) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.") {
		t[c] = c
	}
	return t
}()

// DecodeUnverified parses a compact JWS and returns its header and claims
// WITHOUT verifying the signature or any claim: anyone can make a token
// that decodes. Use it to show a token or to route it (say, by iss) before
// Verifier.Verify; never to decide whom to trust.
//
// It applies the syntax rules only: at most MaxTokenSize bytes, three
// unpadded base64url parts, a header and a payload that are JSON objects
// without duplicate member names (ErrMalformed).
func DecodeUnverified(token string) (*Token, error) {
	t, err := parse(token)
	if err != nil {
		return nil, err
	}
	if err := t.decodeClaims(); err != nil {
		return nil, err
	}
	return t, nil
}

// parse is the one JWS parser: every token this package looks at goes
// through it. It decodes the header and the signature; decodeClaims does
// the payload.
func parse(token string) (*Token, error) {
	if len(token) > MaxTokenSize {
		return nil, errorf(ErrMalformed, "longer than %d bytes", MaxTokenSize)
	}
	// The base64 decoder skips CR and LF; allowing only the alphabet keeps
	// one token from having several spellings.
	dots := 0
	for i := 0; i < len(token); i++ {
		switch compactChars[token[i]] {
		case 0:
			return nil, errorf(ErrMalformed, "character %q is not base64url", token[i])
		case '.':
			dots++
		}
	}
	switch dots {
	case 2:
	case 4:
		return nil, errorf(ErrMalformed, "five parts: an encrypted JWT (JWE) is not supported")
	default:
		return nil, errorf(ErrMalformed, "want three base64url parts separated by '.', have %d", dots+1)
	}
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	t := &Token{Raw: token, first: first, last: last}

	hb, err := b64.DecodeString(token[:first])
	if err != nil {
		return nil, errorf(ErrMalformed, "header is not base64url")
	}
	if t.Header, err = parseHeader(hb); err != nil {
		return nil, err
	}
	if t.signature, err = b64.DecodeString(token[last+1:]); err != nil {
		return nil, errorf(ErrMalformed, "signature is not base64url")
	}
	return t, nil
}

// decodeClaims decodes the payload of a parsed token. Verification calls
// it only after the signature is good, so forged payloads are not parsed.
func (t *Token) decodeClaims() error {
	var err error
	if t.Payload, err = b64.DecodeString(t.Raw[t.first+1 : t.last]); err != nil {
		return errorf(ErrMalformed, "payload is not base64url")
	}
	if t.ClaimSet, err = decodeObject(t.Payload); err != nil {
		return errorf(ErrMalformed, "claims: %v", err)
	}
	t.Claims = registered(t.ClaimSet)
	return nil
}

// parseHeader reads the JOSE header. Duplicate member names are refused
// (RFC 7515 §4: a parser MUST either reject them or keep only the last;
// parsers that differ would read different headers from one token). alg,
// kid and typ must be strings when present. Names are matched exactly
// (encoding/json would also fill a struct field from "ALG").
func parseHeader(b []byte) (Header, error) {
	if !json.Valid(b) {
		return Header{}, errorf(ErrMalformed, "header is not a JSON object")
	}
	h := Header{Raw: b}
	var names [16]string
	seen := names[:0]
	ok := topLevel(b, func(name string, value []byte) bool {
		for _, s := range seen {
			if s == name {
				return false
			}
		}
		seen = append(seen, name)
		var dst *string
		switch name {
		case "alg":
			dst = &h.Algorithm
		case "kid":
			dst = &h.KeyID
		case "typ":
			dst = &h.Type
		case "crit":
			h.crit = true
			return true
		case "jwk":
			if len(value) == 0 || value[0] != '{' {
				return false
			}
			h.JWK = value
			return true
		default:
			return true
		}
		str, isString := jsonString(value)
		*dst = str
		return isString
	})
	if !ok {
		return Header{}, errorf(ErrMalformed, "header is not a JSON object of unique members with string alg, kid and typ and an object jwk")
	}
	return h, nil
}

// topLevel calls f with the name and raw value of each member of the JSON
// object b (valid JSON, checked by the caller), and reports false when b
// is not an object or f returned false.
func topLevel(b []byte, f func(name string, value []byte) bool) bool {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		// The name: a string.
		end := stringEnd(b, i)
		name, _ := jsonString(b[i:end])
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the ':'
		// The value runs to the ',' or '}' at this depth.
		start, depth := i, 0
		for ; i < len(b); i++ {
			c := b[i]
			if c == '"' {
				i = stringEnd(b, i) - 1
				continue
			}
			if c == '{' || c == '[' {
				depth++
			} else if c == '}' || c == ']' {
				if depth == 0 {
					break
				}
				depth--
			} else if c == ',' && depth == 0 {
				break
			}
		}
		// Without the white space before the ',' or '}'.
		valueEnd := i
		for valueEnd > start && isSpace(b[valueEnd-1]) {
			valueEnd--
		}
		if !f(name, b[start:valueEnd]) {
			return false
		}
		if i >= len(b) || b[i] == '}' {
			return true
		}
		i = skipSpace(b, i+1)
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// isSpace reports whether c is JSON white space.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// stringEnd returns the index after the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// jsonString decodes a raw JSON value that is a string, as encoding/json
// does (which replaces invalid UTF-8 with U+FFFD).
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	if s := raw[1 : len(raw)-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		return string(s), true
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err == nil
}

// decodeObject decodes a JSON object and refuses duplicate member names
// at its top level. RFC 7519 §4: "The Claim Names within a JWT Claims Set
// MUST be unique; JWT parsers MUST either reject JWTs with duplicate Claim
// Names or use a JSON parser that returns only the lexically last
// duplicate member name." Nested objects keep the last duplicate
// (encoding/json), which that sentence allows.
//
// The result is what json.Unmarshal into a map[string]any gives (numbers
// are float64), but the top-level members are read with topLevel and
// their strings, numbers and literals decoded directly: claims are
// mostly those, and reflection-driven decoding cost more than the rest
// of parsing a token. Objects and arrays, and strings with escapes or
// that are not valid UTF-8 (jsonString), still go through encoding/json.
// FuzzDecodeObject checks that both agree.
func decodeObject(b []byte) (map[string]any, error) {
	if !json.Valid(b) || !startsWithObject(b) {
		return nil, errors.New("not a JSON object")
	}
	// Sized up front, the map is not grown member by member.
	n := members(b)
	m := make(map[string]any, min(n, 64))
	ok := topLevel(b, func(name string, value []byte) bool {
		v, ok := decodeValue(value)
		m[name] = v
		return ok
	})
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	if n != len(m) {
		return nil, errors.New("duplicate member name")
	}
	return m, nil
}

// decodeValue decodes one valid JSON value as json.Unmarshal into an any
// would.
func decodeValue(raw []byte) (any, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	switch raw[0] {
	case '"':
		return jsonString(raw)
	case 't':
		return true, true
	case 'f':
		return false, true
	case 'n':
		return nil, true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// encoding/json's own conversion for an any (an out-of-range
		// number is an error there too).
		f, err := strconv.ParseFloat(string(raw), 64)
		return f, err == nil
	}
	var v any
	err := json.Unmarshal(raw, &v)
	return v, err == nil
}

// startsWithObject reports whether the JSON text b begins with '{' after
// white space.
func startsWithObject(b []byte) bool {
	i := skipSpace(b, 0)
	return i < len(b) && b[i] == '{'
}

// members counts the members of the JSON object b (valid JSON, checked by
// the caller): the colons outside strings at depth one. A map decoded from
// b with fewer entries had duplicate names, however they were spelled
// ("a" and "\u0061" are one name).
func members(b []byte) int {
	n, depth, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ':' && depth == 1:
			n++
		}
	}
	return n
}

// registered reads the registered claims (RFC 7519 §4.1) that have the
// right type; Verify checks the types.
func registered(set map[string]any) Claims {
	var c Claims
	c.Issuer, _ = set["iss"].(string)
	c.Subject, _ = set["sub"].(string)
	c.ID, _ = set["jti"].(string)
	c.Audience, _ = StringList(set["aud"])
	c.ExpiresAt, _ = NumericDate(set["exp"])
	c.NotBefore, _ = NumericDate(set["nbf"])
	c.IssuedAt, _ = NumericDate(set["iat"])
	return c
}

// StringList reads a decoded claim that is a string or an array of
// strings, as aud may be (RFC 7519 §4.1.3); ok is false for anything else.
func StringList(raw any) ([]string, bool) {
	switch x := raw.(type) {
	case string:
		return []string{x}, true
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// maxNumericDate keeps NumericDate values where float64 seconds are exact
// and time.Unix cannot overflow.
const maxNumericDate = 1 << 53

// NumericDate reads a decoded NumericDate claim (RFC 7519 §2): seconds
// since the epoch, possibly fractional, not negative; ok is false for
// anything else.
func NumericDate(raw any) (time.Time, bool) {
	f, ok := raw.(float64)
	if !ok || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// normType folds a typ value for comparison: RFC 7515 §4.1.9 says media
// type names are case-insensitive and the "application/" prefix may be
// left out.
func normType(t string) string {
	t = strings.ToLower(t)
	if rest, ok := strings.CutPrefix(t, "application/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return t
}
