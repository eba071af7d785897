// All SQL of the digital ID credentials: status lists, issued credentials, proof nonces, credential
// offers. A credential row says where it came from (ceremony, 確認記録, the signing certificate) and
// where its status is, never what it says.

import { createHash, randomInt } from 'node:crypto';
import type { Queryable } from '../db/sql.js';
import { appendRecord } from '../records/log.js';

/** Entries per status list: 2^17 one-bit entries (16 KiB before compression). */
export const STATUS_LIST_SIZE = 131_072;

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('base64url');

/** The status list of a signing key, created when the key first signs. */
export async function ensureStatusList(db: Queryable, kid: string): Promise<string> {
  const id = kid;
  await db.query(
    'INSERT INTO credential_status_lists (id, kid, size) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
    [id, kid, STATUS_LIST_SIZE],
  );
  return id;
}

export interface NewCredential {
  id: string;
  issuedAt: Date;
  expiresAt: Date;
  rpClientId: string;
  subjectId: string;
  ceremonyId: string;
  recordId: string;
  issuerId: string;
  serial: string;
  holderJkt: string;
  statusListId: string;
  /** Which copy of the issuance (0 first): only the first is checked against an earlier issuance. */
  batchIndex: number;
}

export class CredentialAlreadyIssued extends Error {
  constructor() {
    super('a credential has already been issued for this verification');
  }
}

/**
 * Inserts the credential at a random free index of its status list; returns the index. A conflict on
 * either unique key does nothing (a concurrent issuance of the same ceremony waits for the other
 * transaction and then finds its row), so a race ends in CredentialAlreadyIssued, not a database error.
 */
export async function insertCredential(db: Queryable, c: NewCredential): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const idx = randomInt(STATUS_LIST_SIZE);
    const rows = await db.query<{ status_idx: number }>(
      `INSERT INTO credentials (id, issued_at, expires_at, rp_client_id, subject_id, ceremony_id, record_id, issuer_id, serial, holder_jkt, status_list_id, status_idx, batch_index)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::int
       WHERE $13::int > 0 OR NOT EXISTS (SELECT 1 FROM credentials WHERE ceremony_id = $6)
       ON CONFLICT DO NOTHING RETURNING status_idx`,
      [
        c.id,
        c.issuedAt,
        c.expiresAt,
        c.rpClientId,
        c.subjectId,
        c.ceremonyId,
        c.recordId,
        c.issuerId,
        c.serial,
        c.holderJkt,
        c.statusListId,
        idx,
        c.batchIndex,
      ],
    );
    if (rows[0]) return Number(rows[0].status_idx);
    if (c.batchIndex > 0) continue; // a status index taken: draw again
    const [issued] = await db.query('SELECT 1 FROM credentials WHERE ceremony_id = $1', [c.ceremonyId]);
    if (issued) throw new CredentialAlreadyIssued();
  }
  throw new Error(`status list ${c.statusListId} has no free index left after 20 random draws`);
}

/** The indexes of a status list whose credentials are not valid (status ≠ 0). */
export async function invalidEntries(db: Queryable, listId: string): Promise<{ idx: number; status: number }[]> {
  const rows = await db.query<{ status_idx: number; status: number }>(
    'SELECT status_idx, status FROM credentials WHERE status_list_id = $1 AND status <> 0',
    [listId],
  );
  return rows.map((r) => ({ idx: Number(r.status_idx), status: Number(r.status) }));
}

export async function statusListExists(db: Queryable, listId: string): Promise<number | undefined> {
  const [row] = await db.query<{ size: number }>('SELECT size FROM credential_status_lists WHERE id = $1', [listId]);
  return row ? Number(row.size) : undefined;
}

export interface InvalidatedCredential {
  id: string;
  rp_client_id: string;
  subject_id: string;
  record_id: string;
  status_list_id: string;
  status_idx: number;
}

/**
 * Marks every valid credential issued from a certificate invalid (status 1). Called in the
 * transaction of the certificate's revocation event, so the status lists change with the event.
 */
export async function invalidateCredentialsOf(
  tx: Queryable,
  cert: { issuerId: string; serial: string },
  o: { eventId: string; at: Date },
): Promise<InvalidatedCredential[]> {
  return tx.query<InvalidatedCredential>(
    `UPDATE credentials SET status = 1, status_changed_at = $3, status_event_id = $4
     WHERE issuer_id = $1 AND serial = $2 AND status = 0
     RETURNING id, rp_client_id, subject_id, record_id, status_list_id, status_idx`,
    [cert.issuerId, cert.serial, o.at, o.eventId],
  );
}

/**
 * A note in the records log for an issuance or a status change: who (RP, subject), when, which
 * certificate and which credential; never a claim value.
 */
export async function appendCredentialNote(
  tx: Queryable,
  o: { rpClientId: string; subjectId: string; at: Date; payload: Record<string, unknown> & { event: string } },
): Promise<string> {
  const [rp] = await tx.query<{ framework: string }>('SELECT framework FROM relying_parties WHERE client_id = $1', [
    o.rpClientId,
  ]);
  const note = await appendRecord(tx, {
    rpClientId: o.rpClientId,
    ceremonyId: null,
    subjectId: o.subjectId,
    framework: rp?.framework ?? 'jp_municipal',
    outcome: 'note',
    at: o.at,
    payload: o.payload,
  });
  return note.id;
}

export interface CredentialOffer {
  ceremonyId: string;
  rpClientId: string;
  txCodeHash: string | null;
}

export async function insertOffer(
  db: Queryable,
  o: { code: string; ceremonyId: string; rpClientId: string; txCode?: string; expiresAt: Date },
): Promise<void> {
  await db.query(
    'INSERT INTO credential_offers (code_hash, ceremony_id, rp_client_id, tx_code_hash, expires_at) VALUES ($1, $2, $3, $4, $5)',
    [sha256(o.code), o.ceremonyId, o.rpClientId, o.txCode ? sha256(o.txCode) : null, o.expiresAt],
  );
}

/** Redeems a pre-authorized code once: the offer, or why not. */
export async function redeemOffer(
  db: Queryable,
  code: string,
): Promise<CredentialOffer | 'unknown' | 'used' | 'expired'> {
  const [row] = await db.query<{
    ceremony_id: string;
    rp_client_id: string;
    tx_code_hash: string | null;
    used: boolean;
    expired: boolean;
  }>(
    `WITH o AS (SELECT code_hash, used_at IS NOT NULL AS used, expires_at <= now() AS expired FROM credential_offers WHERE code_hash = $1 FOR UPDATE)
     UPDATE credential_offers c SET used_at = COALESCE(c.used_at, now()) FROM o WHERE c.code_hash = o.code_hash
     RETURNING c.ceremony_id, c.rp_client_id, c.tx_code_hash, o.used, o.expired`,
    [sha256(code)],
  );
  if (!row) return 'unknown';
  if (row.used) return 'used';
  if (row.expired) return 'expired';
  return { ceremonyId: row.ceremony_id, rpClientId: row.rp_client_id, txCodeHash: row.tx_code_hash };
}
