// The holder link opened in a browser: `GET /holder/v1/ceremonies/{id}` keeps answering apps and
// agents with the holder protocol's JSON (Accept: application/json, */*, or none), and a browser
// (text/html without application/json) gets a page in ja/en saying what the link is for, that no app
// answered, and how to finish on this computer — for a pending, a finished and an unknown ceremony.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelyingParty } from '../src/relying-parties.js';
import {
  REDIRECT,
  createTestSandbox,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let rp: { clientId: string; clientSecret: string };

beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  rp = await createRelyingParty(p.server.platform, {
    name: 'リンク<銀行>',
    redirectUris: [REDIRECT],
    framework: 'jp_aml',
    purpose: '口座開設の本人確認',
  });
}, 180_000);

afterAll(async () => {
  await p?.close();
  sim?.remove();
});

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const text = (html: string): string =>
  html
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');

describe('the holder link', () => {
  it('answers apps with the same JSON as before: Accept application/json, */* or none', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const link = holderLinkOf(flow.page.body);
    const bodies: unknown[] = [];
    for (const accept of ['application/json', '*/*', undefined, 'text/html, application/json']) {
      const res = await fetch(link, { headers: accept ? { accept } : {} });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('vary')).toMatch(/Accept/);
      bodies.push(await res.json());
    }
    expect(bodies[0]).toMatchObject({
      protocol: 'kakunin-holder/1',
      kind: 'login',
      state: 'pending',
      rp: { client_id: rp.clientId },
    });
    for (const b of bodies.slice(1)) expect(b).toEqual(bodies[0]);
    // An unknown ceremony is the protocol's JSON error for an app.
    const missing = await fetch(link.replace(/cer_[A-Za-z0-9_-]+$/, 'cer_AAAAAAAAAAAAAAAAAAAAAA'), {
      headers: { accept: 'application/json' },
    });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('CEREMONY_NOT_FOUND');
  });

  it('shows a browser what the link is for and how to finish on this computer (ja by default, en by Accept-Language or ?lang=)', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, {
      claims: { userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { name: null } } } },
    });
    const link = holderLinkOf(flow.page.body);
    const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;

    const ja = await fetch(link, { headers: { accept: BROWSER, 'accept-language': 'ja-JP,ja;q=0.9,en;q=0.8' } });
    expect(ja.status).toBe(200);
    expect(ja.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(ja.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(ja.headers.get('vary')).toMatch(/Accept/);
    const page = await ja.text();
    expect(page).toContain('<html lang="ja">');
    expect(page).toContain('<h1 id="holder-link-page">マイナンバーカードアプリ用のリンクです</h1>');
    expect(page).toContain('マイナンバーカードを NFC で読み取って');
    expect(page).toContain('対応アプリがこの端末に見つからなかった');
    expect(page).toContain('「このパソコンで読み取る」を押します');
    expect(page).toContain(`id="back-to-ceremony" href="${p.server.url}/interaction/${uid}?lang=ja"`);
    expect(page).toContain(`<code id="holder-command">kakunin holder ${link}</code>`);
    expect(page).toContain('id="rp-name">リンク&lt;銀行&gt;</dd>');
    expect(page).toContain('data-kind="identity"');
    expect(page).toMatch(/id="expires-at"><time datetime="[^"]+Z">\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}<\/time>/);
    // Nothing of the protocol's secrets: no nonce, no bytes to sign; no UTC ISO time as text.
    const view = (await (await fetch(link, { headers: { accept: 'application/json' } })).json()) as {
      nonce: string;
      to_be_signed: string;
    };
    expect(page).not.toContain(view.nonce);
    expect(page).not.toContain(view.to_be_signed);
    expect(text(page)).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);

    const en = await (await fetch(link, { headers: { accept: BROWSER, 'accept-language': 'en-US,en;q=0.9' } })).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain('This link is for a My Number Card app');
    expect(en).toContain('reads your My Number Card over NFC');
    expect(en).toMatch(/id="expires-at"><time datetime="[^"]+Z">\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} JST<\/time>/);
    expect(en).toContain('Press “Use the card reader on this computer”');
    expect(en).toContain(`/interaction/${uid}?lang=en"`);
    expect(
      await (await fetch(`${link}?lang=en`, { headers: { accept: BROWSER, 'accept-language': 'ja' } })).text(),
    ).toContain('<html lang="en">');
  });

  it('a finished ceremony says so; an unknown one is a page too, not JSON', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const link = holderLinkOf(flow.page.body);
    const person = p.sandbox.people()[0]!.id;
    expect((await holderRespond(p.sandbox, link, { person })).status).toBe(200);
    const done = await (await fetch(link, { headers: { accept: BROWSER } })).text();
    expect(done).toContain('id="holder-link-state" data-state="completed"');
    expect(done).toContain('この手続きは終わっています');
    expect(done).not.toContain('id="finish"');

    const missing = await fetch(link.replace(/cer_[A-Za-z0-9_-]+$/, 'cer_AAAAAAAAAAAAAAAAAAAAAA'), {
      headers: { accept: BROWSER, 'accept-language': 'en' },
    });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const body = await missing.text();
    expect(body).toContain('data-state="not_found"');
    expect(body).toContain('This request was not found');
    expect(text(body)).not.toContain('CEREMONY_NOT_FOUND');
  });
});
