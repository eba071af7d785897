// What a holder response costs the database: one round trip before the verification and one after.
//
//   read   — the ceremony, its nonce, the row of the nonce submitted (if one the platform issued),
//            the RP, the subject certificates and the kept OCSP answers with the submitted
//            certificate's serial (its issuer is known only after the chain is validated: the
//            caller picks the row of that issuer);
//   finish — the outcome in one statement: the server-side function kakunin_finish_ceremony
//            (migration 12; 14 keeps the RP's pairwise sub on the relationship) consumes the nonce,
//            binds the subject, (re)opens the relationship, finishes the ceremony, watches the
//            signing certificate and inserts the record's leaf.
// Nothing is consumed by the read: a response that fails for a transport reason can be retried.

import type { Queryable } from './db/database.js';
import { CeremonyFinished, NonceReplayed } from './errors.js';
import type { OcspAnswerRow } from './ocsp-answers.js';
import type { PreparedRecord } from './records/index.js';
import { relyingPartyFromRow, type RelyingParty, type RelyingPartyRow } from './relying-parties.js';
import type { CertificateIdentity } from './subjects.js';

/** What the platform knows of a submitted nonce. */
export interface SubmittedNonce {
  ceremony_id: string;
  rp_client_id: string;
  expires_at: Date;
  used_at: Date | null;
}

/** A subject certificate with the submitted serial (any issuer). */
export interface KnownCertificate {
  issuer_id: string;
  serial: string;
  subject_id: string;
}

export interface Submission<Row> {
  ceremony: Row;
  submitted: SubmittedNonce | undefined;
  rp: RelyingParty | undefined;
  known: KnownCertificate[];
  ocspAnswers: OcspAnswerRow[];
}

/** The one read of a holder response (see the header). `ceremonySelect` names the ceremony columns. */
export async function readSubmission<Row>(
  db: Queryable,
  o: { ceremonySelect: string; id: string; nonce: string | undefined; serial: string | undefined },
): Promise<Submission<Row> | undefined> {
  const [row] = await db.query<
    Row & {
      s: SubmittedNonce | null;
      rp: RelyingPartyRow | null;
      known: KnownCertificate[] | null;
      answers: OcspAnswerRow[] | null;
    }
  >(
    `SELECT ${o.ceremonySelect},
            (SELECT to_jsonb(s) FROM (SELECT ceremony_id, rp_client_id, expires_at, used_at FROM nonces WHERE value = $2) s) AS s,
            (SELECT to_jsonb(rp) FROM relying_parties rp WHERE rp.client_id = c.rp_client_id) AS rp,
            (SELECT jsonb_agg(jsonb_build_object('issuer_id', sc.issuer_id, 'serial', sc.serial, 'subject_id', sc.subject_id)) FROM subject_certificates sc WHERE $3::text IS NOT NULL AND sc.serial = $3) AS known,
            (SELECT jsonb_agg(to_jsonb(a)) FROM ocsp_answers a WHERE $3::text IS NOT NULL AND a.serial = $3) AS answers
       FROM ceremonies c JOIN nonces n ON n.ceremony_id = c.id WHERE c.id = $1`,
    [o.id, o.nonce ?? null, o.serial ?? null],
  );
  if (!row) return undefined;
  const { s, rp, known, answers, ...ceremony } = row;
  return {
    ceremony: ceremony as unknown as Row,
    submitted: s
      ? { ...s, expires_at: new Date(s.expires_at), used_at: s.used_at ? new Date(s.used_at) : null }
      : undefined,
    rp: rp ? relyingPartyFromRow(rp) : undefined,
    known: known ?? [],
    ocspAnswers: answers ?? [],
  };
}

export interface FinishVerified {
  outcome: 'verified';
  nonce: string;
  ceremonyId: string;
  rpClientId: string;
  now: Date;
  subjectId: string;
  /** The pairwise sub of the subject at this RP, kept on the relationship (the RP names the holder by it). */
  rpSub: string;
  /** Map the certificate to the subject (absent when it is mapped already), and its partner of the other kind. */
  map?: CertificateIdentity;
  partner?: CertificateIdentity;
  result: Record<string, unknown>;
  watch?: {
    issuerId: string;
    serial: string;
    issuerNameHash: Uint8Array;
    issuerKeyHash: Uint8Array;
    notAfter: Date;
    crlDistributionPoint?: string;
  };
  record: PreparedRecord;
}

export interface FinishRejected {
  outcome: 'rejected';
  nonce: string;
  ceremonyId: string;
  now: Date;
  error: { code: string; message: string };
  record: PreparedRecord;
}

/** Thrown when a concurrent ceremony bound the certificate to another subject first: retry with it. */
export class SubjectTaken extends Error {
  constructor(readonly subjectId: string) {
    super(`the certificate was bound to subject ${subjectId} by a concurrent ceremony`);
  }
}

const identity = (c: CertificateIdentity): Record<string, string> => ({
  issuer_id: c.issuerId,
  serial: c.serial,
  kind: c.kind,
  medium: c.medium,
});

/** The one write of an outcome (see the header); returns the watched certificate's row id, if any. */
export async function finishCeremony(
  db: Queryable,
  f: FinishVerified | FinishRejected,
): Promise<{ watched: string | null }> {
  const r = f.record;
  const record = {
    id: r.id,
    created_at: r.createdAt.toISOString(),
    rp_client_id: r.rpClientId,
    ceremony_id: r.ceremonyId,
    subject_id: r.subjectId,
    framework: r.framework,
    outcome: r.outcome,
    payload: JSON.parse(r.payload) as unknown,
    payload_hash: r.payloadHash,
    leaf_hash: r.leafHash.toString('hex'),
  };
  const p =
    f.outcome === 'verified'
      ? {
          outcome: 'verified',
          nonce: f.nonce,
          ceremony_id: f.ceremonyId,
          rp_client_id: f.rpClientId,
          now: f.now.toISOString(),
          subject_id: f.subjectId,
          rp_sub: f.rpSub,
          map: f.map ? identity(f.map) : null,
          partner: f.partner ? identity(f.partner) : null,
          result: f.result,
          watch: f.watch
            ? {
                rp_client_id: f.rpClientId,
                issuer_id: f.watch.issuerId,
                serial: f.watch.serial,
                issuer_name_hash: Buffer.from(f.watch.issuerNameHash).toString('hex'),
                issuer_key_hash: Buffer.from(f.watch.issuerKeyHash).toString('hex'),
                not_after: f.watch.notAfter.toISOString(),
                crl_distribution_point: f.watch.crlDistributionPoint ?? null,
              }
            : null,
          record,
        }
      : {
          outcome: 'rejected',
          nonce: f.nonce,
          ceremony_id: f.ceremonyId,
          now: f.now.toISOString(),
          error_code: f.error.code,
          error_message: f.error.message,
          record,
        };
  try {
    const [row] = await db.query<{ out: { watched: number | string | null } }>(
      'SELECT kakunin_finish_ceremony($1::jsonb) AS out',
      [JSON.stringify(p)],
    );
    const watched = row?.out.watched;
    return { watched: watched === null || watched === undefined ? null : String(watched) };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'KK001') throw new NonceReplayed();
    if (code === 'KK002') throw new CeremonyFinished(f.ceremonyId, 'finished');
    if (code === 'KK003') throw new SubjectTaken((e as Error).message);
    throw e;
  }
}
