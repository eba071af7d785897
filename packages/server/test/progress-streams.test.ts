// The ceremony page's progress streams (/interaction/{uid}/events): capped per ceremony page and per
// client address (429 + Retry-After beyond), fed by one change listener per process instead of each
// stream polling, on PGlite and PostgreSQL; on PostgreSQL across two platforms on one database and
// across a lost listening connection. Database use is counted through the Database object.

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CeremonyChanges } from '../src/ceremony-changes.js';
import type { Ceremony } from '../src/ceremony-store.js';
import type { Database } from '../src/db/database.js';
import { createRelyingParty } from '../src/relying-parties.js';
import { ENGINES, createPostgresDatabase } from './support/databases.js';
import {
  createTestSandbox,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type Browser,
  type Flow,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Calls to `db.query` while counting: all of them, and the reads of a ceremony by its interaction. */
function countQueries(db: Database): { all: number; reads: number; stop(): void } {
  const original = db.query;
  const counts = {
    all: 0,
    reads: 0,
    stop: () => {
      db.query = original;
    },
  };
  db.query = function (this: Database, sql, params) {
    // The CRL refresher's sync (every 5 s, whatever the streams do) is not the streams' work.
    if (!sql.includes('FROM crl_sources')) counts.all++;
    if (sql.includes('c.interaction_uid = $1')) counts.reads++;
    return original.call(this, sql, params);
  } as Database['query'];
  return counts;
}

/** One server-sent-event stream as the page's EventSource would read it. */
class EventStream {
  readonly events: { state: string; stage?: string }[] = [];
  ended = false;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private constructor(res: Response) {
    this.reader = res.body!.getReader();
    void this.pump();
  }

  static async open(
    browser: Browser,
    url: string,
  ): Promise<{ status: number; retryAfter: string | null; code?: string; stream?: EventStream }> {
    const res = await browser.request(url);
    if (res.status !== 200)
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        code: ((await res.json()) as { error: { code: string } }).error.code,
      };
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    return { status: 200, retryAfter: null, stream: new EventStream(res) };
  }

  private async pump(): Promise<void> {
    const reader = this.reader;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          if (frame.startsWith('data: '))
            this.events.push(JSON.parse(frame.slice(6)) as { state: string; stage?: string });
        }
      }
    } catch {
      // cancelled by close()
    }
    this.ended = true;
  }

  get last(): { state: string; stage?: string } | undefined {
    return this.events.at(-1);
  }

  async close(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }
}

