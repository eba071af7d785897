// What every record row is and how its entry is written, shared by the v1 hash chain (rows written
// before the Merkle log, kept as they were) and the v2 log entries (records/log.ts).
//
//   payload_hash = sha256hex(canonicalJson(payload))
//   v1 row hash  = sha256hex(v1 entry), v1 entry = canonicalJson([RECORD_HASH_VERSION, prev_hash, id, seq,
//                  created_at ISO 8601 (UTC, ms), rp_client_id, ceremony_id, subject_id, framework, outcome, payload_hash])
//   v2 entry     = canonicalJson([RECORD_ENTRY_VERSION, id, created_at, rp_client_id, ceremony_id, subject_id,
//                  framework, outcome, payload_hash])
//   leaf hash    = SHA-256(0x00 ‖ entry as UTF-8) (RFC 9162), for v1 and v2 rows alike
//
// canonicalJson is JSON with object keys sorted by UTF-16 code units and no whitespace (RFC 8785
// JCS for the values we store). A JSON array of the fixed columns keeps the encoding unambiguous
// (nulls, separators inside values). A purge blanks payload but keeps payload_hash, so both the v1
// links and the log's proofs still verify.

import { createHash, randomBytes } from 'node:crypto';
import { isValidMyNumber } from '@kakunin/card';
import { leafHash } from '@kakunin/tlog';
import type { Queryable, SqlValue } from '../db/sql.js';

/** The version tag of the v1 hash-chain entries (rows written before the log). */
export const RECORD_HASH_VERSION = 'kakunin.records.v1';
/** The version tag of a log entry. */
export const RECORD_ENTRY_VERSION = 'kakunin.records.v2';
export const GENESIS_HASH = '0'.repeat(64);
const PAGE = 1000;

export type RecordOutcome = 'verified' | 'rejected' | 'note';

/** Canonical JSON of a JSON value (sorted keys, no whitespace); throws on values JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      if (!isPlainObject(value))
        throw new TypeError(`canonicalJson: ${Object.prototype.toString.call(value)} is not a JSON value`);
      const entries = Object.keys(value)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
      return `{${entries.join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: a ${typeof value} is not a JSON value`);
  }
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

const DIGIT = '0-9\uFF10-\uFF19';
// 12 digits, ASCII or full-width, alone or written 4-4-4 with one kind of space or hyphen between groups.
const MY_NUMBER_LIKE = new RegExp(
  `(?<![${DIGIT}])([${DIGIT}]{4})([ \\u3000\\-\\uFF0D\\u2010-\\u2015\\u2212]?)([${DIGIT}]{4})\\2([${DIGIT}]{4})(?![${DIGIT}])`,
  'g',
);
const toAscii = (s: string): string =>
  s.replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

/**
 * Masks every My Number in a text: a run of exactly 12 digits (ASCII or full-width, optionally
 * grouped 4-4-4) whose check digit is valid. Other 12-digit runs are left alone (about 1 in 11
 * random runs passes the check, so certificate serials and the like rarely lose information).
 */
export function maskMyNumbers(text: string): { text: string; masked: number } {
  let masked = 0;
  const out = text.replace(MY_NUMBER_LIKE, (all: string, a: string, _sep: string, b: string, c: string) => {
    if (!isValidMyNumber(toAscii(a + b + c))) return all;
    masked++;
    return '*'.repeat(all.length);
  });
  return { text: out, masked };
}

// jsonb refuses \u0000 and lone surrogates; replace them so that what we hash is what we store.
const jsonbSafe = (s: string): string =>
  s
    .split(String.fromCharCode(0))
    .join('\uFFFD')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/**
 * The payload as stored: My Numbers masked in every string (keys too), dates as ISO strings, bigints
 * as strings, undefined dropped. Bytes and other non-JSON objects are refused: raw certificates and
 * signatures never go into a record.
 */
