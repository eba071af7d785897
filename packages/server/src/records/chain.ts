// The verification-record chain. Every row of `records` is hash-linked to the one before it, so an
// insider who edits, deletes, inserts or reorders rows (even with the append-only trigger disabled)
// is caught by `verifyChain`. The hash is defined once, here:
//
//   payload_hash = sha256hex(canonicalJson(payload))
//   hash         = sha256hex(canonicalJson([RECORD_HASH_VERSION, prev_hash, id, seq, created_at ISO 8601
//                  (UTC, milliseconds), rp_client_id, ceremony_id, subject_id, framework, outcome, payload_hash]))
//
// canonicalJson is JSON with object keys sorted by UTF-16 code units and no whitespace (RFC 8785
// JCS for the values we store). A JSON array of the fixed columns keeps the encoding unambiguous
// (nulls, separators inside values). The first row links to GENESIS_HASH. A purge blanks payload but
// keeps payload_hash, so the chain still verifies.

import { createHash, randomBytes } from 'node:crypto';
import { isValidMyNumber } from '@kakunin/card';
import type { Queryable, SqlValue } from '../db/database.js';

export const RECORD_HASH_VERSION = 'kakunin.records.v1';
export const GENESIS_HASH = '0'.repeat(64);
const PAGE = 1000;

export type RecordOutcome = 'verified' | 'rejected' | 'note';

export interface AppendRecordInput {
  rpClientId: string | null;
  ceremonyId: string | null;
  subjectId: string | null;
  framework: string;
  outcome: RecordOutcome;
  payload: Record<string, unknown>;
  at?: Date;
  /** Chosen beforehand (newRecordId) when rows written earlier in the transaction name it. */
  id?: string;
}

export interface AppendedRecord {
  id: string;
  seq: string;
  hash: string;
  createdAt: Date;
  /** How many My Number look-alikes the guard masked in the payload (0 normally). */
  masked: number;
}

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
      if (!isPlainObject(value)) throw new TypeError(`canonicalJson: ${Object.prototype.toString.call(value)} is not a JSON value`);
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
const MY_NUMBER_LIKE = new RegExp(`(?<![${DIGIT}])([${DIGIT}]{4})([ \\u3000\\-\\uFF0D\\u2010-\\u2015\\u2212]?)([${DIGIT}]{4})\\2([${DIGIT}]{4})(?![${DIGIT}])`, 'g');
const toAscii = (s: string): string => s.replace(/[\uFF10-\uFF19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));

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
        if (!isPlainObject(v)) throw new TypeError(`record payload ${path}: ${Object.prototype.toString.call(v)} is not a JSON value`);
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

/**
 * The canonical JSON the row hash is taken over, split around the two values only the database
 * knows at append time (the previous hash and seq, both plain ASCII): head + prev + middle + seq + tail.
 */
function hashedText(c: Omit<ChainedColumns, 'seq'>): { head: string; middle: string; tail: string } {
  const rest = [c.createdAt.toISOString(), c.rpClientId, c.ceremonyId, c.subjectId, c.framework, c.outcome, c.payloadHash].map(canonicalJson).join(',');
  return { head: `[${canonicalJson(RECORD_HASH_VERSION)},"`, middle: `",${canonicalJson(c.id)},"`, tail: `",${rest}]` };
}

/** The row hash (see the header of this file). */
export function recordHash(prevHash: string, c: ChainedColumns): string {
  return sha256Hex(canonicalJson([RECORD_HASH_VERSION, prevHash, c.id, c.seq, c.createdAt.toISOString(), c.rpClientId, c.ceremonyId, c.subjectId, c.framework, c.outcome, c.payloadHash]));
}

/**
 * Appends one record to the chain in a single statement: it advances the head row (whose lock
 * serialises appenders in every process until commit), hashes in the database what only the
 * database knows (previous hash, seq) and inserts the row. Make it the last statement of the
 * transaction that writes whatever else belongs to the record (given a `Database`, it runs on its
 * own): the head stays locked until commit, and a rollback leaves neither row nor gap.
 */
