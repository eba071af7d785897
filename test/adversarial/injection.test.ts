// Adversarial catalogue — injection through user-controlled text (A65–A70). The name and address on a
// signing certificate are whatever the resident register holds (and, for a forger, anything); the
// RP's name and purpose are registration text. A resident of the simulator is renamed and moved so
// that their genuine card certificate carries HTML, SQL and My Numbers; they complete a real
// identity verification for an RP whose name and purpose are hostile too; then every place the text
// reaches is inspected.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { myNumberCheckDigit } from '@kakunin/card';
import { parseCertificate } from '@kakunin/jpki';
import { maskMyNumbers, verifyLog } from '@kakunin/server/records';
import type { RegisteredRelyingParty } from '@kakunin/server';
import { title } from './catalogue.js';
import {
  Browser,
  REDIRECT,
  holderLinkOf,
  holderRespond,
  startFlow,
  startHarness,
  type Flow,
  type Harness,
  type HolderView,
} from './support/platform.js';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '<img src=x onerror=alert(2)>';
const SQL = `'; DROP TABLE records; --`;
const FORMULA = '=HYPERLINK("http://evil.example/","open")';
const withCheckDigit = (first11: string): string => `${first11}${myNumberCheckDigit(first11)}`;
/** A valid My Number, ASCII; and another, full-width and grouped 4-4-4 with U+3000. */
const MY_NUMBER = withCheckDigit('12345678901');
const MY_NUMBER_2 = withCheckDigit('98765432109');
const FULL_WIDTH = MY_NUMBER_2.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)).replace(
  /^(.{4})(.{4})(.{4})$/,
  '$1\u3000$2\u3000$3',
);
const NAME = `${FORMULA}${SCRIPT}\u3000${SQL}\u3000${FULL_WIDTH}`;
const ADDRESS = `東京都千代田区${IMG}１－１ "${SQL} 番号${MY_NUMBER}`;
const RP_NAME = '<script>alert("rp")</script> はぴコイン';
const RP_PURPOSE = `${IMG} 口座開設 '; DROP TABLE relying_parties; --`;

const CLAIMS = {
  userinfo: {
    verified_claims: {
      verification: { trust_framework: null, evidence: null },
      claims: { name: null, address: null, 'urn:kakunin:jpki': null },
    },
  },
  id_token: { verified_claims: { verification: { trust_framework: null }, claims: { name: null, address: null } } },
};

let h: Harness;
let rp: RegisteredRelyingParty;
let person: string;
let flow: Flow;
let ceremonyId: string;
let consentHtml: string;
let recordId: string;
let payload: Record<string, unknown>;
let userinfoText: string;
let idTokenClaims: Record<string, unknown>;
let admin: Browser;

