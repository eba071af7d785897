// The words of a JPKI ceremony, in one leaf module that imports nothing of the server: which kinds
// there are and which certificate each uses, the acr an OIDC login gets for it, the trust
// frameworks an RP works under, and what a finished ceremony established. Storage
// (ceremony-store.ts), the service (ceremonies.ts), the views (ceremony-views.ts), the registry,
// the claims and the config all take them from here.

import type { Basic4Info } from '@kakunin/jpki';

/** login: auth certificate (利用者証明用, 4-digit PIN); identity: signing certificate (署名用, password). */
export type CeremonyKind = 'login' | 'identity';
export const CEREMONY_KINDS: readonly CeremonyKind[] = ['login', 'identity'];

/** The certificate each kind of ceremony verifies. */
export const CERTIFICATE_OF: Record<CeremonyKind, 'auth' | 'sign'> = { login: 'auth', identity: 'sign' };

/** acr of each ceremony: which certificate authenticated the holder. */
export const ACR = { login: 'urn:kakunin:jpki:auth', identity: 'urn:kakunin:jpki:sign' } as const;

/** OIDC4IDA trust frameworks: jp_aml (犯収法), jp_mpiupa (携帯法), jp_municipal; an RP may name another. */
export const TRUST_FRAMEWORKS = ['jp_aml', 'jp_mpiupa', 'jp_municipal'] as const;
/** The framework of an RP registered without one. */
export const DEFAULT_TRUST_FRAMEWORK: (typeof TRUST_FRAMEWORKS)[number] = 'jp_aml';

export type CeremonyState = 'pending' | 'completed' | 'failed';

/** Progress of a pending ceremony: waiting for the holder, card being read, platform verifying. */
export type CeremonyStage = 'waiting' | 'reading' | 'verifying';
export const CEREMONY_STAGES: readonly CeremonyStage[] = ['waiting', 'reading', 'verifying'];

/** A card-side failure the holder's app or agent reports (the ceremony stays open for another try). */
export interface CardErrorReport {
  code: string;
  remaining?: number;
}

/** What a finished ceremony established (kept for the OIDC claims of this grant). */
export interface CeremonyResult {
  certificate: { kind: 'auth' | 'sign'; issuer: string; issuerId: string; serial: string; medium: string };
  basic4?: Basic4Info;
  /** `reused`: an earlier answer within the ceremony kind's reuse window (`checkedAt` is when it was asked). */
  revocation: { source: string; checkedAt: string; thisUpdate?: string; reused?: true };
  verifiedAt: string;
}
