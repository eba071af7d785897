// `npm run load`, the holders: ceremonies opened and signed beforehand (what the cards do), then
// their responses posted over HTTP — as a closed loop (C at a time, the peak) or as an open loop
// (a fixed arrival rate, sent on a schedule that does not wait for answers).

import { sign, type KeyObject } from 'node:crypto';
import { openSandbox } from '@kakunin/sim';
import { createCeremony, type Database, type ServerConfig } from '@kakunin/server';
import { errorOf, send } from './load-http.js';

export type Kind = 'login' | 'identity';

export interface Holder {
  certificate: string;
  key: KeyObject;
}

/** The residents with a card certificate of the kind (auth for a login, signing for identity). */
export function loadHolders(simDir: string, kind: Kind): Holder[] {
  const sandbox = openSandbox(simDir);
  const certKind = kind === 'login' ? 'auth' : 'sign';
  return sandbox
    .people()
    .filter((p) => sandbox.certificates({ personId: p.id, kind: certKind, medium: 'card' }).length > 0)
    .map((p) => {
      const record = sandbox.currentCertificateRecord(p.id, certKind, 'card');
      return {
        certificate: sandbox.certificateDer(record.issuerId, record.serial).toString('base64'),
        key: sandbox.privateKey(p.id, certKind, 'card'),
      };
    });
}

/** What the card does: PKCS#1 v1.5 over DigestInfo(SHA-256(to_be_signed)). */
export const holderBody = (h: Holder, nonce: string, toBeSigned: Buffer): string =>
  JSON.stringify({
    nonce,
    certificate: h.certificate,
    signature: sign('sha256', toBeSigned, h.key).toString('base64'),
  });

export interface Prepared {
  id: string;
  body: string;
}

/** Opens and signs `n` ceremonies, `parallel` at a time (the bench's own pool of connections). */
export async function prepareCeremonies(
  o: { db: Database; config: ServerConfig; rpClientId: string; holders: Holder[]; kind: Kind },
  n: number,
  parallel = 8,
): Promise<Prepared[]> {
  const out: Prepared[] = new Array<Prepared>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        const c = await createCeremony({ db: o.db, config: o.config }, { kind: o.kind, rpClientId: o.rpClientId });
        out[i] = { id: c.id, body: holderBody(o.holders[i % o.holders.length]!, c.nonce, c.toBeSigned) };
      }
    }),
  );
  return out;
}

export interface Outcome {
  seconds: number;
  /** Milliseconds, sorted. Closed loop: from the send; open loop: from the scheduled send time. */
  latencies: number[];
  ok: string[];
  failures: Map<string, number>;
  /** Open loop: the most requests in flight at once, and how late the sender was at worst (ms). */
  maxInFlight?: number;
  maxSendLag?: number;
}

const count = (m: Map<string, number>, key: string): void => void m.set(key, (m.get(key) ?? 0) + 1);

async function respond(
  url: string,
  job: Prepared,
  out: { ok: string[]; failures: Map<string, number> },
): Promise<void> {
  try {
    const answer = await send(`${url}/holder/v1/ceremonies/${job.id}/response`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: job.body,
      read: false,
    });
    if (answer.status === 200) out.ok.push(job.id);
    else count(out.failures, `${answer.status} ${errorOf(answer)}`);
  } catch (e) {
    count(out.failures, `connection: ${(e as Error).message}`);
  }
}

/** C holders, each posting its next response as soon as the previous one was answered. */
export async function closedLoop(prepared: Prepared[], urls: string[], concurrency: number): Promise<Outcome> {
  const out: Outcome = { seconds: 0, latencies: [], ok: [], failures: new Map() };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < prepared.length) {
        const n = next++;
        const t0 = performance.now();
        await respond(urls[n % urls.length]!, prepared[n]!, out);
        out.latencies.push(performance.now() - t0);
      }
    }),
  );
  out.seconds = (performance.now() - started) / 1000;
  out.latencies.sort((a, b) => a - b);
  return out;
}

/**
 * Holders arriving at `perSecond`: the i-th response is due at start + i / perSecond and is sent
 * then whatever is still in flight; its latency counts from that due time, not from when it was
 * actually sent (no coordinated omission: a stalled server or sender shows in the figures).
 */
export async function openLoop(prepared: Prepared[], urls: string[], perSecond: number): Promise<Outcome> {
  const out: Outcome = { seconds: 0, latencies: [], ok: [], failures: new Map(), maxInFlight: 0, maxSendLag: 0 };
  const interval = 1000 / perSecond;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let i = 0; i < prepared.length; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    else if (i % 16 === 0) await new Promise((r) => setImmediate(r)); // behind: send, but let answers in
    out.maxSendLag = Math.max(out.maxSendLag!, performance.now() - due);
    const p: Promise<void> = respond(urls[i % urls.length]!, prepared[i]!, out).then(() => {
      out.latencies.push(performance.now() - due);
      inFlight.delete(p);
    });
    inFlight.add(p);
    out.maxInFlight = Math.max(out.maxInFlight!, inFlight.size);
  }
  await Promise.all(inFlight);
  out.seconds = (performance.now() - started) / 1000;
  out.latencies.sort((a, b) => a - b);
  return out;
}

export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
