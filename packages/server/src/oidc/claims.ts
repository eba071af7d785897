// OpenID Connect for Identity Assurance: the verified_claims of an identity ceremony, filtered to
// what the RP asked for (data minimisation). oidc-provider treats verified_claims as one opaque
// claim, so the structure and the filtering are ours.

import type { Basic4Info } from '@kakunin/jpki';
import type { CeremonyKind, CeremonyResult } from '../ceremony-domain.js';
import { CREDENTIAL_SCOPE } from '../credentials/domain.js';

/** What the digital ID credential carries (its scope asks for them): listed, signed, then issued to the wallet. */
const CREDENTIAL_SHARES = ['name', 'address', 'birthdate'] as const;
const asksCredential = (scope: string | undefined): boolean => Boolean(scope?.split(' ').includes(CREDENTIAL_SCOPE));

/** Namespaced claim with the basic 4 info exactly as written in the certificate. */
export const JPKI_CLAIM = 'urn:kakunin:jpki';

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

const GENDER: Record<Basic4Info['sex'], string | undefined> = {
  male: 'male',
  female: 'female',
  notApplicable: undefined,
  unknown: undefined,
};

export function buildVerifiedClaims(o: {
  framework: string;
  recordId: string;
  result: CeremonyResult;
}): VerifiedClaims | undefined {
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

const VERIFICATION_ELEMENTS = ['time', 'verification_process', 'evidence'] as const;

/**
 * What one verified_claims request selects, before the values are known: the claims asked for
 * (with their constraints) and the verification elements (trust_framework always). Undefined when
 * it selects nothing: not an object, a trust_framework constraint other than the RP's framework, no
 * `claims` (REQUIRED in a verified_claims request) or no claim of ours in it.
 */
function selectOne(
  request: unknown,
  framework: string,
): { verification: (typeof VERIFICATION_ELEMENTS)[number][]; claims: [VerifiedClaimName, Request][] } | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return undefined;
  const r = request as { verification?: Record<string, Request> | null; claims?: Record<string, Request> | null };
  const v = typeof r.verification === 'object' && r.verification !== null ? r.verification : {};
  if (!matchesValue(v.trust_framework, framework)) return undefined;
  if (!r.claims || typeof r.claims !== 'object' || Array.isArray(r.claims)) return undefined;
  // Own properties only: `constructor` or `toString` are no claims of ours, however `in` sees them.
  const claims = Object.entries(r.claims).filter((e): e is [VerifiedClaimName, Request] =>
    (VERIFIED_CLAIM_NAMES as readonly string[]).includes(e[0]),
  );
  if (claims.length === 0) return undefined;
  return { verification: VERIFICATION_ELEMENTS.filter((key) => Object.hasOwn(v, key)), claims };
}

/** The verified_claims requests of one use: `null`/`true`/absent = everything; an array = each of its elements. */
const requestsOf = (request: unknown): unknown[] | 'everything' =>
  request === null || request === undefined || request === true
    ? 'everything'
    : Array.isArray(request)
      ? request
      : [request];

/**
 * Applies one verified_claims request (OIDC4IDA §6): only the requested claims, the requested
 * verification elements (trust_framework always), nothing when a trust_framework constraint does
 * not match, the request is not an object or no requested claim is available. `null`/`true`/absent
 * request = everything.
 */
export function filterVerifiedClaims(
  vc: VerifiedClaims,
  request: unknown,
): VerifiedClaims | VerifiedClaims[] | undefined {
  const requests = requestsOf(request);
  if (requests === 'everything') return vc;
  const out = requests.map((r) => filterOne(vc, r)).filter((x): x is VerifiedClaims => x !== undefined);
  return Array.isArray(request) ? (out.length ? out : undefined) : out[0];
}

function filterOne(vc: VerifiedClaims, request: unknown): VerifiedClaims | undefined {
  const selection = selectOne(request, vc.verification.trust_framework);
  if (!selection) return undefined;
  const verification: Record<string, unknown> = { trust_framework: vc.verification.trust_framework };
  for (const key of selection.verification) verification[key] = vc.verification[key];
  const claims: Record<string, unknown> = {};
  for (const [name, claimRequest] of selection.claims) {
    if (!Object.hasOwn(vc.claims, name)) continue; // e.g. gender, when the certificate's sex code is 0 or 9
    if (typeof vc.claims[name] === 'string' && !matchesValue(claimRequest, vc.claims[name] as string)) continue;
    claims[name] = vc.claims[name];
  }
  if (Object.keys(claims).length === 0) return undefined;
  return { verification: verification as VerifiedClaims['verification'], claims };
}

