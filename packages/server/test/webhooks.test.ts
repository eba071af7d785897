// Signed webhooks: the signature scheme RPs verify, and delivery to a real HTTP receiver on
// loopback with retries on an injected clock (no sleeping), giving up, timeouts and network errors.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.js';
import { findJobByDedupeKey, getJob, Worker } from '../src/jobs/index.js';
import { Metrics } from '../src/metrics.js';
import { insertEvent, listEvents, type PlatformEvent } from '../src/monitor/index.js';
import { MasterKey } from '../src/master-key.js';
import { createRelyingParty, webhookSecretOf, type RegisteredRelyingParty } from '../src/relying-parties.js';
import {
  EVENT_ID_HEADER,
  SIGNATURE_HEADER,
  WEBHOOK_QUEUE,
  checkWebhookSignature,
  enqueueWebhookDelivery,
  listDeliveries,
  redeliverEvent,
  signWebhook,
  verifyWebhookSignature,
  webhookDeliveryQueue,
  type WebhookDeliveryOptions,
} from '../src/webhooks/index.js';
import { ENGINES, openTestDatabase, type TestDatabase } from './support/databases.js';

const SECRET = 'whsec_test_secret';
const at = (base: Date, seconds: number): Date => new Date(base.getTime() + seconds * 1000);

