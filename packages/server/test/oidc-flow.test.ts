// Real OIDC code flows with openid-client against a running sandbox platform, on PGlite and on
// PostgreSQL. The holder side is a sandbox resident's virtual card speaking the holder protocol.

import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelyingParty } from '../src/relying-parties.js';
import { ENGINES } from './support/databases.js';
import {
  REDIRECT,
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

const IDENTITY_CLAIMS = {
  userinfo: {
    verified_claims: {
      verification: { trust_framework: null, time: null, verification_process: null, evidence: null },
      claims: { name: null, birthdate: null, gender: null, address: null, 'urn:kakunin:jpki': null },
    },
  },
  id_token: { verified_claims: { verification: { trust_framework: null }, claims: { birthdate: null } } },
};

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

/** An adult resident with a signing certificate on a card. */
const adult = (p: TestPlatform): string =>
  p.sandbox.people().find((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)!
    .id;

describe.each(ENGINES)('OIDC code flows on %s', (engine) => {
  let p: TestPlatform;
  let rp: { clientId: string; clientSecret: string };
  let other: { clientId: string; clientSecret: string };
  beforeAll(async () => {
    p = await startTestPlatform(engine, sim.dir);
    rp = await createRelyingParty(p.server.platform, {
      name: 'はぴコイン',
      redirectUris: [REDIRECT],
      framework: 'jp_aml',
      purpose: 'ウォレット開設の本人確認',
    });
    other = await createRelyingParty(p.server.platform, {
      name: 'Other RP',
      redirectUris: [REDIRECT],
      tokenEndpointAuthMethod: 'client_secret_post',
    });
  }, 120_000);
  afterAll(async () => p?.close());

  it('advertises OIDC4IDA in discovery', async () => {
    const d = (await (await fetch(`${p.server.url}/.well-known/openid-configuration`)).json()) as Record<
      string,
      unknown
    >;
    expect(d.verified_claims_supported).toBe(true);
    expect(d.trust_frameworks_supported).toEqual(expect.arrayContaining(['jp_aml', 'jp_mpiupa']));
    expect(d.evidence_supported).toEqual(['electronic_signature']);
    expect(d.claims_in_verified_claims_supported).toEqual(
      expect.arrayContaining(['name', 'birthdate', 'gender', 'address']),
    );
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.subject_types_supported).toEqual(['pairwise']);
  });

  it('login: auth certificate, pairwise subject stable across logins and different per RP', async () => {
    const person = adult(p);
    const subs: string[] = [];
    for (const client of [rp, rp, other]) {
      const flow = await startFlow(p, client.clientId, client.clientSecret, {
        auth: client === other ? 'post' : 'basic',
      });
      expect(flow.page.body).toMatch(/id="holder-link"/);
      const answer = await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person });
      expect(answer).toMatchObject({ status: 200, body: { state: 'completed' } });
      const callback = await finishFlow(p, flow);
      const tokens = await oidc.authorizationCodeGrant(flow.config, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      const claims = tokens.claims()!;
      expect(claims.acr).toBe('urn:kakunin:jpki:auth');
      expect(claims.verified_claims).toBeUndefined();
      subs.push(claims.sub);
    }
    expect(subs[0]).toBe(subs[1]);
    expect(subs[2]).not.toBe(subs[0]);
    expect(subs[0]).not.toMatch(/^[0-9A-F]+$/); // never a certificate serial
  });

  it('the pairwise subject survives a card renewal (J-LIS linkage)', async () => {
    const person = p.sandbox
      .people()
      .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'auth', medium: 'card' }).length > 0)
      .at(-1)!.id;
    const login = async (): Promise<string> => {
      const flow = await startFlow(p, rp.clientId, rp.clientSecret);
      expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person })).status).toBe(200);
      const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      return tokens.claims()!.sub;
    };
    const before = await login();
    const oldSerial = p.sandbox.currentCertificateRecord(person, 'auth', 'card').serial;
    await p.sandbox.applyEvent(person, 'renew');
    expect(p.sandbox.currentCertificateRecord(person, 'auth', 'card').serial).not.toBe(oldSerial);
    expect(await login()).toBe(before);
  });

  it('a login (auth certificate) and an identity verification (signing certificate) of one person share the sub (証明書紐付け)', async () => {
    const person = p.sandbox
      .people()
      .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
      .at(-3)!.id;
    const run = async (claims?: unknown): Promise<string> => {
      const flow = await startFlow(p, rp.clientId, rp.clientSecret, claims ? { claims } : {});
      expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person })).status).toBe(200);
      const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
      });
      return tokens.claims()!.sub;
    };
    const identity = await run(IDENTITY_CLAIMS);
    const login = await run();
    expect(login).toBe(identity);
  });

  it('identity: signing certificate, verified_claims field by field in userinfo and ID token', async () => {
    const person = adult(p);
    const who = p.sandbox.person(person);
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, { claims: IDENTITY_CLAIMS });
    expect(flow.page.body).toMatch(/本人確認/);
    const view = (await (await fetch(holderLinkOf(flow.page.body))).json()) as {
      statement: string;
      certificate: string;
    };
    expect(view.certificate).toBe('sign');
    expect(view.statement).toContain('はぴコイン');
    expect(view.statement).toContain('ウォレット開設の本人確認');
    expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person })).status).toBe(200);
    const callback = await finishFlow(p, flow);
    const tokens = await oidc.authorizationCodeGrant(flow.config, callback, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const idToken = tokens.claims()!;
    expect(idToken.acr).toBe('urn:kakunin:jpki:sign');
    // ID token: only what was asked for there.
    expect(idToken.verified_claims).toEqual({
      verification: { trust_framework: 'jp_aml' },
      claims: { birthdate: who.birthDate },
    });
    const info = await oidc.fetchUserInfo(flow.config, tokens.access_token, idToken.sub);
    const vc = info.verified_claims as { verification: Record<string, unknown>; claims: Record<string, unknown> };
    expect(vc.verification.trust_framework).toBe('jp_aml');
    expect(vc.verification.verification_process).toMatch(/^rec_/);
    expect(Date.parse(String(vc.verification.time))).toBeGreaterThan(Date.now() - 60_000);
    const [evidence] = vc.verification.evidence as Record<string, unknown>[];
    const cert = p.sandbox.currentCertificateRecord(person, 'sign', 'card');
    expect(evidence).toMatchObject({
      type: 'electronic_signature',
      signature_type: 'jp_jpki',
      serial_number: cert.serial,
    });
    expect(String(evidence!.issuer)).toMatch(/JPKI-SIM/);
    expect(vc.claims.name).toBe(who.name);
    expect(vc.claims.birthdate).toBe(who.birthDate);
    expect(vc.claims.gender).toBe(({ '1': 'male', '2': 'female' } as Record<string, string>)[who.sex]);
    expect(vc.claims.address).toEqual({ formatted: who.address });
    expect(vc.claims['urn:kakunin:jpki']).toMatchObject({
      name: who.name,
      address: who.address,
      address_substitute: who.addressSubstitute,
    });
  });

  it('statement_detail: the RP content is part of the signed statement; control characters are refused', async () => {
    const person = adult(p);
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, {
      scope: 'openid identity',
      extra: { statement_detail: '口座開設申込書\n普通預金 / 生活費' },
    });
    const view = (await (await fetch(holderLinkOf(flow.page.body))).json()) as { statement: string };
    expect(view.statement).toContain('内容 / details:\n  口座開設申込書\n  普通預金 / 生活費');
    expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person })).status).toBe(200);
    const hostile = await startFlow(p, rp.clientId, rp.clientSecret, {
      scope: 'openid identity',
      extra: { statement_detail: 'pay 10\u202e00001' },
    }).catch((e: Error) => e);
    expect(hostile).toBeInstanceOf(Error); // the ceremony page is an error page (400), not a ceremony
  });

  it('identity with only some claims requested returns only those', async () => {
    const person = adult(p);
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, {
      claims: { userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { address: null } } } },
    });
    await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person });
    const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const info = await oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub);
    expect(info.verified_claims).toEqual({
      verification: { trust_framework: 'jp_aml' },
      claims: { address: { formatted: p.sandbox.person(person).address } },
    });
  });
});
