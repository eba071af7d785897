// Finding records for the admin API and console: by RP, date range and outcome only — never by a
// personal field — and one record with the state of its own leaf (and v1 links).

import type { Queryable, SqlValue } from '../db/sql.js';
import {
  GENESIS_HASH,
  RECORD_COLUMNS,
  normaliseRow,
  payloadHash,
  rowLeafHash,
  v1RowHashIntact,
  type RecordOutcome,
  type RecordRow,
} from './chain.js';

export interface RecordSearch {
  rpClientId?: string;
  /** created_at ≥ from */
  from?: Date;
  /** created_at < to */
  to?: Date;
  outcome?: RecordOutcome;
  /** Page before this seq (newest first). */
  before?: string;
  limit: number;
}

export async function searchRecords(db: Queryable, q: RecordSearch): Promise<RecordRow[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, v: SqlValue): void => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (q.rpClientId) add('rp_client_id = ?', q.rpClientId);
  if (q.from) add('created_at >= ?', q.from);
  if (q.to) add('created_at < ?', q.to);
  if (q.outcome) add('outcome = ?', q.outcome);
  if (q.before) add('seq < ?::bigint', q.before);
  const limit = Math.max(1, Math.min(1000, Math.floor(q.limit)));
  const rows = await db.query<RecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM records ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${limit}`,
    params,
  );
  return rows.map(normaliseRow);
}

export interface RecordLogStatus {
  /** null once the payload was purged. */
  payloadIntact: boolean | null;
  /** The stored leaf hash is the one the row's columns give. */
  leafIntact: boolean;
  /** Its index in the tree; null until the sequencer integrates it (about a second). */
  leafIndex: string | null;
  /** v1 chain rows only: the row hash and the link to the previous v1 row. */
  v1?: { hashIntact: boolean; linkedToPrevious: boolean };
}

/** One record and whether its payload, its leaf hash (and, for a v1 row, its chain links) are intact. */
export async function recordWithLogStatus(
  db: Queryable,
  id: string,
): Promise<{ record: RecordRow; status: RecordLogStatus } | undefined> {
  const [raw] = await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1`, [id]);
  if (!raw) return undefined;
  const r = normaliseRow(raw);
  let v1: RecordLogStatus['v1'];
  if (r.entry_version === 1) {
    const [prev] = await db.query<{ hash: string }>(
      'SELECT hash FROM records WHERE entry_version = 1 AND seq < $1::bigint ORDER BY seq DESC LIMIT 1',
      [r.seq],
    );
    v1 = {
      hashIntact: v1RowHashIntact(r),
      linkedToPrevious: r.prev_hash === (prev?.hash ?? GENESIS_HASH),
    };
  }
  return {
    record: r,
    status: {
      payloadIntact: r.payload === null ? null : payloadHash(r.payload) === r.payload_hash,
      leafIntact: rowLeafHash(r).equals(r.leaf_hash),
      leafIndex: r.leaf_index,
      ...(v1 ? { v1 } : {}),
    },
  };
}
