// The digital ID credential between the municipal portal and the reference wallet, against a real
// sandbox platform: "add to your wallet" on the portal's ID card page (a credential offer of that
// verification, redeemed by `kakunin wallet accept`), then the library and the taxi asking the wallet
// (OpenID4VP, DCQL) for prefecture code 18 and 18 or over only — cross-device (the page's QR request)
// and same-device (its link and the wallet's redirect_uri) — with `kakunin wallet present`. Then the
// presentations an attacker would build, each refused by the portal's verifier with a typed error
// (V01–V11, listed in test/adversarial/FINDINGS.md).

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { issueSdJwtVc, parseSdJwt, verifySdJwtVc, verifyStatusListToken, type PrivateKey } from '@kakunin/sd-jwt';
import { platformSecrets } from '@kakunin/server/testing';
import { ASKED, MUNICIPAL_RP, startMunicipal, type PortalState } from '../municipal/index.js';
import {
  disclosuresFor,
  handMadeDisclosure,
  kakunin,
  presentation,
  redeemOffer,
  type HeldCredential,
} from './digital-id-support.js';
import {
  attr,
  residents,
  runMonitor,
  startDemo,
  startPlatform,
  testid,
  Visitor,
  type Harness,
  type Page,
  type RunningTestDemo,
} from './support.js';

const ASKED_PATHS = ASKED.map((a) => [...a.path]);
const ONLY_ASKED = { address: { prefecture_code: '18' }, age_equal_or_over: { '18': true } };

let h: Harness;
let portal: RunningTestDemo;
let walletDir: string;
let statusServer: Server | undefined;
beforeAll(async () => {
  h = await startPlatform();
  portal = await startDemo(h, MUNICIPAL_RP, startMunicipal);
  walletDir = mkdtempSync(join(tmpdir(), 'kakunin-wallet-'));
}, 120_000);
afterAll(async () => {
  statusServer?.close();
  await portal?.close();
  await h?.close();
  if (walletDir) rmSync(walletDir, { recursive: true, force: true });
});

const ageOf = (birth: string): number => {
  const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
  return Number(today.slice(0, 4)) - Number(birth.slice(0, 4)) - (today.slice(5) < birth.slice(5) ? 1 : 0);
};
/** Adults with a signing certificate, 18 or over today. */
const adults = (where: 'fukui' | 'elsewhere') =>
  residents(h.p, where).filter((id) => ageOf(h.p.sandbox.person(id).birthDate) >= 18);

/** Signs in at the portal (authentication certificate), then verifies for the ID card: the page with the offer. */
async function idCardWithOffer(person: string): Promise<{ visitor: Visitor; page: Page }> {
  const visitor = new Visitor(h);
  const home = await visitor.go(portal.demo.url);
  await visitor.ceremony(await visitor.submit(home, 'login-form'), person, 'auth');
  const none = await visitor.go(`${portal.demo.url}/id-card`);
  const page = await visitor.ceremony(await visitor.submit(none, 'issue-id-card-form'), person, 'sign');
  expect(page.url).toBe(`${portal.demo.url}/id-card`);
  return { visitor, page };
}

/** A new presentation request of a fresh browser (no login): its page and the openid4vp:// link. */
async function newRequest(service: 'library' | 'taxi' = 'library') {
  const visitor = new Visitor(h);
  const start = await visitor.go(`${portal.demo.url}/verify/${service}`);
  expect(testid(start.body, 'asked')).toMatch(/福井県在住[\s\S]*18歳以上/);
  const page = await visitor.submit(start, 'start-presentation-form');
  expect(page.url).toMatch(new RegExp(`^${portal.demo.url}/presentations/[\\w-]+$`));
  const link = attr(page.body, 'presentation-link', 'href')!;
  return { visitor, page, link, params: new URL(link).searchParams };
}