describe('webhook signatures', () => {
  const body = JSON.stringify({ id: 'evt_1', type: 'certificate.revoked', data: { serial: '0A' } });
  const t = 1_900_000_000;
  const now = new Date(t * 1000);

  it('signs t and the raw body with HMAC-SHA256 and verifies it', () => {
    const header = signWebhook(SECRET, body, t);
    expect(header).toMatch(/^t=1900000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, body, header, { now })).toBe(true);
    expect(verifyWebhookSignature(SECRET, Buffer.from(body), header, { now })).toBe(true);
    expect(checkWebhookSignature(SECRET, body, header, { now })).toEqual({ ok: true, timestamp: t });
    // Secret rotation: any matching v1 entry will do.
    const rotated = `${header},v1=${signWebhook('whsec_old', body, t).split('v1=')[1]}`;
    expect(verifyWebhookSignature('whsec_old', body, rotated, { now })).toBe(true);
  });

  it('rejects a forged body or signature', () => {
    const header = signWebhook(SECRET, body, t);
    expect(checkWebhookSignature(SECRET, body.replace('0A', '0B'), header, { now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    const flipped = header.replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(checkWebhookSignature(SECRET, body, flipped, { now })).toEqual({ ok: false, reason: 'mismatch' });
    // The timestamp is signed too: moving it invalidates the signature.
    expect(checkWebhookSignature(SECRET, body, header.replace(`t=${t}`, `t=${t + 1}`), { now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects the wrong secret', () => {
    expect(checkWebhookSignature('whsec_other', body, signWebhook(SECRET, body, t), { now })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('rejects stale and future timestamps outside the tolerance', () => {
    const header = signWebhook(SECRET, body, t);
    expect(verifyWebhookSignature(SECRET, body, header, { now: at(now, 300) })).toBe(true);
    expect(checkWebhookSignature(SECRET, body, header, { now: at(now, 301) })).toEqual({ ok: false, reason: 'stale' });
    expect(checkWebhookSignature(SECRET, body, header, { now: at(now, -301) })).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhookSignature(SECRET, body, header, { now: at(now, 3000), toleranceSeconds: 3600 })).toBe(true);
    // The default clock is the real one: a signature from 2030 is not fresh today.
    expect(checkWebhookSignature(SECRET, body, header)).toEqual({ ok: false, reason: 'stale' });
  });

  it('rejects malformed headers', () => {
    const v1 = signWebhook(SECRET, body, t).split(',')[1]!;
    for (const header of [
      undefined,
      null,
      '',
      'garbage',
      `t=${t}`,
      v1,
      `t=abc,${v1}`,
      `t=${t},v1=xyz`,
      `t=${t},v1=${'0'.repeat(63)}`,
      `t=${t},t=${t},${v1}`,
      `t=-1,${v1}`,
      `t=${t};${v1}`,
    ]) {
      expect(checkWebhookSignature(SECRET, body, header, { now }), String(header)).toEqual({
        ok: false,
        reason: 'malformed',
      });
    }
  });
});

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A relying party's webhook endpoint: answers with the queued statuses (200 when none), or hangs. */
class Receiver {
  readonly requests: Received[] = [];
  statuses: number[] = [];
  hang = false;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        if (this.hang) return; // never answers
        res.writeHead(this.statuses.shift() ?? 200, { 'content-type': 'text/plain' });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/kakunin`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe.each(ENGINES)('webhook delivery (%s)', (engine) => {
  let t: TestDatabase;
  let db: Database;
  let receiver: Receiver;
  let rp: RegisteredRelyingParty;
  const masterKey = MasterKey.generate();
  const subjectId = `sub_webhooks_${engine}`;

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    db = t.db;
    receiver = new Receiver();
    await receiver.start();
    rp = await createRelyingParty(
      { db, masterKey },
      { name: 'Bank', redirectUris: ['http://127.0.0.1:9/cb'], webhookUrl: receiver.url },
    );
    await db.query('INSERT INTO subjects (id) VALUES ($1)', [subjectId]);
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  const revocationEvent = (rpClientId = rp.clientId): Promise<PlatformEvent> =>
    insertEvent(db, {
      type: 'certificate.revoked',
      rpClientId,
      subjectId,
      recordId: 'rec_1',
      data: {
        issuer_id: 'sim-signca02',
        serial: '1A2B3C4D',
        reason: 'affiliationChanged',
        revoked_at: '2026-01-01T00:00:00.000Z',
        source: 'ocsp',
        record_id: 'rec_1',
      },
    });

  /** A worker on the webhook queue with a clock the test moves. */
  const setup = (options: WebhookDeliveryOptions = {}): { worker: Worker; metrics: Metrics; clock: { now: Date } } => {
    const clock = { now: new Date() };
    const metrics = new Metrics();
    const worker = new Worker({
      db,
      clock: () => clock.now,
      queues: {
        [WEBHOOK_QUEUE]: webhookDeliveryQueue({ metrics, secretFor: (r) => webhookSecretOf(r, masterKey), ...options }),
      },
    });
    return { worker, metrics, clock };
  };

  const deliveriesResult = async (m: Metrics, result: string): Promise<number> =>
    (await m.webhookDeliveries.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

  it('POSTs the signed event; the signature verifies with verifyWebhookSignature', async () => {
    receiver.requests.length = 0;
    const { worker, metrics, clock } = setup({ subjectFor: (rpClientId, sid) => `pairwise-${rpClientId}-${sid}` });
    const event = await revocationEvent();
    const job = await enqueueWebhookDelivery(db, { eventId: event.id, rpClientId: rp.clientId }, { runAt: clock.now });
    expect((await enqueueWebhookDelivery(db, { eventId: event.id, rpClientId: rp.clientId })).created).toBe(false);

    expect(await worker.drain()).toBe(1);
    expect(receiver.requests).toHaveLength(1);
    const req = receiver.requests[0]!;
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers[EVENT_ID_HEADER.toLowerCase()]).toBe(event.id);
    const header = req.headers[SIGNATURE_HEADER.toLowerCase()] as string;
    expect(verifyWebhookSignature(rp.webhookSecret, req.body, header, { now: clock.now })).toBe(true);
    expect(checkWebhookSignature(rp.webhookSecret, req.body, header, { now: clock.now })).toEqual({
      ok: true,
      timestamp: Math.floor(clock.now.getTime() / 1000),
    });
    expect(verifyWebhookSignature('whsec_not_the_rps', req.body, header, { now: clock.now })).toBe(false);
    expect(JSON.parse(req.body)).toEqual({
      id: event.id,
      type: 'certificate.revoked',
      created_at: event.createdAt.toISOString(),
      rp_client_id: rp.clientId,
      sub: `pairwise-${rp.clientId}-${subjectId}`,
      record_id: 'rec_1', // the verification record the event concerns (its inclusion proof is the RP's to fetch)
      data: event.data,
    });

    const rows = await listDeliveries(db, { eventId: event.id, limit: 10 });
    expect(rows).toEqual([
      expect.objectContaining({
        eventId: event.id,
        rpClientId: rp.clientId,
        url: receiver.url,
        attempt: 1,
        statusCode: 200,
        error: null,
        delivered: true,
        attemptedAt: clock.now,
      }),
    ]);
    expect(await getJob(db, job.id)).toMatchObject({ attempts: 1, doneAt: clock.now, failedAt: null });
    expect(await deliveriesResult(metrics, 'delivered')).toBe(1);
  });

  it('500, 500, then 200: three attempts, each logged, rescheduled after 10 s and 20 s', async () => {
    receiver.requests.length = 0;
    receiver.statuses = [500, 500];
    const { worker, metrics, clock } = setup();
    const t0 = clock.now;
    const event = await revocationEvent();
    const { id } = await enqueueWebhookDelivery(db, { eventId: event.id, rpClientId: rp.clientId }, { runAt: t0 });

    expect(await worker.drain()).toBe(1);
    expect(await getJob(db, id)).toMatchObject({ attempts: 1, doneAt: null, lastError: 'HTTP 500', runAt: at(t0, 10) });
    clock.now = at(t0, 9.999);
    expect(await worker.drain()).toBe(0);
    clock.now = at(t0, 10);
    expect(await worker.drain()).toBe(1);
    expect(await getJob(db, id)).toMatchObject({ attempts: 2, doneAt: null, runAt: at(t0, 30) });
    clock.now = at(t0, 29);
    expect(await worker.drain()).toBe(0);
    clock.now = at(t0, 30);
    expect(await worker.drain()).toBe(1);
    expect(await getJob(db, id)).toMatchObject({ attempts: 3, doneAt: at(t0, 30), failedAt: null });

    expect(receiver.requests).toHaveLength(3);
    expect(receiver.requests.map((r) => r.headers['kakunin-delivery-attempt'])).toEqual(['1', '2', '3']);
    // Every attempt is signed afresh, with its own timestamp.
    expect(
      receiver.requests.map((r) => /t=(\d+)/.exec(r.headers[SIGNATURE_HEADER.toLowerCase()] as string)![1]),
    ).toEqual([0, 10, 30].map((s) => String(Math.floor(at(t0, s).getTime() / 1000))));
    const rows = (await listDeliveries(db, { eventId: event.id, limit: 10 })).reverse();
    expect(rows.map((r) => [r.attempt, r.statusCode, r.delivered, r.error])).toEqual([
      [1, 500, false, 'HTTP 500'],
      [2, 500, false, 'HTTP 500'],
      [3, 200, true, null],
    ]);
    expect(rows.map((r) => r.attemptedAt)).toEqual([t0, at(t0, 10), at(t0, 30)]);
    expect(await deliveriesResult(metrics, 'http_error')).toBe(2);
    expect(await deliveriesResult(metrics, 'delivered')).toBe(1);
  });

  it('gives up after maxAttempts: the job is marked failed, every attempt stays logged', async () => {
    receiver.statuses = [503, 503, 503, 503];
    const { worker, clock } = setup({ maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 1500 });
    const t0 = clock.now;
    const event = await revocationEvent();
    const { id } = await enqueueWebhookDelivery(db, { eventId: event.id, rpClientId: rp.clientId }, { runAt: t0 });
    for (const s of [0, 1, 2.5, 100]) {
      clock.now = at(t0, s);
      await worker.drain();
    }
    const job = await getJob(db, id);
    expect(job).toMatchObject({ attempts: 3, doneAt: at(t0, 2.5), failedAt: at(t0, 2.5) });
    expect(job?.lastError).toMatch(/gave up after 3 attempts: HTTP 503/);
    expect((await listDeliveries(db, { eventId: event.id, limit: 10 })).map((r) => r.statusCode)).toEqual([
      503, 503, 503,
    ]);
    receiver.statuses = [];

    // An admin can send it again: a new job with its own attempts.
    const again = await redeliverEvent(db, event.id);
    clock.now = at(t0, 200);
    await db.query('UPDATE jobs SET run_at = $2 WHERE id = $1', [again.id, clock.now]);
    expect(await worker.drain()).toBe(1);
    const rows = await listDeliveries(db, { eventId: event.id, limit: 10 });
    expect(rows[0]).toMatchObject({ attempt: 1, delivered: true });
    expect(rows).toHaveLength(4);
  });

  it('a receiver that does not answer in time and an unreachable one are retried, with the error logged', async () => {
    const { worker, metrics, clock } = setup({ timeoutMs: 200 });
    receiver.hang = true;
    try {
      const event = await revocationEvent();
      const { id } = await enqueueWebhookDelivery(
        db,
        { eventId: event.id, rpClientId: rp.clientId },
        { runAt: clock.now },
      );
      await worker.drain();
      expect((await listDeliveries(db, { eventId: event.id, limit: 10 }))[0]).toMatchObject({
        attempt: 1,
        statusCode: null,
        delivered: false,
        error: 'no answer within 200 ms',
      });
      expect(await getJob(db, id)).toMatchObject({ doneAt: null, runAt: at(clock.now, 10) });
      expect(await deliveriesResult(metrics, 'timeout')).toBe(1);
    } finally {
      receiver.hang = false;
    }

    // A port nobody listens on.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const gone = await createRelyingParty(
      { db, masterKey },
      { name: 'Gone', redirectUris: ['http://127.0.0.1:9/cb'], webhookUrl: `http://127.0.0.1:${port}/hook` },
    );
    const event = await revocationEvent(gone.clientId);
    await enqueueWebhookDelivery(db, { eventId: event.id, rpClientId: gone.clientId }, { runAt: clock.now });
    await worker.drain();
    const [row] = await listDeliveries(db, { rpClientId: gone.clientId, limit: 10 });
    expect(row).toMatchObject({ attempt: 1, statusCode: null, delivered: false, url: `http://127.0.0.1:${port}/hook` });
    expect(row!.error).toMatch(/ECONNREFUSED/);
    expect(await deliveriesResult(metrics, 'network_error')).toBe(1);
  });

  it('an RP without a webhook URL: the attempt is logged and the job fails instead of vanishing', async () => {
    const quiet = await createRelyingParty(
      { db, masterKey },
      { name: 'Quiet', redirectUris: ['http://127.0.0.1:9/cb'] },
    );
    const { worker, clock } = setup();
    const event = await revocationEvent(quiet.clientId);
    const { id } = await enqueueWebhookDelivery(
      db,
      { eventId: event.id, rpClientId: quiet.clientId },
      { runAt: clock.now },
    );
    await worker.drain();
    expect(await listDeliveries(db, { rpClientId: quiet.clientId, limit: 10 })).toEqual([
      expect.objectContaining({ url: '', delivered: false, error: 'the relying party has no webhook URL' }),
    ]);
    expect((await getJob(db, id))?.failedAt).not.toBeNull();
    expect((await findJobByDedupeKey(db, `webhook:${quiet.clientId}:${event.id}`))?.id).toBe(id);
  });

  it('lists events newest first with a cursor, and deliveries by RP and outcome', async () => {
    const all = await listEvents(db, { rpClientId: rp.clientId, limit: 100 });
    expect(all.length).toBeGreaterThanOrEqual(4);
    const page1 = await listEvents(db, { rpClientId: rp.clientId, limit: 2 });
    const page2 = await listEvents(db, { rpClientId: rp.clientId, limit: 2, before: page1[1]!.id });
    expect([...page1, ...page2].map((e) => e.id)).toEqual(all.slice(0, 4).map((e) => e.id));
    expect(await listEvents(db, { limit: 100, before: new Date(0) })).toEqual([]);
    const failed = await listDeliveries(db, { rpClientId: rp.clientId, delivered: false, limit: 100 });
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((d) => !d.delivered && d.rpClientId === rp.clientId)).toBe(true);
  });
});
