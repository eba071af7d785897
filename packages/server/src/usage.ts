// J-LIS usage accounting: every revocation lookup the platform sends to J-LIS (OCSP requests, CRL
// downloads, linkage calls), by day, RP, ceremony kind and purpose — what an operator reconciles
// J-LIS's charges (公的個人認証サービス利用料) with and re-bills RPs from. A ceremony that reuses a
// kept OCSP answer is counted as `reused`, not as a request.
//
// The count is taken where the request leaves (the fetchers given to the jpki clients), and the
// attribution comes from an AsyncLocalStorage context the caller sets (`withUsage`), so the jpki
// clients need not know about RPs. Counts are summed in memory and upserted every few seconds
// (and at stop): a per-request upsert would make every ceremony of an RP wait on the same row.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { CrlFetcher } from '@kakunin/jpki/http';
import type { JsonFetcher, OcspFetcher } from '@kakunin/jpki';
import type { CeremonyKind } from './ceremony-domain.js';
import type { Queryable } from './db/sql.js';
import type { Logger } from './jobs/worker.js';
import type { Metrics } from './metrics.js';

export type UsagePurpose = 'proofing' | 'login' | 'monitoring' | 'crl-refresh' | 'other';
export type UsageLookup = 'ocsp' | 'crl' | 'linkage';
export const USAGE_PURPOSES: readonly UsagePurpose[] = ['proofing', 'login', 'monitoring', 'crl-refresh', 'other'];

export interface UsageContext {
  purpose: UsagePurpose;
  rpClientId?: string;
  ceremonyKind?: CeremonyKind;
}

const current = new AsyncLocalStorage<UsageContext>();

/** Runs `fn` with the lookups it makes attributed to `context`. */
export function withUsage<T>(context: UsageContext, fn: () => Promise<T>): Promise<T> {
  return current.run(context, fn);
}

interface Pending {
  day: string;
  rp: string;
  kind: string;
  purpose: string;
  lookup: UsageLookup;
  requests: number;
  reused: number;
}

export class UsageMeter {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  /** Where a failed flush is reported (set once the server's logger exists). */
  log: Logger | undefined;
  private readonly db: Queryable;
  private readonly o: {
    metrics?: Pick<Metrics, 'jlisLookups'>;
    log?: Logger;
    clock?: () => Date;
    flushMs?: number;
  };

  constructor(
    db: Queryable,
    o: {
      metrics?: Pick<Metrics, 'jlisLookups'>;
      log?: Logger;
      clock?: () => Date;
      flushMs?: number;
    } = {},
  ) {
    this.db = db;
    this.o = o;
    this.log = o.log;
  }

  /** Flushes every `flushMs` (default 2000) until `stop`. */
  start(): this {
    this.timer = setInterval(
      () =>
        void this.flush().catch((e: unknown) =>
          this.log?.warn({ err: e }, 'J-LIS usage counters not written; kept for the next try'),
        ),
      this.o.flushMs ?? 2000,
    );
    this.timer.unref();
    return this;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** One lookup, attributed to the current context (`other` outside any). */
  count(lookup: UsageLookup, o: { reused?: boolean; context?: UsageContext } = {}): void {
    const c = o.context ?? current.getStore() ?? { purpose: 'other' };
    const day = (this.o.clock?.() ?? new Date()).toISOString().slice(0, 10);
    const rp = c.rpClientId ?? '';
    const kind = c.ceremonyKind ?? '';
    const key = `${day}\u0000${rp}\u0000${kind}\u0000${c.purpose}\u0000${lookup}`;
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { day, rp, kind, purpose: c.purpose, lookup, requests: 0, reused: 0 }));
    if (o.reused) p.reused++;
    else p.requests++;
    // No RP in metric labels (metrics carry outcomes and kinds only); the table has it.
    this.o.metrics?.jlisLookups.inc({ lookup, kind, purpose: c.purpose, outcome: o.reused ? 'reused' : 'requested' });
  }

  /** Writes the counts summed so far (one statement); on failure they are kept for the next flush. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.db.query(
          `INSERT INTO jlis_usage (day, rp_client_id, ceremony_kind, purpose, lookup, requests, reused)
           SELECT day::date, rp, kind, purpose, lookup, requests, reused
           FROM jsonb_to_recordset($1::jsonb) AS x(day text, rp text, kind text, purpose text, lookup text, requests bigint, reused bigint)
           ON CONFLICT (day, rp_client_id, ceremony_kind, purpose, lookup)
           DO UPDATE SET requests = jlis_usage.requests + EXCLUDED.requests, reused = jlis_usage.reused + EXCLUDED.reused`,
          [JSON.stringify(batch)],
        );
      } catch (e) {
        for (const p of batch) {
          const key = `${p.day}\u0000${p.rp}\u0000${p.kind}\u0000${p.purpose}\u0000${p.lookup}`;
          const q = this.pending.get(key);
          if (q) {
            q.requests += p.requests;
            q.reused += p.reused;
          } else this.pending.set(key, p);
        }
        throw e;
      }
    });
    return this.flushing;
  }

  /** The fetchers of the jpki clients, counting each request they send. */
  ocspFetcher(inner: OcspFetcher): OcspFetcher {
    return (url, request) => {
      this.count('ocsp');
      return inner(url, request);
    };
  }

  crlFetcher(inner: CrlFetcher): CrlFetcher {
    return (url) => {
      this.count('crl', { context: current.getStore() ?? { purpose: 'crl-refresh' } });
      return inner(url);
    };
  }

  jsonFetcher(inner: JsonFetcher): JsonFetcher {
    return (url) => {
      this.count('linkage');
      return inner(url);
    };
  }
}

