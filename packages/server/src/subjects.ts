// Platform subjects that survive card renewal. A certificate seen before maps to its subject; an
// unknown one is looked up through J-LIS linkage (証明書新旧紐付け), which runs forward only (old →
// new): we follow known certificates of the same kind and medium that have no recorded successor yet
// and map every successor found. Never keyed by the basic 4 info.

import { randomBytes } from 'node:crypto';
import type { LinkageClient } from '@kakunin/jpki';
import type { Queryable } from './db/sql.js';

export interface CertificateIdentity {
  issuerId: string;
  serial: string;
  kind: 'auth' | 'sign';
  medium: string;
}

/** How many known certificates one unknown certificate may be matched against through linkage. */
const LINKAGE_SCAN_LIMIT = 200;

export const newSubjectId = (): string => `sub_${randomBytes(16).toString('base64url')}`;

export async function knownSubject(
  db: Queryable,
  cert: Pick<CertificateIdentity, 'issuerId' | 'serial'>,
): Promise<string | undefined> {
  const [row] = await db.query<{ subject_id: string }>(
    'SELECT subject_id FROM subject_certificates WHERE issuer_id = $1 AND serial = $2',
    [cert.issuerId, cert.serial],
  );
  return row?.subject_id;
}

export interface FoundSubject {
  subjectId: string;
  /** The certificate itself is already mapped to the subject (mappings are never removed). */
  mapped?: boolean;
  partner?: CertificateIdentity;
}

/**
 * The subject a certificate belongs to if linkage ties it to a known one; undefined for a new person.
 * Runs outside any transaction (network calls); `bindSubject` (or the ceremony's one write) later
 * writes the mapping atomically. `mappings`: the subject certificates with this serial, when the
 * caller read them already (ceremony-store.ts), so that a known certificate costs no query.
 */
export async function findSubjectByLinkage(
  db: Queryable,
  cert: CertificateIdentity,
  linkage: LinkageClient | undefined,
  mappings?: readonly { issuer_id: string; serial: string; subject_id: string }[],
): Promise<FoundSubject | undefined> {
  const known = mappings
    ? mappings.find((m) => m.issuer_id === cert.issuerId && m.serial === cert.serial)?.subject_id
    : await knownSubject(db, cert);
  if (known) return { subjectId: known, mapped: true };
  if (!linkage) return undefined;
  // 証明書紐付け: the holder's certificate of the other kind (auth ↔ sign), so that a login and an
  // identity verification of one person share one subject.
  const partner = await partnerOf(cert, linkage);
  if (partner) {
    const subjectId = await knownSubject(db, partner);
    if (subjectId) return { subjectId, partner };
  }
  const candidates = await db.query<{ issuer_id: string; serial: string; subject_id: string }>(
    `SELECT issuer_id, serial, subject_id FROM subject_certificates
     WHERE kind = $1 AND medium = $2 AND succeeded_at IS NULL ORDER BY first_seen_at DESC LIMIT ${LINKAGE_SCAN_LIMIT}`,
    [cert.kind, cert.medium],
  );
  for (const c of candidates) {
    let chain: readonly { serial: string; issuerId: string }[];
    try {
      chain = (await linkage.latest(c.serial, c.issuer_id)).chain;
    } catch {
      continue; // an unknown or unreachable link only means "no match through this certificate"
    }
    if (chain.length < 2) continue;
    const successors = chain
      .slice(1)
      .map((l) => ({ issuerId: l.issuerId || cert.issuerId, serial: l.serial, kind: cert.kind, medium: cert.medium }));
    await db.query('UPDATE subject_certificates SET succeeded_at = now() WHERE issuer_id = $1 AND serial = $2', [
      c.issuer_id,
      c.serial,
    ]);
    for (const s of successors) await mapCertificate(db, s, c.subject_id);
    if (successors.some((s) => sameSerial(s.serial, cert.serial)))
      return { subjectId: c.subject_id, ...(partner ? { partner } : {}) };
  }
  return partner ? { subjectId: '', partner } : undefined;
}

async function partnerOf(cert: CertificateIdentity, linkage: LinkageClient): Promise<CertificateIdentity | undefined> {
  try {
    const pair = await linkage.pair(cert.serial);
    const other = cert.kind === 'auth' ? pair.sign : pair.auth;
    return other
      ? {
          issuerId: other.issuerId || cert.issuerId,
          serial: other.serial,
          kind: cert.kind === 'auth' ? 'sign' : 'auth',
          medium: cert.medium,
        }
      : undefined;
  } catch {
    return undefined; // no pairing known: the certificate stands alone
  }
}

const sameSerial = (a: string, b: string): boolean =>
  a.replace(/^0+(?=.)/, '').toUpperCase() === b.replace(/^0+(?=.)/, '').toUpperCase();

async function mapCertificate(db: Queryable, cert: CertificateIdentity, subjectId: string): Promise<void> {
  await db.query(
    `INSERT INTO subject_certificates (issuer_id, serial, kind, medium, subject_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (issuer_id, serial) DO NOTHING`,
    [cert.issuerId, cert.serial, cert.kind, cert.medium, subjectId],
  );
}
