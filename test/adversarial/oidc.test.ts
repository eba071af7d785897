// Adversarial catalogue — the OpenID Provider (A41–A52): code injection, PKCE downgrade, redirect URI
// tricks, against a real sandbox platform with a cookie-keeping browser and a holder's virtual card.

import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { title } from './catalogue.js';
import {
  Browser,
  REDIRECT,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startHarness,
  type Flow,
  type Harness,
} from './support/platform.js';
import { normaliseRelyingParty } from '@kakunin/server/testing';
import type { RegisteredRelyingParty } from '@kakunin/server';
import { redirectUriLabel } from '@kakunin/web';

let h: Harness;
let meta: { authorization_endpoint: string; token_endpoint: string; userinfo_endpoint: string };
beforeAll(async () => {
  // As behind a reverse proxy on 127.0.0.1: X-Forwarded-For names the client (A85, A86).
  h = await startHarness({ config: { trustedProxies: ['127.0.0.1'] } });
  meta = (await (await fetch(`${h.p.server.url}/.well-known/openid-configuration`)).json()) as typeof meta;
}, 180_000);
afterAll(async () => h?.close());

const s256 = async (verifier: string): Promise<string> =>
  Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))).toString('base64url');

/** An authorization by `rp` answered by a holder, up to the code at the redirect URI. */
async function authorized(rp: RegisteredRelyingParty = h.rpA): Promise<{ flow: Flow; code: string }> {
  const flow = await startFlow(h.p, rp.clientId, rp.clientSecret);
  expect((await holderRespond(h.p.sandbox, holderLinkOf(flow.page.body), { person: h.signers[0]! })).status).toBe(200);
  const callback = await finishFlow(h.p, flow);
  return { flow, code: callback.searchParams.get('code')! };
}

/** A token request as `rp` (client_secret_basic), as raw as an attacker would send it. */
async function token(
  rp: RegisteredRelyingParty,
  params: Record<string, string>,
): Promise<{ status: number; body: { error?: string; access_token?: string } }> {
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(rp.clientId)}:${encodeURIComponent(rp.clientSecret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', ...params }).toString(),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; access_token?: string } };
}

const count = async (table: 'ceremonies' | 'records'): Promise<number> =>
  Number((await h.p.server.platform.db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))[0]!.n);

/** GET /authorize with these parameters (client A unless given) in a fresh browser. */
async function authorize(params: Record<string, string>) {
  const url = new URL(meta.authorization_endpoint);
  const verifier = randomBytes(32).toString('base64url');
  const all = {
    client_id: h.rpA.clientId,
    response_type: 'code',
    scope: 'openid',
    state: 'st',
    redirect_uri: REDIRECT,
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== '') url.searchParams.set(k, v);
  const browser = new Browser();
  return { result: await browser.go(url.toString(), h.p.server.url), browser };
}

/** The redirect URI tricks: an error page on the platform, never a redirect, nothing started. */
async function refusedRedirect(redirectUri: string): Promise<void> {
  const before = await count('ceremonies');
  const { result, browser } = await authorize({ redirect_uri: redirectUri });
  expect(result.external).toBe(false);
  expect(result.status).toBe(400);
  expect(result.body).toContain('data-error-code="invalid_redirect_uri"');
  expect(browser.visited).toHaveLength(1);
  expect(await count('ceremonies')).toBe(before);
}

