// The background jobs of one server process: a worker for the revocation monitor and webhook
// deliveries, and the monitor's scheduler. Every process may run them; the job queue makes sure
// each job runs once.

import { randomBytes } from 'node:crypto';
import { MAX_OCSP_REUSE_SECONDS, type MonitorMode, type ServerConfig } from '../config.js';
import type { CrlRefresher } from '../crl/refresher.js';
import type { Database } from '../db/sql.js';
import { enqueue, purgeCompletedJobs } from '../jobs/queue.js';
import { silentLogger, Worker, type Logger, type QueueConfig } from '../jobs/worker.js';
import type { Metrics } from '../metrics.js';
import { purgeOcspAnswers } from '../ocsp-answers.js';
import type { JpkiVerifier } from '../verifier.js';
import { WEBHOOK_QUEUE, webhookDeliveryQueue, type WebhookDeliveryOptions } from '../webhooks/delivery.js';
import { CRL_MONITOR_QUEUE, type CrlMonitor } from './crl-monitor.js';
import { runRevocationMonitor, type MonitorOptions, type MonitorPlatform } from './monitor.js';
import { MONITOR_QUEUE, startMonitorScheduler, type MonitorScheduler } from './scheduler.js';

/** Completed jobs are deleted after this long (failed ones are kept). */
const COMPLETED_JOB_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** The `revocation-monitor` queue for a Worker. */
export function revocationMonitorQueue(
  platform: MonitorPlatform,
  options: Omit<MonitorOptions, 'now' | 'signal' | 'heartbeat'> = {},
): QueueConfig {
  return {
    handler: async (_job, ctx) => {
      await runRevocationMonitor(
        { ...platform, log: platform.log ?? ctx.log },
        { ...options, now: ctx.now, signal: ctx.signal, heartbeat: ctx.heartbeat },
      );
      // Housekeeping rides on the monitor: slot jobs and delivered webhooks pile up otherwise.
      await purgeCompletedJobs(ctx.db, new Date(ctx.now.getTime() - COMPLETED_JOB_RETENTION_MS));
      await purgeOcspAnswers(ctx.db, new Date(ctx.now.getTime() - MAX_OCSP_REUSE_SECONDS * 1000));
    },
    // Extended between batches by the heartbeat; a crashed run is retaken after this.
    lockSeconds: 600,
    maxAttempts: 3,
  };
}

export interface BackgroundJobsOptions {
  db: Database;
  verifier: Pick<JpkiVerifier, 'recheck'>;
  metrics?: Metrics;
  log?: Logger;
  /** monitorMode default ocsp (re-check every watched certificate), monitorOcspPerSecond default no limit. */
  config: Pick<ServerConfig, 'monitorIntervalSeconds'> &
    Partial<Pick<ServerConfig, 'monitorOcspPerSecond'>> & { monitorMode?: MonitorMode };
  /** CRL-driven monitoring: processes every CRL the refresher installs (crl mode). */
  crl?: { monitor: CrlMonitor; refresher: CrlRefresher };
  webhooks?: Omit<WebhookDeliveryOptions, 'metrics' | 'log'>;
  /** Worker poll interval (default 1000 ms). */
  pollMs?: number;
}

export interface BackgroundJobs {
  readonly worker: Worker;
  /** Queues a monitor run now (admin "re-check now"); the worker picks it up at once. */
  runMonitorNow(): Promise<{ id: string }>;
  /** Stops scheduling and polling, waiting for the running job. */
  stop(): Promise<void>;
}

export function startBackgroundJobs(o: BackgroundJobsOptions): BackgroundJobs {
  const log = o.log ?? silentLogger;
  const platform: MonitorPlatform = {
    db: o.db,
    verifier: o.verifier,
    log,
    ...(o.metrics ? { metrics: o.metrics } : {}),
  };
  const worker = new Worker({
    db: o.db,
    log,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
    queues: {
      [MONITOR_QUEUE]: revocationMonitorQueue(platform, {
        mode: o.config.monitorMode ?? 'ocsp',
        ocspPerSecond: o.config.monitorOcspPerSecond ?? 0,
      }),
      [WEBHOOK_QUEUE]: webhookDeliveryQueue({ ...o.webhooks, log, ...(o.metrics ? { metrics: o.metrics } : {}) }),
      ...(o.crl ? { [CRL_MONITOR_QUEUE]: o.crl.monitor.queue(o.crl.refresher) } : {}),
    },
  });
  worker.start();
  const unfollow = o.crl?.monitor.follow(o.crl.refresher, () => worker.wake());
  let scheduler: MonitorScheduler | undefined;
  if (o.config.monitorIntervalSeconds > 0) {
    scheduler = startMonitorScheduler(o.db, {
      intervalSeconds: o.config.monitorIntervalSeconds,
      log,
      onScheduled: () => worker.wake(),
    });
  }
  let stopped: Promise<void> | undefined;
  return {
    worker,
    runMonitorNow: async () => {
      const job = await enqueue(
        o.db,
        MONITOR_QUEUE,
        { manual: true },
        { dedupeKey: `${MONITOR_QUEUE}:manual:${randomBytes(8).toString('hex')}` },
      );
      worker.wake();
      return { id: job.id };
    },
    stop: () =>
      (stopped ??= (async () => {
        unfollow?.();
        await scheduler?.stop();
        await worker.stop();
      })()),
  };
}
