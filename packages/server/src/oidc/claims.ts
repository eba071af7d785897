// OpenID Connect for Identity Assurance: the verified_claims of an identity ceremony, filtered to
// what the RP asked for (data minimisation). oidc-provider treats verified_claims as one opaque
// claim, so the structure and the filtering are ours.

import type { Basic4Info } from '@kakunin/jpki';
import type { CeremonyResult } from '../ceremonies.js';

/** Namespaced claim with the basic 4 info exactly as written in the certificate. */
export const JPKI_CLAIM = 'urn:kakunin:jpki';

export const TRUST_FRAMEWORKS = ['jp_aml', 'jp_mpiupa', 'jp_municipal'] as const;
export const EVIDENCE_TYPES = ['electronic_signature'] as const;
export const VERIFIED_CLAIM_NAMES = ['name', 'birthdate', 'gender', 'address', JPKI_CLAIM] as const;
export const SIGNATURE_TYPE = 'jp_jpki';

/**
 * The id of the verification record (確認記録) behind this login or identity verification, in the
 * ID token and userinfo (openid scope): the RP keeps it and can fetch the record's inclusion proof
 * (GET /records/v1/proof/inclusion?record_id=…). For identity it is also verified_claims'
 * verification.verification_process.
 */
export const RECORD_CLAIM = 'urn:kakunin:record';

/** acr of each ceremony: which certificate authenticated the holder. */
export const ACR = { login: 'urn:kakunin:jpki:auth', identity: 'urn:kakunin:jpki:sign' } as const;

export interface VerifiedClaims {
  verification: {
    trust_framework: string;
    time: string;
    verification_process: string;
    evidence: {
      type: 'electronic_signature';
      signature_type: string;
      issuer: string;
      serial_number: string;
      created_at: string;
    }[];
  };
  claims: Record<string, unknown>;
}

const GENDER: Record<Basic4Info['sex'], string | undefined> = { male: 'male', female: 'female', notApplicable: undefined, unknown: undefined };

export function buildVerifiedClaims(o: { framework: string; recordId: string; result: CeremonyResult }): VerifiedClaims | undefined {
  const b = o.result.basic4;
  if (!b) return undefined;
  const gender = GENDER[b.sex];
  return {
    verification: {
      trust_framework: o.framework,
      time: o.result.verifiedAt,
      verification_process: o.recordId,
      evidence: [
        {
          type: 'electronic_signature',
          signature_type: SIGNATURE_TYPE,
          issuer: o.result.certificate.issuer,
          serial_number: o.result.certificate.serial,
          created_at: o.result.verifiedAt,
        },
      ],
    },
    claims: {
      name: b.name,
      birthdate: b.birthDate,
      ...(gender ? { gender } : {}),
      address: { formatted: b.address },
      [JPKI_CLAIM]: {
        name: b.name,
        name_substitute: b.nameSubstitute,
        address: b.address,
        address_substitute: b.addressSubstitute,
        birth_date: b.birthDate,
        era: b.era,
        sex_code: b.sexCode,
        certificate_medium: o.result.certificate.medium,
      },
    },
  };
}

type Request = Record<string, unknown> | null | undefined | boolean;

const matchesValue = (request: Request, value: string): boolean => {
  if (!request || typeof request !== 'object') return true;
  const r = request as { value?: unknown; values?: unknown };
  if (typeof r.value === 'string' && r.value !== value) return false;
  if (Array.isArray(r.values) && !r.values.includes(value)) return false;
  return true;
};

/**
 * Applies one verified_claims request (OIDC4IDA §6): only the requested claims, the requested
 * verification elements (trust_framework always), nothing when a trust_framework constraint does
 * not match or no requested claim is available. `null`/`true`/absent request = everything.
 */
export function filterVerifiedClaims(vc: VerifiedClaims, request: unknown): VerifiedClaims | VerifiedClaims[] | undefined {
  if (request === null || request === undefined || request === true) return vc;
  if (Array.isArray(request)) {
    const out = request.map((r) => filterOne(vc, r)).filter((x): x is VerifiedClaims => x !== undefined);
    return out.length ? out : undefined;
  }
  return filterOne(vc, request);
}

function filterOne(vc: VerifiedClaims, request: unknown): VerifiedClaims | undefined {
  if (typeof request !== 'object' || request === null) return vc;
  const r = request as { verification?: Record<string, Request>; claims?: Record<string, Request> | null };
  const v = r.verification ?? {};
  if (!matchesValue(v.trust_framework, vc.verification.trust_framework)) return undefined;
  const verification: Record<string, unknown> = { trust_framework: vc.verification.trust_framework };
  for (const key of ['time', 'verification_process', 'evidence'] as const) if (Object.hasOwn(v, key)) verification[key] = vc.verification[key];
  if (!r.claims || typeof r.claims !== 'object') return undefined; // claims is REQUIRED in a verified_claims request
  const claims: Record<string, unknown> = {};
  for (const [name, claimRequest] of Object.entries(r.claims)) {
    // Own properties only: `constructor` or `toString` are no claims of ours, however `in` sees them.
    if (!Object.hasOwn(vc.claims, name)) continue;
    if (typeof vc.claims[name] === 'string' && !matchesValue(claimRequest, vc.claims[name] as string)) continue;
    claims[name] = vc.claims[name];
  }
  if (Object.keys(claims).length === 0) return undefined;
  return { verification: verification as VerifiedClaims['verification'], claims };
}

/** Does an authorization request ask for verified_claims (→ an identity ceremony)? */
export function requestsVerifiedClaims(claimsParam: unknown, scope: string | undefined): boolean {
  if (scope?.split(' ').includes('identity')) return true;
  if (typeof claimsParam !== 'object' || claimsParam === null) return false;
  const c = claimsParam as { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> };
  return Boolean((c.id_token && Object.hasOwn(c.id_token, 'verified_claims')) || (c.userinfo && Object.hasOwn(c.userinfo, 'verified_claims')));
}
