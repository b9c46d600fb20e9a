package client

import (
	"fmt"

	"github.com/gatehouse-auth/gatehouse/clock"
	"github.com/gatehouse-auth/gatehouse/dpop"
)

// NewDPoPKey makes a new P-256 key pair (proofs signed with ES256, the
// algorithm every DPoP server supports) and returns its DPoP, whose
// PrivateKeyPEM a login stores (Config.UserCredential does). clk gives the
// proofs' iat; nil means clock.System.
func NewDPoPKey(clk clock.Clock) (*DPoP, error) {
	key, err := dpop.NewKey()
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	pem, err := dpop.MarshalKey(key)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return LoadDPoPKey(string(pem), clk)
}

// LoadDPoPKey returns the DPoP of a private key stored by a login
// (Credential.DPoPKey: PEM PKCS #8, as dpop.MarshalKey writes it).
func LoadDPoPKey(pemKey string, clk clock.Clock) (*DPoP, error) {
	key, err := dpop.UnmarshalKey([]byte(pemKey))
	if err != nil {
		return nil, err
	}
	if clk == nil {
		clk = clock.System
	}
	s, err := dpop.NewSigner(key, dpop.WithClock(clk))
	if err != nil {
		return nil, err
	}
	d := NewDPoP(s)
	d.key = pemKey
	return d, nil
}
