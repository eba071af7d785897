// A small job queue in the `jobs` table, shared by every server process on one database.
//
// Claiming is one UPDATE over `SELECT … FOR UPDATE SKIP LOCKED`: two claimers never take the same
// row, and a claimed row carries `locked_until` so that a crashed worker's job is taken again once
// the lock expires. `attempts` is incremented by the claim (not by `fail`) so that a job that keeps
// crashing its worker is still counted, and it doubles as a fencing token: `complete`/`fail` only
// touch the row if nobody re-claimed it in the meantime.
//
// Times: pass `now` to use the caller's clock (tests, injectable clocks); without it the database's
// `now()` is used so that processes with slightly different clocks agree.

import type { Queryable } from '../db/sql.js';

export type JobPayload = Record<string, unknown>;

export interface Job<P extends JobPayload = JobPayload> {
  id: string;
  queue: string;
  payload: P;
  runAt: Date;
  /** How many times the job was claimed, this claim included. */
  attempts: number;
  lockedUntil: Date | null;
  doneAt: Date | null;
  /** Set when the job gave up (it is then done as well). */
  failedAt: Date | null;
  lastError: string | null;
  dedupeKey: string | null;
  createdAt: Date;
}

interface JobRow {
  id: string;
  queue: string;
  payload: JobPayload;
  run_at: Date;
  attempts: number;
  locked_until: Date | null;
  done_at: Date | null;
  failed_at: Date | null;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: Date;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

function fromRow<P extends JobPayload>(r: JobRow): Job<P> {
  return {
    id: String(r.id),
    queue: r.queue,
    payload: r.payload as P,
    runAt: new Date(r.run_at),
    attempts: Number(r.attempts),
    lockedUntil: date(r.locked_until),
    doneAt: date(r.done_at),
    failedAt: date(r.failed_at),
    lastError: r.last_error,
    dedupeKey: r.dedupe_key,
    createdAt: new Date(r.created_at),
  };
}

export interface EnqueueOptions {
  /** Not before this time (default now). */
  runAt?: Date;
  /** At most one job ever exists per key: enqueueing it again is a no-op that returns the first one. */
  dedupeKey?: string;
}

/** Adds a job; call it with a transaction to schedule work atomically with the change that needs it. */
export async function enqueue(
  db: Queryable,
  queue: string,
  payload: JobPayload = {},
  options: EnqueueOptions = {},
): Promise<{ id: string; created: boolean }> {
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO jobs (queue, payload, run_at, dedupe_key) VALUES ($1, $2, COALESCE($3::timestamptz, now()), $4)
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [queue, payload, options.runAt ?? null, options.dedupeKey ?? null],
  );
  if (row) return { id: String(row.id), created: true };
  // Only a dedupe key conflicts; the row exists (a concurrent inserter waited for its commit).
  const [existing] = await db.query<{ id: string }>('SELECT id FROM jobs WHERE dedupe_key = $1', [
    options.dedupeKey ?? null,
  ]);
  if (!existing) throw new Error(`job with dedupe key "${options.dedupeKey}" vanished while enqueueing`);
  return { id: String(existing.id), created: false };
}

export interface ClaimOptions {
  /** How long the claim holds before another worker may take the job again. */
  lockSeconds: number;
  now?: Date;
}

/** Takes the oldest ready job of a queue, or undefined when none is ready. */
export async function claim<P extends JobPayload = JobPayload>(
  db: Queryable,
  queue: string,
  options: ClaimOptions,
): Promise<Job<P> | undefined> {
  const [row] = await db.query<JobRow>(
    `UPDATE jobs SET locked_until = COALESCE($2::timestamptz, now()) + $3::double precision * interval '1 second', attempts = attempts + 1
     WHERE id = (
       SELECT id FROM jobs
       WHERE queue = $1 AND done_at IS NULL AND run_at <= COALESCE($2::timestamptz, now())
         AND (locked_until IS NULL OR locked_until <= COALESCE($2::timestamptz, now()))
       ORDER BY run_at, id
       LIMIT 1
       FOR UPDATE SKIP LOCKED
     )
     RETURNING *`,
    [queue, options.now ?? null, options.lockSeconds],
  );
  return row ? fromRow<P>(row) : undefined;
}