export async function appendRecord(tx: Queryable, input: AppendRecordInput): Promise<AppendedRecord> {
  if (!input.framework) throw new TypeError('appendRecord: framework is required');
  if (!['verified', 'rejected', 'note'].includes(input.outcome)) throw new TypeError(`appendRecord: unknown outcome ${String(input.outcome)}`);
  if (input.at && Number.isNaN(input.at.getTime())) throw new TypeError('appendRecord: invalid at');
  const { payload, masked } = guardPayload(input.payload);
  const hashOfPayload = payloadHash(payload);
  const createdAt = new Date((input.at ?? new Date()).getTime());
  const id = input.id ?? newRecordId();
  const columns = { id, createdAt, rpClientId: input.rpClientId, ceremonyId: input.ceremonyId, subjectId: input.subjectId, framework: input.framework, outcome: input.outcome, payloadHash: hashOfPayload };
  const text = hashedText(columns);
  const [row] = await tx.query<{ seq: string; prev_hash: string; hash: string }>(
    `WITH head AS (
       UPDATE record_chain_head
          SET seq = seq + 1, prev_hash = hash,
              hash = encode(sha256(convert_to($1::text || hash || $2::text || (seq + 1)::text || $3::text, 'UTF8')), 'hex')
        WHERE id = 1
       RETURNING seq, prev_hash, hash)
     INSERT INTO records (seq, id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, prev_hash, hash)
     SELECT head.seq, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, head.prev_hash, head.hash FROM head
     RETURNING seq::text AS seq, prev_hash, hash`,
    [text.head, text.middle, text.tail, id, createdAt, input.rpClientId, input.ceremonyId, input.subjectId, input.framework, input.outcome, canonicalJson(payload), hashOfPayload],
  );
  if (!row) throw new Error('appendRecord: the record chain head is missing (is the database migrated?)');
  // The database hashed what verifyChain re-hashes here: a disagreement must never be committed.
  if (recordHash(row.prev_hash, { ...columns, seq: String(row.seq) }) !== row.hash) throw new Error('appendRecord: the database and the verifier disagree on the record hash');
  return { id, seq: String(row.seq), hash: row.hash, createdAt, masked };
}

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
  prev_hash: string;
  hash: string;
  purged_at: Date | null;
}

export const RECORD_COLUMNS = 'seq, id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, prev_hash, hash, purged_at';

/** Normalises a row as either driver returns it (timestamps as Date, bigint as string). */
export function normaliseRow(r: RecordRow): RecordRow {
  return {
    ...r,
    seq: String(r.seq),
    created_at: new Date(r.created_at),
    purged_at: r.purged_at === null ? null : new Date(r.purged_at),
  };
}

