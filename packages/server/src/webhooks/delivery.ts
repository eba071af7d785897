// Webhook delivery: one job per (event, RP) in the `webhook-delivery` queue. Each attempt POSTs the
// signed event and writes a `webhook_deliveries` row, whatever happens; a 2xx answer completes the
// job, anything else (non-2xx, network error, timeout) reschedules it with exponential backoff until
// the last attempt, after which the job is marked failed. Nothing is dropped silently: the failed
// job and every attempt stay in the database for the admin API.
//
// Delivery is at least once (a worker that dies after the POST but before recording it will POST
// again): RPs deduplicate by `Kakunin-Event-Id`.

import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/sql.js';
import { NotFound } from '../errors.js';
import { backoffMs, enqueue } from '../jobs/queue.js';
import type { JobContext, JobOutcome, Logger, QueueConfig } from '../jobs/worker.js';
import type { Metrics } from '../metrics.js';
import { getEvent, type PlatformEvent } from '../monitor/events.js';
import { findRelyingParty, type RelyingParty } from '../relying-parties.js';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from './signature.js';

export const WEBHOOK_QUEUE = 'webhook-delivery';

export interface WebhookJobPayload {
  [key: string]: unknown;
  event_id: string;
  rp_client_id: string;
}

/** The JSON body an RP receives. */
export interface WebhookBody {
  id: string;
  type: string;
  created_at: string;
  rp_client_id: string;
  /** The RP's pairwise OIDC `sub` of the holder (never the platform-wide subject id, which would link RPs). */
  sub?: string;
  /** The verification record (確認記録) the event concerns, e.g. the verification of the certificate now revoked: its inclusion proof is at GET /records/v1/proof/inclusion?record_id=… */
  record_id?: string;
  data: Record<string, unknown>;
}

export function webhookBody(event: PlatformEvent, rpClientId: string, sub?: string): WebhookBody {
  return {
    id: event.id,
    type: event.type,
    created_at: event.createdAt.toISOString(),
    rp_client_id: rpClientId,
    ...(sub ? { sub } : {}),
    ...(event.recordId ? { record_id: event.recordId } : {}),
    data: event.data,
  };
}

/**
 * Schedules delivery of an event to an RP (call it in the transaction that wrote the event). One job
 * per (RP, event) unless a different `dedupeKey` is given (a manual redelivery).
 */
export async function enqueueWebhookDelivery(
  db: Queryable,
  target: { eventId: string; rpClientId: string },
  options: { runAt?: Date; dedupeKey?: string } = {},
): Promise<{ id: string; created: boolean }> {
  const payload: WebhookJobPayload = { event_id: target.eventId, rp_client_id: target.rpClientId };
  return enqueue(db, WEBHOOK_QUEUE, payload, {
    dedupeKey: options.dedupeKey ?? `webhook:${target.rpClientId}:${target.eventId}`,
    ...(options.runAt ? { runAt: options.runAt } : {}),
  });
}

/** Sends an event again (admin action), as a new job with its own attempts. */
export async function redeliverEvent(db: Queryable, eventId: string): Promise<{ id: string }> {
  const event = await getEvent(db, eventId);
  if (!event?.rpClientId) throw new NotFound(`event ${eventId} does not exist or belongs to no relying party`);
  return enqueueWebhookDelivery(
    db,
    { eventId, rpClientId: event.rpClientId },
    { dedupeKey: `webhook:${event.rpClientId}:${eventId}:again:${randomBytes(6).toString('hex')}` },
  );
}

export interface WebhookDeliveryOptions {
  /** Per attempt (default 5000 ms). */
  timeoutMs?: number;
  /** Attempts before the job is marked failed (default 12: about 3.4 h with the default backoff). */
  maxAttempts?: number;
  /** Backoff base · 2^(attempt−1), capped (defaults 10 s and 1 h). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The RP's `sub` for a platform subject (pairwise), when available. */
  subjectFor?: (rpClientId: string, subjectId: string) => Promise<string | undefined> | string | undefined;
  /** The RP's webhook secret in clear (it is sealed in the database; the server opens it with the master key). */
  secretFor?: (rp: RelyingParty) => string;
  fetch?: typeof fetch;
  /** Deliveries at once per process (default 4). */
  concurrency?: number;
  metrics?: Pick<Metrics, 'webhookDeliveries'>;
  log?: Logger;
}

export type DeliveryResult = 'delivered' | 'http_error' | 'network_error' | 'timeout' | 'no_url';

interface AttemptResult {
  result: DeliveryResult;
  statusCode: number | null;
  error: string | null;
}

