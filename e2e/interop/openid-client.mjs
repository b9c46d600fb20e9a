// openid-client (v6) as a relying party of a gatehouse server.
//
//   node openid-client.mjs authcode            authorization code + PKCE, ID token, iss, userinfo, refresh,
//                                              RP-initiated logout
//   node openid-client.mjs client_credentials  client credentials and introspection of the token
//   node openid-client.mjs resource            client credentials with RFC 8707 resource indicators
//
// Environment: ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI and
// POST_LOGOUT_REDIRECT_URI (authcode);
// AUTH_METHOD and PRIVATE_JWK_FILE (see clientAuth).

import * as client from 'openid-client';
import { readFile } from 'node:fs/promises';
import { ask, env, main, rejects } from './io.mjs';

// clientAuth is the token endpoint authentication named by AUTH_METHOD
// (default client_secret_basic): the secret is CLIENT_SECRET, the
// private_key_jwt key a private JWK in the file PRIVATE_JWK_FILE, its
// JWS alg overridden by ASSERTION_ALG if set.
async function clientAuth() {
  switch (process.env.AUTH_METHOD ?? 'client_secret_basic') {
    case 'client_secret_basic':
      return client.ClientSecretBasic(env('CLIENT_SECRET'));
    case 'client_secret_post':
      return client.ClientSecretPost(env('CLIENT_SECRET'));
    case 'private_key_jwt': {
      const jwk = JSON.parse(await readFile(env('PRIVATE_JWK_FILE'), 'utf8'));
      const algorithm = {
        ES256: { name: 'ECDSA', namedCurve: 'P-256' },
        RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        EdDSA: { name: 'Ed25519' },
      }[jwk.alg];
      const key = await crypto.subtle.importKey('jwk', jwk, algorithm, false, ['sign']);
      // ASSERTION_ALG overrides the JWS alg the library picks for the key
      // (for an Ed25519 key it picks RFC 9864's "Ed25519", not "EdDSA").
      const alg = process.env.ASSERTION_ALG;
      return client.PrivateKeyJwt({ key, kid: jwk.kid },
        alg ? { [client.modifyAssertion]: (header) => { header.alg = alg; } } : undefined);
    }
    default:
      throw new Error(`unknown AUTH_METHOD ${process.env.AUTH_METHOD}`);
  }
}

async function configuration() {
  return client.discovery(new URL(env('ISSUER')), env('CLIENT_ID'), undefined,
    await clientAuth(), { execute: [client.allowInsecureRequests] });
}

async function authcode() {
  const config = await configuration();
  const md = config.serverMetadata();
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: env('REDIRECT_URI'),
    scope: 'openid profile offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  const callback = new URL(await ask('authorize', { url: url.href }));
  const checks = { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true };

  // RFC 9207: a response whose iss is not the issuer's, or has none, is
  // refused before the code is sent anywhere.
  const forged = new URL(callback);
  forged.searchParams.set('iss', 'https://attacker.example');
  const forgedIss = await rejects(() => client.authorizationCodeGrant(config, forged, checks));
  const missing = new URL(callback);
  missing.searchParams.delete('iss');
  const missingIss = await rejects(() => client.authorizationCodeGrant(config, missing, checks));

  const tokens = await client.authorizationCodeGrant(config, callback, checks);
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const userinfo2 = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
  // The rotated refresh token is spent.
  const reused = await rejects(() => client.refreshTokenGrant(config, tokens.refresh_token));

  // RP-Initiated Logout 1.0 with the ID token as hint, if the test gave a
  // post-logout redirect URI.
  let logout = null;
  if (process.env.POST_LOGOUT_REDIRECT_URI) {
    const logoutState = client.randomState();
    const endSession = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: process.env.POST_LOGOUT_REDIRECT_URI,
      state: logoutState,
    });
    const back = new URL(await ask('logout', { url: endSession.href }));
    logout = {
      redirect: `${back.origin}${back.pathname}`,
      state_matches: back.searchParams.get('state') === logoutState,
    };
  }
  return {
    metadata: {
      issuer: md.issuer,
      iss_parameter_supported: md.authorization_response_iss_parameter_supported,
      code_challenge_methods: md.code_challenge_methods_supported,
      end_session_endpoint: md.end_session_endpoint,
      token_endpoint_auth_signing_algs: md.token_endpoint_auth_signing_alg_values_supported,
      id_token_signing_algs: md.id_token_signing_alg_values_supported,
    },
    forged_iss: forgedIss,
    missing_iss: missingIss,
    iss: callback.searchParams.get('iss'),
    id_token_claims: claims,
    scope: tokens.scope,
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    has_refresh_token: Boolean(tokens.refresh_token),
    userinfo,
    refreshed: {
      access_token: refreshed.access_token,
      rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
      id_token_claims: refreshed.claims() ?? null,
    },
    userinfo_after_refresh: userinfo2,
    reused_refresh_token: reused,
    logout,
  };
}

async function clientCredentials() {
  const config = await configuration();
  const tokens = await client.clientCredentialsGrant(config);
  const introspection = await client.tokenIntrospection(config, tokens.access_token);
  await client.tokenRevocation(config, tokens.access_token);
  const afterRevocation = await client.tokenIntrospection(config, tokens.access_token);
  return {
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    access_token: tokens.access_token,
    has_refresh_token: Boolean(tokens.refresh_token),
    introspection,
    active_after_revocation: afterRevocation.active,
  };
}

// resource asks for tokens with RFC 8707 resource indicators: each of
// RESOURCES (space-separated) alone, and UNREGISTERED_RESOURCE, which must
// be refused.
async function resource() {
  const config = await configuration();
  const tokens = {};
  for (const r of env('RESOURCES').split(' ')) {
    tokens[r] = (await client.clientCredentialsGrant(config, { resource: r })).access_token;
  }
  const all = (await client.clientCredentialsGrant(config)).access_token;
  const unregistered = await rejects(() => client.clientCredentialsGrant(config, { resource: env('UNREGISTERED_RESOURCE') }));
  return { tokens, without_resource: all, unregistered };
}

const modes = { authcode, client_credentials: clientCredentials, resource };
main(() => {
  const run = modes[process.argv[2]];
  if (!run) throw new Error(`usage: node openid-client.mjs ${Object.keys(modes).join('|')}`);
  return run();
});
