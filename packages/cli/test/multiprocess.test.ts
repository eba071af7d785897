// Two platform processes on one PostgreSQL database: a ceremony started on one is completed on the
// other, a nonce cannot be used twice across them, and a killed server loses no finished record and
// leaves no half-written one.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSandbox, type Sandbox } from '@kakunin/sim';
import { createPostgresDatabase } from '../../server/test/support/databases.js';
import { authorizationRequest, Browser, holderLinkOf, signAsHolder } from '../../server/test/support/platform.js';
import { kakunin } from './run.js';
import { serve, type ServeProcess } from './support/servers.js';

const REDIRECT = 'http://127.0.0.1:9/cb';

let dataDir: string;
let database: { url: string; drop: () => Promise<void> };
let a: ServeProcess;
let b: ServeProcess;
let sandbox: Sandbox;
let client: { client_id: string; client_secret: string };
let person: { id: string };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kakunin-multi-'));
  database = await createPostgresDatabase('kakunin_multi');
  a = await serve(['--data-dir', dataDir, '--database-url', database.url]);
  b = await serve(['--data-dir', dataDir, '--database-url', database.url]);
  const r = kakunin(['rp', 'add', '--name', 'MVNO デモ', '--redirect-uri', REDIRECT, '--framework', 'jp_mpiupa', '--json', '--database-url', database.url, '--data-dir', dataDir]);
  expect(r.code, r.stderr).toBe(0);
  client = JSON.parse(r.stdout) as typeof client;
  sandbox = openSandbox(join(dataDir, 'sim'));
  person = sandbox.people().find((p) => sandbox.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0)!;
}, 180_000);

afterAll(async () => {
  await a?.stop(true);
  await b?.stop(true);
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function beginAt(server: ServeProcess, scope = 'openid identity') {
  const { config, verifier, state, url } = await authorizationRequest(server.url, client.client_id, client.client_secret, { redirectUri: REDIRECT, scope });
  const browser = new Browser();
  const page = await browser.go(url.toString(), server.url);
  return { config, verifier, state, browser, page, link: holderLinkOf(page.body) };
}

/** The holder's response, posted to another process than the one that issued the link. */
async function respondVia(server: ServeProcess, link: string) {
  const id = link.split('/').pop()!;
  const view = (await (await fetch(`${server.url}/holder/v1/ceremonies/${id}`)).json()) as { certificate: 'auth' | 'sign'; nonce: string; to_be_signed: string };
  const body = await signAsHolder(sandbox, view, { person: person.id });
  return { id, body, post: () => fetch(`${server.url}/holder/v1/ceremonies/${id}/response`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) };
}

async function finishAt(server: ServeProcess, flow: Awaited<ReturnType<typeof beginAt>>) {
  const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
  const consent = await flow.browser.go(`${server.url}/interaction/${uid}/continue`, server.url);
  const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
  const landed = await flow.browser.go(`${server.url}/interaction/${consentUid}/consent`, server.url, { method: 'POST', form: {} });
  const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(landed.url), { pkceCodeVerifier: flow.verifier, expectedState: flow.state });
  return oidc.fetchUserInfo(flow.config, tokens.access_token, tokens.claims()!.sub);
}

describe('two server processes on one PostgreSQL database', () => {
  it('a ceremony started on A completes through B, and the other way round', async () => {
    for (const [start, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const flow = await beginAt(start);
      const answer = await respondVia(other, flow.link);
      expect((await answer.post()).status).toBe(200);
      const info = await finishAt(start, flow);
      expect((info.verified_claims as { verification: { trust_framework: string } }).verification.trust_framework).toBe('jp_mpiupa');
    }
  }, 60_000);

  it('one response posted to both at once: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const flow = await beginAt(a, 'openid');
      const answer = await respondVia(a, flow.link);
      const [ra, rb] = await Promise.all([answer.post(), fetch(`${b.url}/holder/v1/ceremonies/${answer.id}/response`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer.body) })]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      const { rows } = await db.query("SELECT count(*)::int AS n FROM records WHERE ceremony_id = $1 AND outcome = 'verified'", [answer.id]);
      await db.end();
      expect(rows[0].n).toBe(1);
    }
  }, 60_000);

  it('killing a server mid-ceremony loses no finished record and leaves no half record', async () => {
    // Ceremonies in flight while A is killed: some finish, some never start their transaction.
    const flows = await Promise.all(Array.from({ length: 8 }, () => beginAt(a, 'openid')));
    const answers = await Promise.all(flows.map((f) => respondVia(a, f.link)));
    const posts = answers.map((x) => x.post().then((r) => r.status).catch(() => 'killed'));
    await new Promise((r) => setTimeout(r, 15));
    await a.stop(true);
    const statuses = await Promise.all(posts);
    a = await serve(['--data-dir', dataDir, '--database-url', database.url]);

    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query<{ id: string; state: string; verified: number; rejected: number }>(
      `SELECT c.id, c.state, count(r.*) FILTER (WHERE r.outcome = 'verified')::int AS verified, count(r.*) FILTER (WHERE r.outcome = 'rejected')::int AS rejected
       FROM ceremonies c LEFT JOIN records r ON r.ceremony_id = c.id WHERE c.id = ANY($1) GROUP BY c.id, c.state`,
      [answers.map((x) => x.id)],
    );
    await db.end();
    for (const [i, answer] of answers.entries()) {
      const row = rows.find((r) => r.id === answer.id)!;
      // Atomic outcome: completed ⇔ exactly one verified record; pending ⇔ no record at all.
      if (row.state === 'completed') expect(row.verified).toBe(1);
      else expect([row.state, row.verified, row.rejected]).toEqual(['pending', 0, 0]);
      if (statuses[i] === 200) expect(row.state).toBe('completed');
      // A ceremony the crash interrupted can be finished after the restart.
      if (row.state === 'pending') expect((await (await respondVia(a, flows[i]!.link)).post()).status).toBe(200);
    }
    const verify = kakunin(['records', 'verify', '--database-url', database.url, '--data-dir', dataDir]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 90_000);
});
