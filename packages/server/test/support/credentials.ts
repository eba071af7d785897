// The wallet's side of the digital ID credential for tests: the authorization code flow of the
// platform's public client `kakunin-wallet` with a stock OIDC client (openid-client) and a sandbox
// virtual card, the nonce endpoint, JWT proofs of possession (well-formed or crafted), credential
// requests as raw as an attacker would send them, and redeeming a credential offer.

import * as oidc from 'openid-client';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { expect } from 'vitest';
import { Browser, holderLinkOf, holderRespond, type TestPlatform } from './platform.js';

export const WALLET = 'kakunin-wallet';
/** The wallet client's loopback redirect (RFC 8252: any port); nothing listens there. */
export const WALLET_REDIRECT = 'http://127.0.0.1/callback';
export const CREDENTIAL_SCOPE = 'jp_resident_credential';
export const CONFIGURATION_ID = 'jp_resident_sd_jwt';
/** batch_credential_issuance.batch_size of the issuer metadata. */
export const BATCH_SIZE = 5;
export const PRE_AUTHORIZED = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
export const PROOF_TYP = 'openid4vci-proof+jwt';

export interface HolderKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

export async function holderKey(): Promise<HolderKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey), privateJwk: await exportJWK(privateKey) };
}

/**
 * The authorization code flow of the wallet client with a sandbox virtual card: discovery, PKCE,
 * the ceremony page, the holder's card, the consent, the token request. Returns the token answer.
 */
export async function walletAuthorization(
  p: TestPlatform,
  person: string,
  o: { scope?: string } = {},
): Promise<oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers> {
  const base = p.server.url;
  const config = await oidc.discovery(new URL(base), WALLET, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: WALLET_REDIRECT,
    scope: o.scope ?? `openid ${CREDENTIAL_SCOPE}`,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  });
  const browser = new Browser();
  const page = await browser.go(url.toString(), base);
  expect(page.status, page.body.slice(0, 500)).toBe(200);
  expect((await holderRespond(p.sandbox, holderLinkOf(page.body), { person })).status).toBe(200);
  const uid = /\/interaction\/([^/?]+)/.exec(page.url)![1]!;
  const consent = await browser.go(`${base}/interaction/${uid}/continue`, base);
  expect(consent.body).toMatch(/同意する/);
  const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
  const landed = await browser.go(`${base}/interaction/${consentUid}/consent`, base, { method: 'POST', form: {} });
  expect(landed.external, landed.body.slice(0, 500)).toBe(true);
  return oidc.authorizationCodeGrant(config, new URL(landed.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
}

export async function cNonce(base: string): Promise<string> {
  const res = await fetch(`${base}/credentials/v1/nonce`, { method: 'POST' });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const { c_nonce } = (await res.json()) as { c_nonce: string };
  expect(c_nonce).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  return c_nonce;
}

export interface ProofOptions {
  /** The key that signs (default: the holder's). */
  signer?: CryptoKey;
  /** The protected header (default: ES256, the proof typ, the holder's public JWK). */
  header?: Record<string, unknown>;
  payload?: Record<string, unknown>;
}

/** A JWT proof of possession (OpenID4VCI §8.2.1.1): aud = the issuer, nonce, iat, signed by the key. */
export async function proofJwt(key: HolderKey, aud: string, nonce: string | undefined, o: ProofOptions = {}) {
  const header = o.header ?? { alg: 'ES256', typ: PROOF_TYP, jwk: key.publicJwk };
  return new SignJWT({ aud, iss: WALLET, ...(nonce !== undefined ? { nonce } : {}), ...o.payload })
    .setProtectedHeader(header as { alg: string })
    .setIssuedAt()
    .sign(o.signer ?? key.privateKey);
}

export interface CredentialAnswer {
  status: number;
  headers: Headers;
  body: { credentials?: { credential: string }[]; error?: string; error_description?: string };
}

/** POST /credentials/v1/credential as given (`token` undefined: no Authorization header). */
export async function credentialRequest(
  base: string,
  token: string | undefined,
  body: Record<string, unknown>,
): Promise<CredentialAnswer> {
  const res = await fetch(`${base}/credentials/v1/credential`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as CredentialAnswer['body'] };
}

/** A well-formed credential request: a fresh c_nonce and one proof by `key`. */
export async function requestCredential(base: string, token: string, key: HolderKey): Promise<CredentialAnswer> {
  const proof = await proofJwt(key, base, await cNonce(base));
  return credentialRequest(base, token, { credential_configuration_id: CONFIGURATION_ID, proofs: { jwt: [proof] } });
}

/** The token endpoint's answer to a pre-authorized code (the wallet client, no authentication). */
export async function redeemOffer(
  base: string,
  code: string,
  txCode?: string,
): Promise<{ status: number; body: { access_token?: string; error?: string; error_description?: string } }> {
  const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as { token_endpoint: string };
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: PRE_AUTHORIZED,
      client_id: WALLET,
      'pre-authorized_code': code,
      ...(txCode !== undefined ? { tx_code: txCode } : {}),
    }).toString(),
  });
  return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
}