export interface UsageRow {
  day: string;
  rpClientId: string | null;
  ceremonyKind: string | null;
  purpose: UsagePurpose;
  lookup: UsageLookup;
  requests: number;
  reused: number;
}

export interface UsageReport {
  month: string;
  rows: UsageRow[];
  /** Sums over the month: by lookup, and by RP (null: no RP, e.g. CRL refreshes) and purpose. */
  totals: { lookup: UsageLookup; requests: number; reused: number }[];
  byRp: { rpClientId: string | null; purpose: UsagePurpose; lookup: UsageLookup; requests: number; reused: number }[];
}

/** Throws RangeError unless `month` is YYYY-MM. */
export function monthRange(month: string): { from: string; to: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new RangeError(`the month must be YYYY-MM (got "${month}")`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const next = mo === 12 ? `${y + 1}-01` : `${y}-${String(mo + 1).padStart(2, '0')}`;
  return { from: `${month}-01`, to: `${next}-01` };
}

export async function usageReport(db: Queryable, month: string): Promise<UsageReport> {
  const { from, to } = monthRange(month);
  const rows = await db.query<{
    day: string | Date;
    rp_client_id: string;
    ceremony_kind: string;
    purpose: UsagePurpose;
    lookup: UsageLookup;
    requests: string | number;
    reused: string | number;
  }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, rp_client_id, ceremony_kind, purpose, lookup, requests, reused FROM jlis_usage
     WHERE day >= $1::date AND day < $2::date ORDER BY day, rp_client_id, ceremony_kind, purpose, lookup`,
    [from, to],
  );
  const out: UsageRow[] = rows.map((r) => ({
    day: String(r.day),
    rpClientId: r.rp_client_id || null,
    ceremonyKind: r.ceremony_kind || null,
    purpose: r.purpose,
    lookup: r.lookup,
    requests: Number(r.requests),
    reused: Number(r.reused),
  }));
  const sum = <K extends string>(
    key: (r: UsageRow) => K,
  ): Map<K, { requests: number; reused: number; row: UsageRow }> => {
    const m = new Map<K, { requests: number; reused: number; row: UsageRow }>();
    for (const r of out) {
      const k = key(r);
      const s = m.get(k) ?? { requests: 0, reused: 0, row: r };
      s.requests += r.requests;
      s.reused += r.reused;
      m.set(k, s);
    }
    return m;
  };
  return {
    month,
    rows: out,
    totals: [...sum((r) => r.lookup).values()].map((s) => ({
      lookup: s.row.lookup,
      requests: s.requests,
      reused: s.reused,
    })),
    byRp: [...sum((r) => `${r.rpClientId ?? ''}\u0000${r.purpose}\u0000${r.lookup}`).values()].map((s) => ({
      rpClientId: s.row.rpClientId,
      purpose: s.row.purpose,
      lookup: s.row.lookup,
      requests: s.requests,
      reused: s.reused,
    })),
  };
}