beforeAll(async () => {
  h = await startHarness();
  rp = await h.createRp({ name: RP_NAME, purpose: RP_PURPOSE });
  person = h.signers[0]!;
  const who = h.p.sandbox.person(person);
  await h.p.sandbox.applyEvent(person, 'rename', { name: NAME });
  await h.p.sandbox.applyEvent(person, 'move', { address: ADDRESS, municipalityCode: who.municipalityCode });
  const cert = parseCertificate(h.p.sandbox.currentCertificate(person, 'sign'));
  expect(cert.basic4).toMatchObject({ name: NAME, address: ADDRESS });

  // The identity verification, as a browser and a holder would do it.
  flow = await startFlow(h.p, rp.clientId, rp.clientSecret, { claims: CLAIMS });
  const link = holderLinkOf(flow.page.body);
  ceremonyId = link.split('/').pop()!;
  expect((await holderRespond(h.p.sandbox, link, { person })).status).toBe(200);
  const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
  const consent = await flow.browser.go(`${h.p.server.url}/interaction/${uid}/continue`, h.p.server.url);
  consentHtml = consent.body;
  const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
  const landed = await flow.browser.go(`${h.p.server.url}/interaction/${consentUid}/consent`, h.p.server.url, {
    method: 'POST',
    form: {},
  });
  const callback = new URL(landed.url);
  expect(callback.origin + callback.pathname).toBe(REDIRECT);
  const tokens = await oidc.authorizationCodeGrant(flow.config, callback, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
  idTokenClaims = tokens.claims()! as Record<string, unknown>;
  const info = await fetch(flow.config.serverMetadata().userinfo_endpoint!, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  expect(info.headers.get('content-type')).toMatch(/^application\/json/);
  userinfoText = await info.text();

  const [row] = await h.p.server.platform.db.query<{ id: string; outcome: string; payload: Record<string, unknown> }>(
    'SELECT id, outcome, payload FROM records WHERE ceremony_id = $1',
    [ceremonyId],
  );
  expect(row?.outcome).toBe('verified');
  recordId = row!.id;
  payload = row!.payload;

  admin = new Browser();
  const signedIn = await admin.request(`${h.p.server.url}/admin/login`, {
    method: 'POST',
    form: { token: h.p.server.adminToken },
  });
  expect(signedIn.status).toBe(303);
}, 180_000);
afterAll(async () => h?.close());

const basic4Of = (p: Record<string, unknown>): { name: string; address: string } =>
  p.identity as { name: string; address: string };

/** No markup of the attack survives in a page: only its escaped form. */
function expectEscaped(html: string, raw: string): void {
  expect(html).not.toContain(raw);
  expect(html).not.toMatch(/<script>alert|<img[^>]*onerror/i);
}

const page = async (path: string): Promise<string> => {
  const r = await admin.go(`${h.p.server.url}${path}`, h.p.server.url);
  expect(r.status).toBe(200);
  return r.body;
};

describe('injection through certificate and registration text', () => {
  it(title('A65'), async () => {
    const detail = await page(`/admin/records/${recordId}`);
    expect(detail).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(detail).toContain('&lt;img src=x onerror=alert(2)&gt;');
    expectEscaped(detail, SCRIPT);
    expectEscaped(detail, IMG);
    const list = await page(`/admin/records?rp=${encodeURIComponent(rp.clientId)}`);
    expectEscaped(list, SCRIPT);
    expectEscaped(list, RP_NAME);
    expectEscaped(await page('/admin/rps'), RP_NAME);
    // The CSV export neutralises the spreadsheet formula at the start of the name.
    const csv = await fetch(
      `${h.p.server.url}/admin/v1/records/export?format=csv&rp=${encodeURIComponent(rp.clientId)}`,
      { headers: { authorization: `Bearer ${h.p.server.adminToken}` } },
    );
    const text = await csv.text();
    expect(text).toContain(`'=HYPERLINK(`);
    expect(text).not.toMatch(/(^|,)"?=HYPERLINK/m);
  });

  it(title('A66'), async () => {
    const db = h.p.server.platform.db;
    // Stored as data, byte for byte; nothing was executed.
    expect(basic4Of(payload).name).toContain(SQL);
    expect(basic4Of(payload).address).toContain(`"${SQL}`);
    expect(payload.purpose).toBe(RP_PURPOSE);
    expect((payload.rp as { name: string }).name).toBe(RP_NAME);
    const [{ n }] = (await db.query<{ n: string }>('SELECT count(*)::text AS n FROM records')) as [{ n: string }];
    expect(Number(n)).toBeGreaterThan(0);
    expect(
      (await db.query<{ name: string }>('SELECT name FROM relying_parties WHERE client_id = $1', [rp.clientId]))[0]
        ?.name,
    ).toBe(RP_NAME);
    expect((await verifyLog(db, { key: h.p.server.platform.recordsLog.verifierKey })).ok).toBe(true);
  });

  it(title('A67'), async () => {
    const stored = JSON.stringify(payload);
    expect(stored).not.toContain(MY_NUMBER);
    expect(stored).not.toContain(FULL_WIDTH);
    expect(maskMyNumbers(stored).masked).toBe(0);
    // Masked in place (the rest of the text is kept).
    expect(basic4Of(payload).address).toBe(ADDRESS.replace(MY_NUMBER, '*'.repeat(12)));
    expect(basic4Of(payload).name).toBe(NAME.replace(FULL_WIDTH, '*'.repeat(FULL_WIDTH.length)));
    // Nor in what the admin console and the admin API show of the record.
    const detail = await page(`/admin/records/${recordId}`);
    expect(detail).not.toContain(MY_NUMBER);
    expect(detail).not.toContain(FULL_WIDTH);
    const api = await (
      await fetch(`${h.p.server.url}/admin/v1/records/${recordId}`, {
        headers: { authorization: `Bearer ${h.p.server.adminToken}` },
      })
    ).text();
    expect(api).not.toContain(MY_NUMBER);
    expect(api).not.toContain(FULL_WIDTH);
  });

  it(title('A68'), async () => {
    // The ceremony page (QR code and holder link) and the consent page show the RP's name and purpose.
    for (const html of [flow.page.body, consentHtml]) {
      expect(html).toContain('&lt;script&gt;alert(&quot;rp&quot;)&lt;/script&gt; はぴコイン');
      expect(html).toContain('&lt;img src=x onerror=alert(2)&gt; 口座開設');
      expectEscaped(html, RP_NAME);
      expectEscaped(html, IMG);
      // The certificate's text is not on these pages at all.
      expect(html).not.toContain('HYPERLINK');
    }
    expect(consentHtml).toMatch(/同意する/);
    // The holder app gets the same text as JSON data, to display as text.
    const res = await fetch(h.holderUrl(ceremonyId));
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const view = (await res.json()) as HolderView;
    expect(view.rp.name).toBe(RP_NAME);
    expect(view.purpose).toBe(RP_PURPOSE);
    expect(view.statement).toContain(`依頼者 / requested by: ${RP_NAME} (${rp.clientId})`);
  });

  // A69 checks the HTML, SQL and formula text; whether a My Number in the same fields reaches the RP is A72.
  it(title('A69'), async () => {
    const info = JSON.parse(userinfoText) as {
      verified_claims: {
        claims: { name: string; address: { formatted: string }; 'urn:kakunin:jpki': { name: string; address: string } };
      };
    };
    const claims = info.verified_claims.claims;
    for (const [name, address] of [
      [claims.name, claims.address.formatted],
      [claims['urn:kakunin:jpki'].name, claims['urn:kakunin:jpki'].address],
    ] as const) {
      expect(name.startsWith(`${FORMULA}${SCRIPT}\u3000${SQL}\u3000`)).toBe(true);
      expect(address).toContain(`${IMG}１－１ "${SQL}`);
    }
    const idClaims = (idTokenClaims.verified_claims as { claims: { name: string } }).claims;
    expect(idClaims.name.startsWith(`${FORMULA}${SCRIPT}`)).toBe(true);
  });

  it(title('A70'), async () => {
    const db = h.p.server.platform.db;
    const before = Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM records'))[0]!.n);
    for (const rpFilter of [`' OR '1'='1`, `x'; DROP TABLE records; --`, `${rp.clientId}' OR 1=1 --`]) {
      const api = await fetch(`${h.p.server.url}/admin/v1/records?rp=${encodeURIComponent(rpFilter)}`, {
        headers: { authorization: `Bearer ${h.p.server.adminToken}` },
      });
      expect(api.status).toBe(200);
      expect(await api.json()).toEqual([]);
      const html = await page(`/admin/records?rp=${encodeURIComponent(rpFilter)}`);
      expect(html).not.toContain(recordId);
    }
    expect(Number((await db.query<{ n: string }>('SELECT count(*)::text AS n FROM records'))[0]!.n)).toBe(before);
    expect((await verifyLog(db, { key: h.p.server.platform.recordsLog.verifierKey })).ok).toBe(true);
  });

  it(title('A71'), async () => {
    // Kept in the database (ceremonies.result) until the ceremony is purged, to build the claims.
    const [row] = await h.p.server.platform.db.query<{ result: unknown }>(
      'SELECT result FROM ceremonies WHERE id = $1',
      [ceremonyId],
    );
    const stored = JSON.stringify(row?.result);
    expect(stored).toContain('DROP TABLE records');
    expect(stored).not.toContain(MY_NUMBER);
    expect(stored).not.toContain(FULL_WIDTH);
    expect(maskMyNumbers(stored).masked).toBe(0);
  });

  it(title('A72'), async () => {
    expect(userinfoText).toContain('DROP TABLE records');
    for (const text of [userinfoText, JSON.stringify(idTokenClaims)]) {
      expect(text).not.toContain(MY_NUMBER);
      expect(text).not.toContain(FULL_WIDTH);
      expect(maskMyNumbers(text).masked).toBe(0);
    }
  });
});
