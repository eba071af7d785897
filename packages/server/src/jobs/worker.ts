// A polling worker over the job queue: any number of them (one per server process) cooperate on
// one database. It never keeps the process alive on its own (unref'd timers) and `stop()` waits for
// the handler that is running.

import type { Database } from '../db/sql.js';
import { backoffMs, claim, complete, extendLock, fail, type Job, type JobPayload } from './queue.js';

/** The part of a pino / Fastify logger the background jobs use. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface JobContext {
  db: Database;
  /** The worker's clock at claim time. */
  now: Date;
  /** Which attempt this is (1 for the first). */
  attempt: number;
  /** Aborted when the worker stops: long handlers should finish early. */
  signal: AbortSignal;
  /** Extends the claim by the queue's lockSeconds; false when it was lost to another worker. */
  heartbeat(): Promise<boolean>;
  log: Logger;
}

/**
 * What a handler decides: nothing (done), retry at a given time, or give up. A thrown error is
 * retried with exponential backoff until `maxAttempts`, then the job gives up.
 */
export type JobOutcome = void | { retryAt: Date; error: string } | { giveUp: string };

export type JobHandler<P extends JobPayload = JobPayload> = (job: Job<P>, ctx: JobContext) => Promise<JobOutcome>;

export interface QueueConfig<P extends JobPayload = JobPayload> {
  handler: JobHandler<P>;
  /** Default 60. */
  lockSeconds?: number;
  /** For thrown errors (default 10). */
  maxAttempts?: number;
  /** Jobs of this queue run at once in this process (default 1). */
  concurrency?: number;
}

export interface WorkerOptions {
  db: Database;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  queues: Record<string, QueueConfig<any> | JobHandler<any>>;
  /** Sleep between polls when no job is ready (default 1000 ms). */
  pollMs?: number;
  /** Injectable clock (tests); default: the database's time for claims, Date for handlers. */
  clock?: () => Date;
  log?: Logger;
}

export class Worker {
  private readonly queues: [string, Required<QueueConfig>][];
  private readonly log: Logger;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly sleepers = new Set<() => void>();
  private readonly options: WorkerOptions;

  constructor(options: WorkerOptions) {
    this.options = options;
    this.queues = Object.entries(options.queues).map(([name, q]) => [
      name,
      typeof q === 'function'
        ? { handler: q, lockSeconds: 60, maxAttempts: 10, concurrency: 1 }
        : {
            handler: q.handler,
            lockSeconds: q.lockSeconds ?? 60,
            maxAttempts: q.maxAttempts ?? 10,
            concurrency: Math.max(1, q.concurrency ?? 1),
          },
    ]);
    this.log = options.log ?? silentLogger;
  }

  get running(): boolean {
    return this.loop !== undefined && !this.stopping;
  }

  start(): void {
    if (this.loop || this.stopping) return;
    // One lane per queue (times its concurrency): a long monitor run never holds up webhooks.
    const lanes = this.queues.flatMap(([name, q]) => Array.from({ length: q.concurrency }, () => this.lane(name, q)));
    this.loop = Promise.all(lanes).then(() => undefined);
  }

  /** Polls now instead of at the end of the current sleep (e.g. right after enqueueing). */
  wake(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Stops polling and waits for the running handler (if any) to finish. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.wake();
    await this.loop;
  }

  /** Runs every ready job of every queue until none is ready; returns how many ran. For tests and one-shot runs. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.runReady();
      total += n;
      if (n === 0 || this.stopping) return total;
    }
  }

  private async lane(name: string, q: Required<QueueConfig>): Promise<void> {
    while (!this.stopping) {
      let ran = false;
      try {
        ran = await this.runOne(name, q);
      } catch (e) {
        // Database unreachable and the like: log, back off one poll, try again.
        this.log.error({ err: e, queue: name }, 'job worker: polling failed');
      }
      if (!this.stopping && !ran) await this.sleep(this.options.pollMs ?? 1000);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.sleepers.add(done);
    });
  }

  /** One pass over the queues, at most one job each (so that a busy queue does not starve the others). */
  private async runReady(): Promise<number> {
    let ran = 0;
    for (const [name, q] of this.queues) {
      if (this.stopping) break;
      if (await this.runOne(name, q)) ran++;
    }
    return ran;
  }

  private async runOne(name: string, q: Required<QueueConfig>): Promise<boolean> {
    const now = this.options.clock?.();
    const job = await claim(this.options.db, name, { lockSeconds: q.lockSeconds, ...(now ? { now } : {}) });
    if (!job) return false;
    await this.execute(job, q, now ?? new Date());
    return true;
  }

  private async execute(job: Job, q: Required<QueueConfig>, now: Date): Promise<void> {
    const { db } = this.options;
    const clockNow = (): Date | undefined => this.options.clock?.();
    const at = (): { now?: Date } => {
      const n = clockNow();
      return n ? { now: n } : {};
    };
    const ctx: JobContext = {
      db,
      now,
      attempt: job.attempts,
      signal: this.abort.signal,
      log: this.log,
      heartbeat: () => extendLock(db, job, { lockSeconds: q.lockSeconds, ...at() }),
    };
    let outcome: JobOutcome;
    try {
      outcome = await q.handler(job, ctx);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      if (job.attempts >= q.maxAttempts) {
        this.log.error(
          { err: e, jobId: job.id, queue: job.queue, attempt: job.attempts },
          'job failed for the last time; giving up',
        );
        outcome = { giveUp: error };
      } else {
        const retryAt = new Date((clockNow() ?? new Date()).getTime() + backoffMs(job.attempts));
        this.log.warn(
          { err: e, jobId: job.id, queue: job.queue, attempt: job.attempts, retryAt },
          'job failed; will retry',
        );
        outcome = { retryAt, error };
      }
    }
    let kept: boolean;
    if (!outcome) kept = await complete(db, job, at());
    else if ('retryAt' in outcome) kept = await fail(db, job, { error: outcome.error, retryAt: outcome.retryAt });
    else kept = await fail(db, job, { error: outcome.giveUp, ...at() });
    // The lock expired and another worker took the job: its result stands, not ours.
    if (!kept)
      this.log.warn(
        { jobId: job.id, queue: job.queue, attempt: job.attempts },
        'job lock was lost before the job finished',
      );
  }
}
