// The RP's own end of a relationship (POST /rp/v1/relationships/end, client credentials): it names
// the holder by the pairwise sub of its ID tokens, reaches only its own holders (an unknown sub and
// another RP's are the same 404), stops the monitoring of the pair at once, starts the retention
// (7 years under jp_aml, 3 under jp_mpiupa, counted in Japan time) and is idempotent. Both engines.

import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelyingParty, type RegisteredRelyingParty } from '../src/relying-parties.js';
import { fillRelationshipSubs } from '../src/records/retention.js';
import { ENGINES } from './support/databases.js';
import {
  Browser,
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

const basic = (rp: { clientId: string; clientSecret: string }): string =>
  `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString('base64')}`;

/** The first instant after `years` counted from the Japan day after `end` (00:00 JST), computed independently of the server. */
function expectedUntil(end: Date, years: number): string {
  const jst = new Date(end.getTime() + 9 * 3600_000);
  const [y, m, d] = [jst.getUTCFullYear() + years, jst.getUTCMonth(), jst.getUTCDate() + 1];
  return new Date(Date.UTC(y, m, d) - 9 * 3600_000).toISOString();
}

describe.each(ENGINES)('the RP API on %s', (engine) => {
  let p: TestPlatform;
  let bank: RegisteredRelyingParty;
  let mvno: RegisteredRelyingParty;
  let other: RegisteredRelyingParty;
  let person: string;
  const subs: Record<string, string> = {};

  const end = (rp: { clientId: string; clientSecret: string } | undefined, body: unknown, authorization?: string) =>
    fetch(`${p.server.url}/rp/v1/relationships/end`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization ? { authorization } : rp ? { authorization: basic(rp) } : {}),
      },
      body: JSON.stringify(body),
    });
  const monitored = (rp: string) =>
    p.server.platform.db.query<{ status: string }>(
      'SELECT status FROM monitored_certificates WHERE rp_client_id = $1 ORDER BY id',
      [rp],
    );
  const notes = (rp: string) =>
    p.server.platform.db.query<{ id: string }>(
      "SELECT id FROM records WHERE rp_client_id = $1 AND outcome = 'note' AND payload->>'event' = 'relationship_ended' ORDER BY seq",
      [rp],
    );

  /** An identity ceremony of `who` for `rp`: the sub of its ID token. */
  async function verify(rp: RegisteredRelyingParty, who: string): Promise<string> {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret, { scope: 'openid identity' });
    expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person: who })).status).toBe(200);
    const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    return tokens.claims()!.sub;
  }

  beforeAll(async () => {
    p = await startTestPlatform(engine, sim.dir);
    const redirectUris = ['http://127.0.0.1:9/callback'];
    bank = await createRelyingParty(p.server.platform, {
      name: 'テスト銀行',
      redirectUris,
      framework: 'jp_aml',
      purpose: '口座開設の取引時確認',
    });
    mvno = await createRelyingParty(p.server.platform, {
      name: 'テストモバイル',
      redirectUris,
      framework: 'jp_mpiupa',
      purpose: '音声SIM契約の本人確認',
    });
    other = await createRelyingParty(p.server.platform, {
      name: '別の事業者',
      redirectUris,
      framework: 'jp_aml',
      purpose: '口座開設の取引時確認',
    });
    const withSign = p.sandbox
      .people()
      .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0);
    person = withSign[0]!.id;
    subs.bank = await verify(bank, person);
    subs.mvno = await verify(mvno, person);
    subs.other = await verify(other, withSign[1]!.id);
  }, 180_000);
  afterAll(async () => {
    await p?.close();
  });

  it('a ceremony keeps the pairwise sub of the ID token on the relationship', async () => {
    const [row] = await p.server.platform.db.query<{ rp_sub: string; subject_id: string }>(
      'SELECT rp_sub, subject_id FROM relationships WHERE rp_client_id = $1',
      [bank.clientId],
    );
    expect(row!.rp_sub).toBe(subs.bank);
    expect(p.server.platform.pairwiseSubject(bank.clientId, row!.subject_id)).toBe(subs.bank);
    expect(subs.mvno).not.toBe(subs.bank);
  });

  it('refuses without valid client credentials: 401 with WWW-Authenticate, before looking at the body', async () => {
    for (const authorization of [
      undefined,
      basic({ clientId: bank.clientId, clientSecret: 'wrong-secret' }),
      basic({ clientId: 'rp_nobody', clientSecret: bank.clientSecret }),
      `Bearer ${p.server.adminToken}`,
      'Basic !!!',
    ]) {
      for (const body of [{ sub: subs.bank }, { nonsense: true }]) {
        const res = await fetch(`${p.server.url}/rp/v1/relationships/end`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
          body: JSON.stringify(body),
        });
        expect(res.status, String(authorization)).toBe(401);
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="kakunin relying party"');
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
      }
    }
    expect(await monitored(bank.clientId)).toEqual([{ status: 'good' }]);
  });

  it('an unknown sub and another RP’s sub (even of the same person) are the same 404', async () => {
    const answers = [];
    for (const sub of ['no-such-sub', subs.other!, subs.mvno!]) {
      const res = await end(bank, { sub });
      answers.push({ status: res.status, body: await res.text() });
    }
    expect(answers[0]!.status).toBe(404);
    expect(JSON.parse(answers[0]!.body)).toMatchObject({ error: { code: 'NO_SUCH_RELATIONSHIP' } });
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(await monitored(other.clientId)).toEqual([{ status: 'good' }]);
    expect(await monitored(mvno.clientId)).toEqual([{ status: 'good' }]);
  });

  it('refuses a malformed or future ended_at, and one before the relationship started', async () => {
    for (const ended_at of [
      'yesterday',
      '2026-04-01',
      '2026-04-01T10:00:00',
      new Date(Date.now() + 3600_000).toISOString(),
      '2020-01-01T00:00:00Z',
    ]) {
      const res = await end(bank, { sub: subs.bank, ended_at });
      expect(res.status, ended_at).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_REQUEST');
    }
    expect((await end(bank, { sub: subs.bank, extra: 1 })).status).toBe(400);
    expect(await notes(bank.clientId)).toEqual([]);
  });

  let first: Record<string, unknown>;
  it('ends the relationship now: monitoring of the pair stops at once, retention 7 years (jp_aml), a note in the log', async () => {
    const before = Date.now();
    const res = await end(bank, { sub: subs.bank });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    first = (await res.json()) as Record<string, unknown>;
    const endedAt = new Date(first.ended_at as string);
    expect(endedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(endedAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(first).toMatchObject({
      sub: subs.bank,
      framework: 'jp_aml',
      retained_until: expectedUntil(endedAt, 7),
      retention: { years: 7, basis: expect.stringContaining('犯罪収益移転防止法') },
    });
    const [note] = await notes(bank.clientId);
    expect(first.record_id).toBe(note!.id);
    expect(await monitored(bank.clientId)).toEqual([{ status: 'ended' }]);
    // Only that pair: the same person at the MVNO is still watched.
    expect(await monitored(mvno.clientId)).toEqual([{ status: 'good' }]);
    const [rel] = await p.server.platform.db.query<{ ended_at: Date }>(
      'SELECT ended_at FROM relationships WHERE rp_client_id = $1',
      [bank.clientId],
    );
    expect(new Date(rel!.ended_at).toISOString()).toBe(first.ended_at);
  });

  it('is idempotent: again without a date, or with the same date, the same answer and nothing new', async () => {
    for (const body of [
      { sub: subs.bank },
      { sub: subs.bank, ended_at: first.ended_at },
      { sub: subs.bank, ended_at: new Date(first.ended_at as string).toISOString().replace('Z', '+00:00') },
    ]) {
      const res = await end(bank, body);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(first);
    }
    expect(await notes(bank.clientId)).toHaveLength(1);
    expect(await monitored(bank.clientId)).toEqual([{ status: 'ended' }]);
  });

  it('another date re-dates the end (a new note) and the retention with it', async () => {
    const [rel] = await p.server.platform.db.query<{ started_at: Date }>(
      'SELECT started_at FROM relationships WHERE rp_client_id = $1',
      [bank.clientId],
    );
    // Between the start and the first end: a past instant of the relationship, not the same one.
    const [start, firstEnd] = [new Date(rel!.started_at).getTime(), Date.parse(first.ended_at as string)];
    const earlier = new Date(start + Math.floor((firstEnd - start) / 2));
    const res = await end(bank, { sub: subs.bank, ended_at: earlier.toISOString() });
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ ended_at: earlier.toISOString(), retained_until: expectedUntil(earlier, 7) });
    const all = await notes(bank.clientId);
    expect(all).toHaveLength(2);
    expect(body.record_id).toBe(all[1]!.id);
  });

  it('the admin console shows the end and the retention end on the records of the pair', async () => {
    const admin = new Browser();
    const signedIn = await admin.request(`${p.server.url}/admin/login`, {
      method: 'POST',
      form: { token: p.server.adminToken },
    });
    expect(signedIn.status).toBe(303);
    const [verified] = await p.server.platform.db.query<{ id: string }>(
      "SELECT id FROM records WHERE rp_client_id = $1 AND outcome = 'verified'",
      [bank.clientId],
    );
    const [rel] = await p.server.platform.db.query<{ ended_at: Date }>(
      'SELECT ended_at FROM relationships WHERE rp_client_id = $1',
      [bank.clientId],
    );
    const endedAt = new Date(rel!.ended_at);
    const until = expectedUntil(endedAt, 7);
    const lastDay = new Date(Date.parse(until) - 1 + 9 * 3600_000).toISOString().slice(0, 10);
    for (const lang of ['ja', 'en']) {
      const page = await admin.go(
        `${p.server.url}/admin/records/${verified!.id}${lang === 'en' ? '?lang=en' : ''}`,
        p.server.url,
      );
      expect(page.status).toBe(200);
      expect(page.body).toContain('id="relationship" data-ended="true"');
      expect(page.body).toContain(`id="relationship-ended-at" data-value="${endedAt.toISOString()}"`);
      expect(page.body).toContain(`id="relationship-retained-until" data-value="${until}" data-last-day="${lastDay}"`);
      expect(page.body).toContain(
        lang === 'ja'
          ? `${lastDay} まで(終了日の翌日から7年間)`
          : `until ${lastDay} (7 years from the day after the end)`,
      );
    }
    // An open relationship says so.
    const [other] = await p.server.platform.db.query<{ id: string }>(
      "SELECT id FROM records WHERE rp_client_id = $1 AND outcome = 'verified'",
      [mvno.clientId],
    );
    const open = await admin.go(`${p.server.url}/admin/records/${other!.id}?lang=en`, p.server.url);
    expect(open.body).toContain('id="relationship-status" data-status="open"');
    expect(open.body).toContain('id="relationship-retained-until" data-value="none"');
  });

  it('jp_mpiupa: 3 years, counted from the next day in Japan time', async () => {
    const started = (
      await p.server.platform.db.query<{ started_at: Date }>(
        'SELECT started_at FROM relationships WHERE rp_client_id = $1',
        [mvno.clientId],
      )
    )[0]!.started_at;
    const at = new Date(new Date(started).getTime() + Math.floor((Date.now() - new Date(started).getTime()) / 2));
    const res = await end(mvno, { sub: subs.mvno, ended_at: at.toISOString() });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      framework: 'jp_mpiupa',
      retained_until: expectedUntil(at, 3),
      retention: { years: 3, basis: expect.stringContaining('携帯電話不正利用防止法') },
    });
    const jstMidnight = new Date(new Date(body.retained_until as string).getTime() + 9 * 3600_000);
    expect(jstMidnight.toISOString().slice(11)).toBe('00:00:00.000Z');
    expect(await monitored(mvno.clientId)).toEqual([{ status: 'ended' }]);
  });

  it('a relationship from before migration 12 (no rp_sub) is found: filled on demand, and by the start-up fill', async () => {
    const db = p.server.platform.db;
    await db.query('UPDATE relationships SET rp_sub = NULL WHERE rp_client_id = $1', [other.clientId]);
    const res = await end(other, { sub: subs.other });
    expect(res.status).toBe(200);
    expect(await monitored(other.clientId)).toEqual([{ status: 'ended' }]);
    await db.query('UPDATE relationships SET rp_sub = NULL');
    expect(await fillRelationshipSubs(db, p.server.platform.pairwiseSubject, { batchSize: 2 })).toBe(3);
    const rows = await db.query<{ rp_client_id: string; subject_id: string; rp_sub: string }>(
      'SELECT rp_client_id, subject_id, rp_sub FROM relationships',
    );
    for (const r of rows) expect(r.rp_sub).toBe(p.server.platform.pairwiseSubject(r.rp_client_id, r.subject_id));
    expect(await fillRelationshipSubs(db, p.server.platform.pairwiseSubject)).toBe(0);
  });

  it('is in the OpenAPI document under the relying party tag with Basic client credentials', async () => {
    const doc = (await (await fetch(`${p.server.url}/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { tags: string[]; security: unknown[]; responses: Record<string, unknown> }>
      >;
      components: { securitySchemes: Record<string, { scheme: string }> };
    };
    const op = doc.paths['/rp/v1/relationships/end']!.post!;
    expect(op.tags).toEqual(['relying party']);
    expect(op.security).toEqual([{ clientCredentials: [] }]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
    expect(doc.components.securitySchemes.clientCredentials!.scheme).toBe('basic');
  });
});
