// Periodic scheduling of the revocation monitor. Time is cut into slots of `intervalSeconds`; each
// slot has one job whose dedupe key names the slot, so any number of server processes may try to
// schedule it and exactly one job exists per slot (one worker runs it).

import type { Database, Queryable } from '../db/sql.js';
import { enqueue } from '../jobs/queue.js';
import { silentLogger, type Logger } from '../jobs/worker.js';

export const MONITOR_QUEUE = 'revocation-monitor';

export function monitorSlot(intervalSeconds: number, at: Date): { slot: number; runAt: Date; dedupeKey: string } {
  if (!Number.isInteger(intervalSeconds) || intervalSeconds <= 0)
    throw new RangeError('the monitor interval must be a whole number of seconds > 0');
  const slot = Math.floor(at.getTime() / 1000 / intervalSeconds);
  return {
    slot,
    runAt: new Date(slot * intervalSeconds * 1000),
    dedupeKey: `${MONITOR_QUEUE}:${intervalSeconds}:${slot}`,
  };
}

/** Enqueues the monitor job of the slot containing `now` (a no-op if it exists). */
export async function scheduleRevocationMonitor(
  db: Queryable,
  o: { intervalSeconds: number; now?: Date },
): Promise<{ id: string; created: boolean; runAt: Date; dedupeKey: string }> {
  const { slot, runAt, dedupeKey } = monitorSlot(o.intervalSeconds, o.now ?? new Date());
  const job = await enqueue(db, MONITOR_QUEUE, { slot, interval_seconds: o.intervalSeconds }, { runAt, dedupeKey });
  return { ...job, runAt, dedupeKey };
}

export interface MonitorScheduler {
  /** Schedules the current slot now (also done on start). */
  tick(): Promise<void>;
  /** Stops the timer and waits for a scheduling attempt in flight. */
  stop(): Promise<void>;
}

/**
 * Schedules the current slot at once, then again at every slot boundary. Timers are unref'd: the
 * scheduler never keeps the process alive.
 */
export function startMonitorScheduler(
  db: Database,
  o: { intervalSeconds: number; log?: Logger; clock?: () => Date; onScheduled?: () => void },
): MonitorScheduler {
  const log = o.log ?? silentLogger;
  const clock = o.clock ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let inflight: Promise<void> = Promise.resolve();

  const tick = (): Promise<void> => (inflight = schedule());
  const schedule = async (): Promise<void> => {
    try {
      const job = await scheduleRevocationMonitor(db, { intervalSeconds: o.intervalSeconds, now: clock() });
      if (job.created) {
        log.info({ jobId: job.id, runAt: job.runAt }, 'revocation monitor scheduled');
        o.onScheduled?.();
      }
    } catch (e) {
      log.error({ err: e }, 'revocation monitor: scheduling failed; trying again shortly');
    }
  };

  const arm = (): void => {
    if (stopped) return;
    const now = clock().getTime();
    const next = (Math.floor(now / 1000 / o.intervalSeconds) + 1) * o.intervalSeconds * 1000;
    // Just past the boundary; capped so that long intervals and clock jumps are re-evaluated hourly.
    const delay = Math.min(Math.max(next - now + 1000, 1000), 3_600_000);
    timer = setTimeout(() => void tick().finally(arm), delay);
    timer.unref();
  };

  void tick().finally(arm);
  return {
    tick,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inflight;
    },
  };
}