async function post(
  fetchFn: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<AttemptResult> {
  try {
    // No redirects: a 3xx is an answer from the registered URL, not a delivery.
    const res = await fetchFn(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { result: 'delivered', statusCode: res.status, error: null };
    return { result: 'http_error', statusCode: res.status, error: `HTTP ${res.status}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError')
      return { result: 'timeout', statusCode: null, error: `no answer within ${timeoutMs} ms` };
    const cause = err.cause?.code ?? err.cause?.message;
    return { result: 'network_error', statusCode: null, error: cause ? `${err.message}: ${cause}` : err.message };
  }
}

async function recordAttempt(
  db: Queryable,
  a: { eventId: string; rpClientId: string; url: string; attempt: number; at: Date } & AttemptResult,
): Promise<void> {
  await db.query(
    `INSERT INTO webhook_deliveries (event_id, rp_client_id, url, attempt, attempted_at, status_code, error, delivered) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [a.eventId, a.rpClientId, a.url, a.attempt, a.at, a.statusCode, a.error, a.result === 'delivered'],
  );
}

/** One delivery attempt for a claimed job; decides the job's fate. */
export async function deliverWebhook(
  payload: WebhookJobPayload,
  ctx: Pick<JobContext, 'db' | 'now' | 'attempt'>,
  o: WebhookDeliveryOptions = {},
): Promise<JobOutcome> {
  const log = o.log;
  const maxAttempts = o.maxAttempts ?? 12;
  const { event_id: eventId, rp_client_id: rpClientId } = payload;
  const event = await getEvent(ctx.db, eventId);
  // Cannot happen through enqueueWebhookDelivery (events are never deleted); there is nothing to log it against.
  if (!event) return { giveUp: `event ${eventId} does not exist` };
  const rp = await findRelyingParty(ctx.db, rpClientId);
  if (!rp?.webhookUrl) {
    // The RP removed its webhook URL (or was deleted) after the event: keep a trace, do not retry.
    const error = rp ? 'the relying party has no webhook URL' : `relying party ${rpClientId} does not exist`;
    await recordAttempt(ctx.db, {
      eventId,
      rpClientId,
      url: '',
      attempt: ctx.attempt,
      at: ctx.now,
      result: 'no_url',
      statusCode: null,
      error,
    });
    o.metrics?.webhookDeliveries.inc({ result: 'no_url' });
    log?.warn({ eventId, rpClientId }, `webhook not delivered: ${error}`);
    return { giveUp: error };
  }

  // A wiring mistake, not the RP's: the job fails and is retried, nothing is sent unsigned.
  if (!o.secretFor) throw new Error('webhook delivery needs secretFor to open the sealed webhook secret');
  const sub = event.subjectId && o.subjectFor ? await o.subjectFor(rpClientId, event.subjectId) : undefined;
  const body = JSON.stringify(webhookBody(event, rpClientId, sub));
  const t = Math.floor(ctx.now.getTime() / 1000);
  const headers = {
    'content-type': 'application/json',
    'user-agent': 'Kakunin-Webhooks/1',
    [SIGNATURE_HEADER]: signWebhook(o.secretFor(rp), body, t),
    [EVENT_ID_HEADER]: event.id,
    'Kakunin-Delivery-Attempt': String(ctx.attempt),
  };
  const res = await post(o.fetch ?? fetch, rp.webhookUrl, headers, body, o.timeoutMs ?? 5000);
  await recordAttempt(ctx.db, { eventId, rpClientId, url: rp.webhookUrl, attempt: ctx.attempt, at: ctx.now, ...res });
  o.metrics?.webhookDeliveries.inc({ result: res.result });
  if (res.result === 'delivered') {
    log?.info({ eventId, rpClientId, attempt: ctx.attempt, status: res.statusCode }, 'webhook delivered');
    return undefined;
  }
  if (ctx.attempt >= maxAttempts) {
    log?.error(
      { eventId, rpClientId, attempt: ctx.attempt, error: res.error },
      'webhook delivery failed for the last time; giving up',
    );
    return { giveUp: `gave up after ${ctx.attempt} attempts: ${res.error}` };
  }
  const retryAt = new Date(
    ctx.now.getTime() +
      backoffMs(ctx.attempt, {
        ...(o.baseDelayMs !== undefined ? { baseMs: o.baseDelayMs } : {}),
        ...(o.maxDelayMs !== undefined ? { maxMs: o.maxDelayMs } : {}),
      }),
  );
  log?.warn(
    { eventId, rpClientId, attempt: ctx.attempt, error: res.error, retryAt },
    'webhook delivery failed; will retry',
  );
  return { retryAt, error: res.error ?? res.result };
}

/** The `webhook-delivery` queue for a Worker. */
export function webhookDeliveryQueue(o: WebhookDeliveryOptions = {}): QueueConfig<WebhookJobPayload> {
  const timeoutSeconds = Math.ceil((o.timeoutMs ?? 5000) / 1000);
  return {
    handler: (job, ctx) => deliverWebhook(job.payload, ctx, { ...o, log: o.log ?? ctx.log }),
    // Well above one attempt, so that a live worker never loses its claim mid-request.
    lockSeconds: Math.max(60, timeoutSeconds * 4),
    maxAttempts: o.maxAttempts ?? 12,
    // One slow receiver must not hold up every other RP's events.
    concurrency: o.concurrency ?? 4,
  };
}
