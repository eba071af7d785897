// CRL-driven revocation monitoring: instead of asking J-LIS about every watched certificate, take
// each new CRL as it is installed, compute the entries that were not in the last CRL processed for
// the same scope, and look only those up among the watched certificates (index on issuer, serial).
// The work grows with the new entries and the matches, never with the number of watched holders,
// and it costs J-LIS nothing beyond the CRL download the refresher makes anyway.
//
// Scope: an issuer, or an issuer and distribution point for a partitioned CRL (J-LIS publishes one
// CRL per municipality; each partition is diffed against its own predecessor). Serials are unique
// per issuer, so a match needs only (issuer, serial) whichever partition lists it.
//
// Exactly once: the last processed CRL of each scope (number, thisUpdate, SHA-256 and its DER) is
// kept in `crl_monitor_state`, so the diff is always taken against it — after a restart, in another
// process, or when CRLs were skipped — never against what one process happened to see before. A CRL
// not newer than it is refused (logged, metric) and changes nothing. Each match goes through
// `recordRevocation`, which moves a row only from 'good': a crash between matches and the state
// update repeats the diff on retry but not the events. One job per stored CRL (`crl-monitor`,
// deduplicated by source and hash) means one process does the work.

import {
  CrlIndex,
  RevocationUnavailable,
  type CrlEntry,
  type RevocationStatus,
  type TrustStore,
  type X509Certificate,
} from '@kakunin/jpki';
import type { Database, Queryable } from '../db/sql.js';
import { enqueue } from '../jobs/queue.js';
import type { Logger, QueueConfig } from '../jobs/worker.js';
import type { Metrics } from '../metrics.js';
import type { CrlRefresher } from '../crl/refresher.js';
import { readCrlDer } from '../crl/store.js';
import { recordRevocation, type WatchedRow } from './monitor.js';

export const CRL_MONITOR_QUEUE = 'crl-monitor';

/** Serials looked up per query. */
const MATCH_BATCH = 5000;

/** A CRL given to the monitor is older than (or as old as) the last one processed for its scope. */
export class CrlOlderThanProcessed extends Error {
  readonly code = 'CRL_OLDER_THAN_PROCESSED';
  constructor(message: string) {
    super(message);
    this.name = 'CrlOlderThanProcessed';
  }
}

export interface CrlToProcess {
  /** Label of the trust anchor that signed it (= monitored_certificates.issuer_id). */
  issuer: string;
  index: CrlIndex;
  sha256: string;
  der: Uint8Array;
}

export interface CrlProcessReport {
  scope: string;
  outcome: 'processed' | 'already-processed' | 'refused';
  /** Entries not in the last processed CRL of the scope. */
  added: number;
  /** Watched rows found among them (each became one event, unless another path got there first). */
  matched: number;
  events: string[];
  ms: number;
  /** Why it was refused. */
  reason?: string;
}

interface StateRow {
  crl_number: string | null;
  this_update: Date | string;
  sha256: string;
}

export interface CrlMonitorOptions {
  db: Database;
  trustStore: TrustStore;
  metrics?: Pick<Metrics, 'crlMonitor' | 'crlMonitorMatches' | 'monitorUncovered'>;
  log?: Logger;
  clock?: () => Date;
}

/** `issuer` or `issuer|distribution point`: one diff chain per CRL partition. */
export function crlScope(issuer: string, distributionPoint: string | undefined): string {
  return distributionPoint ? `${issuer}|${distributionPoint}` : issuer;
}

/** A watched serial as certificates carry it (a leading 00 when the top bit is set) and as CRLs list it (without). */
function serialForms(serial: string): string[] {
  return parseInt(serial[0]!, 16) >= 8 ? [serial, `00${serial}`] : [serial];
}

export class CrlMonitor {
  /** The last processed CRL of each scope, kept by the process that processed it (saves reloading its DER). */
  private readonly last = new Map<string, { sha256: string; index: CrlIndex }>();
  private readonly clock: () => Date;
  private readonly o: CrlMonitorOptions;

  constructor(o: CrlMonitorOptions) {
    this.o = o;
    this.clock = o.clock ?? (() => new Date());
  }

