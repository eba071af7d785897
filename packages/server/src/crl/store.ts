// The `crl_sources` table: the newest good CRL of each source and how its refreshes went.

import type { Queryable } from '../db/sql.js';

export interface StoredCrlState {
  source: string;
  /** Trust anchor label of the stored CRL. */
  issuer: string | null;
  crlNumber: string | null;
  thisUpdate: Date | null;
  nextUpdate: Date | null;
  sha256: string | null;
  fetchedAt: Date | null;
  lastAttemptAt: Date | null;
  lastSuccessAt: Date | null;
  lastFailureAt: Date | null;
  lastError: string | null;
}

interface Row {
  source: string;
  issuer: string | null;
  crl_number: string | null;
  this_update: Date | string | null;
  next_update: Date | string | null;
  sha256: string | null;
  fetched_at: Date | string | null;
  last_attempt_at: Date | string | null;
  last_success_at: Date | string | null;
  last_failure_at: Date | string | null;
  last_error: string | null;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

/** The state of these sources (the DER is not read: this runs every few seconds in every process). */
export async function readCrlStates(db: Queryable, sources: readonly string[]): Promise<Map<string, StoredCrlState>> {
  const rows = await db.query<Row>(
    `SELECT source, issuer, crl_number, this_update, next_update, sha256, fetched_at, last_attempt_at, last_success_at, last_failure_at, last_error
     FROM crl_sources WHERE source IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    [[...sources]],
  );
  return new Map(
    rows.map((r) => [
      r.source,
      {
        source: r.source,
        issuer: r.issuer,
        crlNumber: r.crl_number,
        thisUpdate: date(r.this_update),
        nextUpdate: date(r.next_update),
        sha256: r.sha256,
        fetchedAt: date(r.fetched_at),
        lastAttemptAt: date(r.last_attempt_at),
        lastSuccessAt: date(r.last_success_at),
        lastFailureAt: date(r.last_failure_at),
        lastError: r.last_error,
      },
    ]),
  );
}

/** The stored DER, if the stored CRL is still the one with this hash. */
export async function readCrlDer(db: Queryable, source: string, sha256: string): Promise<Uint8Array | undefined> {
  const [row] = await db.query<{ der: Uint8Array }>('SELECT der FROM crl_sources WHERE source = $1 AND sha256 = $2', [
    source,
    sha256,
  ]);
  return row ? new Uint8Array(row.der) : undefined;
}

export interface NewCrl {
  issuer: string;
  authorityKeyId: string | null;
  crlNumber: string | null;
  thisUpdate: Date;
  nextUpdate: Date;
  sha256: string;
  der: Uint8Array;
}

/**
 * Stores a verified CRL unless the stored one is as new or newer (checked in the statement itself,
 * so concurrent refreshers can never put an older CRL back). True when it was stored.
 */
export async function storeCrl(db: Queryable, source: string, crl: NewCrl, at: Date): Promise<boolean> {
  const rows = await db.query(
    `INSERT INTO crl_sources (source, issuer, authority_key_id, crl_number, this_update, next_update, sha256, der, fetched_at, last_attempt_at, last_success_at, last_error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, NULL)
     ON CONFLICT (source) DO UPDATE SET issuer = EXCLUDED.issuer, authority_key_id = EXCLUDED.authority_key_id, crl_number = EXCLUDED.crl_number,
       this_update = EXCLUDED.this_update, next_update = EXCLUDED.next_update, sha256 = EXCLUDED.sha256, der = EXCLUDED.der,
       fetched_at = EXCLUDED.fetched_at, last_attempt_at = EXCLUDED.last_attempt_at, last_success_at = EXCLUDED.last_success_at, last_error = NULL
     WHERE crl_sources.this_update IS NULL OR crl_sources.this_update < EXCLUDED.this_update
     RETURNING source`,
    [source, crl.issuer, crl.authorityKeyId, crl.crlNumber, crl.thisUpdate, crl.nextUpdate, crl.sha256, crl.der, at],
  );
  return rows.length === 1;
}

/** A refresh that ended without a new CRL: `error` set for a failure, unset when the source had nothing newer. */
export async function recordAttempt(db: Queryable, source: string, at: Date, error?: string): Promise<void> {
  if (error === undefined) {
    await db.query(
      `INSERT INTO crl_sources (source, last_attempt_at, last_success_at) VALUES ($1, $2, $2)
       ON CONFLICT (source) DO UPDATE SET last_attempt_at = $2, last_success_at = $2, last_error = NULL`,
      [source, at],
    );
  } else {
    await db.query(
      `INSERT INTO crl_sources (source, last_attempt_at, last_failure_at, last_error) VALUES ($1, $2, $2, $3)
       ON CONFLICT (source) DO UPDATE SET last_attempt_at = $2, last_failure_at = $2, last_error = $3`,
      [source, at, error.slice(0, 2000)],
    );
  }
}