/** Marks a claimed job done. False when the claim was lost (lock expired and the job re-claimed). */
export async function complete(
  db: Queryable,
  job: Pick<Job, 'id' | 'attempts'>,
  options: { now?: Date } = {},
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE jobs SET done_at = COALESCE($3::timestamptz, now()), locked_until = NULL
     WHERE id = $1 AND attempts = $2 AND done_at IS NULL RETURNING id`,
    [job.id, job.attempts, options.now ?? null],
  );
  return rows.length === 1;
}

export interface FailOptions {
  error: string;
  /** Run again at this time; without it the job gives up (done and failed, kept for inspection). */
  retryAt?: Date;
  now?: Date;
}

/** Records a failed attempt of a claimed job. False when the claim was lost. */
export async function fail(db: Queryable, job: Pick<Job, 'id' | 'attempts'>, options: FailOptions): Promise<boolean> {
  const error = options.error.slice(0, 2000);
  const rows = options.retryAt
    ? await db.query(
        `UPDATE jobs SET run_at = $3, locked_until = NULL, last_error = $4
         WHERE id = $1 AND attempts = $2 AND done_at IS NULL RETURNING id`,
        [job.id, job.attempts, options.retryAt, error],
      )
    : await db.query(
        `UPDATE jobs SET done_at = COALESCE($3::timestamptz, now()), failed_at = COALESCE($3::timestamptz, now()), locked_until = NULL, last_error = $4
         WHERE id = $1 AND attempts = $2 AND done_at IS NULL RETURNING id`,
        [job.id, job.attempts, options.now ?? null, error],
      );
  return rows.length === 1;
}

/** Extends the lock of a long-running job. False when the claim was lost. */
export async function extendLock(
  db: Queryable,
  job: Pick<Job, 'id' | 'attempts'>,
  options: ClaimOptions,
): Promise<boolean> {
  const rows = await db.query(
    `UPDATE jobs SET locked_until = COALESCE($3::timestamptz, now()) + $4::double precision * interval '1 second'
     WHERE id = $1 AND attempts = $2 AND done_at IS NULL RETURNING id`,
    [job.id, job.attempts, options.now ?? null, options.lockSeconds],
  );
  return rows.length === 1;
}

export async function getJob<P extends JobPayload = JobPayload>(
  db: Queryable,
  id: string,
): Promise<Job<P> | undefined> {
  const [row] = await db.query<JobRow>('SELECT * FROM jobs WHERE id = $1', [id]);
  return row ? fromRow<P>(row) : undefined;
}

export async function findJobByDedupeKey<P extends JobPayload = JobPayload>(
  db: Queryable,
  dedupeKey: string,
): Promise<Job<P> | undefined> {
  const [row] = await db.query<JobRow>('SELECT * FROM jobs WHERE dedupe_key = $1', [dedupeKey]);
  return row ? fromRow<P>(row) : undefined;
}

export async function listJobs<P extends JobPayload = JobPayload>(
  db: Queryable,
  options: { queue?: string; state?: 'pending' | 'done' | 'failed'; limit?: number } = {},
): Promise<Job<P>[]> {
  const state =
    options.state === 'pending'
      ? 'AND done_at IS NULL'
      : options.state === 'done'
        ? 'AND done_at IS NOT NULL AND failed_at IS NULL'
        : options.state === 'failed'
          ? 'AND failed_at IS NOT NULL'
          : '';
  const rows = await db.query<JobRow>(
    `SELECT * FROM jobs WHERE ($1::text IS NULL OR queue = $1) ${state} ORDER BY id DESC LIMIT $2`,
    [options.queue ?? null, options.limit ?? 100],
  );
  return rows.map((r) => fromRow<P>(r));
}

/** Deletes jobs that completed before `olderThan`; failed jobs are kept for inspection. */
export async function purgeCompletedJobs(db: Queryable, olderThan: Date): Promise<number> {
  return (await db.query('DELETE FROM jobs WHERE done_at < $1 AND failed_at IS NULL RETURNING id', [olderThan])).length;
}

/** Exponential backoff: base · 2^(attempt−1), capped. */
export function backoffMs(attempt: number, options: { baseMs?: number; maxMs?: number } = {}): number {
  const base = options.baseMs ?? 10_000;
  const max = options.maxMs ?? 3_600_000;
  return Math.min(base * 2 ** Math.max(0, attempt - 1), max);
}
