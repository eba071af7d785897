// JPKI ceremonies: the platform issues a single-use challenge bound to one RP and one ceremony, the
// holder's card signs it, and the platform verifies the response and writes the outcome, the
// verification record and the subject mapping in one transaction.
//   login    — auth certificate (利用者証明用, 4-digit PIN) signs DigestInfo(SHA-256(nonce))
//   identity — signing certificate (署名用, password) signs a statement the platform composes
// The rules of a ceremony live here; its words are ceremony-domain.ts, its SQL ceremony-store.ts and
// its wire views ceremony-views.ts.

import { randomBytes } from 'node:crypto';
import { isJpkiError, ocspCertId, parseCertificate, type Basic4Info } from '@kakunin/jpki';
import type { Queryable } from './db/sql.js';
import {
  CeremonyExpired,
  CeremonyFinished,
  CeremonyNotAllowed,
  CeremonyNotFound,
  InvalidRequest,
  MalformedSubmission,
  NonceAudienceMismatch,
  NonceCeremonyMismatch,
  NonceExpired,
  NonceReplayed,
  NonceUnknown,
  isServerError,
} from './errors.js';
import { withUsage, type UsageContext } from './usage.js';
import { ocspAnswers } from './ocsp-answers.js';
import { maskMyNumbers, newRecordId } from './records/chain.js';
import { prepareRecord } from './records/log.js';
import { verificationRecordInput, type VerificationRecordInput } from './records/payload.js';
import { CERTIFICATE_OF, type CardErrorReport, type CeremonyKind, type CeremonyResult } from './ceremony-domain.js';
import {
  findCeremony,
  finishCeremony,
  insertCeremony,
  readSubmission,
  setCeremonyStage,
  SubjectTaken,
  type Ceremony,
  type FinishVerified,
  type SubmittedNonce,
} from './ceremony-store.js';
import { CLAIM_LABELS, claimsToShare, defaultShares, type SharedClaim } from './oidc/claims.js';
import type { Platform } from './platform.js';
import { getRelyingParty, type RelyingParty } from './relying-parties.js';
import { findSubjectByLinkage, newSubjectId, type CertificateIdentity } from './subjects.js';
import type { Verification } from './verifier.js';

/** The basic 4 info with any My Number pattern masked, before it is stored or sent to an RP (番号法20条). */
function maskBasic4(b: Basic4Info): Basic4Info {
  return { ...b, name: maskMyNumbers(b.name).text, address: maskMyNumbers(b.address).text };
}

/** How long a verification may run before the ceremony page is told it is "verifying". */
const VERIFYING_STAGE_DELAY_MS = 250;

const NONCE_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** Longest RP text (`statement_detail`) a signed statement carries. */
export const MAX_STATEMENT_DETAIL = 2000;

/**
 * Characters a holder could not see, or that change how the text around them is shown, on some
 * device: controls (C0 but the line feed, DEL, C1 such as U+0085), format characters (zero-width
 * spaces and joiners, bidirectional marks and overrides, soft hyphen, BOM), the Unicode line and
 * paragraph separators, unassigned and private-use code points, and lone surrogates.
 */
const INVISIBLE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cn}\p{Co}\p{Cs}]/u;

