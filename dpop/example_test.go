package dpop_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gatehouse-auth/gatehouse/dpop"
)

// A client makes a key once and a proof for every request; the server
// checks the proof and learns the key's thumbprint, which it writes into
// the token (cnf.jkt) or compares with the token's.
func Example() {
	key, err := dpop.NewKey()
	if err != nil {
		log.Fatal(err)
	}
	signer, err := dpop.NewSigner(key)
	if err != nil {
		log.Fatal(err)
	}
	proof, err := signer.Proof("POST", "https://auth.example.com/oauth2/token", "", "")
	if err != nil {
		log.Fatal(err)
	}

	verifier, err := dpop.NewVerifier(dpop.Config{})
	if err != nil {
		log.Fatal(err)
	}
	p, err := verifier.Verify(context.Background(), proof, dpop.Request{
		Method: "POST", URL: "https://auth.example.com/oauth2/token",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.JKT == signer.Thumbprint())

	// The same proof twice is a replay.
	_, err = verifier.Verify(context.Background(), proof, dpop.Request{
		Method: "POST", URL: "https://auth.example.com/oauth2/token",
	})
	fmt.Println(errors.Is(err, dpop.ErrInvalidProof), errors.Is(err, dpop.ErrReplayed))
	// Output:
	// true
	// true true
}

// A resource server checks the proof that comes with a DPoP-bound access
// token against the request and the token's cnf.jkt.
func ExampleVerifier_VerifyRequest() {
	key, _ := dpop.NewKey()
	signer, _ := dpop.NewSigner(key)
	accessToken := "eyJ...the access token"
	boundTo := signer.Thumbprint() // the token's cnf.jkt

	r := httptest.NewRequest("GET", "https://api.example.com/v1/things?page=2", nil)
	proof, _ := signer.Proof(r.Method, "https://api.example.com/v1/things", accessToken, "")
	r.Header.Set("Authorization", "DPoP "+accessToken)
	r.Header.Set(dpop.Header, proof)

	verifier, _ := dpop.NewVerifier(dpop.Config{})
	_, err := verifier.VerifyRequest(r, dpop.RequestURL(r, "https", ""), accessToken, boundTo)
	fmt.Println(err)

	// Without the header:
	r.Header.Del(dpop.Header)
	_, err = verifier.VerifyRequest(r, dpop.RequestURL(r, "https", ""), accessToken, boundTo)
	var e *dpop.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, http.StatusUnauthorized)
	}
	// Output:
	// <nil>
	// invalid_dpop_proof 401
}
