package jwt_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gatehouse-auth/gatehouse/clock/clocktest"
	"github.com/gatehouse-auth/gatehouse/jwt"
)

// Sign claims with an EC P-256 key (so ES256), then verify them with its
// public key.
func Example() {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := jwt.NewSigner(priv, "", "key-1")
	if err != nil {
		log.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tok, err := signer.Sign(jwt.TypeJWT, jwt.Claims{
		Issuer:    "https://auth.example.com",
		Subject:   "alice",
		Audience:  []string{"https://api.example.com"},
		IssuedAt:  now,
		ExpiresAt: now.Add(5 * time.Minute),
		Extra:     map[string]any{"role": "admin"},
	})
	if err != nil {
		log.Fatal(err)
	}

	key, err := jwt.NewKey(&priv.PublicKey, "key-1", jwt.ES256)
	if err != nil {
		log.Fatal(err)
	}
	v, err := jwt.NewVerifier(jwt.Config{
		Keys:     jwt.NewKeySet(key),
		Issuer:   "https://auth.example.com",
		Audience: []string{"https://api.example.com"},
		Clock:    clocktest.New(now.Add(time.Minute)),
	})
	if err != nil {
		log.Fatal(err)
	}
	t, err := v.Verify(context.Background(), tok)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Header.Algorithm, t.Claims.Subject, t.ClaimSet["role"])
	// Output: ES256 alice admin
}

// Verify access tokens of an issuer whose keys are in a JWKS, and tell an
// expired token from a forged one.
func ExampleVerifier_Verify() {
	v, err := jwt.NewVerifier(jwt.Config{
		Keys:     jwt.NewRemoteKeySet("https://auth.example.com/oauth2/jwks", jwt.RemoteOptions{}),
		Type:     jwt.TypeAccessToken,
		Issuer:   "https://auth.example.com",
		Audience: []string{"https://api.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = v.Verify(context.Background(), "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.e30.")
	switch {
	case errors.Is(err, jwt.ErrExpired):
		fmt.Println("expired: ask for a new token")
	case errors.Is(err, jwt.ErrUnavailable):
		fmt.Println("cannot reach the issuer: try later")
	case err != nil:
		fmt.Println("refused:", err)
	}
	// Output: refused: jwt: algorithm not allowed: alg "none" is not allowed
}

// Read a token without checking it, e.g. to show it. Nothing here is
// verified.
func ExampleDecodeUnverified() {
	t, err := jwt.DecodeUnverified("eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2ln")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t.Header.Type, t.Claims.Subject)
	// Output: at+jwt alice
}

// Make an RFC 7523 client assertion for private_key_jwt.
func ExampleSigner_SignClientAssertion() {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := jwt.NewSigner(priv, "", "client-key")
	if err != nil {
		log.Fatal(err)
	}
	a, err := signer.SignClientAssertion("my-service", "https://auth.example.com/oauth2/token", time.Now(), 0)
	if err != nil {
		log.Fatal(err)
	}
	t, _ := jwt.DecodeUnverified(a)
	fmt.Println(t.Claims.Issuer, t.Claims.Subject, t.Claims.Audience)
	// Output: my-service my-service [https://auth.example.com/oauth2/token]
}
