// `npm run load`, afterwards: every success has exactly one record (one leaf), nothing else was
// recorded as verified, the records log verifies (verifyLog: leaves, tree, signed checkpoints), and
// how long a commit waits for the signed checkpoint that includes it: records.leaf_index is NULL
// until the sequencer integrates the leaf, records.integrated_at is when that checkpoint committed.
// A database whose records lack those columns (a platform from before the log) gets "not available".

import type { Database, MasterKey } from '@kakunin/server';
import { storedLogVerifierKey, verifyLog } from '@kakunin/server/records';
import { percentile } from './load-holders.js';

/** What is checked: the whole log (leaves, tree, signed checkpoints) against the platform's verifier key. */
export const RECORDS_CHECK = 'the records log (verifyLog)';

/** Whether records carry leaf_index and integrated_at (the Merkle log) yet. */
export async function recordsAreALog(db: Database): Promise<boolean> {
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'records' AND column_name IN ('leaf_index', 'integrated_at')`,
  );
  return row?.n === 2;
}

export type Integration =
  | { available: false }
  | {
      available: true;
      records: number;
      /** Still without a leaf index (or integration time) when the wait ended: lost. */
      notIntegrated: number;
      waitedSeconds: number;
      /** integrated_at − created_at, milliseconds. */
      p50: number;
      p99: number;
      max: number;
    };

/**
 * Waits (polling, up to `waitSeconds`) for the sequencer to integrate every record written since
 * `since`, then measures integrated_at − created_at over them.
 */
export async function measureIntegration(db: Database, since: Date, waitSeconds = 10): Promise<Integration> {
  if (!(await recordsAreALog(db))) return { available: false };
  const started = performance.now();
  const deadline = started + waitSeconds * 1000;
  let pending = 0;
  for (;;) {
    const [row] = await db.query<{ pending: number }>(
      'SELECT count(*)::int AS pending FROM records WHERE created_at >= $1 AND (leaf_index IS NULL OR integrated_at IS NULL)',
      [since],
    );
    pending = row?.pending ?? 0;
    if (pending === 0 || performance.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const rows = await db.query<{ ms: number }>(
    'SELECT (extract(epoch FROM integrated_at - created_at) * 1000)::float8 AS ms FROM records WHERE created_at >= $1 AND leaf_index IS NOT NULL AND integrated_at IS NOT NULL ORDER BY 1',
    [since],
  );
  const ms = rows.map((r) => Number(r.ms));
  return {
    available: true,
    records: ms.length + pending,
    notIntegrated: pending,
    waitedSeconds: (performance.now() - started) / 1000,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    max: ms.at(-1) ?? NaN,
  };
}

export interface RecordCheck {
  /** Successes without exactly one verified record. */
  lost: number;
  /** Verified records (since the start) of no success. */
  extra: number;
  check: { ok: boolean; checked: number; problems: number; pending?: number; note?: string };
}

export async function checkRecords(
  db: Database,
  masterKey: MasterKey,
  succeeded: ReadonlySet<string>,
  since: Date,
): Promise<RecordCheck> {
  const rows = await db.query<{ ceremony_id: string; n: number }>(
    "SELECT ceremony_id, count(*)::int AS n FROM records WHERE outcome = 'verified' AND created_at >= $1 GROUP BY ceremony_id",
    [since],
  );
  const verified = new Map(rows.map((r) => [r.ceremony_id, r.n]));
  let lost = 0;
  for (const id of succeeded) if (verified.get(id) !== 1) lost++;
  const extra = [...verified.keys()].filter((id) => !succeeded.has(id)).length;
  const key = await storedLogVerifierKey(db, masterKey);
  if (!key)
    return {
      lost,
      extra,
      check: { ok: false, checked: 0, problems: 1, note: 'the database has no log key (no server created the log)' },
    };
  const result = await verifyLog(db, { key });
  return {
    lost,
    extra,
    check: { ok: result.ok, checked: result.checked, problems: result.problems.length, pending: result.pending },
  };
}
