// The revocation monitor: re-checks every watched signing certificate that is still good and tells
// the RP when one was revoked (the 署名用 certificate is revoked automatically on a move or a name
// change, so this is how an RP learns that the identity it verified changed).
//
// One run:
//   1. rows whose RP relationship ended become `ended` (no purpose left to use revocation data);
//   2. rows past notAfter become `expired` with a `certificate.expired` event. No webhook: expiry is
//      known in advance from the certificate and says nothing new about the holder; RPs see the
//      event through the admin API;
//   3. in `ocsp` mode only, every other good row is re-checked with `verifier.recheck`, from the issuer generation,
//      serial and CertID hashes the row keeps (not the certificate). `revoked` → in one transaction:
//      the row, a `certificate.revoked` event, the webhook job, and the end of any reuse of a kept
//      good OCSP answer for the certificate (or its subject's other certificates). A source that cannot answer
//      (RevocationUnavailable) leaves the row untouched for the next run — fail closed, never
//      "good" by default — and after a few in a row the run stops instead of waiting out a
//      timeout per certificate.
// In `crl` mode (the default when CRL sources exist) step 3 does not run: crl-monitor.ts finds
// revocations in each new CRL instead, at no J-LIS cost per holder. `ocsp` mode costs one J-LIS
// OCSP request per watched certificate per run, paced to `ocspPerSecond`.
// Runs are safe to overlap (two processes, a retaken job): a row changes state only from 'good',
// so each revocation yields exactly one event.

import { RevocationUnavailable, type RevocationStatus } from '@kakunin/jpki';
import type { Database } from '../db/sql.js';
import type { Logger } from '../jobs/worker.js';
import type { MonitorMode } from '../config.js';
import type { Metrics } from '../metrics.js';
import { withUsage } from '../usage.js';
import type { JpkiVerifier } from '../verifier.js';
import { enqueueWebhookDelivery } from '../webhooks/delivery.js';
import { forgetOcspAnswers } from '../ocsp-answers.js';
import { insertEvent } from './events.js';
import { revokeCredentialsOf } from '../credentials/revocation.js';

export interface MonitorPlatform {
  db: Database;
  verifier: Pick<JpkiVerifier, 'recheck'>;
  metrics?: Pick<Metrics, 'monitorChecks' | 'revocationAgeSeconds'>;
  log?: Logger;
}

export interface MonitorOptions {
  now?: Date;
  /** `ocsp` (default here; the server passes its configured mode) re-checks every good row; `crl` leaves that to the CRL monitor. */
  mode?: MonitorMode;
  /** ocsp mode: at most this many re-checks per second (default and 0: no limit). */
  ocspPerSecond?: number;
  /** Rows read per query (default 100). */
  batchSize?: number;
  /** Stop the run after this many RevocationUnavailable answers in a row (default 5). */
  maxConsecutiveUnavailable?: number;
  /** Stops the run between certificates (worker shutdown). */
  signal?: AbortSignal;
  /** Called between batches (the job's lock extension). */
  heartbeat?: () => Promise<unknown>;
}

export interface MonitorReport {
  /** Rows whose revocation status was asked for. */
  checked: number;
  good: number;
  revoked: number;
  /** The source answered "unknown": left as is. */
  unknown: number;
  /** The source could not answer: left as is, retried next run. */
  unavailable: number;
  /** Other failures (e.g. the issuer is no longer trusted): left as is, logged. */
  errors: number;
  expired: number;
  ended: number;
  /** Ids of the events written. */
  events: string[];
  /** Why the run stopped before the end, if it did. */
  aborted?: 'source-unavailable' | 'stopped';
}

interface DueRow {
  id: string;
  rp_client_id: string;
  subject_id: string;
  record_id: string;
  issuer_id: string;
  serial: string;
  not_after: Date;
}

interface CheckRow extends DueRow {
  issuer_name_hash: Uint8Array;
  issuer_key_hash: Uint8Array;
}

type CheckOutcome = { status: RevocationStatus } | { error: unknown };

