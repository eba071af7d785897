// Signing certificates under revocation watch: one row per (RP, certificate) that an RP relied on
// in an identity verification. The 署名用 certificate is revoked automatically when the holder's
// name, address, birth date or sex changes (異動等失効), which is exactly what an RP must learn.
// A row keeps what OCSP and CRLs need — issuer generation, serial, the CertID's issuer hashes — and
// notAfter for expiry; never the certificate (it carries the basic 4 info).

import { createHash } from 'node:crypto';
import { TrustStore, parseCertificate, validate } from '@kakunin/jpki';
import type { Queryable } from '../db/sql.js';
import type { WatchedCertificate } from '../verifier.js';

/**
 * ended    — the RP's relationship with the subject ended: no purpose left to re-check revocation
 *            (revocation data may be used only to confirm validity for a live relationship).
 */
export type MonitoredStatus = 'good' | 'revoked' | 'expired' | 'ended';

export interface WatchInput extends WatchedCertificate {
  rpClientId: string;
  subjectId: string;
  recordId: string;
  notAfter: Date;
  /** The CRL distribution point the certificate names (a municipality's CRL partition), as DN text. */
  crlDistributionPoint?: string;
}

/**
 * Starts watching a signing certificate for an RP; call it in the ceremony's transaction after a
 * successful identity verification. Idempotent per (RP, issuer, serial): a repeat verification with
 * the same certificate points the row at the newer record and resumes a watch that had ended.
 */
export async function watchCertificate(tx: Queryable, w: WatchInput): Promise<{ id: string; created: boolean }> {
  const [row] = await tx.query<{ id: string; created: boolean }>(
    `INSERT INTO monitored_certificates (rp_client_id, subject_id, record_id, issuer_id, serial, issuer_name_hash, issuer_key_hash, not_after, crl_distribution_point)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (rp_client_id, issuer_id, serial) DO UPDATE
       SET record_id = EXCLUDED.record_id, crl_distribution_point = EXCLUDED.crl_distribution_point,
           status = CASE WHEN monitored_certificates.status = 'ended' THEN 'good' ELSE monitored_certificates.status END
     RETURNING id, (xmax = 0) AS created`,
    [
      w.rpClientId,
      w.subjectId,
      w.recordId,
      w.issuerId,
      w.serial,
      Buffer.from(w.issuerNameHash),
      Buffer.from(w.issuerKeyHash),
      w.notAfter,
      w.crlDistributionPoint ?? null,
    ],
  );
  return { id: String(row!.id), created: row!.created };
}

export interface MonitoredCertificate {
  id: string;
  rpClientId: string;
  subjectId: string;
  recordId: string;
  issuerId: string;
  serial: string;
  notAfter: Date;
  status: MonitoredStatus;
  lastCheckedAt: Date | null;
  revokedAt: Date | null;
  revocationReason: string | null;
}

interface Row {
  id: string;
  rp_client_id: string;
  subject_id: string;
  record_id: string;
  issuer_id: string;
  serial: string;
  not_after: Date;
  status: MonitoredStatus;
  last_checked_at: Date | null;
  revoked_at: Date | null;
  revocation_reason: string | null;
}

const fromRow = (r: Row): MonitoredCertificate => ({
  id: String(r.id),
  rpClientId: r.rp_client_id,
  subjectId: r.subject_id,
  recordId: r.record_id,
  issuerId: r.issuer_id,
  serial: r.serial,
  notAfter: new Date(r.not_after),
  status: r.status,
  lastCheckedAt: r.last_checked_at ? new Date(r.last_checked_at) : null,
  revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  revocationReason: r.revocation_reason,
});

/** Watched certificates, oldest first. */
export async function listMonitored(
  db: Queryable,
  o: { rpClientId?: string; status?: MonitoredStatus; limit?: number; afterId?: string } = {},
): Promise<MonitoredCertificate[]> {
  const rows = await db.query<Row>(
    `SELECT id, rp_client_id, subject_id, record_id, issuer_id, serial, not_after, status, last_checked_at, revoked_at, revocation_reason
     FROM monitored_certificates
     WHERE ($1::text IS NULL OR rp_client_id = $1) AND ($2::text IS NULL OR status = $2) AND ($3::bigint IS NULL OR id > $3::bigint)
     ORDER BY id LIMIT $4`,
    [o.rpClientId ?? null, o.status ?? null, o.afterId ?? null, Math.max(1, Math.min(o.limit ?? 1000, 10_000))],
  );
  return rows.map(fromRow);
}

/**
 * The CertID issuer hashes of a certificate the monitor used to keep (migration 8's backfill). The
 * key hash is the AKI key identifier: J-LIS and the simulator derive it as SHA-1 of the CA's
 * RSAPublicKey, which is what OCSP hashes (the re-check compares it with the anchor and refuses a
 * mismatch). Without one, an embedded J-LIS root that verifies the certificate gives the key.
 */
export function certIdHashesOfDer(der: Uint8Array, rowId: string): { issuerNameHash: Buffer; issuerKeyHash: Buffer } {
  const certificate = parseCertificate(der);
  const issuerNameHash = createHash('sha1').update(certificate.x509.issuer.der).digest();
  const keyId = certificate.x509.authorityKeyId?.keyId;
  if (keyId && keyId.length === 40) return { issuerNameHash, issuerKeyHash: Buffer.from(keyId, 'hex') };
  try {
    // Which root signed it, whenever that was: its validity is not the question here.
    const anchor = validate(certificate, {
      mode: 'production',
      trustStore: TrustStore.jlis(),
      skip: ['validity'],
    }).anchor;
    return {
      issuerNameHash,
      issuerKeyHash: createHash('sha1').update(anchor.certificate.x509.publicKey.pkcs1).digest(),
    };
  } catch (e) {
    throw new Error(
      `monitored certificate ${rowId}: its issuer's key cannot be told (no 20-byte AKI key identifier, and no embedded J-LIS root verifies it: ${(e as Error).message})`,
    );
  }
}
