// All SQL of a ceremony: the ceremonies row with its nonce, the grant that carries its result
// (grant_ceremonies), and their purge. Every statement that creates a ceremony or changes its state
// or stage notifies CEREMONY_CHANNEL (ceremony-changes.ts follows it).
//
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

import type { CardErrorReport, CeremonyKind, CeremonyResult, CeremonyStage, CeremonyState } from './ceremony-domain.js';
import type { Database, Queryable } from './db/sql.js';
import { CeremonyFinished, NonceReplayed } from './errors.js';
import type { OcspAnswerRow } from './ocsp-answers.js';
import { defaultShares, type SharedClaim } from './oidc/claims.js';
import type { PreparedRecord } from './records/log.js';
import { relyingPartyFromRow, type RelyingParty, type RelyingPartyRow } from './relying-parties.js';
import type { CertificateIdentity } from './subjects.js';

export interface Ceremony {
  id: string;
  kind: CeremonyKind;
  rpClientId: string;
  interactionUid: string | null;
  purpose: string;
  toBeSigned: Buffer;
  nonce: string;
  state: CeremonyState;
  createdAt: Date;
  expiresAt: Date;
  finishedAt: Date | null;
  subjectId: string | null;
  recordId: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  result: CeremonyResult | null;
  stage: CeremonyStage;
  cardError: CardErrorReport | null;
  /** What its authorization releases, by name (oidc/claims.ts claimsToShare): shown, signed, and the most a token carries. */
  shares: readonly SharedClaim[];
}

interface Row {
  id: string;
  kind: CeremonyKind;
  rp_client_id: string;
  interaction_uid: string | null;
  purpose: string;
  to_be_signed: Buffer | Uint8Array;
  state: CeremonyState;
  created_at: Date;
  expires_at: Date;
  finished_at: Date | null;
  subject_id: string | null;
  record_id: string | null;
  error_code: string | null;
  error_message: string | null;
  result: CeremonyResult | null;
  nonce: string;
  stage: CeremonyStage;
  card_error: CardErrorReport | null;
  shares: SharedClaim[] | null;
}

const fromRow = (r: Row): Ceremony => ({
  id: r.id,
  kind: r.kind,
  rpClientId: r.rp_client_id,
  interactionUid: r.interaction_uid,
  purpose: r.purpose,
  toBeSigned: Buffer.from(r.to_be_signed),
  nonce: r.nonce,
  state: r.state,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  subjectId: r.subject_id,
  recordId: r.record_id,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  result: r.result,
  stage: r.stage,
  cardError: r.card_error,
  shares: r.shares ?? defaultShares(r.kind),
});

const SELECT = 'SELECT c.*, n.value AS nonce FROM ceremonies c JOIN nonces n ON n.ceremony_id = c.id';

/** Where a change of a ceremony's state or stage is announced (payload: its interaction uid); see ceremony-changes.ts. */
export const CEREMONY_CHANNEL = 'kakunin_ceremony';
/**
 * In the RETURNING list of every statement that creates a ceremony or changes its state or stage:
 * the notification leaves at commit (never for a rolled-back change), in the same round trip. Only
 * a ceremony page follows a ceremony, so one without an interaction notifies nobody.
 */
const NOTIFY = `CASE WHEN interaction_uid IS NOT NULL THEN pg_notify('${CEREMONY_CHANNEL}', interaction_uid) END`;