  /** Diffs `crl` against the last processed CRL of its scope and records the watched matches. */
  async process(crl: CrlToProcess, now = this.clock()): Promise<CrlProcessReport> {
    const started = performance.now();
    const { db, log, metrics } = this.o;
    const info = crl.index.info;
    const dp = info.distributionPoint?.text;
    const scope = crlScope(crl.issuer, dp);
    const done = (r: Omit<CrlProcessReport, 'scope' | 'ms'>): CrlProcessReport => {
      metrics?.crlMonitor.inc({ issuer: crl.issuer, outcome: r.outcome });
      return { scope, ...r, ms: performance.now() - started };
    };
    const [state] = await db.query<StateRow>(
      'SELECT crl_number, this_update, sha256 FROM crl_monitor_state WHERE scope = $1',
      [scope],
    );
    if (state?.sha256 === crl.sha256) return done({ outcome: 'already-processed', added: 0, matched: 0, events: [] });
    if (state) {
      const refusal = olderThan(info, state);
      if (refusal) {
        log?.warn(
          { scope, thisUpdate: info.thisUpdate, crlNumber: info.crlNumber, reason: refusal },
          'CRL monitor: refused a CRL older than the last processed one; nothing changed',
        );
        return done({ outcome: 'refused', added: 0, matched: 0, events: [], reason: refusal });
      }
    }
    const previous = state ? await this.previous(scope, crl.issuer, state.sha256) : undefined;
    const added = crl.index.addedSince(previous);
    const events: string[] = [];
    let matched = 0;
    for (let i = 0; i < added.length; i += MATCH_BATCH) {
      const batch = added.slice(i, i + MATCH_BATCH);
      const bySerial = new Map<string, CrlEntry>();
      for (const e of batch) for (const form of serialForms(e.serial)) bySerial.set(form, e);
      const rows = await matchWatched(db, crl.issuer, [...bySerial.keys()], now);
      matched += rows.length;
      for (const row of rows) {
        const entry = bySerial.get(row.serial)!;
        const status: RevocationStatus = {
          status: 'revoked',
          source: 'crl',
          reason: entry.reason,
          revokedAt: entry.revokedAt,
          thisUpdate: info.thisUpdate,
          ...(info.nextUpdate ? { nextUpdate: info.nextUpdate } : {}),
          checkedAt: now,
        };
        const eventId = await recordRevocation(db, row, status, now);
        if (eventId) events.push(eventId);
      }
    }
    if (matched) metrics?.crlMonitorMatches.inc({ issuer: crl.issuer }, matched);
    // Only forward: a concurrent job that stored a newer CRL of the scope wins.
    await db.query(
      `INSERT INTO crl_monitor_state (scope, issuer, distribution_point, crl_number, this_update, sha256, der, entries, processed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (scope) DO UPDATE SET crl_number = EXCLUDED.crl_number, this_update = EXCLUDED.this_update, sha256 = EXCLUDED.sha256,
         der = EXCLUDED.der, entries = EXCLUDED.entries, processed_at = EXCLUDED.processed_at
       WHERE crl_monitor_state.this_update < EXCLUDED.this_update`,
      [
        scope,
        crl.issuer,
        dp ?? null,
        info.crlNumber ?? null,
        info.thisUpdate,
        crl.sha256,
        Buffer.from(crl.der.buffer, crl.der.byteOffset, crl.der.byteLength),
        crl.index.size,
        now,
      ],
    );
    this.last.set(scope, { sha256: crl.sha256, index: crl.index });
    const report = done({ outcome: 'processed', added: added.length, matched, events });
    log?.info(
      {
        scope,
        thisUpdate: info.thisUpdate,
        crlNumber: info.crlNumber,
        entries: crl.index.size,
        added: added.length,
        matched,
        events: events.length,
        ms: Math.round(report.ms),
      },
      'CRL monitor: CRL processed',
    );
    return report;
  }

  /** The last processed CRL of a scope: from memory when this process processed it, else its stored DER. */
  private async previous(scope: string, issuer: string, sha256: string): Promise<CrlIndex> {
    const kept = this.last.get(scope);
    if (kept?.sha256 === sha256) return kept.index;
    const [row] = await this.o.db.query<{ der: Uint8Array; this_update: Date | string }>(
      'SELECT der, this_update FROM crl_monitor_state WHERE scope = $1',
      [scope],
    );
    if (!row) throw new Error(`the last processed CRL of ${scope} is gone`);
    const anchor = this.o.trustStore.list().find((a) => a.label === issuer);
    if (!anchor)
      throw new Error(`no trust anchor is labelled ${issuer} in this process: the CRL of ${scope} cannot be diffed`);
    // Verified again (it was verified before it was stored), at its own time: it is expected to be stale.
    return CrlIndex.load(new Uint8Array(row.der), { issuer: anchor.certificate.x509, at: new Date(row.this_update) });
  }

