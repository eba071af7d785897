// The admin console through plain HTTP with a cookie jar, against a real sandbox platform: sign-in,
// CSRF, registering an RP, finding a ceremony's record and its status in the records log (the log's
// checkpoint and backlog, whole-log verification, an edited payload found), a simulator move seen
// by the revocation monitor and its webhook, and hostile certificate text rendered inert.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { certificateStatus } from '@kakunin/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCeremony } from '../src/ceremonies.js';
import { toErrorBody } from '../src/errors.js';
import type { Platform } from '../src/platform.js';
import { integrate, jstDate, latestCheckpoint } from '../src/records/index.js';
import { checkClientSecret, listRelyingParties, webhookSecretOf } from '../src/relying-parties.js';
import { adminRoutes } from '../src/routes/admin.js';
import { adminConsoleRoutes } from '../src/routes/admin-console.js';
import { listDeliveries } from '../src/webhooks/index.js';
import * as pages from '@kakunin/web';
import {
  Browser,
  REDIRECT,
  createTestSandbox,
  holderRespond,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

const HOSTILE_RP = '<script>alert("rp")</script> はぴ銀行 & Co';
const HOSTILE_NAME = '<script>alert(1)</script>\u3000太郎';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let receiver: Server;
let harness: FastifyInstance | undefined;
let base: string;
const hooks: string[] = [];

/** The console as app.ts mounts it (next to the JSON API), for as long as app.ts does not yet. */
async function consoleApp(
  platform: Platform,
  adminToken: string,
  o: { listen: boolean; jobs?: TestPlatform['server']['jobs'] },
): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.setErrorHandler((error, _req, reply) => {
    const { status, body } = toErrorBody(error);
    return reply.code(status).send(body);
  });
  await app.register(adminRoutes, { platform, adminToken, prefix: '/admin/v1', ...(o.jobs ? { jobs: o.jobs } : {}) });
  await app.register(adminConsoleRoutes, {
    platform,
    adminToken,
    prefix: '/admin',
    ...(o.jobs ? { jobs: o.jobs } : {}),
  });
  if (o.listen) await app.listen({ port: 0, host: '127.0.0.1' });
  else await app.ready();
  return app;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hooks.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir, { noJobs: false });
  if (p.server.app.hasRoute({ method: 'GET', url: '/admin/login' })) {
    base = p.server.url;
  } else {
    harness = await consoleApp(p.server.platform, p.server.adminToken, {
      listen: true,
      ...(p.server.jobs ? { jobs: p.server.jobs } : {}),
    });
    base = `http://127.0.0.1:${(harness.server.address() as AddressInfo).port}`;
  }
}, 120_000);
afterAll(async () => {
  await harness?.close();
  await p?.close();
  receiver?.close();
  sim?.remove();
});

const csrfOf = (html: string): string => {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('the page has no CSRF field');
  return m[1]!;
};
const eventually = async (what: () => Promise<boolean>, ms = 20_000): Promise<void> => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200)))
    if (await what()) return;
  throw new Error('timed out');
};
/** What an insider with table rights can do: switch the records' append-only trigger off around `sql`. */
const asInsider = (sql: string, params: unknown[]): Promise<void> =>
  p.server.platform.db.transaction(async (tx) => {
    await tx.exec('ALTER TABLE records DISABLE TRIGGER records_append_only');
    await tx.query(sql, params as never[]);
    await tx.exec('ALTER TABLE records ENABLE TRIGGER records_append_only');
  });
/** People whose card signing certificate is valid now (they can do identity ceremonies). */
const signers = (): string[] =>
  p.sandbox
    .people()
    .filter((x) => {
      const c = p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).at(-1);
      return c !== undefined && certificateStatus(c) === 'valid';
    })
    .map((x) => x.id);

