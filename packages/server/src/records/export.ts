// Exports records for auditors and RPs, streamed one page at a time.
// - json: one JSON array, one record per line (`[`, `{…},`, …, `]`), each record with its chain
//   columns and payload, so a consumer can re-verify hashes.
// - csv: RFC 4180 (CRLF, quotes doubled, fields with , " CR LF quoted), a header row, one row per
//   record with the payload flattened. A cell starting with = + - @ (or tab / CR) gets a leading '
//   so a spreadsheet never runs it as a formula.

import type { Queryable, SqlValue } from '../db/sql.js';
import { recordPages, type RecordOutcome, type RecordRow } from './chain.js';

export interface ExportOptions {
  format: 'json' | 'csv';
  rpClientId?: string;
  /** created_at >= from */
  from?: Date;
  /** created_at < to (exclusive) */
  to?: Date;
  outcome?: RecordOutcome;
  /** CSV only: start with a UTF-8 BOM so that Excel reads Japanese text correctly. */
  bom?: boolean;
  pageSize?: number;
  onProgress?: (exported: number) => void;
}

export const CSV_COLUMNS = [
  'seq',
  'id',
  'created_at',
  'rp_client_id',
  'rp_name',
  'ceremony_id',
  'ceremony_kind',
  'subject_id',
  'framework',
  'outcome',
  'event',
  'method',
  'citation',
  'citation_confidence',
  'received_at',
  'verified_at',
  'certificate_kind',
  'certificate_issuer',
  'certificate_issuer_id',
  'certificate_serial',
  'certificate_medium',
  'certificate_environment',
  'name',
  'name_substitute',
  'address',
  'address_substitute',
  'birth_date',
  'sex',
  'revocation_source',
  'revocation_status',
  'revocation_checked_at',
  'purpose',
  'error_code',
  'error_message',
  'purged_at',
  'payload_hash',
  'leaf_hash',
  'leaf_index',
  'prev_hash',
  'hash',
] as const;

/** One CSV field: formula-neutralised, then quoted when RFC 4180 requires it. */
export function csvCell(value: unknown): string {
  let s =
    value === null || value === undefined
      ? ''
      : typeof value === 'string'
        ? value
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** A record flattened to the CSV columns. */
export function flattenRecord(r: RecordRow): Record<(typeof CSV_COLUMNS)[number], unknown> {
  const p = obj(r.payload);
  const rp = obj(p.rp);
  const ceremony = obj(p.ceremony);
  const method = obj(p.method);
  const citation = obj(p.citation);
  const dates = obj(p.dates);
  const cert = obj(p.certificate);
  const who = obj(p.identity);
  const rev = obj(p.revocation);
  const error = obj(p.error);
  return {
    seq: r.seq,
    id: r.id,
    created_at: r.created_at.toISOString(),
    rp_client_id: r.rp_client_id,
    rp_name: rp.name,
    ceremony_id: r.ceremony_id,
    ceremony_kind: ceremony.kind,
    subject_id: r.subject_id,
    framework: r.framework,
    outcome: r.outcome,
    event: p.event,
    method: method.id,
    citation: citation.reference,
    citation_confidence: citation.confidence,
    received_at: dates.received,
    verified_at: dates.verified,
    certificate_kind: cert.kindJa ?? cert.kind,
    certificate_issuer: cert.issuer,
    certificate_issuer_id: cert.issuerId,
    certificate_serial: cert.serial,
    certificate_medium: cert.medium,
    certificate_environment: cert.environment,
    name: who.name,
    name_substitute: who.nameSubstitute,
    address: who.address,
    address_substitute: who.addressSubstitute,
    birth_date: who.birthDate,
    sex: who.sex,
    revocation_source: rev.source,
    revocation_status: rev.status,
    revocation_checked_at: rev.checkedAt,
    purpose: p.purpose,
    error_code: error.code,
    error_message: error.message,
    purged_at: r.purged_at?.toISOString() ?? null,
    payload_hash: r.payload_hash,
    leaf_hash: r.leaf_hash.toString('hex'),
    leaf_index: r.leaf_index,
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

const jsonRecord = (r: RecordRow): Record<string, unknown> => ({
  seq: r.seq,
  id: r.id,
  createdAt: r.created_at.toISOString(),
  rpClientId: r.rp_client_id,
  ceremonyId: r.ceremony_id,
  subjectId: r.subject_id,
  framework: r.framework,
  outcome: r.outcome,
  payload: r.payload,
  payloadHash: r.payload_hash,
  leafHash: r.leaf_hash.toString('hex'),
  leafIndex: r.leaf_index,
  ...(r.entry_version === 1 ? { prevHash: r.prev_hash, hash: r.hash } : {}),
  purgedAt: r.purged_at?.toISOString() ?? null,
});

/** Writes the selected records through `write` (awaited, so a slow sink applies back-pressure); returns how many. */
export async function exportRecords(
  db: Queryable,
  options: ExportOptions,
  write: (chunk: string) => void | Promise<void>,
): Promise<{ exported: number }> {
  if (options.format !== 'json' && options.format !== 'csv')
    throw new RangeError(`unknown export format ${String(options.format)}`);
  const conditions: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, value: SqlValue): void => {
    params.push(value);
    conditions.push(sql.replace('?', `$${params.length}`));
  };
  if (options.rpClientId !== undefined) add('rp_client_id = ?', options.rpClientId);
  if (options.from) add('created_at >= ?', options.from);
  if (options.to) add('created_at < ?', options.to);
  if (options.outcome) add('outcome = ?', options.outcome);
  const where = conditions.length ? conditions.join(' AND ') : 'TRUE';

  let exported = 0;
  if (options.format === 'csv') await write(`${options.bom ? '\uFEFF' : ''}${CSV_COLUMNS.join(',')}\r\n`);
  else await write('[');
  for await (const page of recordPages(db, where, params, options.pageSize)) {
    let chunk = '';
    for (const r of page) {
      if (options.format === 'csv') {
        const flat = flattenRecord(r);
        chunk += `${CSV_COLUMNS.map((c) => csvCell(flat[c])).join(',')}\r\n`;
      } else {
        chunk += `${exported === 0 ? '\n' : ',\n'}${JSON.stringify(jsonRecord(r))}`;
      }
      exported++;
    }
    await write(chunk);
    options.onProgress?.(exported);
  }
  if (options.format === 'json') await write(exported === 0 ? ']\n' : '\n]\n');
  return { exported };
}
