package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
)

// softAuthenticator is a tiny WebAuthn authenticator for tests, standing
// in for the browser and the authenticator together: it makes ES256
// credentials with "none" or "packed" (self) attestation and signs
// assertions, and each of its knobs breaks one thing the server must
// check.
type softAuthenticator struct {
	t *testing.T
	// rpID is the RP ID whose hash goes into the authenticator data, and
	// origin the origin in the client data; normally the server's.
	rpID, origin string
	// uv sets the UV flag (user verified); be and bs the backup flags.
	uv, be, bs bool
	// packed makes packed self attestation instead of none.
	packed bool
}

// softCredential is a credential the authenticator holds.
type softCredential struct {
	id         []byte
	key        *ecdsa.PrivateKey
	userHandle []byte
	// count is the signature counter of the next assertion; it goes up
	// by one after each.
	count uint32
}

var b64u = base64.RawURLEncoding

// ceremonyOptions is what the begin endpoints answer, as far as the
// authenticator needs it.
type ceremonyOptions struct {
	Options struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			RPID string `json:"rpId"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			UserVerification string `json:"userVerification"`
			AuthenticatorSel struct {
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Attestation      string `json:"attestation"`
			AllowCredentials []struct {
				ID string `json:"id"`
			} `json:"allowCredentials"`
			ExcludeCredentials []struct {
				ID string `json:"id"`
			} `json:"excludeCredentials"`
		} `json:"publicKey"`
	} `json:"options"`
}

func (a *softAuthenticator) clientData(typ, challenge string) []byte {
	b, err := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.origin, "crossOrigin": false})
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

func (a *softAuthenticator) flags(attested bool) byte {
	f := byte(0x01) // UP
	if a.uv {
		f |= 0x04
	}
	if a.be {
		f |= 0x08
	}
	if a.bs {
		f |= 0x10
	}
	if attested {
		f |= 0x40
	}
	return f
}

func (a *softAuthenticator) authData(flags byte, count uint32) []byte {
	h := sha256.Sum256([]byte(a.rpID))
	d := append(h[:], flags)
	return binary.BigEndian.AppendUint32(d, count)
}

// create makes a credential for the options of a registration and
// returns it with the JSON the browser would post.
func (a *softAuthenticator) create(o ceremonyOptions) (*softCredential, string) {
	a.t.Helper()
	pk := o.Options.PublicKey
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		a.t.Fatal(err)
	}
	uh, err := b64u.DecodeString(pk.User.ID)
	if err != nil {
		a.t.Fatalf("user id %q: %v", pk.User.ID, err)
	}
	c := &softCredential{id: make([]byte, 32), key: key, userHandle: uh, count: 1}
	_, _ = rand.Read(c.id)
	var x, y [32]byte
	key.PublicKey.X.FillBytes(x[:])
	key.PublicKey.Y.FillBytes(y[:])
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x[:], -3: y[:]})
	if err != nil {
		a.t.Fatal(err)
	}
	ad := a.authData(a.flags(true), 0)
	ad = append(ad, make([]byte, 16)...) // AAGUID: all zero
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(c.id)))
	ad = append(ad, c.id...)
	ad = append(ad, cose...)
	cd := a.clientData("webauthn.create", pk.Challenge)
	att := map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad}
	if a.packed {
		h := sha256.Sum256(cd)
		digest := sha256.Sum256(append(append([]byte(nil), ad...), h[:]...))
		sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
		if err != nil {
			a.t.Fatal(err)
		}
		att = map[string]any{"fmt": "packed", "attStmt": map[string]any{"alg": -7, "sig": sig}, "authData": ad}
	}
	attObj, err := webauthncbor.Marshal(att)
	if err != nil {
		a.t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(c.id), "rawId": b64u.EncodeToString(c.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(cd),
			"attestationObject": b64u.EncodeToString(attObj),
			"transports":        []string{"internal", "hybrid"},
		},
		"clientExtensionResults": map[string]any{},
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return c, string(b)
}

// get signs the options of a sign-in with c and returns the JSON the
// browser would post; c's counter goes up.
func (a *softAuthenticator) get(o ceremonyOptions, c *softCredential) string {
	a.t.Helper()
	ad := a.authData(a.flags(false), c.count)
	c.count++
	cd := a.clientData("webauthn.get", o.Options.PublicKey.Challenge)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte(nil), ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(c.id), "rawId": b64u.EncodeToString(c.id), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(cd),
			"authenticatorData": b64u.EncodeToString(ad),
			"signature":         b64u.EncodeToString(sig),
			"userHandle":        b64u.EncodeToString(c.userHandle),
		},
		"clientExtensionResults": map[string]any{},
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return string(b)
}