describe('admin console', () => {
  const admin = new Browser();
  let csrf = '';
  let session = ''; // the cookie, for the one post the Browser cannot make (a repeated field)
  let clientId = '';
  let recordId = '';
  let mover = '';

  it('refuses every page and post without a session', async () => {
    const anon = new Browser();
    const page = await anon.request(`${base}/admin/records?rp=x`);
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe(`/admin/login?next=${encodeURIComponent('/admin/records?rp=x')}`);
    const before = (await listRelyingParties(p.server.platform.db)).length;
    const post = await anon.request(`${base}/admin/rps`, {
      method: 'POST',
      form: { name: 'x', redirect_uris: REDIRECT, framework: 'jp_aml', ceremonies: 'login', csrf: 'x' },
    });
    expect(post.status).toBe(303);
    expect(post.headers.get('location')).toMatch(/^\/admin\/login/);
    expect((await listRelyingParties(p.server.platform.db)).length).toBe(before);
    const forged = await fetch(`${base}/admin/rps`, {
      headers: { cookie: `kakunin_admin=v1.${'A'.repeat(22)}.99999999999999.${'B'.repeat(43)}` },
      redirect: 'manual',
    });
    expect(forged.status).toBe(303);
  });

  it('signs in with the admin token only, into an HttpOnly SameSite=Strict session', async () => {
    const login = await admin.go(`${base}/admin/login`, base);
    expect(login.status).toBe(200);
    expect(login.body).toMatch(
      /<label for="token">管理者トークン<\/label>\s*<input type="password" id="token" name="token"/,
    );
    const wrong = await admin.request(`${base}/admin/login`, {
      method: 'POST',
      form: { token: `${p.server.adminToken}x` },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);
    expect(await wrong.text()).toContain('管理者トークンが違います');
    const right = await admin.request(`${base}/admin/login?next=${encodeURIComponent('/admin/rps')}`, {
      method: 'POST',
      form: { token: p.server.adminToken },
    });
    expect(right.status).toBe(303);
    expect(right.headers.get('location')).toBe('/admin/rps');
    const [cookie] = right.headers.getSetCookie();
    expect(cookie).toMatch(/^kakunin_admin=v1\./);
    for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/admin', 'Max-Age=28800']) expect(cookie).toContain(attr);
    const evil = await admin.request(`${base}/admin/login?next=${encodeURIComponent('https://evil.example/')}`, {
      method: 'POST',
      form: { token: p.server.adminToken },
    });
    expect(evil.headers.get('location')).toBe('/admin/rps');
    session = evil.headers.getSetCookie()[0]!.split(';')[0]!; // the newest session: the Browser holds it too
    const rps = await admin.go(`${base}/admin/rps`, base);
    expect(rps.status).toBe(200);
    csrf = csrfOf(rps.body);
  });

  it('registers a relying party through the form, only with the CSRF token, and lists it escaped', async () => {
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const form = {
      name: HOSTILE_RP,
      redirect_uris: REDIRECT,
      framework: 'jp_aml',
      ceremonies: 'identity',
      purpose: '口座開設の本人確認',
      webhook_url: hook,
    };
    const count = (await listRelyingParties(p.server.platform.db)).length;
    expect((await admin.request(`${base}/admin/rps`, { method: 'POST', form })).status).toBe(403);
    expect(
      (await admin.request(`${base}/admin/rps`, { method: 'POST', form: { ...form, csrf: `${csrf}x` } })).status,
    ).toBe(403);
    expect((await listRelyingParties(p.server.platform.db)).length).toBe(count);

    // Both ceremony checkboxes ticked: the field repeats, which the Browser's form record cannot say.
    const body = new URLSearchParams({ ...form, csrf });
    body.append('ceremonies', 'login');
    const created = await fetch(`${base}/admin/rps`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session },
      body: body.toString(),
      redirect: 'manual',
    });
    expect(created.status).toBe(201);
    const html = await created.text();
    clientId = /id="client-id">([^<]+)</.exec(html)![1]!;
    const rp = (await listRelyingParties(p.server.platform.db)).find((r) => r.clientId === clientId)!;
    expect(rp.ceremonies.sort()).toEqual(['identity', 'login']);
    // Shown once; the database keeps the client secret's verifier and the webhook secret sealed.
    const clientSecret = /id="client-secret">([^<]+)</.exec(html)![1]!;
    expect(await checkClientSecret(rp, clientSecret)).toBe(true);
    expect(html).toContain(`id="webhook-secret">${webhookSecretOf(rp, p.server.platform.masterKey)}<`);

    const list = await admin.go(`${base}/admin/rps`, base);
    expect(list.body).toContain(clientId);
    expect(list.body).not.toContain(clientSecret);
    expect(list.body).not.toContain('<script>alert');
    expect(list.body).toContain('&lt;script&gt;alert(&quot;rp&quot;)&lt;/script&gt; はぴ銀行 &amp; Co');

    const refused = await admin.request(`${base}/admin/rps`, {
      method: 'POST',
      form: { ...form, name: 'FTP RP', redirect_uris: 'ftp://nope', csrf },
    });
    expect(refused.status).toBe(400);
    const refusedHtml = await refused.text();
    expect(refusedHtml).toMatch(/https/);
    expect(refusedHtml).toContain('value="FTP RP"');

    const off = await admin.request(`${base}/admin/rps/${clientId}/disabled`, {
      method: 'POST',
      form: { disabled: 'true', csrf },
    });
    expect(off.status).toBe(303);
    expect(
      (await listRelyingParties(p.server.platform.db)).find((r) => r.clientId === clientId)!.disabledAt,
    ).not.toBeNull();
    await admin.request(`${base}/admin/rps/${clientId}/disabled`, {
      method: 'POST',
      form: { disabled: 'false', csrf },
    });
    expect(
      (await listRelyingParties(p.server.platform.db)).find((r) => r.clientId === clientId)!.disabledAt,
    ).toBeNull();
  });

  it('finds the record of a ceremony by RP and date, with its log status intact; the log box, whole-log verification, an edit found', async () => {
    mover = signers()[0]!;
    const c = await createCeremony(p.server.platform, { kind: 'identity', rpClientId: clientId });
    expect(
      (await holderRespond(p.sandbox, `${p.server.url}/holder/v1/ceremonies/${c.id}`, { person: mover })).status,
    ).toBe(200);
    const [row] = await p.server.platform.db.query<{ id: string; seq: string }>(
      'SELECT id, seq::text AS seq FROM records WHERE ceremony_id = $1',
      [c.id],
    );
    recordId = row!.id;
    const serial = p.sandbox.currentCertificateRecord(mover, 'sign', 'card').serial;
    await integrate(p.server.platform.db, p.server.platform.recordsLog); // as the sequencer does within 200 ms
    const [{ leaf_index: leafIndex }] = (await p.server.platform.db.query<{ leaf_index: string }>(
      'SELECT leaf_index::text AS leaf_index FROM records WHERE id = $1',
      [recordId],
    )) as [{ leaf_index: string }];
    expect(leafIndex).toMatch(/^\d+$/);

    const today = jstDate(new Date());
    const found = await admin.go(
      `${base}/admin/records?rp=${clientId}&from=${today}&to=${today}&outcome=verified`,
      base,
    );
    expect(found.status).toBe(200);
    expect(found.body).toContain(`/admin/records/${recordId}`);
    expect(found.body).toContain(serial);
    expect(found.body).toContain('jpki_signature');
    expect(found.body).not.toMatch(/name="(name|address|birth|my_?number)/i);
    const tomorrow = jstDate(new Date(Date.now() + 86_400_000));
    expect((await admin.go(`${base}/admin/records?rp=${clientId}&from=${tomorrow}`, base)).body).not.toContain(
      recordId,
    );
    expect((await admin.go(`${base}/admin/records?outcome=rejected`, base)).body).not.toContain(recordId);
    expect((await admin.go(`${base}/admin/records?from=2024-02-30`, base)).status).toBe(400);

    // The records log box: the latest checkpoint with what an auditor copies, the backlog, the verify button.
    const checkpoint = (await latestCheckpoint(p.server.platform.db))!;
    expect(found.body).toContain('記録の透明性ログ');
    expect(found.body).toContain(`id="log-tree-size">${checkpoint.treeSize}</dd>`);
    expect(found.body).toContain(`id="log-root">${checkpoint.root.toString('base64')}</code>`);
    expect(found.body).toContain(`id="log-key">${p.server.platform.recordsLog.verifierKey}</code>`);
    expect(found.body).toContain(`id="log-origin">${p.server.platform.recordsLog.origin}</code>`);
    expect(found.body).toContain(`<pre class="statement" id="log-note">${checkpoint.note.split('\n')[0]}`);
    expect(found.body).toMatch(/id="log-checkpoint" data-tree-size="\d+"/);
    expect(found.body).toMatch(/id="log-backlog" data-pending="\d+" data-oldest-seconds="[\d.]+" data-late="false"/);
    expect(found.body).toContain('id="verify-log"');

    const detail = await admin.go(`${base}/admin/records/${recordId}`, base);
    expect(detail.status).toBe(200);
    expect(detail.body).toContain('id="log-status" data-intact="true" data-entry-version="2"');
    for (const id of ['payload-intact', 'leaf-intact']) expect(detail.body).toContain(`id="${id}" data-ok="true"`);
    expect(detail.body).toContain(`id="leaf-index" data-index="${leafIndex}"`);
    expect(detail.body).not.toContain('id="hash-intact"'); // v1 chain rows only
    expect(detail.body).toMatch(/id="leaf-hash">[0-9a-f]{64}<\/code>/);
    expect(detail.body).toContain(`/records/v1/proof/inclusion?record_id=${recordId}`);
    expect(detail.body).toContain(`<dd data-field="certificate.serial">${serial}</dd>`);
    expect(detail.body).toContain('発行番号(シリアル番号)');
    expect(detail.body).not.toContain('<script>alert');
    expect(detail.body).toContain('&lt;script&gt;alert(&quot;rp&quot;)&lt;/script&gt;');
    // A labelled summary heads the page: who, when (Japan time), method and law, retention end,
    // certificate serial and generation, the revocation answer, the position in the log.
    const summary = /<section class="box" aria-labelledby="summary-h" id="record-summary">([\s\S]*?)<\/section>/.exec(
      detail.body,
    )![1]!;
    expect(detail.body.indexOf('id="record-summary"')).toBeLessThan(detail.body.indexOf('id="log-status"'));
    expect(summary).toMatch(
      new RegExp(
        `id="summary-rp">&lt;script&gt;alert\\(&quot;rp&quot;\\)&lt;/script&gt;[^<]* <code>${clientId}</code></dd>`,
      ),
    );
    expect(summary).toMatch(/id="summary-subject"><code>[^<]+<\/code>/);
    expect(summary).toContain(`id="summary-name">${p.sandbox.person(mover).name}</dd>`);
    expect(summary).toMatch(
      /id="summary-when"><time datetime="[^"]+Z">\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} JST<\/time>/,
    );
    expect(summary).toContain('確認済み <small class="muted"><code>verified</code></small>');
    expect(summary).toMatch(
      /id="summary-method">[^<]*署名用電子証明書[^<]*<small class="muted"><code>jpki_signature<\/code>/,
    );
    expect(summary).toMatch(/id="summary-law">[^<]*第6条/);
    expect(summary).toContain(
      'id="summary-retention">取引関係の終了日の翌日から7年(取引関係が続いているため、まだ始まっていません)',
    );
    expect(summary).toContain(`<code id="summary-serial">${serial}</code>`);
    expect(summary).toMatch(/<code id="summary-issuer-id">[^<—]+<\/code>/);
    expect(summary).toContain('失効していません <small class="muted"><code>good</code></small>');
    expect(summary).toMatch(/確認した日時: <time datetime="[^"]+">[^<]+ JST<\/time>/);
    expect(summary).toContain(`葉の位置 <strong>${leafIndex}</strong>`);
    // Every field, and the JSON as recorded, behind disclosures.
    expect(detail.body).toMatch(
      /<details id="payload-details"><summary>すべての項目を表示<\/summary><dl id="payload">/,
    );
    const json = /<pre class="statement" id="payload-json">([\s\S]*?)<\/pre>/.exec(detail.body)![1]!;
    expect(
      JSON.parse(
        json
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&amp;/g, '&'),
      ),
    ).toMatchObject({ certificate: { serial } });
    const english = await admin.go(`${base}/admin/records/${recordId}?lang=en`, base);
    expect(english.body).toContain(
      'id="summary-retention">7 years from the day after the relationship ends (it goes on: not started yet)',
    );
    expect(english.body).toContain('not revoked <small class="muted"><code>good</code></small>');

    const verified = await admin.request(`${base}/admin/records/verify`, { method: 'POST', form: { csrf } });
    expect(verified.status).toBe(200);
    const result = await verified.text();
    expect(result).toContain('id="log-result" data-ok="true"');
    expect(result).toContain('ログは正常です');
    expect(result).toMatch(/id="log-tree-size">\d+<\/dd>/);
    expect(result).toContain(
      `id="log-checkpoint-note">${(await latestCheckpoint(p.server.platform.db))!.note.split('\n')[0]}`,
    );
    expect(result).toContain('--since');
    expect((await admin.request(`${base}/admin/records/verify`, { method: 'POST', form: {} })).status).toBe(403);
    expect((await admin.go(`${base}/admin/records/rec_nope`, base)).status).toBe(404);

    // An edited payload: the record page and the whole-log verification both show it (then it is put back).
    const [{ payload }] = (await p.server.platform.db.query<{ payload: string }>(
      'SELECT payload::text AS payload FROM records WHERE id = $1',
      [recordId],
    )) as [{ payload: string }];
    await asInsider(`UPDATE records SET payload = jsonb_set(payload, '{purpose}', '"edited"') WHERE id = $1`, [
      recordId,
    ]);
    try {
      const edited = await admin.go(`${base}/admin/records/${recordId}`, base);
      expect(edited.body).toContain('id="log-status" data-intact="false"');
      expect(edited.body).toContain('id="payload-intact" data-ok="false"');
      const bad = await (
        await admin.request(`${base}/admin/records/verify`, { method: 'POST', form: { csrf } })
      ).text();
      expect(bad).toContain('id="log-result" data-ok="false"');
      expect(bad).toMatch(
        new RegExp(
          `<table id="log-problems">[\\s\\S]*<th scope="row">${leafIndex}</th><td><a href="/admin/records/${recordId}">${recordId}</a></td><td><code>payload</code></td>`,
        ),
      );
    } finally {
      await asInsider('UPDATE records SET payload = $1::jsonb WHERE id = $2', [payload, recordId]);
    }
    expect(
      await (await admin.request(`${base}/admin/records/verify`, { method: 'POST', form: { csrf } })).text(),
    ).toContain('id="log-result" data-ok="true"');
  });

  it('renders a v1 chain row, a late backlog and hostile problem text (page functions)', () => {
    const ctx = { lang: 'en' as const, csrf: 'c', sandbox: true, path: '/admin/records' };
    const v1 = pages.recordDetailPage({
      ctx,
      record: {
        seq: '1',
        id: 'rec_1',
        createdAt: new Date(0),
        rpClientId: null,
        ceremonyId: null,
        subjectId: null,
        framework: 'jp_aml',
        outcome: 'note',
        payload: null,
        payloadHash: 'ab',
        entryVersion: 1,
        leafHash: 'cd',
        leafIndex: null,
        integratedAt: null,
        prevHash: '00',
        hash: 'ef',
        purgedAt: new Date(0),
      },
      status: {
        payloadIntact: null,
        leafIntact: true,
        leafIndex: null,
        v1: { hashIntact: true, linkedToPrevious: false },
      },
    });
    expect(v1).toContain('id="log-status" data-intact="false" data-entry-version="1"');
    expect(v1).toContain('id="payload-intact" data-ok="n/a"');
    expect(v1).toContain('id="hash-intact" data-ok="true"');
    expect(v1).toContain('id="linked-to-previous" data-ok="false"');
    expect(v1).toContain('id="leaf-index" data-index="none"');
    expect(v1).toContain('not in a checkpoint yet');
    // Its summary: what the columns say; a purged payload has nothing more; no disclosure of a payload.
    expect(v1).toContain('id="summary-rp">— (the platform)</dd>');
    expect(v1).toContain('id="summary-leaf-index">not integrated into the log yet (normally within a second)</dd>');
    expect(v1).not.toContain('id="payload-details"');
    const purged = pages.recordDetailPage({
      ctx,
      record: {
        seq: '2',
        id: 'rec_2',
        createdAt: new Date(0),
        rpClientId: 'rp_x',
        ceremonyId: null,
        subjectId: 'sub_x',
        framework: 'jp_aml',
        outcome: 'verified',
        payload: null,
        payloadHash: 'ab',
        entryVersion: 2,
        leafHash: 'cd',
        leafIndex: '7',
        integratedAt: new Date(0),
        purgedAt: new Date('2033-12-05T15:00:00Z'),
      },
      summary: {
        rpName: 'Bank',
        retention: { years: 7, basis: 'law', state: 'purged', at: new Date('2033-12-05T15:00:00Z') },
      },
      status: { payloadIntact: null, leafIntact: true, leafIndex: '7' },
    });
    expect(purged).toContain(
      'id="summary-retention">content purged after its retention period (<time datetime="2033-12-05T15:00:00.000Z">2033-12-06 00:00:00 JST</time>)',
    );
    const ends = pages.recordDetailPage({
      ctx: { ...ctx, lang: 'ja' },
      record: {
        seq: '3',
        id: 'rec_3',
        createdAt: new Date('2026-12-05T00:30:00Z'),
        rpClientId: 'rp_x',
        ceremonyId: null,
        subjectId: null,
        framework: 'jp_aml',
        outcome: 'rejected',
        payload: { outcome: 'rejected', error: { code: 'REVOKED', message: '失効' } },
        payloadHash: 'ab',
        entryVersion: 2,
        leafHash: 'cd',
        leafIndex: null,
        integratedAt: null,
        purgedAt: null,
      },
      summary: {
        retention: { years: 7, basis: 'law', state: 'ends', until: new Date('2033-12-05T15:00:00Z'), from: 'record' },
      },
      status: { payloadIntact: true, leafIntact: true, leafIndex: null },
    });
    expect(ends).toContain(
      'id="summary-retention">2033-12-05 まで <span class="muted">(記録の作成日の翌日から7年; 期間満了 <time',
    );
    expect(ends).toContain('id="summary-error">失効 <small class="muted"><code>REVOKED</code></small>');
    expect(v1).toContain('Previous hash (v1 chain)');

    const log = {
      origin: 'kakunin.test/records',
      verifierKey: 'kakunin.test/records+01234567+AAAA',
      backlog: { pending: 3, oldestSeconds: 12.5 },
    };
    const late = pages.recordListPage({ ctx, rps: [], filters: {}, rows: [], paged: false, log });
    expect(late).toContain(
      'id="log-backlog" data-pending="3" data-oldest-seconds="12.5" data-late="true" class="box warn"',
    );
    expect(late).toContain('3 records waiting for the sequencer (the oldest for 12.5 s)');
    expect(late).toContain('id="log-checkpoint" data-tree-size="none"');
    expect(late).toContain('Records log');
    const ja = pages.recordListPage({
      ctx: { ...ctx, lang: 'ja' },
      rps: [],
      filters: {},
      rows: [],
      paged: false,
      log: { ...log, backlog: { pending: 1, oldestSeconds: 0.2 } },
    });
    expect(ja).toContain('data-late="false"');
    expect(ja).toContain('1件の記録がシーケンサーによる取り込みを待っています');

    const problems = pages.logVerifyPage({
      ctx,
      ok: false,
      checked: 2,
      purged: 0,
      pending: 0,
      treeSize: 2,
      root: 'cm9vdA==',
      checkpoint: null,
      problems: [
        { code: 'leaf', leafIndex: 1, recordId: '<b>x', reason: '<script>alert(1)</script>' },
        { code: 'signature', reason: 'bad' },
      ],
    });
    expect(problems).toContain('id="log-result" data-ok="false"');
    expect(problems).toContain('Problems found (2)');
    expect(problems).not.toMatch(/<script|<b>/);
    expect(problems).toContain('href="/admin/records/%3Cb%3Ex?lang=en"');
    expect(problems).not.toContain('id="log-checkpoint-note"');
  });

  it('applies a move in the simulator; the monitor run shows the revocation and its webhook delivery', async () => {
    const sim = await admin.go(`${base}/admin/simulator`, base);
    expect(sim.status).toBe(200);
    expect(sim.body).toContain('テスト用暗証番号(サンドボックス専用)');
    expect(sim.body).toContain(p.sandbox.person(mover).pins.sign);
    const serial = p.sandbox.currentCertificateRecord(mover, 'sign', 'card').serial;

    const moved = await admin.request(`${base}/admin/simulator/people/${mover}/events`, {
      method: 'POST',
      form: { type: 'move', csrf },
    });
    expect(moved.status).toBe(303);
    const event = await admin.go(new URL(moved.headers.get('location')!, base).toString(), base);
    expect(event.body).toContain('data-type="move"');
    expect(event.body).toMatch(new RegExp(`id="revoked"[\\s\\S]*${serial}[\\s\\S]*affiliationChanged`));
    const fresh = p.sandbox.currentCertificateRecord(mover, 'sign', 'card').serial;
    expect(fresh).not.toBe(serial);
    expect(event.body).toMatch(new RegExp(`id="issued"[\\s\\S]*${fresh}`));
    expect(
      (
        await admin.request(`${base}/admin/simulator/people/${mover}/events`, {
          method: 'POST',
          form: { type: 'move' },
        })
      ).status,
    ).toBe(403);

    const run = await admin.request(`${base}/admin/monitor/run`, { method: 'POST', form: { csrf } });
    expect(run.status).toBe(303);
    let events = '';
    await eventually(async () => {
      events = (await admin.go(`${base}/admin/events`, base)).body;
      return events.includes('certificate.revoked') && events.includes(serial) && events.includes('配信済み');
    });
    expect(events).toContain('affiliationChanged');
    expect(events).toMatch(new RegExp(`id="watched-revoked"[\\s\\S]*${serial}`));
    expect(hooks.some((h) => h.includes(serial))).toBe(true);

    const eventId = /data-event-id="(evt_[^"]+)"/.exec(events)![1]!;
    const again = await admin.request(`${base}/admin/events/${eventId}/redeliver`, { method: 'POST', form: { csrf } });
    expect(again.status).toBe(303);
    await eventually(
      async () =>
        (await listDeliveries(p.server.platform.db, { eventId, limit: 10 })).filter((d) => d.delivered).length === 2,
    );
  }, 60_000);

  it('renders hostile certificate text inert (simulator and record)', async () => {
    const person = signers().find((id) => id !== mover)!;
    await p.sandbox.applyEvent(person, 'rename', { name: HOSTILE_NAME });
    const sim = await admin.go(`${base}/admin/simulator`, base);
    expect(sim.body).not.toContain('<script>alert(1)');
    expect(sim.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');

    const c = await createCeremony(p.server.platform, { kind: 'identity', rpClientId: clientId });
    expect((await holderRespond(p.sandbox, `${p.server.url}/holder/v1/ceremonies/${c.id}`, { person })).status).toBe(
      200,
    );
    const [row] = await p.server.platform.db.query<{ id: string }>('SELECT id FROM records WHERE ceremony_id = $1', [
      c.id,
    ]);
    const detail = await admin.go(`${base}/admin/records/${row!.id}`, base);
    expect(detail.body).toMatch(/<dd data-field="identity.name">&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    expect(detail.body).not.toMatch(/<script/i);
  }, 60_000);

  it('speaks English with ?lang=en and keeps it in links and forms', async () => {
    const en = await admin.go(`${base}/admin/records?lang=en&rp=${clientId}`, base);
    expect(en.body).toContain('<html lang="en">');
    expect(en.body).toContain('Verification records');
    expect(en.body).toContain('Records log');
    expect(en.body).toContain('Latest signed checkpoint');
    expect(en.body).toContain('Verify the whole log');
    expect(en.body).toContain('href="/admin/events?lang=en"');
    expect(en.body).toContain(`href="/admin/records?rp=${clientId}"`); // the switch back to Japanese keeps the filter
  });

  it('leaves the JSON admin API under /admin/v1 alone', async () => {
    expect((await fetch(`${base}/admin/v1/relying-parties`, { redirect: 'manual' })).status).toBe(401);
    const ok = await fetch(`${base}/admin/v1/relying-parties`, {
      headers: { authorization: `Bearer ${p.server.adminToken}` },
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { client_id: string }[]).map((r) => r.client_id)).toContain(clientId);
  });

  it('has no simulator outside sandbox mode', async () => {
    const { simulator: _simulator, ...production } = p.server.platform;
    const app = await consoleApp(production as Platform, p.server.adminToken, { listen: false });
    try {
      const login = await app.inject({
        method: 'POST',
        url: '/admin/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ token: p.server.adminToken }).toString(),
      });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      expect((await app.inject({ method: 'GET', url: '/admin/simulator', headers: { cookie } })).statusCode).toBe(404);
      const rps = await app.inject({ method: 'GET', url: '/admin/rps', headers: { cookie } });
      expect(rps.statusCode).toBe(200);
      expect(rps.body).not.toContain('/admin/simulator');
    } finally {
      await app.close();
    }
  });

  it('signs out', async () => {
    const out = await admin.request(`${base}/admin/logout`, { method: 'POST', form: { csrf } });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie()[0]).toMatch(/^kakunin_admin=;.*Max-Age=0/);
    expect((await admin.request(`${base}/admin/rps`)).status).toBe(303);
  });
});
