// The PostgreSQL-backed job queue on both engines: dedupe, exclusive claims under concurrency,
// lock expiry and fencing, retries and giving up, and the Worker's lifecycle.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.js';
import {
  backoffMs,
  claim,
  complete,
  enqueue,
  extendLock,
  fail,
  findJobByDedupeKey,
  getJob,
  listJobs,
  purgeCompletedJobs,
  Worker,
  type Job,
} from '../src/jobs/index.js';
import { ENGINES, openTestDatabase, type TestDatabase } from './support/databases.js';

const at = (base: Date, seconds: number): Date => new Date(base.getTime() + seconds * 1000);

describe('backoffMs', () => {
  it('doubles from 10 s and caps at 1 h', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n))).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(backoffMs(12)).toBe(3_600_000);
    expect(backoffMs(3, { baseMs: 1000, maxMs: 3000 })).toBe(3000);
  });
});

describe.each(ENGINES)('job queue (%s)', (engine) => {
  let t: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    db = t.db;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('enqueues, claims the ready job once, completes it', async () => {
    const base = new Date();
    const { id, created } = await enqueue(db, 'basic', { n: 1 }, { runAt: base });
    expect(created).toBe(true);
    await enqueue(db, 'basic', { n: 2 }, { runAt: at(base, 60) }); // not due yet
    expect(await claim(db, 'other', { lockSeconds: 30, now: base })).toBeUndefined();

    const job = await claim<{ n: number }>(db, 'basic', { lockSeconds: 30, now: base });
    expect(job).toMatchObject({ id, queue: 'basic', payload: { n: 1 }, attempts: 1, doneAt: null });
    expect(job!.lockedUntil!.getTime()).toBe(at(base, 30).getTime());
    // Locked, and the other one is not due.
    expect(await claim(db, 'basic', { lockSeconds: 30, now: base })).toBeUndefined();

    expect(await complete(db, job!, { now: base })).toBe(true);
    expect(await complete(db, job!, { now: base })).toBe(false); // already done
    const done = await getJob(db, id);
    expect(done).toMatchObject({ doneAt: base, failedAt: null, lockedUntil: null });
    expect(await claim(db, 'basic', { lockSeconds: 30, now: at(base, 59) })).toBeUndefined();
    expect((await claim<{ n: number }>(db, 'basic', { lockSeconds: 30, now: at(base, 60) }))?.payload.n).toBe(2);
  });

  it('a dedupe key schedules one job, also from concurrent and transactional enqueues', async () => {
    const first = await enqueue(db, 'dedupe', { a: 1 }, { dedupeKey: 'slot:1' });
    const again = await enqueue(db, 'dedupe', { a: 2 }, { dedupeKey: 'slot:1' });
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    expect((await findJobByDedupeKey(db, 'slot:1'))?.payload).toEqual({ a: 1 });

    const racing = await Promise.all(
      Array.from({ length: 8 }, () => enqueue(db, 'dedupe', {}, { dedupeKey: 'slot:2' })),
    );
    expect(racing.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(racing.map((r) => r.id)).size).toBe(1);

    // Enqueued with the change that needs it: a rollback leaves no job.
    await expect(
      db.transaction(async (tx) => {
        await enqueue(tx, 'dedupe', {}, { dedupeKey: 'slot:3' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await findJobByDedupeKey(db, 'slot:3')).toBeUndefined();
  });

  it('concurrent claimers never take the same job (two connection pools on PostgreSQL)', async () => {
    const N = 40;
    for (let i = 0; i < N; i++) await enqueue(db, 'race', { i });
    // A second process's view of the database: its own pool of connections.
    const other = engine === 'postgres' ? await openDatabase({ databaseUrl: t.url!, migrate: false, poolSize: 5 }) : db;
    try {
      const claimed: Job[] = [];
      const claimer = async (conn: Database): Promise<void> => {
        for (;;) {
          const job = await claim(conn, 'race', { lockSeconds: 60 });
          if (!job) return;
          claimed.push(job);
        }
      };
      await Promise.all([
        ...Array.from({ length: 5 }, () => claimer(db)),
        ...Array.from({ length: 5 }, () => claimer(other)),
      ]);
      expect(claimed).toHaveLength(N);
      expect(new Set(claimed.map((j) => j.id)).size).toBe(N);
      expect(claimed.every((j) => j.attempts === 1)).toBe(true);
    } finally {
      if (other !== db) await other.close();
    }
  });

  it("retakes a crashed worker's job once its lock expires; the stale worker's result is refused", async () => {
    const base = new Date();
    await enqueue(db, 'crash', { x: 1 }, { runAt: base });
    const first = await claim(db, 'crash', { lockSeconds: 30, now: base });
    expect(first?.attempts).toBe(1);
    expect(await claim(db, 'crash', { lockSeconds: 30, now: at(base, 29) })).toBeUndefined();

    const second = await claim(db, 'crash', { lockSeconds: 30, now: at(base, 30) });
    expect(second).toMatchObject({ id: first!.id, attempts: 2 });
    // The first worker wakes up late: its claim is gone.
    expect(await complete(db, first!)).toBe(false);
    expect(await fail(db, first!, { error: 'late', retryAt: at(base, 100) })).toBe(false);
    expect(await extendLock(db, first!, { lockSeconds: 30 })).toBe(false);
    expect(await extendLock(db, second!, { lockSeconds: 60, now: at(base, 31) })).toBe(true);
    expect((await getJob(db, first!.id))?.lockedUntil?.getTime()).toBe(at(base, 91).getTime());
    expect(await complete(db, second!)).toBe(true);
  });

  it('fail with retryAt reschedules (attempts counted by claims); fail without gives up and keeps the job', async () => {
    const base = new Date();
    const { id } = await enqueue(db, 'flaky', {}, { runAt: base });
    const a1 = await claim(db, 'flaky', { lockSeconds: 30, now: base });
    expect(await fail(db, a1!, { error: 'HTTP 500', retryAt: at(base, 10) })).toBe(true);
    expect(await getJob(db, id)).toMatchObject({
      attempts: 1,
      lastError: 'HTTP 500',
      lockedUntil: null,
      doneAt: null,
      runAt: at(base, 10),
    });
    expect(await claim(db, 'flaky', { lockSeconds: 30, now: at(base, 9) })).toBeUndefined();

    const a2 = await claim(db, 'flaky', { lockSeconds: 30, now: at(base, 10) });
    expect(a2?.attempts).toBe(2);
    expect(await fail(db, a2!, { error: 'gave up', now: at(base, 11) })).toBe(true);
    expect(await getJob(db, id)).toMatchObject({
      attempts: 2,
      lastError: 'gave up',
      doneAt: at(base, 11),
      failedAt: at(base, 11),
    });
    expect(await claim(db, 'flaky', { lockSeconds: 30, now: at(base, 3600) })).toBeUndefined();
    expect((await listJobs(db, { queue: 'flaky', state: 'failed' })).map((j) => j.id)).toEqual([id]);

    // Purging removes completed jobs only.
    const { id: doneId } = await enqueue(db, 'flaky', {}, { runAt: base });
    const c = await claim(db, 'flaky', { lockSeconds: 30, now: base });
    expect(c?.id).toBe(doneId);
    await complete(db, c!, { now: base });
    expect(await purgeCompletedJobs(db, at(base, 1))).toBeGreaterThanOrEqual(1);
    expect(await getJob(db, doneId)).toBeUndefined();
    expect(await getJob(db, id)).toBeDefined();
  });

  it('Worker.drain runs handlers with the injected clock, retries thrown errors with backoff, gives up after maxAttempts', async () => {
    const base = new Date();
    let now = base;
    const seen: { queue: string; attempt: number; now: Date }[] = [];
    const worker = new Worker({
      db,
      clock: () => now,
      queues: {
        'w-ok': async (job, ctx) => void seen.push({ queue: job.queue, attempt: ctx.attempt, now: ctx.now }),
        'w-throw': {
          maxAttempts: 2,
          handler: async (job, ctx) => {
            seen.push({ queue: job.queue, attempt: ctx.attempt, now: ctx.now });
            throw new Error(`boom ${ctx.attempt}`);
          },
        },
        'w-retry': async (_job, ctx) => (ctx.attempt === 1 ? { retryAt: at(ctx.now, 5), error: 'later' } : undefined),
      },
    });
    const ok = await enqueue(db, 'w-ok', {}, { runAt: base });
    const bad = await enqueue(db, 'w-throw', {}, { runAt: base });
    const retry = await enqueue(db, 'w-retry', {}, { runAt: base });
    expect(await worker.drain()).toBe(3);
    expect(await worker.drain()).toBe(0);
    expect(await getJob(db, ok.id)).toMatchObject({ doneAt: base, failedAt: null });
    expect(await getJob(db, bad.id)).toMatchObject({ doneAt: null, lastError: 'boom 1', runAt: at(base, 10) });
    expect(await getJob(db, retry.id)).toMatchObject({ doneAt: null, lastError: 'later', runAt: at(base, 5) });

    now = at(base, 10);
    expect(await worker.drain()).toBe(2);
    expect(await getJob(db, bad.id)).toMatchObject({ attempts: 2, lastError: 'boom 2', failedAt: at(base, 10) });
    expect(await getJob(db, retry.id)).toMatchObject({ attempts: 2, doneAt: at(base, 10), failedAt: null });
    expect(seen.filter((s) => s.queue === 'w-throw').map((s) => s.attempt)).toEqual([1, 2]);
    expect(seen[0]!.now).toEqual(base);
  });

  it('Worker.start polls; stop() waits for the running handler and leaves no timer behind', async () => {
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const gate = new Promise<void>((r) => (release = r));
    let finished = false;
    const worker = new Worker({
      db,
      pollMs: 10,
      queues: {
        'w-slow': async (_job, ctx) => {
          started();
          await gate;
          finished = true;
          expect(ctx.signal.aborted).toBe(true); // stop() asked it to hurry
        },
      },
    });
    worker.start();
    const { id } = await enqueue(db, 'w-slow', {});
    worker.wake();
    await running;
    let stopped = false;
    const stopping = worker.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    expect((await getJob(db, id))?.doneAt).not.toBeNull();
    expect(worker.running).toBe(false);
    // A stopped worker takes nothing more.
    const { id: later } = await enqueue(db, 'w-slow', {});
    await new Promise((r) => setTimeout(r, 50));
    expect((await getJob(db, later))?.attempts).toBe(0);
  });

  it('Worker: each queue has its own lane, so a long job does not hold up another queue', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const quick: string[] = [];
    const worker = new Worker({
      db,
      pollMs: 10,
      queues: {
        'lane-long': async () => gate,
        'lane-quick': { concurrency: 2, handler: async (job) => void quick.push(job.id) },
      },
    });
    worker.start();
    try {
      await enqueue(db, 'lane-long', {});
      await new Promise((r) => setTimeout(r, 50));
      const ids = [(await enqueue(db, 'lane-quick', {})).id, (await enqueue(db, 'lane-quick', {})).id];
      worker.wake();
      for (let i = 0; i < 200 && quick.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(quick.sort()).toEqual(ids.sort());
    } finally {
      release();
      await worker.stop();
    }
  });
});