/** A new pending ceremony and its nonce, in one transaction. */
export async function insertCeremony(db: Database, c: Ceremony): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO ceremonies (id, kind, rp_client_id, interaction_uid, purpose, to_be_signed, state, created_at, expires_at, shares)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9) RETURNING ${NOTIFY}`,
      [
        c.id,
        c.kind,
        c.rpClientId,
        c.interactionUid,
        c.purpose,
        c.toBeSigned,
        c.createdAt,
        c.expiresAt,
        JSON.stringify(c.shares),
      ],
    );
    await tx.query('INSERT INTO nonces (value, ceremony_id, rp_client_id, expires_at) VALUES ($1, $2, $3, $4)', [
      c.nonce,
      c.id,
      c.rpClientId,
      c.expiresAt,
    ]);
  });
}

export async function findCeremony(db: Queryable, id: string): Promise<Ceremony | undefined> {
  const [row] = await db.query<Row>(`${SELECT} WHERE c.id = $1`, [id]);
  return row ? fromRow(row) : undefined;
}

/** The newest ceremony started for an OIDC interaction. */
export async function ceremonyOfInteraction(db: Queryable, uid: string): Promise<Ceremony | undefined> {
  const [row] = await db.query<Row>(`${SELECT} WHERE c.interaction_uid = $1 ORDER BY c.created_at DESC LIMIT 1`, [uid]);
  return row ? fromRow(row) : undefined;
}

/** Moves a pending ceremony to `stage` with the card's error (or none); a finished one stays as it is. */
export async function setCeremonyStage(
  db: Queryable,
  id: string,
  stage: CeremonyStage,
  cardError: CardErrorReport | null = null,
): Promise<void> {
  await db.query(
    `UPDATE ceremonies SET stage = $2, card_error = $3 WHERE id = $1 AND state = 'pending' RETURNING ${NOTIFY}`,
    [id, stage, cardError ? { ...cardError } : null],
  );
}

/** Records which ceremony an OIDC grant carries (the holder consented after it); a new consent replaces it. */
export async function bindGrantCeremony(db: Queryable, grantId: string, ceremonyId: string): Promise<void> {
  await db.query(
    'INSERT INTO grant_ceremonies (grant_id, ceremony_id) VALUES ($1, $2) ON CONFLICT (grant_id) DO UPDATE SET ceremony_id = EXCLUDED.ceremony_id',
    [grantId, ceremonyId],
  );
}

/** The ceremony whose result a token carries: by grant, recorded when the holder consented. */
export async function ceremonyOfGrant(db: Queryable, grantId: string | undefined): Promise<Ceremony | undefined> {
  if (!grantId) return undefined;
  const [row] = await db.query<Row>(
    `${SELECT} WHERE c.id = (SELECT ceremony_id FROM grant_ceremonies WHERE grant_id = $1)`,
    [grantId],
  );
  return row ? fromRow(row) : undefined;
}

/** Ceremonies (with their results) and nonces are working state: gone a day after they expired. */
export async function purgeStaleCeremonies(db: Queryable, olderThanSeconds = 86_400): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanSeconds * 1000);
  await db.query('DELETE FROM nonces WHERE expires_at < $1', [cutoff]);
  await db.query(
    'DELETE FROM grant_ceremonies WHERE ceremony_id IN (SELECT id FROM ceremonies WHERE expires_at < $1)',
    [cutoff],
  );
  return (await db.query('DELETE FROM ceremonies WHERE expires_at < $1 RETURNING id', [cutoff])).length;
}

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

export interface Submission {
  ceremony: Ceremony;
  submitted: SubmittedNonce | undefined;
  rp: RelyingParty | undefined;
  known: KnownCertificate[];
  ocspAnswers: OcspAnswerRow[];
}

/** The one read of a holder response (see the header). */
export async function readSubmission(
  db: Queryable,
  o: { id: string; nonce: string | undefined; serial: string | undefined },
): Promise<Submission | undefined> {
  const [row] = await db.query<
    Row & {
      s: SubmittedNonce | null;
      rp: RelyingPartyRow | null;
      known: KnownCertificate[] | null;
      answers: OcspAnswerRow[] | null;
    }
  >(
    `SELECT c.*, n.value AS nonce,
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
    ceremony: fromRow(ceremony),
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
  readonly subjectId: string;
  constructor(subjectId: string) {
    super(`the certificate was bound to subject ${subjectId} by a concurrent ceremony`);
    this.subjectId = subjectId;
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