export function guardPayload(payload: Record<string, unknown>): { payload: Record<string, unknown>; masked: number } {
  let masked = 0;
  const text = (s: string): string => {
    const r = maskMyNumbers(jsonbSafe(s));
    masked += r.masked;
    return r.text;
  };
  const walk = (v: unknown, path: string): unknown => {
    if (v === null) return null;
    switch (typeof v) {
      case 'string':
        return text(v);
      case 'boolean':
        return v;
      case 'bigint':
        return text(v.toString());
      case 'number': {
        if (!Number.isFinite(v)) return null;
        // A 12-digit My Number stored as a number becomes a masked string.
        if (Number.isInteger(v) && v >= 1e11 && v < 1e12 && isValidMyNumber(String(v))) {
          masked++;
          return '*'.repeat(12);
        }
        return Object.is(v, -0) ? 0 : v;
      }
      case 'object': {
        if (v instanceof Date) {
          if (Number.isNaN(v.getTime())) throw new TypeError(`record payload ${path}: invalid date`);
          return v.toISOString();
        }
        if (Array.isArray(v)) return v.map((x, i) => (x === undefined ? null : walk(x, `${path}[${i}]`)));
        if (!isPlainObject(v))
          throw new TypeError(`record payload ${path}: ${Object.prototype.toString.call(v)} is not a JSON value`);
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) if (x !== undefined) out[text(k)] = walk(x, `${path}.${k}`);
        return out;
      }
      default:
        throw new TypeError(`record payload ${path}: a ${typeof v} is not a JSON value`);
    }
  };
  return { payload: walk(payload, '$') as Record<string, unknown>, masked };
}

export const payloadHash = (payload: Record<string, unknown>): string => sha256Hex(canonicalJson(payload));

export interface ChainedColumns {
  id: string;
  seq: string;
  createdAt: Date;
  rpClientId: string | null;
  ceremonyId: string | null;
  subjectId: string | null;
  framework: string;
  outcome: string;
  payloadHash: string;
}

/** The v1 entry: the text a v1 row's hash is taken over. */
export function v1EntryText(prevHash: string, c: ChainedColumns): string {
  return canonicalJson([
    RECORD_HASH_VERSION,
    prevHash,
    c.id,
    c.seq,
    c.createdAt.toISOString(),
    c.rpClientId,
    c.ceremonyId,
    c.subjectId,
    c.framework,
    c.outcome,
    c.payloadHash,
  ]);
}

/** The v1 row hash (see the header of this file). */
export function recordHash(prevHash: string, c: ChainedColumns): string {
  return sha256Hex(v1EntryText(prevHash, c));
}

/** The v2 (log) entry of a record: its fixed columns and payload hash. */
export function entryText(c: Omit<ChainedColumns, 'seq'>): string {
  return canonicalJson([
    RECORD_ENTRY_VERSION,
    c.id,
    c.createdAt.toISOString(),
    c.rpClientId,
    c.ceremonyId,
    c.subjectId,
    c.framework,
    c.outcome,
    c.payloadHash,
  ]);
}

const columnsOf = (r: RecordRow): ChainedColumns => ({
  id: r.id,
  seq: r.seq,
  createdAt: r.created_at,
  rpClientId: r.rp_client_id,
  ceremonyId: r.ceremony_id,
  subjectId: r.subject_id,
  framework: r.framework,
  outcome: r.outcome,
  payloadHash: r.payload_hash,
});

/** Whether a v1 chain row's hash is the one its columns and prev_hash give. */
export const v1RowHashIntact = (r: RecordRow): boolean =>
  r.hash !== null && recordHash(r.prev_hash ?? '', columnsOf(r)) === r.hash;

/** The entry a row's leaf hash must be taken over: its v1 entry for a chain row, else its v2 entry. */
export function rowEntryText(r: RecordRow): string {
  return r.entry_version === 1 ? v1EntryText(r.prev_hash ?? '', columnsOf(r)) : entryText(columnsOf(r));
}

/** The leaf hash a row must carry, recomputed from its columns. */
export const rowLeafHash = (r: RecordRow): Buffer => leafHash(Buffer.from(rowEntryText(r), 'utf8'));