describe('OpenID Provider', () => {
  it(title('A41'), async () => {
    const { flow, code } = await authorized(h.rpA);
    const stolen = await token(h.rpB, { code, redirect_uri: REDIRECT, code_verifier: flow.verifier });
    expect(stolen).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(stolen.body.access_token).toBeUndefined();
  });

  it(title('A42'), async () => {
    const victim = await authorized(h.rpA);
    // The attacker runs their own authorization at the same RP and injects the victim's code into it:
    // the RP redeems it with the attacker session's verifier.
    const attackerSession = await startFlow(h.p, h.rpA.clientId, h.rpA.clientSecret);
    const injected = await token(h.rpA, {
      code: victim.code,
      redirect_uri: REDIRECT,
      code_verifier: attackerSession.verifier,
    });
    expect(injected).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(injected.body.access_token).toBeUndefined();
  });

  it(title('A43'), async () => {
    const { flow, code } = await authorized(h.rpA);
    const first = await token(h.rpA, { code, redirect_uri: REDIRECT, code_verifier: flow.verifier });
    expect(first.status).toBe(200);
    const again = await token(h.rpA, { code, redirect_uri: REDIRECT, code_verifier: flow.verifier });
    expect(again).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Reuse signals interception: what the code issued is revoked.
    const info = await fetch(meta.userinfo_endpoint, {
      headers: { authorization: `Bearer ${first.body.access_token}` },
    });
    expect(info.status).toBe(401);
  });

  it(title('A44'), async () => {
    const before = await count('ceremonies');
    const verifier = randomBytes(32).toString('base64url');
    const { result } = await authorize({ code_challenge: verifier, code_challenge_method: 'plain' });
    // Refused at the authorization endpoint: back to the registered redirect URI with an error, never a code.
    expect(result.external).toBe(true);
    const back = new URL(result.url);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/code_challenge_method/);
    expect(back.searchParams.get('code')).toBeNull();
    // Without a method, PKCE would default to plain (RFC 7636 §4.3): refused as well.
    const { result: defaulted } = await authorize({ code_challenge: verifier, code_challenge_method: '' });
    expect(defaulted.external).toBe(true);
    expect(new URL(defaulted.url).searchParams.get('error')).toBe('invalid_request');
    expect(new URL(defaulted.url).searchParams.get('code')).toBeNull();
    expect(await count('ceremonies')).toBe(before);
  });

  it(title('A45'), async () => {
    const before = await count('ceremonies');
    const { result } = await authorize({ code_challenge: '', code_challenge_method: '' });
    expect(result.external).toBe(true);
    const back = new URL(result.url);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
    expect(back.searchParams.get('code')).toBeNull();
    expect(await count('ceremonies')).toBe(before);
  });

  it(title('A46'), async () => refusedRedirect(`${REDIRECT}/evil`));
  it(title('A47'), async () => refusedRedirect(REDIRECT.replace(':9/', ':10/')));
  it(title('A48'), async () => refusedRedirect(`${REDIRECT}?next=https://evil.example/`));
  it(title('A49'), async () => refusedRedirect(`${REDIRECT}/`));
  it(title('A50'), async () => {
    await refusedRedirect('http://127.0.0.1:9@evil.example/');
    await refusedRedirect('http://127.0.0.1:9@evil.example/callback');
    await refusedRedirect('http://evil.example@127.0.0.1:9/callback');
  });
  it(title('A51'), async () => refusedRedirect(`${REDIRECT}#fragment`));

  it(title('A52'), async () => {
    const other = REDIRECT.replace('/callback', '/other');
    const rp = await h.createRp({ name: 'RP with two redirect URIs', redirectUris: [REDIRECT, other] });
    const { flow, code } = await authorized(rp);
    const mismatched = await token(rp, { code, redirect_uri: other, code_verifier: flow.verifier });
    expect(mismatched).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(mismatched.body.access_token).toBeUndefined();
  });

  it(title('A81'), async () => {
    // Names that `in` finds on every object: answered as for any unknown claim, i.e. nothing released.
    const released = async (claims: Record<string, null>): Promise<{ idToken: unknown; userinfo: unknown }> => {
      const request = {
        userinfo: { verified_claims: { verification: { trust_framework: null }, claims } },
        id_token: { verified_claims: { verification: { trust_framework: null }, claims } },
      };
      const flow = await startFlow(h.p, h.rpA.clientId, h.rpA.clientSecret, { claims: request });
      expect((await holderRespond(h.p.sandbox, holderLinkOf(flow.page.body), { person: h.signers[0]! })).status).toBe(
        200,
      );
      const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(h.p, flow), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      const info = await oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub);
      return { idToken: tokens.claims()!.verified_claims, userinfo: info.verified_claims };
    };
    const none = { idToken: undefined, userinfo: undefined };
    expect(
      await released({ constructor: null, toString: null, ['__proto__']: null, hasOwnProperty: null, valueOf: null }),
    ).toEqual(none);
    expect(await released({ no_such_claim: null })).toEqual(none);
    // The same request with a real claim next to them releases that claim alone.
    const birth = await released({ constructor: null, birthdate: null });
    expect((birth.userinfo as { claims: object }).claims).toEqual({ birthdate: expect.any(String) });
  });

  it(title('A88'), () => {
    const register = (uri: string): string[] =>
      normaliseRelyingParty({ name: 'IDN', redirectUris: [uri] }).redirectUris;
    // A full-width ｅ and a Cyrillic а: stored as the host browsers will actually send (punycode).
    expect(register('https://ｅxаmple.jp/cb?x=1')).toEqual(['https://xn--exmple-4nf.jp/cb?x=1']);
    expect(register('https://例え.テスト:8443/コールバック')).toEqual([
      `https://${new URL('https://例え.テスト').hostname}:8443/コールバック`,
    ]);
    // An ASCII URI is stored exactly as registered (redirect URIs are compared as strings).
    expect(register('https://rp.example.jp/callback')).toEqual(['https://rp.example.jp/callback']);
    // The admin console shows the stored punycode with the Unicode form beside it.
    const label = redirectUriLabel('https://xn--exmple-4nf.jp/cb');
    expect(label).toContain('https://xn--exmple-4nf.jp/cb');
    expect(label).toContain('(exаmple.jp)');
    expect(redirectUriLabel('https://rp.example.jp/cb')).toBe('https://rp.example.jp/cb');
  });

  it(title('A89'), () => {
    const register = (uri: string) => () => normaliseRelyingParty({ name: 'tricks', redirectUris: [uri] });
    for (const uri of [
      'https://user@rp.example.jp/cb',
      'https://user:pw@rp.example.jp/cb',
      'https://rp.example.jp@evil.example/cb',
      'https://*.example.jp/cb',
      'https://*/cb',
    ]) {
      expect(register(uri), uri).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    }
    expect(register('https://user@rp.example.jp/cb')).toThrow(/userinfo/);
    expect(register('https://*.example.jp/cb')).toThrow(/wildcard/);
  });
  // ---- client authentication (A75, A85–A87) ----------------------------------------------------

  /** A raw token request with these headers and body fields (the code is never valid: only client authentication is under test). */
  const tokenRequest = async (headers: Record<string, string>, fields: Record<string, string> = {}) => {
    const res = await fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: 'not-a-code',
        redirect_uri: REDIRECT,
        code_verifier: 'v'.repeat(43),
        ...fields,
      }).toString(),
    });
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      type: res.headers.get('content-type'),
      body: (await res.json()) as { error?: string },
    };
  };
  const basic = (userPass: string): string => `Basic ${Buffer.from(userPass).toString('base64')}`;

  it(title('A75'), async () => {
    for (const authorization of [
      basic(`${h.rpA.clientId}:%E0%A4%A`),
      basic(`%zz:${h.rpA.clientSecret}`),
      basic(h.rpA.clientId),
      'Basic !!!not-base64!!!',
      'Basic',
    ]) {
      const answer = await tokenRequest({ authorization });
      expect(answer, authorization).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
      expect(answer.type).toMatch(/^application\/json/);
    }
  });

  it(title('A85'), async () => {
    const rp = await h.createRp({ name: 'Guessed RP' });
    const limits = h.p.server.platform.config;
    // Each case from its own address (X-Forwarded-For from the trusted proxy), so other tests are not throttled.
    const from = (ip: string, authorization: string) => tokenRequest({ authorization, 'x-forwarded-for': ip });
    for (let i = 0; i < limits.authFailuresPerClient; i++)
      expect((await from(`198.51.100.${i + 1}`, basic(`${rp.clientId}:wrong-${i}`))).body.error).toBe('invalid_client');
    // The client is locked for the window: even its right secret, from a fresh address.
    const locked = await from('198.51.100.200', basic(`${rp.clientId}:${rp.clientSecret}`));
    expect(locked).toMatchObject({ status: 429, body: { error: 'temporarily_unavailable' } });
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    // Per address: failures for any client ids (known or not) from one address lock that address.
    for (let i = 0; i < limits.authFailuresPerAddress; i++)
      expect((await from('203.0.113.85', basic(`no-such-client-${i}:x`))).status).toBe(401);
    const address = await from(
      '203.0.113.85',
      basic(`${encodeURIComponent(h.rpB.clientId)}:${encodeURIComponent(h.rpB.clientSecret)}`),
    );
    expect(address).toMatchObject({ status: 429, body: { error: 'temporarily_unavailable' } });
    expect(Number(address.retryAfter)).toBeGreaterThan(0);
    // Another client from another address is not affected: its authentication passes (the code is what fails).
    expect(
      await from(
        '203.0.113.86',
        basic(`${encodeURIComponent(h.rpB.clientId)}:${encodeURIComponent(h.rpB.clientSecret)}`),
      ),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it(title('A86'), async () => {
    const base = h.p.server.url;
    const ip = '203.0.113.186';
    const signIn = (token: string) =>
      fetch(`${base}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
        body: new URLSearchParams({ token }).toString(),
      });
    const api = (token: string, from = ip) =>
      fetch(`${base}/admin/v1/relying-parties`, {
        headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': from },
      });
    const limit = h.p.server.platform.config.authFailuresPerAddress;
    for (let i = 0; i < limit; i++)
      expect((await (i % 2 ? signIn(`kka_wrong${i}`) : api(`kka_wrong${i}`))).status).toBe(401);
    const signedIn = await signIn(h.p.server.adminToken);
    expect(signedIn.status).toBe(429);
    expect(Number(signedIn.headers.get('retry-after'))).toBeGreaterThan(0);
    const refused = await api(h.p.server.adminToken);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_ATTEMPTS');
    expect((await api(h.p.server.adminToken, '203.0.113.187')).status).toBe(200);
  });

  it(title('A87'), async () => {
    const post = await h.createRp({ name: 'Post RP', tokenEndpointAuthMethod: 'client_secret_post' });
    const asPost = (secret: string) => tokenRequest({}, { client_id: post.clientId, client_secret: secret });
    const refusals = [
      await tokenRequest({ authorization: basic(`${post.clientId}:${post.clientSecret}:junk`) }),
      await tokenRequest({ authorization: basic(`${post.clientId}:${post.clientSecret}`) }), // the right secret, the wrong method
      await asPost(`${post.clientSecret}:junk`),
      await asPost(post.clientSecret.slice(0, -1)),
      await tokenRequest({}, { client_id: h.rpA.clientId, client_secret: h.rpA.clientSecret }), // a Basic client in the body
    ];
    for (const r of refusals) expect(r).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    // The registered method with the exact secret authenticates (and only the made-up code fails).
    expect(await asPost(post.clientSecret)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(
      await tokenRequest({ authorization: basic(`${h.rpA.clientId}:${encodeURIComponent(h.rpA.clientSecret)}`) }),
    ).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });
});
