// Revocation checking contract. OCSP, CRL and linkage implementations plug in behind it; the
// verifier does no network I/O itself — fetchers are injected.

import type { Name, X509Certificate } from './x509.js';

/** RFC 5280 CRLReason names. */
export type RevocationReason =
  | 'unspecified'
  | 'keyCompromise'
  | 'cACompromise'
  | 'affiliationChanged'
  | 'superseded'
  | 'cessationOfOperation'
  | 'certificateHold'
  | 'removeFromCRL'
  | 'privilegeWithdrawn'
  | 'aACompromise';

export type RevocationSource = 'ocsp' | 'crl' | 'none';

export interface RevocationStatus {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly reason?: RevocationReason;
  readonly revokedAt?: Date;
  /** Which source answered. */
  readonly source: RevocationSource;
  /** How fresh the answer is: the source's thisUpdate / nextUpdate. */
  readonly thisUpdate?: Date;
  readonly nextUpdate?: Date;
  readonly checkedAt: Date;
}

/**
 * What revocation sources need of a certificate: its serial and, when known, the OCSP URLs and CRL
 * distribution points it names. An `X509Certificate` is one; so is what the revocation monitor
 * keeps instead of the certificate (empty lists: only configured responders and CRLs covering the
 * whole issuer can answer for it).
 */
export interface CertificateReference {
  /** Upper-case hex, as `X509Certificate.serial`. */
  readonly serial: string;
  readonly ocspUrls: readonly string[];
  readonly crlDistributionPoints: readonly (Name | string)[];
}

export interface RevocationChecker {
  /** Must fail closed: throw `RevocationUnavailable` when no fresh answer can be had. */
  check(certificate: CertificateReference, issuer: X509Certificate, at: Date): Promise<RevocationStatus>;
}

/** CRLReason code values (RFC 5280 §5.3.1), for CRL and OCSP encoders and decoders. */
export const CRL_REASON_CODE: Readonly<Record<RevocationReason, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** Reason name by code (index); 7 is unused. */
export const CRL_REASONS: readonly (RevocationReason | undefined)[] = Array.from({ length: 11 }, (_, code) =>
  (Object.keys(CRL_REASON_CODE) as RevocationReason[]).find((r) => CRL_REASON_CODE[r] === code),
);

/** What each reason means for a JPKI holder (J-LIS CPS mapping, spec §8.2). */
export const REVOCATION_MEANING: Record<RevocationReason, { en: string; ja: string }> = {
  unspecified: { en: 'revoked (e.g. discarded before delivery)', ja: '失効しています (交付前の廃棄など)' },
  keyCompromise: {
    en: 'the key was compromised or the card was lost',
    ja: '秘密鍵の危殆化またはカードの紛失により失効しています',
  },
  cACompromise: { en: 'the issuing CA was compromised', ja: '発行者の秘密鍵の危殆化により失効しています' },
  affiliationChanged: {
    en: 'name, address, birth date or sex changed; the holder must sign again with the new certificate',
    ja: '氏名・住所・生年月日・性別の変更により失効しています。新しい証明書で署名し直してください',
  },
  superseded: {
    en: 'the certificate was renewed; use the new certificate',
    ja: '証明書の更新により失効しています。新しい証明書をご利用ください',
  },
  cessationOfOperation: { en: 'the certificate is no longer needed', ja: '証明書が不要になったため失効しています' },
  certificateHold: { en: 'the certificate is on hold', ja: '証明書は一時保留されています' },
  removeFromCRL: { en: 'removed from the CRL', ja: 'CRLから削除されました' },
  privilegeWithdrawn: { en: 'the privilege was withdrawn', ja: '権限が取り消されました' },
  aACompromise: { en: 'the attribute authority was compromised', ja: '属性認証局の危殆化により失効しています' },
};
