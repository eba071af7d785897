// Attacks on ceremonies and on the OIDC flow, each rejected with its own error; a rejected response
// leaves a "rejected" record and never a verified one. Both database engines.

import { createPrivateKey, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCeremony } from '../src/ceremonies.js';
import type { Ceremony } from '../src/ceremony-store.js';
import { createRelyingParty, type RegisteredRelyingParty } from '../src/relying-parties.js';
import { ENGINES } from './support/databases.js';
import {
  Browser,
  REDIRECT,
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  signAsHolder,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

describe.each(ENGINES)('attacks on %s', (engine) => {
  let p: TestPlatform;
  let rpA: RegisteredRelyingParty;
  let rpB: RegisteredRelyingParty;
  const people: string[] = [];
  beforeAll(async () => {
    p = await startTestPlatform(engine, sim.dir);
    rpA = await createRelyingParty(p.server.platform, { name: 'RP A', redirectUris: [REDIRECT] });
    rpB = await createRelyingParty(p.server.platform, { name: 'RP B', redirectUris: [REDIRECT] });
    people.push(
      ...p.sandbox
        .people()
        .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
        .map((x) => x.id),
    );
  }, 120_000);
  afterAll(async () => p?.close());

  const holderUrl = (c: Ceremony): string => `${p.server.url}/holder/v1/ceremonies/${c.id}`;
  const ceremony = (kind: 'login' | 'identity' = 'login', rp = rpA, now?: Date): Promise<Ceremony> =>
    createCeremony(p.server.platform, { kind, rpClientId: rp.clientId, ...(now ? { now } : {}) });
  const post = async (c: Ceremony, body: unknown): Promise<{ status: number; code: string | undefined }> => {
    const res = await fetch(`${holderUrl(c)}/response`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { error?: { code: string } };
    return { status: res.status, code: json.error?.code };
  };
  const view = async (c: Ceremony) =>
    (await (await fetch(holderUrl(c))).json()) as { certificate: 'auth' | 'sign'; nonce: string; to_be_signed: string };
  const outcomes = async (c: Ceremony) =>
    p.server.platform.db.query<{ outcome: string }>('SELECT outcome FROM records WHERE ceremony_id = $1', [c.id]);

  it('replay: the same response twice, and a used nonce in a fresh ceremony', async () => {
    const c = await ceremony();
    const body = await signAsHolder(p.sandbox, await view(c), { person: people[0]! });
    expect((await post(c, body)).status).toBe(200);
    expect(await post(c, body)).toEqual({ status: 409, code: 'CEREMONY_FINISHED' });
    const fresh = await ceremony();
    expect(await post(fresh, body)).toEqual({ status: 409, code: 'NONCE_REPLAYED' });
    expect(await outcomes(fresh)).toEqual([]);
  });

  it('a nonce from another ceremony of the same RP, and from another RP', async () => {
    const target = await ceremony();
    const sibling = await ceremony();
    const body = await signAsHolder(p.sandbox, await view(sibling), { person: people[0]! });
    expect(await post(target, body)).toEqual({ status: 400, code: 'NONCE_CEREMONY_MISMATCH' });
    const foreign = await ceremony('login', rpB);
    const fromB = await signAsHolder(p.sandbox, await view(foreign), { person: people[0]! });
    expect(await post(target, fromB)).toEqual({ status: 400, code: 'NONCE_AUDIENCE_MISMATCH' });
    expect(
      await post(target, { nonce: 'A'.repeat(43), certificate: body.certificate, signature: body.signature }),
    ).toEqual({ status: 400, code: 'NONCE_UNKNOWN' });
    // The target is still usable by its own holder.
    expect((await holderRespond(p.sandbox, holderUrl(target), { person: people[0]! })).status).toBe(200);
  });

  it('an expired ceremony', async () => {
    const c = await ceremony('login', rpA, new Date(Date.now() - 3600_000));
    const body = await signAsHolder(p.sandbox, await view(c), { person: people[0]! });
    expect(await post(c, body)).toEqual({ status: 410, code: 'CEREMONY_EXPIRED' });
  });

  it('a signature by a different card', async () => {
    const c = await ceremony('identity');
    const v = await view(c);
    const mine = await signAsHolder(p.sandbox, v, { person: people[0]! });
    const theirs = await signAsHolder(p.sandbox, v, { person: people[1]! });
    expect(await post(c, { ...mine, signature: theirs.signature })).toEqual({ status: 422, code: 'BAD_SIGNATURE' });
    expect(await outcomes(c)).toEqual([{ outcome: 'rejected' }]);
    // The ceremony is over; the holder starts again.
    expect(await post(c, mine)).toEqual({ status: 409, code: 'CEREMONY_FINISHED' });
  });

  it('an auth certificate where a signing certificate is required', async () => {
    const c = await ceremony('identity');
    const v = await view(c);
    const auth = await signAsHolder(p.sandbox, { ...v, certificate: 'auth' }, { person: people[0]! });
    expect(await post(c, auth)).toEqual({ status: 422, code: 'WRONG_KIND' });
  });

  it('malformed submissions', async () => {
    const c = await ceremony();
    const v = await view(c);
    expect(await post(c, { nonce: v.nonce, certificate: '!!!', signature: 'AA==' })).toMatchObject({ status: 400 });
    expect(
      await post(c, {
        nonce: v.nonce,
        certificate: Buffer.from('not a certificate').toString('base64'),
        signature: 'AAAA',
      }),
    ).toMatchObject({ status: 422, code: 'MALFORMED' });
  });

  it('a revoked signing certificate after a move; the new certificate then works', async () => {
    const person = people[2]!;
    const old = p.sandbox.currentCertificateRecord(person, 'sign', 'card');
    const oldKey = createPrivateKey(readFileSync(join(p.sandbox.dir, old.keyFile)));
    await p.sandbox.applyEvent(person, 'move');
    const c = await ceremony('identity');
    const v = await view(c);
    const signature = sign('sha256', Buffer.from(v.to_be_signed, 'base64url'), oldKey).toString('base64');
    const certificate = p.sandbox.certificateDer(old.issuerId, old.serial).toString('base64');
    expect(await post(c, { nonce: v.nonce, certificate, signature })).toEqual({ status: 422, code: 'REVOKED' });
    expect(await outcomes(c)).toEqual([{ outcome: 'rejected' }]);
    const retry = await ceremony('identity');
    expect((await holderRespond(p.sandbox, holderUrl(retry), { person })).status).toBe(200);
  });

  describe('OIDC', () => {
    const config = () =>
      oidc.discovery(new URL(p.server.url), rpA.clientId, undefined, oidc.ClientSecretBasic(rpA.clientSecret), {
        execute: [oidc.allowInsecureRequests],
      });

    it('PKCE is required', async () => {
      const c = await config();
      const url = oidc.buildAuthorizationUrl(c, { redirect_uri: REDIRECT, scope: 'openid', state: 's1' });
      const r = await new Browser().go(url.toString(), p.server.url);
      expect(r.external).toBe(true);
      expect(new URL(r.url).searchParams.get('error')).toBe('invalid_request');
      expect(new URL(r.url).searchParams.get('error_description')).toMatch(/PKCE/);
    });

    it('a redirect URI that is not registered gets an error page, never a redirect', async () => {
      const c = await config();
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: 'http://127.0.0.1:9/evil',
        scope: 'openid',
        state: 's',
        code_challenge: 'x'.repeat(43),
        code_challenge_method: 'S256',
      });
      const r = await new Browser().go(url.toString(), p.server.url);
      expect(r.external).toBe(false);
      expect(r.status).toBe(400);
      expect(r.body).toMatch(/redirect_uri/);
    });

    it('a wrong PKCE verifier and a reused code are refused', async () => {
      const flow = await startFlow(p, rpA.clientId, rpA.clientSecret);
      await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person: people[0]! });
      const callback = await finishFlow(p, flow);
      await expect(
        oidc.authorizationCodeGrant(flow.config, callback, {
          pkceCodeVerifier: oidc.randomPKCECodeVerifier(),
          expectedState: flow.state,
        }),
      ).rejects.toMatchObject({ error: 'invalid_grant' });
      // Only the holder of the verifier can redeem the code; once redeemed it cannot be used again.
      const tokens = await oidc.authorizationCodeGrant(flow.config, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      await expect(
        oidc.authorizationCodeGrant(flow.config, callback, {
          pkceCodeVerifier: flow.verifier,
          expectedState: flow.state,
        }),
      ).rejects.toMatchObject({ error: 'invalid_grant' });
      // Reuse revokes what the code issued.
      await expect(oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub)).rejects.toBeDefined();
    });

    it('the consent step cannot be reached without a verified ceremony', async () => {
      const flow = await startFlow(p, rpA.clientId, rpA.clientSecret);
      const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
      const early = await flow.browser.go(`${p.server.url}/interaction/${uid}/continue`, p.server.url);
      expect(early.external).toBe(false);
      expect(early.body).toMatch(/holder-link/); // back to the ceremony page
      const consent = await flow.browser.go(`${p.server.url}/interaction/${uid}/consent`, p.server.url, {
        method: 'POST',
        form: {},
      });
      expect(consent.external).toBe(false);
    });
  });
});