/** Checks the RP's text for the statement: visible, bounded; line ends normalised. */
export function checkStatementDetail(detail: unknown): string | undefined {
  if (detail === undefined || detail === null || detail === '') return undefined;
  if (typeof detail !== 'string') throw new InvalidRequest('statement_detail must be text');
  const text = detail.replace(/\r\n?/g, '\n');
  if (text.length > MAX_STATEMENT_DETAIL)
    throw new InvalidRequest(`statement_detail is longer than ${MAX_STATEMENT_DETAIL} characters`);
  const hidden = INVISIBLE.exec(text);
  if (hidden) {
    const at = `U+${hidden[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new InvalidRequest(
      `statement_detail contains ${at} at position ${hidden.index}, an invisible, control or direction character; the holder must see exactly what they sign (only visible text and line breaks are allowed)`,
    );
  }
  return text;
}

/**
 * The statement a holder signs in an identity ceremony: who asks, for what, the RP's own content
 * (`detail`, e.g. an application) when it sent one, exactly what the RP will receive (`shares`, one
 * indented line each), when, which ceremony.
 */
export function identityStatement(o: {
  rp: RelyingParty;
  purpose: string;
  id: string;
  nonce: string;
  at: Date;
  detail?: string;
  shares: readonly SharedClaim[];
}): string {
  return [
    'Kakunin 本人確認 / identity verification (JPKI)',
    `依頼者 / requested by: ${o.rp.name} (${o.rp.clientId})`,
    `目的 / purpose: ${o.purpose}`,
    ...(o.detail ? ['内容 / details:', ...o.detail.split('\n').map((l) => `  ${l}`)] : []),
    '提供する情報 / shared:',
    ...o.shares.map((c) => `  ${CLAIM_LABELS[c].ja} / ${CLAIM_LABELS[c].en}`),
    `日時 / time: ${o.at.toISOString()}`,
    `手続き / ceremony: ${o.id}`,
    `チャレンジ / nonce: ${o.nonce}`,
  ].join('\n');
}

/**
 * A new ceremony. `request`: the OIDC authorization's `claims` parameter (parsed) and scope, which
 * decide what it releases; without one, an identity ceremony lists everything it can release.
 */
export async function createCeremony(
  platform: Pick<Platform, 'db' | 'config'>,
  o: {
    kind: CeremonyKind;
    rpClientId: string;
    interactionUid?: string;
    purpose?: string;
    detail?: string;
    request?: { claims?: unknown; scope?: string | undefined };
    now?: Date;
  },
): Promise<Ceremony> {
  const rp = await getRelyingParty(platform.db, o.rpClientId);
  if (!rp.ceremonies.includes(o.kind) || rp.disabledAt) throw new CeremonyNotAllowed(o.kind, rp.clientId);
  const now = o.now ?? new Date();
  const id = `cer_${randomBytes(16).toString('base64url')}`;
  const nonceBytes = randomBytes(32); // 256 bits
  const nonce = nonceBytes.toString('base64url');
  const purpose = o.purpose ?? rp.purpose;
  const detail = checkStatementDetail(o.detail);
  const shares = o.request
    ? claimsToShare({ kind: o.kind, framework: rp.framework, ...o.request })
    : [...defaultShares(o.kind)];
  const toBeSigned =
    o.kind === 'login'
      ? nonceBytes
      : Buffer.from(
          identityStatement({ rp, purpose, id, nonce, at: now, shares, ...(detail ? { detail } : {}) }),
          'utf8',
        );
  const expiresAt = new Date(now.getTime() + platform.config.ceremonyTtlSeconds * 1000);
  const ceremony: Ceremony = {
    id,
    kind: o.kind,
    rpClientId: rp.clientId,
    interactionUid: o.interactionUid ?? null,
    purpose,
    toBeSigned,
    nonce,
    state: 'pending',
    createdAt: now,
    expiresAt,
    finishedAt: null,
    subjectId: null,
    recordId: null,
    errorCode: null,
    errorMessage: null,
    result: null,
    stage: 'waiting',
    cardError: null,
    shares,
  };
  await insertCeremony(platform.db, ceremony);
  // What was just written, without reading it back.
  return ceremony;
}

export async function getCeremony(db: Queryable, id: string): Promise<Ceremony> {
  const c = await findCeremony(db, id);
  if (!c) throw new CeremonyNotFound(id);
  return c;
}

export interface HolderResponse {
  nonce: string;
  /** DER certificate, base64. */
  certificate: string;
  /** PKCS#1 v1.5 signature over DigestInfo(SHA-256(to_be_signed)), base64. */
  signature: string;
}

function decodeBase64(value: unknown, what: string, max: number): Buffer {
  if (typeof value !== 'string' || value.length === 0) throw new MalformedSubmission(`${what} is missing`);
  if (value.length > max * 2 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value))
    throw new MalformedSubmission(`${what} is not base64`);
  const bytes = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
  if (bytes.length === 0 || bytes.length > max)
    throw new MalformedSubmission(`${what} has an impossible length (${bytes.length} bytes)`);
  return bytes;
}

/** The bytes of a base64 value if it is one of a plausible length (for the read's serial lookup only). */
function decodeBase64OrUndefined(value: string, max: number): Buffer | undefined {
  try {
    return decodeBase64(value, 'certificate', max);
  } catch {
    return undefined;
  }
}

function checkNonce(ceremony: Ceremony, row: SubmittedNonce | undefined, now: Date): void {
  if (!row) throw new NonceUnknown();
  if (row.used_at) throw new NonceReplayed();
  if (row.rp_client_id !== ceremony.rpClientId) throw new NonceAudienceMismatch();
  if (row.ceremony_id !== ceremony.id) throw new NonceCeremonyMismatch();
  if (new Date(row.expires_at).getTime() <= now.getTime()) throw new NonceExpired();
}

export interface SubmitOutcome {
  ceremony: Ceremony;
  recordId: string;
}

/** Verifies a holder response and records the outcome. Throws the typed error of a rejection (after recording it). */
export async function submitResponse(
  platform: Platform,
  ceremonyId: string,
  body: unknown,
  now = new Date(),
): Promise<SubmitOutcome> {
  const b = typeof body === 'object' && body !== null ? (body as Partial<HolderResponse>) : undefined;
  // Every nonce the platform issues is 32 bytes in base64url: anything else was not issued here (and
  // never reaches the database, which refuses some text such as U+0000).
  const wellFormedNonce = typeof b?.nonce === 'string' && NONCE_FORMAT.test(b.nonce) ? b.nonce : undefined;
  // The serial is needed for the one read (known subject, kept OCSP answer); a certificate that
  // does not even parse is refused by the verification below, with its error.
  const submittedDer =
    typeof b?.certificate === 'string' ? decodeBase64OrUndefined(b.certificate, 16 * 1024) : undefined;
  let serial: string | undefined;
  try {
    serial = submittedDer ? parseCertificate(submittedDer).serial : undefined;
  } catch {
    serial = undefined;
  }
  const read = await readSubmission(platform.db, {
    id: ceremonyId,
    nonce: wellFormedNonce,
    serial,
  });
  if (!read) throw new CeremonyNotFound(ceremonyId);
  const { ceremony, submitted } = read;
  if (ceremony.state !== 'pending') throw new CeremonyFinished(ceremony.id, ceremony.state);
  if (ceremony.expiresAt.getTime() <= now.getTime()) throw new CeremonyExpired(ceremony.id, ceremony.expiresAt);
  if (!b) throw new MalformedSubmission('the body must be a JSON object');
  if (typeof b.nonce !== 'string' || b.nonce.length === 0) throw new MalformedSubmission('nonce is missing');
  if (!wellFormedNonce) throw new NonceUnknown();
  const certificate = decodeBase64(b.certificate, 'certificate', 16 * 1024);
  const signature = decodeBase64(b.signature, 'signature', 1024);
  checkNonce(ceremony, submitted, now);
  const rp = read.rp;
  if (!rp) throw new CeremonyNotFound(ceremonyId);
  // An RP disabled after the ceremony started gets nothing more.
  if (rp.disabledAt) throw new CeremonyNotAllowed(ceremony.kind, rp.clientId);
  const certKind = CERTIFICATE_OF[ceremony.kind];
  // Whom the J-LIS lookups of this verification (OCSP, linkage) are billed to.
  const usage: UsageContext = {
    purpose: ceremony.kind === 'identity' ? 'proofing' : 'login',
    rpClientId: rp.clientId,
    ceremonyKind: ceremony.kind,
  };

  const timer = platform.metrics.verificationSeconds.startTimer({ kind: ceremony.kind });
  // The page shows "verifying" only when it lasts (a slow revocation source): a verification that
  // ends within the delay costs no write.
  const showVerifying = setTimeout(() => {
    setCeremonyStage(platform.db, ceremony.id, 'verifying').catch(() => undefined);
  }, VERIFYING_STAGE_DELAY_MS);
  let verification: Verification;
  try {
    const reuse = {
      seconds: platform.config.ocspReuseSeconds[ceremony.kind],
      answers: ocspAnswers(platform.db, read.ocspAnswers),
    };
    verification = await withUsage(usage, () =>
      platform.verifier.verify({
        certificate,
        signature,
        toBeSigned: ceremony.toBeSigned,
        kind: certKind,
        at: now,
        reuse,
      }),
    );
  } catch (e) {
    timer();
    clearTimeout(showVerifying);
    if (!isJpkiError(e) && !isServerError(e)) throw e;
    await recordRejection(platform, ceremony, rp, e, now);
    throw e;
  }
  timer();
  clearTimeout(showVerifying);
  const { certificate: cert, revocation } = verification;
  if (revocation.thisUpdate)
    platform.metrics.revocationAgeSeconds.set(
      { source: revocation.source },
      (now.getTime() - revocation.thisUpdate.getTime()) / 1000,
    );
  const identity: CertificateIdentity = {
    issuerId: verification.issuerId,
    serial: cert.serial,
    kind: certKind,
    medium: verification.validation.medium,
  };
  if (revocation.reused) platform.usage?.count('ocsp', { reused: true, context: usage });
  const linked = await withUsage(usage, () =>
    findSubjectByLinkage(platform.db, identity, platform.verifier.linkage, read.known),
  );

  const result: CeremonyResult = {
    certificate: {
      kind: certKind,
      issuer: cert.x509.issuer.text,
      issuerId: verification.issuerId,
      serial: cert.serial,
      medium: identity.medium,
    },
    ...(cert.basic4 ? { basic4: maskBasic4(cert.basic4) } : {}),
    revocation: {
      source: revocation.source,
      checkedAt: revocation.checkedAt.toISOString(),
      ...(revocation.thisUpdate ? { thisUpdate: revocation.thisUpdate.toISOString() } : {}),
      ...(revocation.reused ? { reused: true } : {}),
    },
    verifiedAt: now.toISOString(),
  };
  const recordId = newRecordId();
  let watch: FinishVerified['watch'];
  if (certKind === 'sign') {
    const certId = ocspCertId(cert.serial, verification.validation.anchor.certificate.x509);
    const dp = cert.x509.crlDistributionPoints[0];
    const crlDistributionPoint = dp === undefined ? undefined : typeof dp === 'string' ? dp : dp.text;
    watch = {
      issuerId: verification.issuerId,
      serial: cert.serial,
      issuerNameHash: certId.nameHash,
      issuerKeyHash: certId.keyHash,
      notAfter: cert.notAfter,
      ...(crlDistributionPoint ? { crlDistributionPoint } : {}),
    };
  }
  // One write (ceremony-store.ts). A concurrent first ceremony of the same new certificate may bind
  // it to its own new subject first: then the record names that subject, and the write is redone.
  let subjectId = linked?.mapped ? linked.subjectId : linked?.subjectId || newSubjectId();
  let written: { watched: string | null } | undefined;
  for (let attempt = 0; !written; attempt++) {
    const record = prepareRecord(
      verificationRecordInput(
        recordInput(ceremony, rp, now, { recordId, subjectId, outcome: 'verified', verification }),
      ),
    );
    try {
      written = await finishCeremony(platform.db, {
        outcome: 'verified',
        nonce: ceremony.nonce,
        ceremonyId: ceremony.id,
        rpClientId: rp.clientId,
        now,
        subjectId,
        rpSub: platform.pairwiseSubject(rp.clientId, subjectId),
        ...(linked?.mapped ? {} : { map: identity, ...(linked?.partner ? { partner: linked.partner } : {}) }),
        result: result as unknown as Record<string, unknown>,
        ...(watch ? { watch } : {}),
        record,
      });
    } catch (e) {
      if (!(e instanceof SubjectTaken) || attempt > 0) throw e;
      subjectId = e.subjectId;
    }
  }
  const outcome = { subjectId, watched: written.watched ?? undefined };
  platform.metrics.ceremonies.inc({ kind: ceremony.kind, outcome: 'verified' });
  if (outcome.watched && platform.crlMonitor && platform.crl) {
    // No gap at watch time: a revocation already in a processed CRL would never be "new" again.
    const row = {
      id: outcome.watched,
      rp_client_id: rp.clientId,
      subject_id: outcome.subjectId,
      record_id: recordId,
      issuer_id: verification.issuerId,
      serial: cert.serial,
      not_after: cert.notAfter,
    };
    await platform.crlMonitor
      .checkAtWatch(platform.crl, row, cert.x509, verification.validation.anchor.certificate.x509, now)
      .catch((e: unknown) =>
        platform.log.error(
          { err: e },
          'CRL monitor: the watch-time CRL lookup failed; the next CRL still covers the certificate',
        ),
      );
  }
  // The outcome is committed: answer from what was written, without another read that a database
  // hiccup could turn into an error for a verification that succeeded.
  return {
    ceremony: {
      ...ceremony,
      state: 'completed',
      finishedAt: now,
      subjectId: outcome.subjectId,
      recordId,
      result,
      stage: 'verifying',
      cardError: null,
    },
    recordId,
  };
}

function recordInput(
  ceremony: Ceremony,
  rp: RelyingParty,
  now: Date,
  o: {
    recordId: string;
    subjectId: string | null;
    outcome: 'verified' | 'rejected';
    verification?: Verification;
    error?: { code: string; message: string };
  },
): VerificationRecordInput {
  const v = o.verification;
  return {
    recordId: o.recordId,
    at: now,
    receivedAt: now,
    ceremony: { id: ceremony.id, kind: ceremony.kind },
    rp: { clientId: rp.clientId, name: rp.name, framework: rp.framework, purpose: ceremony.purpose },
    subjectId: o.subjectId,
    outcome: o.outcome,
    ...(o.error ? { error: o.error } : {}),
    ...(v
      ? {
          certificate: {
            kind: CERTIFICATE_OF[ceremony.kind],
            issuer: v.certificate.x509.issuer.text,
            issuerId: v.issuerId,
            serial: v.certificate.serial,
            notBefore: v.certificate.notBefore,
            notAfter: v.certificate.notAfter,
            medium: v.validation.medium,
            environment: v.validation.environment,
          },
          revocation: {
            source: v.revocation.source,
            status: v.revocation.status,
            checkedAt: v.revocation.checkedAt,
            ...(v.revocation.thisUpdate ? { thisUpdate: v.revocation.thisUpdate } : {}),
            ...(v.revocation.nextUpdate ? { nextUpdate: v.revocation.nextUpdate } : {}),
            ...(v.revocation.reused ? { reused: true as const } : {}),
          },
        }
      : {}),
    ...(v?.certificate.basic4 && ceremony.kind === 'identity' ? { basic4: v.certificate.basic4 } : {}),
  };
}

/** A failed verification ends the ceremony: the holder starts again (e.g. with a renewed certificate). */
async function recordRejection(
  platform: Platform,
  ceremony: Ceremony,
  rp: RelyingParty,
  error: { code: string; message: string },
  now: Date,
): Promise<void> {
  // Messages may quote bytes of a hostile certificate; the database refuses some (U+0000) and logs
  // and pages should not carry control characters at all.
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const e = { code: error.code, message: error.message.replace(/[\u0000-\u001f\u007f]/g, '\ufffd').slice(0, 1000) };
  try {
    const recordId = newRecordId();
    const record = prepareRecord(
      verificationRecordInput(
        recordInput(ceremony, rp, now, {
          recordId,
          subjectId: null,
          outcome: 'rejected',
          error: { code: e.code, message: e.message },
        }),
      ),
    );
    await finishCeremony(platform.db, {
      outcome: 'rejected',
      nonce: ceremony.nonce,
      ceremonyId: ceremony.id,
      now,
      error: e,
      record,
    });
    platform.metrics.ceremonies.inc({ kind: ceremony.kind, outcome: 'rejected' });
  } catch (raced) {
    // Another response finished the ceremony first; the original rejection still stands for this caller.
    if (!isServerError(raced)) throw raced;
  }
}

/** The holder side reports progress: it is reading the card, or the card refused (wrong PIN, …). */
export async function reportProgress(
  db: Queryable,
  id: string,
  report: { stage: 'reading' } | { stage: 'card_error'; error: CardErrorReport },
): Promise<Ceremony> {
  const ceremony = await getCeremony(db, id);
  if (ceremony.state !== 'pending') throw new CeremonyFinished(ceremony.id, ceremony.state);
  if (ceremony.expiresAt.getTime() <= Date.now()) throw new CeremonyExpired(ceremony.id, ceremony.expiresAt);
  if (report.stage === 'reading') await setCeremonyStage(db, id, 'reading');
  else
    await setCeremonyStage(db, id, 'waiting', {
      code: report.error.code,
      ...(report.error.remaining !== undefined ? { remaining: report.error.remaining } : {}),
    });
  return getCeremony(db, id);
}
