// The content of a verification record (確認記録 under 犯収法 施行規則20条, 本人確認記録 under 携帯法):
// who verified and who recorded, when the certificate and signed data arrived, the method and its
// citation, the certificate's issuer and serial (発行番号, never a My Number), the 本人特定事項 for
// identity ceremonies, the revocation check, the RP, its purpose and the outcome. Dates are ISO 8601.

import { readFileSync } from 'node:fs';
import type { CeremonyKind } from '../ceremony-domain.js';
import type { Queryable } from '../db/sql.js';
import { appendRecord, type AppendRecordInput, type AppendedRecord } from './log.js';
import { METHOD_LABELS_JA, citationFor, citationReference, type RecordMethod } from './citations.js';

export interface VerificationRecordInput {
  /** The record's id when rows written before it in the transaction name it (newRecordId). */
  recordId?: string;
  at: Date; // when the verification finished
  receivedAt: Date; // when certificate + signature were received
  ceremony: { id: string; kind: CeremonyKind };
  rp: { clientId: string; name: string; framework: string; purpose: string };
  subjectId: string | null;
  outcome: 'verified' | 'rejected';
  error?: { code: string; message: string };
  certificate?: {
    kind: 'auth' | 'sign';
    issuer: string;
    issuerId: string;
    serial: string;
    notBefore: Date;
    notAfter: Date;
    medium: string;
    environment: string;
  };
  basic4?: {
    name: string;
    nameSubstitute: string;
    address: string;
    addressSubstitute: string;
    birthDate: string;
    sex: string;
    sexCode: string;
  };
  /** `reused`: an earlier OCSP answer within the ceremony kind's reuse window; `checkedAt` is when it was asked. */
  revocation?: { source: string; status: string; thisUpdate?: Date; nextUpdate?: Date; checkedAt: Date; reused?: true };
}

export const VERIFICATION_PAYLOAD_SCHEMA = 'kakunin.record.verification/1';

export const PLATFORM_NAME = 'Kakunin';
export const PLATFORM_VERSION: string = (() => {
  try {
    return (
      (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string })
        .version ?? '0.0.0'
    );
  } catch {
    return '0.0.0';
  }
})();

export const methodForCeremony = (kind: CeremonyKind): RecordMethod =>
  kind === 'identity' ? 'jpki_signature' : 'jpki_user_authentication';

function recordType(framework: string, kind: CeremonyKind): { code: string; ja: string } {
  if (kind === 'login') return { code: 'authentication_record', ja: '当人認証の記録' };
  if (framework === 'jp_aml') return { code: 'jp_aml_confirmation_record', ja: '確認記録(犯罪収益移転防止法第6条)' };
  if (framework === 'jp_mpiupa')
    return { code: 'jp_mpiupa_identification_record', ja: '本人確認記録(携帯電話不正利用防止法第4条)' };
  return { code: 'identity_verification_record', ja: '本人確認の記録' };
}

function certificateKindJa(kind: 'auth' | 'sign', medium: string): string {
  const phone = medium !== 'card';
  if (kind === 'sign') return phone ? '移動端末設備用署名用電子証明書' : '署名用電子証明書';
  return phone ? '移動端末設備用利用者証明用電子証明書' : '利用者証明用電子証明書';
}

const iso = (d: Date | undefined): string | null => (d === undefined ? null : d.toISOString());

export function verificationPayload(input: VerificationRecordInput): Record<string, unknown> {
  const method = methodForCeremony(input.ceremony.kind);
  const citation = citationFor(method, input.rp.framework, input.at);
  const platform = `${PLATFORM_NAME} ${PLATFORM_VERSION}`;
  const rp = { clientId: input.rp.clientId, name: input.rp.name, framework: input.rp.framework };
  return {
    schema: VERIFICATION_PAYLOAD_SCHEMA,
    recordType: recordType(input.rp.framework, input.ceremony.kind),
    ceremony: { id: input.ceremony.id, kind: input.ceremony.kind },
    outcome: input.outcome,
    ...(input.error ? { error: { code: input.error.code, message: input.error.message } } : {}),
    method: { id: method, ja: METHOD_LABELS_JA[method] },
    citation: {
      reference: citationReference(citation),
      law: citation.law,
      article: citation.article,
      item: citation.item,
      textJa: citation.textJa,
      confidence: citation.confidence,
      effectiveFrom: citation.effectiveFrom,
      effectiveTo: citation.effectiveTo,
      source: citation.source,
      ...(citation.note ? { note: citation.note } : {}),
    },
    // 施行規則20条1項1号・2号: the platform checks and records on behalf of the RP (サービスプロバイダ model).
    verifiedBy: { system: platform, onBehalfOf: rp },
    recordedBy: { system: platform, onBehalfOf: rp },
    rp,
    purpose: input.rp.purpose,
    subjectId: input.subjectId,
    dates: {
      // The date the certificate and the signed data were received (施行規則20条1項, JPKI).
      received: input.receivedAt.toISOString(),
      verified: input.at.toISOString(),
    },
    ...(input.certificate
      ? {
          certificate: {
            kind: input.certificate.kind,
            kindJa: certificateKindJa(input.certificate.kind, input.certificate.medium),
            issuer: input.certificate.issuer,
            issuerId: input.certificate.issuerId,
            // 発行番号: identifies the certificate used; never a My Number.
            serial: input.certificate.serial,
            notBefore: input.certificate.notBefore.toISOString(),
            notAfter: input.certificate.notAfter.toISOString(),
            medium: input.certificate.medium,
            environment: input.certificate.environment,
          },
        }
      : {}),
    // 本人特定事項 only for identity ceremonies: an authentication certificate carries none.
    ...(input.basic4 && input.ceremony.kind === 'identity'
      ? {
          identity: {
            name: input.basic4.name,
            nameSubstitute: input.basic4.nameSubstitute,
            address: input.basic4.address,
            addressSubstitute: input.basic4.addressSubstitute,
            birthDate: input.basic4.birthDate,
            sex: input.basic4.sex,
            sexCode: input.basic4.sexCode,
          },
        }
      : {}),
    ...(input.revocation
      ? {
          revocation: {
            source: input.revocation.source,
            status: input.revocation.status,
            thisUpdate: iso(input.revocation.thisUpdate),
            nextUpdate: iso(input.revocation.nextUpdate),
            checkedAt: input.revocation.checkedAt.toISOString(),
            ...(input.revocation.reused ? { reused: true } : {}),
          },
        }
      : {}),
  };
}

/** The record of a verification, as appendRecord / prepareRecord take it. */
export function verificationRecordInput(input: VerificationRecordInput): AppendRecordInput {
  return {
    rpClientId: input.rp.clientId,
    ceremonyId: input.ceremony.id,
    subjectId: input.subjectId,
    framework: input.rp.framework,
    outcome: input.outcome,
    payload: verificationPayload(input),
    at: input.at,
    ...(input.recordId ? { id: input.recordId } : {}),
  };
}

/** Builds the payload and appends it to the log. */
export function appendVerificationRecord(tx: Queryable, input: VerificationRecordInput): Promise<AppendedRecord> {
  return appendRecord(tx, verificationRecordInput(input));
}