export async function runRevocationMonitor(
  platform: MonitorPlatform,
  options: MonitorOptions = {},
): Promise<MonitorReport> {
  const { db, verifier, metrics, log } = platform;
  const now = options.now ?? new Date();
  const batchSize = options.batchSize ?? 100;
  const maxUnavailable = options.maxConsecutiveUnavailable ?? 5;
  const report: MonitorReport = {
    checked: 0,
    good: 0,
    revoked: 0,
    unknown: 0,
    unavailable: 0,
    errors: 0,
    expired: 0,
    ended: 0,
    events: [],
  };
  const count = (status: string): void => metrics?.monitorChecks.inc({ status });

  // 1. Relationships that ended.
  const ended = await db.query(
    `UPDATE monitored_certificates m SET status = 'ended'
     FROM relationships r
     WHERE r.rp_client_id = m.rp_client_id AND r.subject_id = m.subject_id AND r.ended_at IS NOT NULL AND r.ended_at <= $1 AND m.status = 'good'
     RETURNING m.id`,
    [now],
  );
  report.ended = ended.length;

  // 2. Expired certificates.
  for (;;) {
    const rows = await db.query<DueRow>(
      `SELECT id, rp_client_id, subject_id, record_id, issuer_id, serial, not_after FROM monitored_certificates
       WHERE status = 'good' AND not_after <= $1 ORDER BY id LIMIT $2`,
      [now, batchSize],
    );
    for (const row of rows) {
      const eventId = await db.transaction(async (tx) => {
        const updated = await tx.query(
          `UPDATE monitored_certificates SET status = 'expired', last_checked_at = $2 WHERE id = $1 AND status = 'good' RETURNING id`,
          [row.id, now],
        );
        if (updated.length === 0) return undefined;
        const event = await insertEvent(tx, {
          type: 'certificate.expired',
          rpClientId: row.rp_client_id,
          subjectId: row.subject_id,
          recordId: row.record_id,
          at: now,
          data: {
            issuer_id: row.issuer_id,
            serial: row.serial,
            not_after: new Date(row.not_after).toISOString(),
            record_id: row.record_id,
          },
        });
        return event.id;
      });
      if (eventId) {
        report.expired++;
        report.events.push(eventId);
        count('expired');
      }
    }
    if (rows.length < batchSize) break;
  }

  if (options.mode === 'crl') return finish(report, log);

  // 3. Re-check the rest. One answer per certificate per run, even when several RPs watch it.
  const pace = pacer(options.ocspPerSecond ?? 0);
  const answers = new Map<string, CheckOutcome>();
  let consecutiveUnavailable = 0;
  let lastId = '0';
  outer: for (;;) {
    const rows = await db.query<CheckRow>(
      `SELECT id, rp_client_id, subject_id, record_id, issuer_id, serial, not_after, issuer_name_hash, issuer_key_hash FROM monitored_certificates
       WHERE status = 'good' AND not_after > $1 AND id > $2::bigint ORDER BY id LIMIT $3`,
      [now, lastId, batchSize],
    );
    const good: string[] = [];
    for (const row of rows) {
      if (options.signal?.aborted) {
        report.aborted = 'stopped';
        break;
      }
      lastId = String(row.id);
      const key = `${row.issuer_id}/${row.serial}`;
      let outcome = answers.get(key);
      if (!outcome) {
        try {
          await pace();
          const watched = {
            issuerId: row.issuer_id,
            serial: row.serial,
            issuerNameHash: row.issuer_name_hash,
            issuerKeyHash: row.issuer_key_hash,
          };
          outcome = {
            status: await withUsage({ purpose: 'monitoring', rpClientId: row.rp_client_id }, () =>
              verifier.recheck(watched, now),
            ),
          };
          consecutiveUnavailable = 0;
        } catch (error) {
          outcome = { error };
          if (error instanceof RevocationUnavailable) consecutiveUnavailable++;
        }
        answers.set(key, outcome);
      }
      report.checked++;

      if ('error' in outcome) {
        if (outcome.error instanceof RevocationUnavailable) {
          report.unavailable++;
          count('unavailable');
          if (report.unavailable === 1)
            log?.warn(
              { monitoredId: row.id, issuerId: row.issuer_id, err: outcome.error },
              'revocation monitor: revocation source unavailable; status left unchanged, retried next run',
            );
          if (consecutiveUnavailable >= maxUnavailable) {
            report.aborted = 'source-unavailable';
            log?.error(
              { unavailable: report.unavailable, checked: report.checked },
              `revocation monitor: ${consecutiveUnavailable} revocation answers in a row unavailable; stopping this run`,
            );
            break;
          }
        } else {
          report.errors++;
          count('error');
          log?.error(
            { monitoredId: row.id, issuerId: row.issuer_id, err: outcome.error },
            'revocation monitor: re-check failed; status left unchanged',
          );
        }
        continue;
      }

      const { status } = outcome;
      if (status.thisUpdate)
        metrics?.revocationAgeSeconds.set(
          { source: status.source },
          (now.getTime() - status.thisUpdate.getTime()) / 1000,
        );
      if (status.status === 'good') {
        report.good++;
        count('good');
        good.push(String(row.id));
      } else if (status.status === 'unknown') {
        // The responder does not know the certificate: not evidence of revocation, keep watching.
        report.unknown++;
        count('unknown');
        log?.warn(
          { monitoredId: row.id, issuerId: row.issuer_id, source: status.source },
          'revocation monitor: the revocation source answered "unknown"; status left unchanged',
        );
      } else {
        const eventId = await recordRevocation(db, row, status, now);
        count('revoked');
        if (eventId) {
          report.revoked++;
          report.events.push(eventId);
          log?.info(
            { monitoredId: row.id, eventId, reason: status.reason ?? 'unspecified' },
            'revocation monitor: certificate revoked',
          );
        }
      }
    }
    if (good.length > 0) {
      await db.query(
        `UPDATE monitored_certificates SET last_checked_at = $1 WHERE id IN (SELECT jsonb_array_elements_text($2::jsonb)::bigint) AND status = 'good'`,
        [now, good],
      );
    }
    if (report.aborted) break outer;
    if (rows.length < batchSize) break;
    await options.heartbeat?.();
  }
  return finish(report, log);
}