const uidOf = (flow: Flow): string => /\/interaction\/([^/?]+)/.exec(flow.page.url)![1]!;
const eventsUrl = (base: string, flow: Flow): string => `${base}/interaction/${uidOf(flow)}/events`;
const ceremonyIdOf = (flow: Flow): string => /\/ceremonies\/(cer_[^"/?]+)/.exec(holderLinkOf(flow.page.body))![1]!;
const progress = (base: string, ceremonyId: string, body: unknown): Promise<Response> =>
  fetch(`${base}/holder/v1/ceremonies/${ceremonyId}/progress`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const adult = (p: TestPlatform): string =>
  p.sandbox.people().find((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)!
    .id;

describe.each(ENGINES)('progress streams on %s', (engine) => {
  let p: TestPlatform;
  let rp: { clientId: string; clientSecret: string };
  beforeAll(async () => {
    p = await startTestPlatform(engine, sim.dir);
    rp = await createRelyingParty(p.server.platform, {
      name: 'Streams RP',
      redirectUris: ['http://127.0.0.1:9/callback'],
    });
  }, 120_000);
  afterAll(async () => p?.close());

  it('100 streams on one ceremony: 4 open, the rest 429 with Retry-After; idle streams query nothing; one read per change', async () => {
    const base = p.server.url;
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    // Ten at a time: the platform also caps connections per address (maxConnectionsPerAddress).
    const opened: Awaited<ReturnType<typeof EventStream.open>>[] = [];
    for (let batch = 0; batch < 10; batch++)
      opened.push(
        ...(await Promise.all(Array.from({ length: 10 }, () => EventStream.open(flow.browser, eventsUrl(base, flow))))),
      );
    const streams = opened.flatMap((o) => (o.stream ? [o.stream] : []));
    const refused = opened.filter((o) => o.status !== 200);
    expect(streams).toHaveLength(4);
    expect(refused).toHaveLength(96);
    for (const r of refused) expect(r).toMatchObject({ status: 429, retryAfter: '10', code: 'TOO_MANY_STREAMS' });
    await expect.poll(() => streams.every((s) => s.last?.stage === 'waiting')).toBe(true);

    const counted = countQueries(p.server.platform.db);
    try {
      // The opening requests' own queries may trail the streams' first event on a busy machine:
      // count from the first quiet half second on.
      for (let settled = false, tries = 0; !settled && tries < 20; tries++) {
        const before = counted.all;
        await sleep(500);
        settled = counted.all === before;
      }
      counted.all = 0;
      counted.reads = 0;
      // Polling streams would read 2× a second each.
      await sleep(2000);
      const idle = counted.all;
      expect({ all: counted.all, reads: counted.reads }).toEqual({ all: 0, reads: 0 });

      const id = ceremonyIdOf(flow);
      expect((await progress(base, id, { stage: 'reading' })).status).toBe(204);
      await expect.poll(() => streams.every((s) => s.last?.stage === 'reading')).toBe(true);
      await sleep(300);
      expect(counted.reads).toBe(1);

      expect(
        (await progress(base, id, { stage: 'card_error', error: { code: 'WRONG_PIN', remaining: 2 } })).status,
      ).toBe(204);
      await expect.poll(() => streams.every((s) => s.last?.stage === 'waiting')).toBe(true);
      await sleep(300);
      expect(counted.reads).toBe(2);
      const beforeAnswer = counted.reads;

      expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person: adult(p) })).status).toBe(200);
      await expect.poll(() => streams.every((s) => s.ended && s.last?.state === 'completed')).toBe(true);
      // The answer is one change (two when the page is told "verifying" during a slow check).
      expect(counted.reads - beforeAnswer).toBeLessThanOrEqual(2);
      console.log(
        `progress streams (${engine}): 4 open, 96 refused; idle 2 s: ${idle} queries; ${counted.reads} ceremony reads for 3 changes × 4 streams`,
      );
    } finally {
      counted.stop();
      await Promise.all(streams.map((s) => s.close()));
    }

    // The finished streams gave their places back: a new one is served (and ends at once).
    const again = await EventStream.open(flow.browser, eventsUrl(base, flow));
    expect(again.status).toBe(200);
    await expect.poll(() => again.stream!.ended).toBe(true);
    expect(again.stream!.last?.state).toBe('completed');
  });

  it('at most 20 streams per client address; a closed stream frees its place', async () => {
    const base = p.server.url;
    const flows = await Promise.all(Array.from({ length: 6 }, () => startFlow(p, rp.clientId, rp.clientSecret)));
    const open: EventStream[] = [];
    try {
      for (const flow of flows.slice(0, 5)) {
        for (let i = 0; i < 4; i++) {
          const o = await EventStream.open(flow.browser, eventsUrl(base, flow));
          expect(o.status).toBe(200);
          open.push(o.stream!);
        }
      }
      const sixth = flows[5]!;
      expect(await EventStream.open(sixth.browser, eventsUrl(base, sixth))).toMatchObject({
        status: 429,
        retryAfter: '10',
        code: 'TOO_MANY_STREAMS',
      });
      await open.shift()!.close();
      await expect
        .poll(async () => {
          const o = await EventStream.open(sixth.browser, eventsUrl(base, sixth));
          if (o.stream) open.push(o.stream);
          return o.status;
        })
        .toBe(200);
    } finally {
      await Promise.all(open.map((s) => s.close()));
    }
  });

  it('a change that was not announced is still seen at the next re-check', async () => {
    const flow = await startFlow(p, rp.clientId, rp.clientSecret);
    const changes = await CeremonyChanges.start(p.server.platform.db, p.server.platform.log, { recheckMs: 300 });
    const seen: Ceremony[] = [];
    const stop = changes.follow(uidOf(flow), (c) => seen.push(c));
    try {
      await expect.poll(() => seen.length).toBeGreaterThan(0);
      await p.server.platform.db.query(`UPDATE ceremonies SET stage = 'reading' WHERE id = $1`, [ceremonyIdOf(flow)]);
      await expect.poll(() => seen.at(-1)?.stage, { timeout: 5000 }).toBe('reading');
    } finally {
      stop();
      await changes.close();
    }
  });
});

