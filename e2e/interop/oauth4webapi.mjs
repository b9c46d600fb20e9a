// oauth4webapi (v3) as a public client of a gatehouse server, with a
// confidential client for introspection and revocation.
//
//   node oauth4webapi.mjs authcode   authorization code + PKCE, iss, ID token, RFC 9068 access
//                                    token, userinfo, refresh, introspection, revocation
//   node oauth4webapi.mjs device     device authorization grant, then the same checks
//   node oauth4webapi.mjs par        authorization code + PKCE with the request pushed first
//                                    (RFC 9126): the browser gets only client_id and request_uri
//
// Environment: ISSUER, CLIENT_ID (public), REDIRECT_URI (authcode),
// INTROSPECT_ID and INTROSPECT_SECRET (a confidential client).

import * as oauth from 'oauth4webapi';
import { ask, emit, env, main, rejects } from './io.mjs';

const insecure = { [oauth.allowInsecureRequests]: true };

async function discover() {
  const issuer = new URL(env('ISSUER'));
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...insecure });
  return oauth.processDiscoveryResponse(issuer, res);
}

const publicClient = () => ({ client_id: env('CLIENT_ID') });
const introspector = () => ({ client_id: env('INTROSPECT_ID') });
const introspectorAuth = () => oauth.ClientSecretBasic(env('INTROSPECT_SECRET'));

async function introspect(as, token) {
  const res = await oauth.introspectionRequest(as, introspector(), introspectorAuth(), token, insecure);
  return oauth.processIntrospectionResponse(as, introspector(), res);
}

// afterLogin checks what every user login gives: the ID token, the access
// token as an RFC 9068 JWT for the client, userinfo, a rotating refresh,
// introspection and revocation.
async function afterLogin(as, client, result) {
  const claims = oauth.getValidatedIdTokenClaims(result);
  const request = new Request('http://resource.invalid/', { headers: { authorization: `Bearer ${result.access_token}` } });
  const jwtAccessToken = await oauth.validateJwtAccessToken(as, request, client.client_id, insecure);
  const ui = await oauth.userInfoRequest(as, client, result.access_token, insecure);
  const userinfo = await oauth.processUserInfoResponse(as, client, claims.sub, ui);

  const rr = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), result.refresh_token, insecure);
  const refreshed = await oauth.processRefreshTokenResponse(as, client, rr);
  const before = await introspect(as, refreshed.access_token);
  const refreshBefore = await introspect(as, refreshed.refresh_token);
  const rotatedOut = await introspect(as, result.refresh_token);

  // RFC 7009: revoking the refresh token ends its grant.
  const rv = await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token, insecure);
  await oauth.processRevocationResponse(rv);
  const after = await introspect(as, refreshed.access_token);
  const refreshAfter = await introspect(as, refreshed.refresh_token);
  const spent = await rejects(async () => {
    const r = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token, insecure);
    await oauth.processRefreshTokenResponse(as, client, r);
  });
  return {
    id_token_claims: claims,
    scope: result.scope,
    access_token: result.access_token,
    jwt_access_token: jwtAccessToken,
    userinfo,
    refreshed: {
      rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== result.refresh_token,
      new_access_token: refreshed.access_token !== result.access_token,
    },
    introspection: before,
    refresh_token_active: refreshBefore.active,
    rotated_refresh_token_active: rotatedOut.active,
    access_active_after_revocation: after.active,
    refresh_active_after_revocation: refreshAfter.active,
    refresh_after_revocation: spent,
  };
}

