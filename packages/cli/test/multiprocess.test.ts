// Two platform processes on one PostgreSQL database: a ceremony started on one is completed on the
// other, a nonce cannot be used twice across them, and a killed server loses no finished record and
// leaves no half-written one. Both run the records log's sequencer (one integrates at a time, under
// an advisory lock): when one is killed — even in the middle of an integration — the survivor
// integrates every finished record, with contiguous leaf indices and a log that verifies.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSandbox, type Sandbox } from '@kakunin/sim';
import { openDatabase, loadMasterKey } from '@kakunin/server';
import { storedLogVerifierKey, verifyLog } from '@kakunin/server/records';
import {
  createPostgresDatabase,
  authorizationRequest,
  Browser,
  holderLinkOf,
  signAsHolder,
} from '@kakunin/server/testing';
import { kakunin } from './run.js';
import { serve, type ServeProcess } from './support/servers.js';

const REDIRECT = 'http://127.0.0.1:9/cb';
/** The sequencer's advisory lock (server records/log.ts). */
const SEQUENCER_LOCK = 7418542;

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
  a = await serveAs('a');
  b = await serveAs('b');
  const r = kakunin([
    'rp',
    'add',
    '--name',
    'MVNO デモ',
    '--redirect-uri',
    REDIRECT,
    '--framework',
    'jp_mpiupa',
    '--json',
    '--database-url',
    database.url,
    '--data-dir',
    dataDir,
  ]);
  expect(r.code, r.stderr).toBe(0);
  client = JSON.parse(r.stdout) as typeof client;
  sandbox = openSandbox(join(dataDir, 'sim'));
  person = sandbox
    .people()
    .find((p) => sandbox.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0)!;
}, 180_000);