function finish(report: MonitorReport, log: Logger | undefined): MonitorReport {
  if (report.checked > 0 || report.expired > 0 || report.ended > 0) {
    const { events: _events, ...summary } = report;
    log?.info(summary, 'revocation monitor run finished');
  }
  return report;
}

/** Waits as needed so that calls come at most `perSecond` times a second (0: never waits). */
function pacer(perSecond: number): () => Promise<void> {
  if (perSecond <= 0) return async () => undefined;
  const gap = 1000 / perSecond;
  let next = performance.now();
  return async () => {
    const now = performance.now();
    next = Math.max(next, now);
    const wait = next - now;
    next += gap;
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  };
}

/** What a revocation event needs of a watched row. */
export type WatchedRow = DueRow;

/**
 * Row, event and webhook job in one transaction; undefined when another run already did it (the
 * row changes only from 'good', so each revocation yields one event whichever path finds it).
 */
export async function recordRevocation(
  db: Database,
  row: WatchedRow,
  status: RevocationStatus,
  now: Date,
): Promise<string | undefined> {
  const revokedAt = status.revokedAt ?? now;
  const reason = status.reason ?? 'unspecified';
  return db.transaction(async (tx) => {
    const updated = await tx.query(
      `UPDATE monitored_certificates SET status = 'revoked', revoked_at = $2, revocation_reason = $3, last_checked_at = $4 WHERE id = $1 AND status = 'good' RETURNING id`,
      [row.id, revokedAt, reason, now],
    );
    if (updated.length === 0) return undefined;
    // Identifiers, reason and times only: never the basic 4 info, never a My Number.
    const event = await insertEvent(tx, {
      type: 'certificate.revoked',
      rpClientId: row.rp_client_id,
      subjectId: row.subject_id,
      recordId: row.record_id,
      at: now,
      data: {
        issuer_id: row.issuer_id,
        serial: row.serial,
        reason,
        revoked_at: revokedAt.toISOString(),
        source: status.source,
        record_id: row.record_id,
      },
    });
    await forgetOcspAnswers(tx, { issuerId: row.issuer_id, serial: row.serial, subjectId: row.subject_id });
    // Digital ID credentials issued from this certificate are invalid from this event on (credentials/revocation.ts).
    await revokeCredentialsOf(
      tx,
      { issuerId: row.issuer_id, serial: row.serial },
      { eventId: event.id, at: now, reason },
    );
    const [rp] = await tx.query<{ webhook_url: string | null }>(
      'SELECT webhook_url FROM relying_parties WHERE client_id = $1',
      [row.rp_client_id],
    );
    if (rp?.webhook_url) await enqueueWebhookDelivery(tx, { eventId: event.id, rpClientId: row.rp_client_id });
    return event.id;
  });
}
