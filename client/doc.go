// Package client is the Gatehouse client library: the OAuth 2.0 flows a
// command-line tool or script needs, and a token source that caches and
// refreshes credentials safely across processes.
//
// It speaks standard OAuth 2.0 and OpenID Connect, so it works against any
// issuer that publishes RFC 8414 or OpenID Connect discovery metadata, not
// only against `gatehouse server`.
//
// Every flow ends in an [oauth2.Token]; the cache is an [oauth2.TokenSource];
// the HTTP transport consumes one:
//
//	md, err := client.Discover(ctx, nil, "https://auth.example.com")
//	cfg := &client.Config{Metadata: md, ClientID: "gatehouse-cli", Scopes: []string{"openid", "offline_access"}}
//	tok, err := cfg.BrowserLogin(ctx, client.BrowserOptions{})  // or cfg.DeviceLogin
//	err = store.Put(ctx, "default", cfg.UserCredential(tok))
//
//	ts, err := client.NewTokenSource(client.TokenSourceOptions{Store: store, Profile: "default"})
//	hc := client.NewHTTPClient(ts, nil)
//
// # DPoP
//
// With Config.DPoP set (NewDPoPKey makes a P-256 key), every token request
// carries a DPoP proof (RFC 9449) and a server that supports DPoP binds
// the tokens to the key: token_type "DPoP", useless without the key.
// UserCredential stores the key with the tokens (Credential.DPoPKey);
// the TokenSource of such a login refreshes with proofs and still returns
// *oauth2.Token values (TokenType "DPoP"), and NewHTTPClient's Transport
// sends "Authorization: DPoP <token>" with a fresh proof per request. A
// plain oauth2.Transport cannot make proofs: use Transport. Nonce
// challenges (use_dpop_nonce) are followed once, at the token endpoint
// and at resources, and each origin's latest nonce is remembered. For
// x/oauth2's own flows, DPoP.HTTPClient adds the proofs to their token
// requests.
//
// Time comes from an injected [clock.Clock] and HTTP from an explicit
// *http.Client, so every flow is testable without sleeping or a network.
//
// The package imports nothing from Gatehouse's internal packages; third
// parties import it.
package client