// ---- What the holder is told, signs, and the RP receives ----

/**
 * Everything an authorization can release, by name, in the order the holder sees them: the verified
 * claims, the certificate's issuer and serial number (verified_claims.verification.evidence: the
 * serial is one number across every RP, unlike the pairwise subject), the pairwise subject and the
 * verification record's id (every ID token and userinfo). The verification's time and trust framework
 * say how, not who: they are not listed.
 */
export const SHARED_CLAIM_NAMES = [
  'name',
  'address',
  'birthdate',
  'gender',
  JPKI_CLAIM,
  'evidence',
  'sub',
  RECORD_CLAIM,
] as const;
export type SharedClaim = (typeof SHARED_CLAIM_NAMES)[number];
export type VerifiedClaimName = (typeof VERIFIED_CLAIM_NAMES)[number];

/** The one table of what each shared claim is called on the pages, in the holder view and in the signed statement. */
export const CLAIM_LABELS: Readonly<Record<SharedClaim, { readonly ja: string; readonly en: string }>> = {
  name: { ja: '氏名', en: 'name' },
  address: { ja: '住所', en: 'address' },
  birthdate: { ja: '生年月日', en: 'date of birth' },
  gender: { ja: '性別', en: 'sex' },
  [JPKI_CLAIM]: {
    ja: '電子証明書に記載されたとおりの氏名・住所・生年月日・性別(外字の代替文字の印、元号、証明書の媒体を含む)',
    en: 'name, address, date of birth and sex exactly as written in the certificate (with its substitute-character marks, the era and the certificate medium)',
  },
  evidence: { ja: '電子証明書の発行者と発行番号(シリアル番号)', en: "the certificate's issuer and serial number" },
  sub: { ja: '利用者識別子(事業者ごとに異なる番号)', en: 'a user identifier (different for each service)' },
  [RECORD_CLAIM]: { ja: '確認記録番号', en: 'the verification record number' },
};

export interface SharedItem {
  claim: SharedClaim;
  ja: string;
  en: string;
}

export const sharedItems = (names: readonly SharedClaim[]): SharedItem[] =>
  names.map((claim) => ({ claim, ...CLAIM_LABELS[claim] }));

/** Released with every authorization: the pairwise subject and the record id (openid scope). */
const ALWAYS: readonly SharedClaim[] = ['sub', RECORD_CLAIM];
const inOrder = (names: Iterable<string>): SharedClaim[] => {
  const set = new Set(names);
  return SHARED_CLAIM_NAMES.filter((n) => set.has(n));
};

/** Everything an identity ceremony can release: an identity ceremony created without an OIDC request, and ceremonies from before the list was kept. */
export const ALL_SHARED_CLAIMS: readonly SharedClaim[] = SHARED_CLAIM_NAMES;
export const defaultShares = (kind: CeremonyKind): readonly SharedClaim[] =>
  kind === 'login' ? ALWAYS : ALL_SHARED_CLAIMS;

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The verified_claims request each use (ID token, userinfo) will be answered with, as oidc-provider
 * hands them to findAccount: the claims parameter's, else — userinfo only, with the identity scope —
 * everything (scope claims go to userinfo; the ID token of a code flow carries only what the claims
 * parameter asks for there). A use without one releases no verified_claims.
 */
function verifiedClaimsRequests(claimsParam: unknown, scope: string | undefined): unknown[] {
  const c = isObject(claimsParam) ? claimsParam : {};
  const out: unknown[] = [];
  for (const use of ['id_token', 'userinfo'] as const) {
    const forUse = c[use];
    if (isObject(forUse) && Object.hasOwn(forUse, 'verified_claims')) out.push(forUse.verified_claims);
    else if (use === 'userinfo' && scope?.split(' ').includes('identity')) out.push(null);
  }
  return out;
}

/**
 * What an authorization will release, computed when its ceremony is created (before the card is
 * read): the claims its `claims` parameter and scope select under the RP's trust framework. This is
 * the list the ceremony page and the holder app show, the signed statement names, and the most that
 * can leave for this ceremony (`restrictVerifiedClaims`). A claim asked with a value constraint, or
 * the sex of a certificate whose sex code is 0 or 9, may turn out not to be released: the consent
 * page, shown once the certificate is verified, lists exactly what is (`releasedClaims`).
 */