/** A record id, for callers that write rows naming the record before appending it. */
export const newRecordId = (): string => `rec_${randomBytes(16).toString('base64url')}`;

export interface RecordRow {
  seq: string;
  id: string;
  created_at: Date;
  rp_client_id: string | null;
  ceremony_id: string | null;
  subject_id: string | null;
  framework: string;
  outcome: string;
  payload: Record<string, unknown> | null;
  payload_hash: string;
  /** v1 chain rows only (null for log entries). */
  prev_hash: string | null;
  hash: string | null;
  purged_at: Date | null;
  /** 1: a row of the v1 hash chain; 2: a log entry. */
  entry_version: number;
  leaf_hash: Buffer;
  /** null until the sequencer integrates the leaf into the tree. */
  leaf_index: string | null;
  integrated_at: Date | null;
}

export const RECORD_COLUMNS =
  'seq, id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, prev_hash, hash, purged_at, entry_version, leaf_hash, leaf_index, integrated_at';

/** Normalises a row as either driver returns it (timestamps as Date, bigint as string). */
export function normaliseRow(r: RecordRow): RecordRow {
  return {
    ...r,
    seq: String(r.seq),
    created_at: new Date(r.created_at),
    purged_at: r.purged_at === null ? null : new Date(r.purged_at),
    entry_version: Number(r.entry_version),
    leaf_hash: Buffer.from(r.leaf_hash),
    leaf_index: r.leaf_index === null ? null : String(r.leaf_index),
    integrated_at: r.integrated_at === null ? null : new Date(r.integrated_at),
  };
}

/**
 * Pages through `records` in seq order, or in leaf order (`by: 'leaf_index'`, integrated rows only);
 * keyset pagination, so memory stays at one page. `where` is trusted SQL; values go in `params`.
 */
export async function* recordPages(
  db: Queryable,
  where = 'TRUE',
  params: readonly SqlValue[] = [],
  pageSize = PAGE,
  by: 'seq' | 'leaf_index' = 'seq',
): AsyncGenerator<RecordRow[]> {
  let after = '-1';
  const n = params.length;
  while (true) {
    const rows = await db.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM records WHERE ${by} > $${n + 1}::bigint AND (${where}) ORDER BY ${by} LIMIT ${pageSize}`,
      [...params, after],
    );
    if (rows.length === 0) return;
    const page = rows.map(normaliseRow);
    yield page;
    after = page[page.length - 1]![by]!;
    if (rows.length < pageSize) return;
  }
}

/** The event name of the note a retention purge appends, listing the ids it blanked. */
export const PURGE_EVENT = 'retention_purge';

/**
 * Migration 11: the leaf hash of every row of the v1 chain, over its v1 entry, in seq order (the
 * chain's order). The sequencer then integrates them first, in that order. Also moves the seq
 * sequence past the v1 rows: the v1 append wrote seq itself (from record_chain_head, migration 6)
 * and never advanced the sequence, so the first log entry would otherwise reuse a v1 row's seq.
 */
export async function fillV1LeafHashes(tx: Queryable): Promise<void> {
  await tx.query(
    `SELECT setval(pg_get_serial_sequence('records', 'seq'), max(seq)) FROM records HAVING max(seq) IS NOT NULL`,
  );
  let after = '-1';
  for (;;) {
    const rows = await tx.query<RecordRow>(
      `SELECT seq, id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, prev_hash, hash, purged_at,
              1 AS entry_version, ''::bytea AS leaf_hash, NULL AS leaf_index, NULL AS integrated_at
         FROM records WHERE seq > $1::bigint ORDER BY seq LIMIT ${PAGE}`,
      [after],
    );
    if (rows.length === 0) return;
    const page = rows.map(normaliseRow);
    await tx.query(
      `UPDATE records r SET leaf_hash = decode(v.h, 'hex') FROM json_to_recordset($1::json) AS v(seq bigint, h text) WHERE r.seq = v.seq`,
      [JSON.stringify(page.map((r) => ({ seq: r.seq, h: rowLeafHash(r).toString('hex') })))],
    );
    after = page[page.length - 1]!.seq;
  }
}