afterAll(async () => {
  await a?.stop(true);
  await b?.stop(true);
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A server process whose database sessions are named kakunin-NAME (pg_stat_activity.application_name). */
const serveAs = (name: 'a' | 'b'): Promise<ServeProcess> =>
  serve(['--data-dir', dataDir, '--database-url', `${database.url}?application_name=kakunin-${name}`]);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withPg<T>(fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

interface LogState {
  records: number;
  pending: number;
  distinct: number;
  min: number;
  max: number;
  /** The latest checkpoint's tree size. */
  size: number;
}

const logState = (): Promise<LogState> =>
  withPg(async (db) => {
    const { rows } = await db.query<LogState>(
      `SELECT count(*)::int AS records, (count(*) FILTER (WHERE leaf_index IS NULL))::int AS pending, count(DISTINCT leaf_index)::int AS distinct,
              coalesce(min(leaf_index), 0)::int AS min, coalesce(max(leaf_index), -1)::int AS max, (SELECT coalesce(max(tree_size), 0) FROM log_checkpoints)::int AS size
       FROM records`,
    );
    return rows[0]!;
  });

/** Waits until every committed record is a leaf of the latest checkpoint; returns how long that took. */
async function allIntegrated(withinMs: number): Promise<{ ms: number; state: LogState }> {
  const started = Date.now();
  for (;;) {
    const state = await logState();
    if (state.pending === 0 && state.size === state.records) return { ms: Date.now() - started, state };
    if (Date.now() - started > withinMs)
      throw new Error(`records not integrated within ${withinMs} ms: ${JSON.stringify(state)}`);
    await sleep(25);
  }
}

/** No leaf lost or doubled: indices 0 … n-1, one per record, and the latest checkpoint covers them all. */
function expectContiguous(state: LogState): void {
  expect(state).toEqual({
    records: state.records,
    pending: 0,
    distinct: state.records,
    min: 0,
    max: state.records - 1,
    size: state.records,
  });
}

/** The whole log recomputed and checked, with the key from the master key and from GET /records/v1/key. */
async function expectLogVerifies(server: ServeProcess, size: number): Promise<void> {
  const db = await openDatabase({ databaseUrl: database.url, migrate: false });
  try {
    const key = await storedLogVerifierKey(db, loadMasterKey({ mode: 'sandbox', dataDir }));
    expect(key).toBeDefined();
    expect(`${key}\n`).toBe(await (await fetch(`${server.url}/records/v1/key`)).text());
    const result = await verifyLog(db, { key: key! });
    expect(result).toMatchObject({ ok: true, checked: size, treeSize: size, pending: 0, problems: [] });
  } finally {
    await db.close();
  }
}

/** Waits for the record of a ceremony to get its leaf; returns when the sequencer integrated it. */
async function integration(ceremonyId: string, withinMs: number): Promise<{ createdAt: Date; integratedAt: Date }> {
  const started = Date.now();
  for (;;) {
    const { rows } = await withPg((db) =>
      db.query<{ created_at: Date; integrated_at: Date | null }>(
        'SELECT created_at, integrated_at FROM records WHERE ceremony_id = $1',
        [ceremonyId],
      ),
    );
    if (rows[0]?.integrated_at) return { createdAt: rows[0].created_at, integratedAt: rows[0].integrated_at };
    if (Date.now() - started > withinMs)
      throw new Error(`the record of ceremony ${ceremonyId} was not integrated within ${withinMs} ms`);
    await sleep(10);
  }
}

async function beginAt(server: ServeProcess, scope = 'openid identity') {
  const { config, verifier, state, url } = await authorizationRequest(
    server.url,
    client.client_id,
    client.client_secret,
    { redirectUri: REDIRECT, scope },
  );
  const browser = new Browser();
  const page = await browser.go(url.toString(), server.url);
  return { config, verifier, state, browser, page, link: holderLinkOf(page.body) };
}

/** The holder's response, posted to another process than the one that issued the link. */
async function respondVia(server: ServeProcess, link: string) {
  const id = link.split('/').pop()!;
  const view = (await (await fetch(`${server.url}/holder/v1/ceremonies/${id}`)).json()) as {
    certificate: 'auth' | 'sign';
    nonce: string;
    to_be_signed: string;
  };
  const body = await signAsHolder(sandbox, view, { person: person.id });
  return {
    id,
    body,
    post: () =>
      fetch(`${server.url}/holder/v1/ceremonies/${id}/response`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
  };
}

async function finishAt(server: ServeProcess, flow: Awaited<ReturnType<typeof beginAt>>) {
  const uid = /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
  const consent = await flow.browser.go(`${server.url}/interaction/${uid}/continue`, server.url);
  const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
  const landed = await flow.browser.go(`${server.url}/interaction/${consentUid}/consent`, server.url, {
    method: 'POST',
    form: {},
  });
  const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(landed.url), {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
  });
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
      expect((info.verified_claims as { verification: { trust_framework: string } }).verification.trust_framework).toBe(
        'jp_mpiupa',
      );
    }
  }, 60_000);

  it('one response posted to both at once: exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const flow = await beginAt(a, 'openid');
      const answer = await respondVia(a, flow.link);
      const [ra, rb] = await Promise.all([
        answer.post(),
        fetch(`${b.url}/holder/v1/ceremonies/${answer.id}/response`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(answer.body),
        }),
      ]);
      expect([ra.status, rb.status].sort()).toEqual([200, 409]);
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      const { rows } = await db.query(
        "SELECT count(*)::int AS n FROM records WHERE ceremony_id = $1 AND outcome = 'verified'",
        [answer.id],
      );
      await db.end();
      expect(rows[0].n).toBe(1);
    }
  }, 60_000);

  it('killing a server mid-ceremony loses no finished record and leaves no half record', async () => {
    // Ceremonies in flight while A is killed: some finish, some never start their transaction.
    const flows = await Promise.all(Array.from({ length: 8 }, () => beginAt(a, 'openid')));
    const answers = await Promise.all(flows.map((f) => respondVia(a, f.link)));
    const posts = answers.map((x) =>
      x
        .post()
        .then((r) => r.status)
        .catch(() => 'killed'),
    );
    // Killed as soon as one has finished: its record is committed, A's sequencer may not have seen it.
    await Promise.any(
      posts.map((p) => p.then((status) => (status === 200 ? status : Promise.reject(new Error(String(status)))))),
    ).catch(() => undefined);
    await a.stop(true);
    const statuses = await Promise.all(posts);
    expect(statuses).toContain(200);

    // B alone now (its sequencer, maybe A's too until the kill): every finished record is a leaf
    // within a couple of seconds, none lost, none doubled, and the log verifies.
    const { ms, state } = await allIntegrated(3_000);
    expectContiguous(state);
    await expectLogVerifies(b, state.records);
    expect(ms).toBeLessThan(3_000);
    a = await serveAs('a');

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
    expect(verify.stdout).toMatch(/^OK: \d+ records, log intact: tree size \d+, root \S+ \(0 purged\)/);
  }, 90_000);

  it('killing the process that is sequencing, in the middle of an integration: the other takes over at once', async () => {
    // Hold the checkpoints table: the next sequencer step (in A or B, whichever gets the advisory
    // lock first) blocks inside its transaction, lock held, while the other's steps find it busy.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE log_checkpoints IN ACCESS EXCLUSIVE MODE');
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      await blocker.query('ROLLBACK');
      await blocker.end();
    };
    try {
      let holder: string | undefined;
      for (let i = 0; i < 200 && !holder; i++) {
        const { rows } = await withPg((db) =>
          db.query<{ application_name: string }>(
            `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
             WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1 AND l.granted`,
            [SEQUENCER_LOCK],
          ),
        );
        holder = rows[0]?.application_name;
        if (!holder) await sleep(25);
      }
      expect(holder).toMatch(/^kakunin-[ab]$/);
      const victimIsA = holder === 'kakunin-a';
      const [victim, survivor] = victimIsA ? [a, b] : [b, a];

      // Ceremonies go on meanwhile: two finish on the survivor, four are in flight on the victim.
      const stalled: string[] = [];
      for (let i = 0; i < 2; i++) {
        const flow = await beginAt(survivor, 'openid');
        const answer = await respondVia(survivor, flow.link);
        expect((await answer.post()).status).toBe(200);
        stalled.push(answer.id);
      }
      const inFlight = await Promise.all(Array.from({ length: 4 }, () => beginAt(victim, 'openid')));
      const answers = await Promise.all(inFlight.map((f) => respondVia(victim, f.link)));
      const posts = answers.map((x) =>
        x
          .post()
          .then((r) => r.status)
          .catch(() => 'killed'),
      );
      await sleep(15);
      // Nothing integrated while the sequencer is stuck (not logState: it would wait for log_checkpoints too).
      const { rows: waiting } = await withPg((db) =>
        db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM records WHERE leaf_index IS NULL AND ceremony_id = ANY($1)',
          [stalled],
        ),
      );
      expect(waiting[0]!.n).toBe(2);

      await victim.stop(true); // kill -9, mid-integration
      await Promise.all(posts);
      await release(); // the stuck step now fails: its process is gone, its transaction rolls back
      const releasedAt = Date.now();

      // The survivor integrates what waited, then each new record within about a second.
      const { ms, state } = await allIntegrated(2_000);
      expectContiguous(state);
      expect(ms).toBeLessThan(2_000);
      for (const id of stalled)
        expect((await integration(id, 0)).integratedAt.getTime() - releasedAt).toBeLessThan(1_000);
      const delays: number[] = [];
      for (let i = 0; i < 3; i++) {
        const flow = await beginAt(survivor, 'openid');
        const answer = await respondVia(survivor, flow.link);
        expect((await answer.post()).status).toBe(200);
        const { createdAt, integratedAt } = await integration(answer.id, 2_000);
        delays.push(integratedAt.getTime() - createdAt.getTime());
      }
      // The default sequencer interval is 200 ms: a record waits for at most one step and one integration.
      expect(Math.max(...delays)).toBeLessThan(1_000);
      const final = await allIntegrated(1_500);
      expectContiguous(final.state);
      await expectLogVerifies(survivor, final.state.records);

      if (victimIsA) a = await serveAs('a');
      else b = await serveAs('b');
    } finally {
      await release();
    }
  }, 90_000);
});
