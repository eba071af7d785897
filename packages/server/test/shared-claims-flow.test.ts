// Issue 18 §1 over real OIDC code flows: the ceremony page, the holder view (`shares`, the signed
// statement) and the consent page list exactly the claims the RP then receives in the ID token and
// userinfo; and the release never goes beyond the list the ceremony keeps.

import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_CLAIM, SHARED_CLAIM_NAMES, type SharedClaim } from '../src/oidc/claims.js';
import { createRelyingParty } from '../src/relying-parties.js';
import { listedClaims, receivedNames, statementNames } from './support/shared-claims.js';
import {
  REDIRECT,
  createTestSandbox,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type AuthorizationOptions,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let rp: { clientId: string; clientSecret: string };
beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  rp = await createRelyingParty(p.server.platform, {
    name: 'デモ銀行',
    redirectUris: [REDIRECT],
    framework: 'jp_aml',
    purpose: '口座開設の取引時確認',
  });
}, 120_000);
afterAll(async () => {
  await p?.close();
  sim?.remove();
});

/** A resident with a signing certificate on a card and a sex code of 1 or 2 (so the sex, when asked, is released). */
const adult = (): string =>
  p.sandbox
    .people()
    .find(
      (x) =>
        ['1', '2'].includes(x.sex) &&
        p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0,
    )!.id;

/** One authorization: every list the holder sees, and what the RP then receives. */
async function run(o: AuthorizationOptions, tamper?: (ceremonyId: string) => Promise<void>) {
  const flow = await startFlow(p, rp.clientId, rp.clientSecret, o);
  const view = (await (await fetch(holderLinkOf(flow.page.body))).json()) as {
    ceremony_id: string;
    kind: string;
    shares: { claim: SharedClaim; ja: string; en: string }[];
    statement?: string;
  };
  await tamper?.(view.ceremony_id);
  expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person: adult() })).status).toBe(200);
  const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
  const consent = await flow.browser.go(`${p.server.url}/interaction/${uid}/continue`, p.server.url);
  expect(consent.body).toMatch(/同意する/);
  const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
  const landed = await flow.browser.go(`${p.server.url}/interaction/${consentUid}/consent`, p.server.url, {
    method: 'POST',
    form: {},
  });
  const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(landed.url), {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
  const idToken = tokens.claims()! as Record<string, unknown>;
  const userinfo = (await oidc.fetchUserInfo(flow.config, tokens.access_token, String(idToken.sub))) as Record<
    string,
    unknown
  >;
  return {
    ceremonyPage: listedClaims(flow.page.body),
    holderView: view.shares.map((s) => s.claim),
    statement: view.statement === undefined ? undefined : statementNames(view.statement),
    consentPage: listedClaims(consent.body),
    received: receivedNames(idToken, userinfo),
    idToken,
    userinfo,
  };
}

const CASES: { name: string; o: AuthorizationOptions; expected: SharedClaim[] }[] = [
  {
    name: 'only the address',
    o: {
      claims: { userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { address: null } } } },
    },
    expected: ['address', 'sub', RECORD_CLAIM],
  },
  {
    name: 'name, address and date of birth with the evidence (犯収法)',
    o: {
      claims: {
        userinfo: {
          verified_claims: {
            verification: { trust_framework: null, time: null, verification_process: null, evidence: null },
            claims: { name: null, birthdate: null, address: null },
          },
        },
      },
    },
    expected: ['name', 'address', 'birthdate', 'evidence', 'sub', RECORD_CLAIM],
  },
  {
    name: 'the date of birth in the ID token, the sex in userinfo',
    o: {
      claims: {
        id_token: { verified_claims: { verification: { trust_framework: null }, claims: { birthdate: null } } },
        userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { gender: null } } },
      },
    },
    expected: ['birthdate', 'gender', 'sub', RECORD_CLAIM],
  },
  { name: 'the identity scope: everything', o: { scope: 'openid identity' }, expected: [...SHARED_CLAIM_NAMES] },
  {
    name: 'another trust framework: nothing verified',
    o: {
      claims: {
        userinfo: {
          verified_claims: { verification: { trust_framework: { value: 'jp_mpiupa' } }, claims: { name: null } },
        },
      },
    },
    expected: ['sub', RECORD_CLAIM],
  },
  { name: 'a login', o: {}, expected: ['sub', RECORD_CLAIM] },
];

describe('what is listed is what is received', () => {
  it.each(CASES)('$name', async ({ o, expected }) => {
    const r = await run(o);
    expect(r.received).toEqual(expected);
    expect(r.ceremonyPage).toEqual(expected);
    expect(r.holderView).toEqual(expected);
    expect(r.consentPage).toEqual(expected);
    if (r.statement) expect(r.statement).toEqual(expected);
    else expect(o.claims ?? o.scope).toBeUndefined(); // only a login signs no statement
  });

  it('nothing beyond the ceremony list leaves, whatever the token carries', async () => {
    // The request asks for everything; the ceremony's list (what the holder saw and signed) is the address.
    const r = await run({ scope: 'openid identity', claims: { id_token: { verified_claims: null } } }, async (id) => {
      await p.server.platform.db.query(
        `UPDATE ceremonies SET shares = '["address", "sub", "urn:kakunin:record"]' WHERE id = $1`,
        [id],
      );
    });
    expect(r.received).toEqual(['address', 'sub', RECORD_CLAIM]);
    expect(r.consentPage).toEqual(['address', 'sub', RECORD_CLAIM]);
    expect(r.userinfo.verified_claims).toEqual({
      verification: expect.not.objectContaining({ evidence: expect.anything() }),
      claims: { address: expect.any(Object) },
    });
    expect((r.idToken.verified_claims as { claims: object }).claims).toEqual({ address: expect.any(Object) });
  });

  it('a ceremony from before the list was kept (migration 13) releases what its request asks for, as before', async () => {
    const r = await run(CASES[1]!.o, async (id) => {
      await p.server.platform.db.query('UPDATE ceremonies SET shares = NULL WHERE id = $1', [id]);
    });
    expect(r.received).toEqual(CASES[1]!.expected);
    expect(r.consentPage).toEqual(CASES[1]!.expected);
  });

  it('the pages show the labels, Japanese or English', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, {
      claims: CASES[0]!.o.claims,
      extra: { ui_locales: 'en' },
    });
    expect(flow.page.body).toContain('<li data-claim="address">address</li>');
    expect(flow.page.body).not.toContain('data-claim="gender"');
    const ja = await startFlow(p, rp.clientId, rp.clientSecret, { claims: CASES[1]!.o.claims });
    expect(ja.page.body).toContain('<li data-claim="birthdate">生年月日</li>');
    expect(ja.page.body).not.toContain('性別');
  });
});