async function authcode() {
  const as = await discover();
  const client = publicClient();
  const redirectURI = env('REDIRECT_URI');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: redirectURI,
    response_type: 'code',
    scope: 'openid profile offline_access',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }).toString();
  const callback = new URL(await ask('authorize', { url: url.href }));

  const forged = new URL(callback);
  forged.searchParams.set('iss', 'https://attacker.example');
  const forgedIss = await rejects(() => oauth.validateAuthResponse(as, client, forged, state));
  const wrongState = await rejects(() => oauth.validateAuthResponse(as, client, callback, 'not-the-state'));
  const params = oauth.validateAuthResponse(as, client, callback, state);

  // PKCE: the code is bound to the verifier. A wrong verifier is refused
  // (and, as RFC 6749 §4.1.2 allows, may spend the code), so it is tried
  // on a second login below rather than on this code.
  const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectURI, verifier, insecure);
  const result = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: nonce, requireIdToken: true });

  const state2 = oauth.generateRandomState();
  url.searchParams.set('state', state2);
  url.searchParams.set('nonce', oauth.generateRandomNonce());
  const callback2 = new URL(await ask('authorize', { url: url.href }));
  const params2 = oauth.validateAuthResponse(as, client, callback2, state2);
  const wrongVerifier = await rejects(async () => {
    const r = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params2, redirectURI, oauth.generateRandomCodeVerifier(), insecure);
    await oauth.processAuthorizationCodeResponse(as, client, r);
  });

  // OIDC Core §3.1.2.1: with the session of the first login, prompt=none
  // and max_age give a code at once, and the ID token's auth_time
  // satisfies max_age; without a session prompt=none is login_required,
  // an error response that carries iss too (RFC 9207 §2).
  const silent = new URL(url);
  const state3 = oauth.generateRandomState();
  const nonce3 = oauth.generateRandomNonce();
  const verifier3 = oauth.generateRandomCodeVerifier();
  silent.searchParams.set('state', state3);
  silent.searchParams.set('nonce', nonce3);
  silent.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier3));
  silent.searchParams.set('prompt', 'none');
  silent.searchParams.set('max_age', '3600');
  const params3 = oauth.validateAuthResponse(as, client, new URL(await ask('authorize', { url: silent.href })), state3);
  const r3 = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params3, redirectURI, verifier3, insecure);
  const silentResult = await oauth.processAuthorizationCodeResponse(as, client, r3, { expectedNonce: nonce3, maxAge: 3600, requireIdToken: true });
  const state4 = oauth.generateRandomState();
  silent.searchParams.set('state', state4);
  const noSession = new URL(await ask('authorize_without_session', { url: silent.href }));
  const loginRequired = await rejects(() => oauth.validateAuthResponse(as, client, noSession, state4));

  return {
    issuer: as.issuer,
    silent_sub: oauth.getValidatedIdTokenClaims(silentResult).sub,
    silent_without_session: loginRequired,
    silent_without_session_iss: noSession.searchParams.get('iss'),
    forged_iss: forgedIss,
    wrong_state: wrongState,
    wrong_verifier: wrongVerifier,
    ...(await afterLogin(as, client, result)),
  };
}

async function device() {
  const as = await discover();
  const client = publicClient();
  const dr = await oauth.deviceAuthorizationRequest(as, client, oauth.None(), { scope: 'openid profile offline_access' }, insecure);
  const da = await oauth.processDeviceAuthorizationResponse(as, client, dr);
  emit({ step: 'device', user_code: da.user_code, verification_uri: da.verification_uri,
    verification_uri_complete: da.verification_uri_complete, interval: da.interval, expires_in: da.expires_in });
  let interval = (da.interval ?? 5) * 1000;
  const deadline = Date.now() + Math.min(da.expires_in, 60) * 1000;
  const pending = [];
  for (;;) {
    const res = await oauth.deviceCodeGrantRequest(as, client, oauth.None(), da.device_code, insecure);
    try {
      const result = await oauth.processDeviceCodeResponse(as, client, res, { requireIdToken: true });
      return { pending, ...(await afterLogin(as, client, result)) };
    } catch (err) {
      if (!(err instanceof oauth.ResponseBodyError)) throw err;
      pending.push(err.error);
      if (err.error === 'slow_down') interval += 5000;
      else if (err.error !== 'authorization_pending') throw err;
    }
    if (Date.now() > deadline) throw new Error('device flow: no approval in time');
    await new Promise((r) => setTimeout(r, interval));
  }
}

// par pushes the authorization request (RFC 9126) and sends the browser
// to the authorization endpoint with only client_id and request_uri;
// then it asks the test to open the same URL again, which must fail.
async function par() {
  const as = await discover();
  const client = publicClient();
  const redirectURI = env('REDIRECT_URI');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const pr = await oauth.pushedAuthorizationRequest(as, client, oauth.None(), new URLSearchParams({
    redirect_uri: redirectURI,
    response_type: 'code',
    scope: 'openid profile',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }), insecure);
  const pushed = await oauth.processPushedAuthorizationResponse(as, client, pr);
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', client.client_id);
  url.searchParams.set('request_uri', pushed.request_uri);
  const callback = new URL(await ask('authorize', { url: url.href }));
  const params = oauth.validateAuthResponse(as, client, callback, state);
  const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectURI, verifier, insecure);
  const result = await oauth.processAuthorizationCodeResponse(as, client, res, { expectedNonce: nonce, requireIdToken: true });
  const replay = await ask('authorize_replay', { url: url.href });
  return {
    pushed_authorization_request_endpoint: as.pushed_authorization_request_endpoint,
    request_uri: pushed.request_uri,
    expires_in: pushed.expires_in,
    authorize_url: url.href,
    sub: oauth.getValidatedIdTokenClaims(result).sub,
    replay_status: Number(replay),
  };
}

const modes = { authcode, device, par };
main(() => {
  const run = modes[process.argv[2]];
  if (!run) throw new Error(`usage: node oauth4webapi.mjs ${Object.keys(modes).join('|')}`);
  return run();
});