/** Posts a vp_token to the request's response URI, as a wallet would (direct_post). */
async function post(params: URLSearchParams, presented: string | Record<string, unknown>) {
  const vpToken = typeof presented === 'string' ? { resident: [presented] } : presented;
  const res = await fetch(params.get('response_uri')!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ vp_token: JSON.stringify(vpToken), state: params.get('state')! }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

/** A refusal: HTTP 400 with the code for the wallet, and the same code in words on the request's page. */
async function expectRefused(r: Awaited<ReturnType<typeof newRequest>>, presented: string, code: string) {
  const kept = storedPresentations().length;
  const answer = await post(r.params, presented);
  expect(answer, JSON.stringify(answer.body)).toMatchObject({ status: 400, body: { error: 'invalid_request', code } });
  expect(storedPresentations().length).toBe(kept);
  const page = await r.visitor.go(r.page.url);
  expect(attr(page.body, 'presentation-error', 'data-code')).toBe(code);
  expect(testid(page.body, 'presentation-error')!.length).toBeGreaterThan(10);
  expect(page.body).not.toContain('data-testid="presentation-result"');
}

const storedPresentations = (): NonNullable<PortalState['presentations']> =>
  (JSON.parse(readFileSync(join(portal.dataDir, 'municipal.json'), 'utf8')) as PortalState).presentations ?? [];

describe('the digital ID credential: the portal offers it, its services verify it (OpenID4VP)', () => {
  let resident: string;

  it('"add to your wallet": the ID card page shows the offer of that verification; kakunin wallet accept redeems it', async () => {
    [resident] = adults('fukui') as [string];
    const { page } = await idCardWithOffer(resident);
    const who = h.p.sandbox.person(resident);
    // The portal's own card is still issued from verified_claims.
    expect(testid(page.body, 'id-name')).toBe(who.name);
    expect(page.body).toContain('data-testid="wallet-offer"');
    expect(page.body).toMatch(/data-testid="offer-qr"[^>]*><svg/);
    const offer = attr(page.body, 'offer-link', 'href')!;
    expect(offer).toMatch(/^openid-credential-offer:\/\/\?credential_offer=/);
    expect(Date.parse(attr(page.body, 'offer-expires-at', 'data-value')!) - Date.now()).toBeGreaterThan(500_000);

    const accepted = await kakunin(['wallet', 'accept', offer, '--wallet', walletDir, '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    const got = JSON.parse(accepted.stdout) as {
      claims: { name: string; address: { prefecture_code: string }; age_equal_or_over: Record<string, boolean> };
    };
    expect(got.claims.name).toBe(who.name);
    expect(got.claims.address.prefecture_code).toBe('18');
    expect(got.claims.age_equal_or_over['18']).toBe(true);
    // Single use.
    expect((await kakunin(['wallet', 'accept', offer, '--wallet', walletDir])).code).not.toBe(0);
  }, 60_000);

  it('library, cross-device: the QR request → kakunin wallet present → the page shows the result; only the two asked claims reach the portal', async () => {
    const r = await newRequest('library');
    expect(attr(r.page.body, 'presentation-status', 'data-status')).toBe('pending');
    expect(r.page.body).toMatch(/data-testid="presentation-qr"[^>]*><svg/);
    // The request by value (OpenID4VP 1.0): redirect_uri: client identifier, direct_post, DCQL.
    const responseUri = `${portal.demo.url}/openid4vp/response`;
    expect(r.link.startsWith('openid4vp://?')).toBe(true);
    expect(Object.fromEntries(r.params)).toMatchObject({
      client_id: `redirect_uri:${responseUri}`,
      response_type: 'vp_token',
      response_mode: 'direct_post',
      response_uri: responseUri,
    });
    expect(r.params.get('nonce')!.length).toBeGreaterThanOrEqual(32);
    expect(JSON.parse(r.params.get('dcql_query')!)).toEqual({
      credentials: [
        {
          id: 'resident',
          format: 'dc+sd-jwt',
          meta: { vct_values: [`${h.p.server.url}/credentials/types/jp-resident`] },
          claims: [
            { path: ['address', 'prefecture_code'], values: ['18'] },
            { path: ['age_equal_or_over', '18'], values: [true] },
          ],
        },
      ],
    });

    const presented = await kakunin(['wallet', 'present', r.link, '--wallet', walletDir, '--yes', '--json']);
    expect(presented.code, presented.stderr).toBe(0);
    // The holder was told to whom and what, and nothing else.
    expect(presented.stderr).toContain(`client_id redirect_uri:${responseUri}`);
    expect(presented.stderr).toContain('address.prefecture_code = "18"');
    expect(presented.stderr).toContain('age_equal_or_over.18 = true');
    const out = JSON.parse(presented.stdout) as { redirect_uri: string; disclosed: { claims: { path: string[] }[] }[] };
    expect(out.disclosed[0]!.claims.map((c) => c.path.join('.'))).toEqual([
      'address.prefecture_code',
      'age_equal_or_over.18',
    ]);
    expect(out.redirect_uri).toMatch(new RegExp(`^${r.page.url}\\?response_code=`));

    // The browser that asked (it polls) now sees the result, in both languages.
    const done = await r.visitor.go(r.page.url);
    expect(testid(done.body, 'presentation-result')).toBe('福井県在住・18歳以上を確認しました');
    expect(testid(done.body, 'received-prefecture-code')).toBe('18');
    expect(testid(done.body, 'received-age-18')).toBe('はい');
    expect(testid((await r.visitor.go(`${r.page.url}?lang=en`)).body, 'presentation-result')).toBe(
      'Confirmed: lives in Fukui, 18 or over',
    );
    // What the portal kept and showed: the two asked claims, never a name, an address or a birthdate.
    const who = h.p.sandbox.person(resident);
    for (const secret of [who.name, who.address, who.birthDate]) expect(done.body).not.toContain(secret);
    const stored = storedPresentations();
    expect(stored.at(-1)).toMatchObject({ service: 'library', disclosed: ONLY_ASKED });
    expect(Object.keys(stored.at(-1)!.disclosed).sort()).toEqual(['address', 'age_equal_or_over']);
    expect(JSON.stringify(stored)).not.toContain(who.name);
    // Another browser does not see it.
    expect((await new Visitor(h).go(r.page.url)).status).toBe(404);
  }, 60_000);

  it('taxi, same-device: the link → kakunin wallet present → its redirect_uri brings the browser back to the result', async () => {
    const r = await newRequest('taxi');
    const presented = await kakunin(['wallet', 'present', r.link, '--wallet', walletDir, '--yes']);
    expect(presented.code, presented.stderr).toBe(0);
    const redirect = /^redirect_uri: (\S+)$/m.exec(presented.stdout)![1]!;
    const back = await r.visitor.go(redirect);
    expect(testid(back.body, 'presentation-result')).toBe('福井県在住・18歳以上を確認しました');
    expect(testid(back.body, 'service-status')).toMatch(/住民割引/);
    expect(storedPresentations().at(-1)).toMatchObject({ service: 'taxi', disclosed: ONLY_ASKED });
    // The response code is the browser's proof; a wrong one shows nothing.
    expect((await new Visitor(h).go(redirect.replace(/response_code=.*/, 'response_code=x'))).status).toBe(404);
  }, 60_000);

  it('kakunin wallet present refuses what it cannot honour, with typed errors', async () => {
    const r = await newRequest('library');
    const variant = (edit: (p: URLSearchParams) => void): string => {
      const p = new URLSearchParams(r.params);
      edit(p);
      return `openid4vp://?${p.toString()}`;
    };
    const asks13 = variant((p) => p.set('dcql_query', p.get('dcql_query')!.replace('["18"]', '["13"]')));
    const noNonce = variant((p) => p.delete('nonce'));
    const jwtMode = variant((p) => p.set('response_mode', 'direct_post.jwt'));
    const runs = await Promise.all(
      [asks13, noNonce, jwtMode].map((link) => kakunin(['wallet', 'present', link, '--wallet', walletDir, '--yes'])),
    );
    expect(runs.map((x) => x.code)).toEqual([1, 1, 1]);
    expect(runs[0]!.stderr).toMatch(/no credential in the wallet answers .*\[NO_MATCHING_CREDENTIAL\]/);
    expect(runs[1]!.stderr).toMatch(/no nonce.*\[NO_NONCE\]/);
    expect(runs[2]!.stderr).toMatch(/direct_post\.jwt.*\[UNSUPPORTED_RESPONSE_MODE\]/);
    // Nothing was posted: the request still waits.
    expect(attr((await r.visitor.go(r.page.url)).body, 'presentation-status', 'data-status')).toBe('pending');
  }, 60_000);
});

describe('the portal verifier refuses forged, replayed, misbound, expired and revoked presentations', () => {
  /** Credentials the test holds with their keys: a Fukui resident's and another prefecture's. */
  let fukui: HeldCredential;
  let other: HeldCredential;
  let fukuiPerson: string;
  let issuerKey: { key: PrivateKey; kid: string };
  let audience: string;

  beforeAll(async () => {
    [, fukuiPerson] = adults('fukui') as [string, string];
    const [elsewhere] = adults('elsewhere') as [string];
    const offers = await Promise.all(
      [fukuiPerson, elsewhere].map(async (who) => attr((await idCardWithOffer(who)).page.body, 'offer-link', 'href')!),
    );
    [fukui, other] = (await Promise.all(offers.map(redeemOffer))) as [HeldCredential, HeldCredential];
    expect(parseSdJwt(other.sdJwt).disclosures.some((d) => d.name === 'prefecture_code' && d.value !== '18')).toBe(
      true,
    );
    const { credentialJwks } = await platformSecrets(h.p.server.platform.db, h.p.server.platform.masterKey);
    const jwk = credentialJwks[0] as JWK;
    issuerKey = { key: (await importJWK(jwk, 'ES256')) as PrivateKey, kid: String(jwk.kid) };
    audience = `redirect_uri:${portal.demo.url}/openid4vp/response`;
  }, 120_000);

  const honest = (r: { params: URLSearchParams }, held: HeldCredential) =>
    presentation(held.sdJwt, disclosuresFor(held.sdJwt, ASKED_PATHS), {
      key: held.key,
      audience,
      nonce: r.params.get('nonce')!,
    });

  it('V01 a tampered disclosure (another prefecture edited to 18) → DISCLOSURE_NOT_REFERENCED', async () => {
    const r = await newRequest();
    const disclosures = disclosuresFor(other.sdJwt, ASKED_PATHS).map((d) =>
      d.name === 'prefecture_code' ? handMadeDisclosure(d.salt, 'prefecture_code', '18') : d,
    );
    const forged = await presentation(other.sdJwt, disclosures, {
      key: other.key,
      audience,
      nonce: r.params.get('nonce')!,
    });
    await expectRefused(r, forged, 'DISCLOSURE_NOT_REFERENCED');
  });

  it('V02 a disclosure swapped in from another credential → DISCLOSURE_NOT_REFERENCED', async () => {
    const r = await newRequest();
    const borrowed = disclosuresFor(fukui.sdJwt, [['address', 'prefecture_code']]).find(
      (d) => d.name === 'prefecture_code',
    )!;
    const disclosures = disclosuresFor(other.sdJwt, ASKED_PATHS).map((d) =>
      d.name === 'prefecture_code' ? borrowed : d,
    );
    const forged = await presentation(other.sdJwt, disclosures, {
      key: other.key,
      audience,
      nonce: r.params.get('nonce')!,
    });
    await expectRefused(r, forged, 'DISCLOSURE_NOT_REFERENCED');
  });

  it('V03 a disclosure whose digest is in no _sd → DISCLOSURE_NOT_REFERENCED', async () => {
    const r = await newRequest();
    const disclosures = [
      ...disclosuresFor(fukui.sdJwt, ASKED_PATHS),
      handMadeDisclosure('c2FsdHNhbHQ', 'resident_of', 'Fukui'),
    ];
    const forged = await presentation(fukui.sdJwt, disclosures, {
      key: fukui.key,
      audience,
      nonce: r.params.get('nonce')!,
    });
    await expectRefused(r, forged, 'DISCLOSURE_NOT_REFERENCED');
  });

  it('V04 more disclosed than asked (the name too) → OVER_DISCLOSED', async () => {
    const r = await newRequest();
    const disclosures = disclosuresFor(fukui.sdJwt, [...ASKED_PATHS, ['name']]);
    const more = await presentation(fukui.sdJwt, disclosures, {
      key: fukui.key,
      audience,
      nonce: r.params.get('nonce')!,
    });
    await expectRefused(r, more, 'OVER_DISCLOSED');
  });

  it('V05, V06 a replayed presentation: to the same request → NONCE_ALREADY_USED; to a new one → KB_NONCE_MISMATCH', async () => {
    const first = await newRequest();
    const genuine = await honest(first, fukui);
    expect((await post(first.params, genuine)).status).toBe(200);
    expect(await post(first.params, genuine)).toMatchObject({ status: 400, body: { code: 'NONCE_ALREADY_USED' } });
    // The first request keeps its result.
    expect(testid((await first.visitor.go(first.page.url)).body, 'presentation-result')).toMatch(/福井県在住/);
    await expectRefused(await newRequest(), genuine, 'KB_NONCE_MISMATCH');
  });

  it('V07 a presentation made for another verifier (audience) → KB_AUDIENCE_MISMATCH', async () => {
    const r = await newRequest();
    const elsewhere = await presentation(fukui.sdJwt, disclosuresFor(fukui.sdJwt, ASKED_PATHS), {
      key: fukui.key,
      audience: 'redirect_uri:https://other-verifier.example/openid4vp/response',
      nonce: r.params.get('nonce')!,
    });
    await expectRefused(r, elsewhere, 'KB_AUDIENCE_MISMATCH');
  });

  it('V08 a key binding JWT signed with another key than cnf → KB_BAD_SIGNATURE', async () => {
    const r = await newRequest();
    const { privateKey } = await generateKeyPair('ES256');
    const stolen = await presentation(fukui.sdJwt, disclosuresFor(fukui.sdJwt, ASKED_PATHS), {
      key: privateKey,
      audience,
      nonce: r.params.get('nonce')!,
    });
    await expectRefused(r, stolen, 'KB_BAD_SIGNATURE');
  });

  /** A credential signed by the platform's own issuer key, with the claims of `fukui` and `o`'s changes. */
  async function reissued(o: {
    iat: number;
    exp: number;
    status: { idx: number; uri: string };
  }): Promise<HeldCredential> {
    const { claims } = await verifySdJwtVc(fukui.sdJwt, {
      keys: ((await (await fetch(`${h.p.server.url}/.well-known/jwt-vc-issuer`)).json()) as { jwks: { keys: JWK[] } })
        .jwks,
    });
    const { iss: _i, iat: _a, exp: _e, vct, cnf: _c, status: _s, ...own } = claims;
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    const { sdJwt } = await issueSdJwtVc({
      issuer: h.p.server.url,
      vct: String(vct),
      claims: own,
      holderJwk: jwk,
      ...o,
      signingKey: issuerKey.key,
      kid: issuerKey.kid,
    });
    return { sdJwt, key: privateKey, jwk };
  }

  it('V09 an expired credential (genuinely signed, exp in the past) → EXPIRED', async () => {
    const now = Math.floor(Date.now() / 1000);
    const status = verifiedStatus(fukui.sdJwt);
    const old = await reissued({ iat: now - 400 * 86400, exp: now - 86400, status });
    const r = await newRequest();
    await expectRefused(r, await honest(r, old), 'EXPIRED');
  });

  it('V10 a status list token whose signature does not verify (a forged list served instead) → STATUS_LIST_BAD_SIGNATURE', async () => {
    // The platform's genuine token for this credential's list, its payload edited, its signature kept.
    const genuine = verifiedStatus(fukui.sdJwt);
    const token = (await (await fetch(genuine.uri)).text()).trim();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    statusServer = createServer((_req, res) => {
      const uri = `http://127.0.0.1:${(statusServer!.address() as AddressInfo).port}/status`;
      const edited = { ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: uri };
      res
        .writeHead(200, { 'content-type': 'application/statuslist+jwt' })
        .end(`${header}.${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${signature}`);
    });
    await new Promise<void>((resolve) => statusServer!.listen(0, '127.0.0.1', resolve));
    const port = (statusServer.address() as AddressInfo).port;
    const now = Math.floor(Date.now() / 1000);
    const listed = await reissued({
      iat: now,
      exp: now + 86400,
      status: { idx: genuine.idx, uri: `http://127.0.0.1:${port}/status` },
    });
    const r = await newRequest();
    await expectRefused(r, await honest(r, listed), 'STATUS_LIST_BAD_SIGNATURE');
  });

  it('V11 a revoked credential (the holder moved; a monitor pass) → REVOKED', async () => {
    const status = verifiedStatus(fukui.sdJwt);
    await h.p.sandbox.applyEvent(fukuiPerson, 'move', { municipalityCode: '18201' });
    await runMonitor(h);
    const keys = (
      (await (await fetch(`${h.p.server.url}/.well-known/jwt-vc-issuer`)).json()) as { jwks: { keys: JWK[] } }
    ).jwks;
    for (const deadline = Date.now() + 20_000; ;) {
      const token = await (await fetch(status.uri)).text();
      const { list } = await verifyStatusListToken(token, { keys, uri: status.uri });
      if (list.get(status.idx) === 1) break;
      if (Date.now() > deadline) throw new Error('the status list never turned invalid');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const r = await newRequest();
    await expectRefused(r, await honest(r, fukui), 'REVOKED');
  });
});

/** The status reference of a credential (its issuer-signed payload). */
function verifiedStatus(sdJwt: string): { idx: number; uri: string } {
  const { status } = parseSdJwt(sdJwt).payload as { status: { status_list: { idx: number; uri: string } } };
  return status.status_list;
}