  /**
   * At watch time: looks a certificate that has just been put under watch up in the installed CRLs,
   * so a revocation already in a processed CRL (and thus never "new" again) is not missed. Returns
   * the event id when it was revoked; counts a certificate no CRL covers.
   */
  async checkAtWatch(
    refresher: CrlRefresher,
    row: WatchedRow,
    certificate: X509Certificate,
    issuer: X509Certificate,
    now = this.clock(),
  ): Promise<string | undefined> {
    let status: RevocationStatus;
    try {
      status = await refresher.checker.check(certificate, issuer, now);
    } catch (e) {
      if (!(e instanceof RevocationUnavailable)) throw e;
      this.o.metrics?.monitorUncovered.inc({ issuer: row.issuer_id });
      this.o.log?.warn(
        { issuerId: row.issuer_id, err: e },
        'CRL monitor: no installed CRL covers a newly watched certificate; its revocation is seen only once one does (or in OCSP monitoring mode)',
      );
      return undefined;
    }
    return status.status === 'revoked' ? recordRevocation(this.o.db, row, status, now) : undefined;
  }

  /** The `crl-monitor` queue: processes the CRL a source has installed (the newest, if it moved on). */
  queue(refresher: CrlRefresher): QueueConfig<{ source: string }> {
    return {
      handler: async (job, ctx) => {
        await refresher.sync();
        const installed = refresher.installedCrl(job.payload.source);
        if (!installed)
          return void ctx.log.warn(
            { source: job.payload.source },
            'CRL monitor: no CRL of this source is installed here; skipped',
          );
        const der = await readCrlDer(ctx.db, job.payload.source, installed.sha256);
        // Replaced since: the newer CRL's own job covers this one's entries too.
        if (!der) return;
        await this.process(
          { issuer: installed.issuer, index: installed.index, sha256: installed.sha256, der },
          ctx.now,
        );
      },
      lockSeconds: 900,
      maxAttempts: 5,
    };
  }

  /** Enqueues the processing of every CRL the refresher installs (one job per source and hash, whichever process asks). */
  follow(refresher: CrlRefresher, onEnqueued?: () => void): () => void {
    const enqueueFor = (source: CrlRefresher['sources'][number]): void => {
      const sha256 = refresher.installedCrl(source.key)?.sha256;
      if (!sha256) return;
      void enqueue(
        this.o.db,
        CRL_MONITOR_QUEUE,
        { source: source.key },
        { dedupeKey: `${CRL_MONITOR_QUEUE}:${source.key}:${sha256}` },
      )
        .then(() => onEnqueued?.())
        .catch((err: unknown) =>
          this.o.log?.error(
            { err, source: source.location },
            'CRL monitor: could not enqueue the processing of an installed CRL',
          ),
        );
    };
    // What was installed before following (at start): a crash may have come between a CRL's store and its job.
    for (const source of refresher.sources) enqueueFor(source);
    return refresher.onInstalled((e) => enqueueFor(e.source));
  }
}

/** Why `info` is not newer than the processed state, or undefined when it is. */
function olderThan(info: CrlIndex['info'], state: StateRow): string | undefined {
  const last = new Date(state.this_update);
  const olderNumber =
    info.crlNumber && state.crl_number ? BigInt(`0x${info.crlNumber}`) <= BigInt(`0x${state.crl_number}`) : false;
  if (info.thisUpdate <= last || olderNumber) {
    return `thisUpdate ${info.thisUpdate.toISOString()}, number ${info.crlNumber ?? 'none'}; last processed: thisUpdate ${last.toISOString()}, number ${state.crl_number ?? 'none'}`;
  }
  return undefined;
}

/** Good watched rows of these serials, except those whose relationship has ended. */
async function matchWatched(db: Queryable, issuer: string, serials: string[], now: Date): Promise<WatchedRow[]> {
  return db.query<WatchedRow>(
    `SELECT m.id, m.rp_client_id, m.subject_id, m.record_id, m.issuer_id, m.serial, m.not_after FROM monitored_certificates m
     WHERE m.issuer_id = $1 AND m.serial IN (SELECT jsonb_array_elements_text($2::jsonb)) AND m.status = 'good'
       AND NOT EXISTS (SELECT 1 FROM relationships r WHERE r.rp_client_id = m.rp_client_id AND r.subject_id = m.subject_id AND r.ended_at IS NOT NULL AND r.ended_at <= $3)
     ORDER BY m.id`,
    [issuer, serials, now],
  );
}