/** Pages through `records` in seq order (keyset pagination: memory stays at one page). `where` is trusted SQL; values go in `params`. */
export async function* recordPages(db: Queryable, where = 'TRUE', params: readonly SqlValue[] = [], pageSize = PAGE): AsyncGenerator<RecordRow[]> {
  let after = '-1';
  const n = params.length;
  while (true) {
    const rows = await db.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM records WHERE seq > $${n + 1}::bigint AND (${where}) ORDER BY seq LIMIT ${pageSize}`,
      [...params, after],
    );
    if (rows.length === 0) return;
    const page = rows.map(normaliseRow);
    yield page;
    after = page[page.length - 1]!.seq;
    if (rows.length < pageSize) return;
  }
}

export interface ChainProblem {
  seq: string;
  id: string;
  /** payload | hash | link | purge | anchor */
  code: 'payload' | 'hash' | 'link' | 'purge' | 'anchor';
  reason: string;
}

export interface ChainVerification {
  ok: boolean;
  checked: number;
  purged: number;
  problems: ChainProblem[];
  /** The last row: keep it somewhere else and pass it back as `anchor` to detect truncation. */
  head: { seq: string; hash: string } | null;
}

export interface VerifyChainOptions {
  onProgress?: (checked: number) => void;
  /** A head seen earlier (e.g. the last verify's): that row must still exist with that hash. */
  anchor?: { seq: string; hash: string };
  /** Stop collecting problems after this many (default 1000); checking goes on. */
  maxProblems?: number;
}

/** The event name of the note a retention purge appends, listing the ids it blanked. */
export const PURGE_EVENT = 'retention_purge';

/**
 * Re-computes the whole chain, one page at a time. Deletions, insertions and reordering show as a
 * broken prev_hash link (seq gaps themselves are normal: a rolled-back append burns a seq value).
 * Truncation of the newest rows needs an `anchor`. A purged row must be named by a later
 * retention-purge note; purged rows still awaiting their note are the only state kept across pages.
 */
export async function verifyChain(db: Queryable, options: VerifyChainOptions = {}): Promise<ChainVerification> {
  const problems: ChainProblem[] = [];
  const max = options.maxProblems ?? 1000;
  let problemCount = 0;
  const problem = (row: { seq: string; id: string }, code: ChainProblem['code'], reason: string): void => {
    problemCount++;
    if (problems.length < max) problems.push({ seq: row.seq, id: row.id, code, reason });
  };
  let checked = 0;
  let purged = 0;
  let prev: { seq: string; hash: string } | null = null;
  let anchorSeen = false;
  const awaitingNote = new Map<string, string>(); // purged id -> seq

  for await (const page of recordPages(db)) {
    for (const row of page) {
      const expectedPrev = prev?.hash ?? GENESIS_HASH;
      if (row.prev_hash !== expectedPrev) {
        problem(
          row,
          'link',
          prev
            ? `prev_hash does not match the hash of the previous record (seq ${prev.seq}): a record between them was deleted, inserted or moved`
            : 'the first record does not link to the genesis hash: earlier records were deleted',
        );
      }
      const columns: ChainedColumns = {
        id: row.id,
        seq: row.seq,
        createdAt: row.created_at,
        rpClientId: row.rp_client_id,
        ceremonyId: row.ceremony_id,
        subjectId: row.subject_id,
        framework: row.framework,
        outcome: row.outcome,
        payloadHash: row.payload_hash,
      };
      if (recordHash(row.prev_hash, columns) !== row.hash) problem(row, 'hash', 'hash does not match the row: a fixed column (id, seq, created_at, rp, ceremony, subject, framework, outcome, payload_hash) was edited');
      if (row.purged_at === null) {
        if (row.payload === null) problem(row, 'payload', 'payload is missing but the record was never purged');
        else if (payloadHash(row.payload) !== row.payload_hash) problem(row, 'payload', 'payload was edited: its hash does not match payload_hash');
      } else {
        purged++;
        if (row.payload !== null) problem(row, 'purge', 'record is marked purged but still has a payload');
        awaitingNote.set(row.id, row.seq);
      }
      if (row.outcome === 'note' && row.payload?.event === PURGE_EVENT && Array.isArray(row.payload.records)) {
        for (const id of row.payload.records) if (typeof id === 'string') awaitingNote.delete(id);
      }
      if (options.anchor && row.seq === options.anchor.seq) {
        anchorSeen = true;
        if (row.hash !== options.anchor.hash) problem(row, 'anchor', `hash differs from the anchor ${options.anchor.hash}: the chain was rewritten from here or earlier`);
      }
      prev = { seq: row.seq, hash: row.hash };
      checked++;
    }
    options.onProgress?.(checked);
  }
  for (const [id, seq] of awaitingNote) problem({ id, seq }, 'purge', 'payload was blanked outside a retention purge (no retention_purge note names this record)');
  if (options.anchor && !anchorSeen) {
    problem({ seq: options.anchor.seq, id: '' }, 'anchor', 'the anchor record is gone: records at or before the old head were deleted (truncation)');
  }
  problems.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0));
  return { ok: problemCount === 0, checked, purged, problems, head: prev };
}