describe('progress streams on two platforms sharing one PostgreSQL database', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let one: TestPlatform;
  let two: TestPlatform;
  let rp: { clientId: string; clientSecret: string };
  beforeAll(async () => {
    database = await createPostgresDatabase();
    // Processes sharing a database share its master key and admin token.
    const config = { masterKey: randomBytes(32).toString('hex'), adminToken: randomBytes(24).toString('base64url') };
    one = await startTestPlatform('postgres', sim.dir, { databaseUrl: database.url, config });
    two = await startTestPlatform('postgres', sim.dir, { databaseUrl: database.url, config });
    rp = await createRelyingParty(one.server.platform, {
      name: 'Two platforms RP',
      redirectUris: ['http://127.0.0.1:9/callback'],
    });
  }, 120_000);
  afterAll(async () => {
    await one?.close();
    await two?.close();
    await database?.drop();
  });

  /** Ends the listening connections of both platforms, as a PostgreSQL restart or a failover would. */
  const killListeners = async (): Promise<number> => {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    try {
      const rows = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kakunin-listen'`,
      );
      return rows.rowCount ?? 0;
    } finally {
      await admin.end();
    }
  };

  it('a change made through one platform reaches a stream on the other, also after its listening connection was lost', async () => {
    const flow = await startFlow(one, rp.clientId, rp.clientSecret);
    const id = ceremonyIdOf(flow);
    const counted = countQueries(two.server.platform.db);
    const opened = await EventStream.open(flow.browser, eventsUrl(two.server.url, flow));
    expect(opened.status).toBe(200);
    const stream = opened.stream!;
    try {
      await expect.poll(() => stream.last?.stage).toBe('waiting');
      expect((await progress(one.server.url, id, { stage: 'reading' })).status).toBe(204);
      await expect.poll(() => stream.last?.stage).toBe('reading');

      // Changed while no listener is connected: the reconnection re-reads, well before the 20 s re-check.
      expect(await killListeners()).toBe(2);
      expect(
        (await progress(one.server.url, id, { stage: 'card_error', error: { code: 'WRONG_PIN', remaining: 1 } }))
          .status,
      ).toBe(204);
      await expect.poll(() => stream.last?.stage, { timeout: 5000 }).toBe('waiting');

      // The new connection listens: the answer arrives as a notification.
      await expect
        .poll(
          async () =>
            (
              await two.server.platform.db.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kakunin-listen' AND query ILIKE 'LISTEN%'`,
              )
            )[0]!.n,
          { timeout: 5000 },
        )
        .toBe(2);
      expect((await holderRespond(one.sandbox, holderLinkOf(flow.page.body), { person: adult(one) })).status).toBe(200);
      await expect.poll(() => stream.ended && stream.last?.state === 'completed', { timeout: 5000 }).toBe(true);
      // Platform two read the ceremony once at open and once per change or reconnection, never in a loop.
      expect(counted.reads).toBeLessThanOrEqual(6);
    } finally {
      counted.stop();
      await stream.close();
    }
  });
});