export function claimsToShare(o: {
  kind: CeremonyKind;
  framework: string;
  claims?: unknown;
  scope?: string | undefined;
}): SharedClaim[] {
  if (o.kind === 'login') return [...ALWAYS];
  const names = new Set<string>(ALWAYS);
  if (asksCredential(o.scope)) for (const n of CREDENTIAL_SHARES) names.add(n);
  for (const request of verifiedClaimsRequests(o.claims, o.scope)) {
    const requests = requestsOf(request);
    if (requests === 'everything') {
      for (const n of [...VERIFIED_CLAIM_NAMES, 'evidence']) names.add(n);
      continue;
    }
    for (const r of requests) {
      const selection = selectOne(r, o.framework);
      if (!selection) continue;
      for (const [name] of selection.claims) names.add(name);
      if (selection.verification.includes('evidence')) names.add('evidence');
    }
  }
  return inOrder(names);
}

/** Keeps of released verified_claims only what the holder was shown and signed (`shares`); the rest never leaves. */
export function restrictVerifiedClaims(
  released: VerifiedClaims | VerifiedClaims[] | undefined,
  shares: readonly SharedClaim[],
): VerifiedClaims | VerifiedClaims[] | undefined {
  if (released === undefined) return undefined;
  const allowed = new Set<string>(shares);
  const one = (vc: VerifiedClaims): VerifiedClaims | undefined => {
    const claims = Object.fromEntries(Object.entries(vc.claims).filter(([name]) => allowed.has(name)));
    if (Object.keys(claims).length === 0) return undefined;
    const { evidence, ...rest } = vc.verification;
    return {
      verification: (allowed.has('evidence')
        ? { ...rest, ...(evidence ? { evidence } : {}) }
        : rest) as VerifiedClaims['verification'],
      claims,
    };
  };
  if (!Array.isArray(released)) return one(released);
  const out = released.map(one).filter((x): x is VerifiedClaims => x !== undefined);
  return out.length ? out : undefined;
}

/** The verified_claims one use (ID token or userinfo) receives: what it asks for, within what the holder signed. */
export const releaseVerifiedClaims = (
  vc: VerifiedClaims,
  request: unknown,
  shares: readonly SharedClaim[],
): VerifiedClaims | VerifiedClaims[] | undefined => restrictVerifiedClaims(filterVerifiedClaims(vc, request), shares);

/** The shared claims (by name) that released verified_claims carry. */
export function namesIn(released: VerifiedClaims | VerifiedClaims[] | undefined): SharedClaim[] {
  const names = new Set<string>();
  for (const vc of released === undefined ? [] : Array.isArray(released) ? released : [released]) {
    for (const name of Object.keys(vc.claims)) names.add(name);
    if (vc.verification.evidence) names.add('evidence');
  }
  return inOrder(names);
}

/**
 * Exactly what the RP will receive for a verified ceremony (the consent page): the ID token's and
 * userinfo's claims together, as findAccount releases them.
 */
export function releasedClaims(o: {
  kind: CeremonyKind;
  shares: readonly SharedClaim[];
  framework: string;
  recordId: string | null;
  result: CeremonyResult | null;
  claims?: unknown;
  scope?: string | undefined;
}): SharedClaim[] {
  const names = new Set<string>(ALWAYS.filter((n) => o.shares.includes(n)));
  if (o.kind === 'identity' && o.result?.basic4 && asksCredential(o.scope))
    for (const n of CREDENTIAL_SHARES) if (o.shares.includes(n)) names.add(n);
  const vc =
    o.kind === 'identity' && o.result && o.recordId
      ? buildVerifiedClaims({ framework: o.framework, recordId: o.recordId, result: o.result })
      : undefined;
  if (vc)
    for (const request of verifiedClaimsRequests(o.claims, o.scope))
      for (const n of namesIn(releaseVerifiedClaims(vc, request, o.shares))) names.add(n);
  return inOrder(names);
}

/** Does an authorization request ask for verified_claims (→ an identity ceremony)? */
export function requestsVerifiedClaims(claimsParam: unknown, scope: string | undefined): boolean {
  if (scope?.split(' ').some((s) => s === 'identity' || s === CREDENTIAL_SCOPE)) return true;
  if (typeof claimsParam !== 'object' || claimsParam === null) return false;
  const c = claimsParam as { id_token?: Record<string, unknown>; userinfo?: Record<string, unknown> };
  return Boolean(
    (c.id_token && Object.hasOwn(c.id_token, 'verified_claims')) ||
    (c.userinfo && Object.hasOwn(c.userinfo, 'verified_claims')),
  );
}
