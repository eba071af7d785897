// DCQL (OpenID4VP 1.0 §6) for SD-JWT VCs: validating a query, the wallet's matching (which credential,
// which disclosures — exactly those the requested paths need), and the verifier's check of what came back.
import type { Disclosure } from './disclosure.js';
import { isPlainObject } from './encoding.js';
import { SdJwtError } from './errors.js';
import { SD_JWT_VC_TYP } from './issue.js';
import type { ParsedSdJwt } from './parse.js';
import { selectClaim, setOwn, validateClaimPath } from './tree.js';
import type { ClaimPath, SelectedClaim } from './tree.js';
import type { VerifiedSdJwtVc } from './verify.js';

export type DcqlClaimValue = string | number | boolean;

export interface DcqlClaimsQuery {
  id?: string;
  path: ClaimPath;
  values?: DcqlClaimValue[];
}

export interface DcqlCredentialQuery {
  id: string;
  format: string;
  multiple?: boolean;
  meta: { vct_values?: string[]; [key: string]: unknown };
  claims?: DcqlClaimsQuery[];
  claim_sets?: string[][];
  require_cryptographic_holder_binding?: boolean;
  trusted_authorities?: unknown[];
}

export interface DcqlCredentialSetQuery {
  options: string[][];
  required?: boolean;
  [key: string]: unknown;
}

export interface DcqlQuery {
  credentials: DcqlCredentialQuery[];
  credential_sets?: DcqlCredentialSetQuery[];
}

const ID = /^[A-Za-z0-9_-]+$/;

function bad(message: string, details: Record<string, unknown> = {}): SdJwtError {
  return new SdJwtError('DCQL_INVALID_QUERY', `invalid DCQL query: ${message}`, details);
}

function isStringArray(value: unknown, nonEmpty: boolean): value is string[] {
  return Array.isArray(value) && (!nonEmpty || value.length > 0) && value.every((v) => typeof v === 'string');
}

/** Checks the shape of a DCQL query (OpenID4VP 1.0 §6, B.3.5 for dc+sd-jwt) and returns it typed. */
export function validateDcqlQuery(query: unknown): DcqlQuery {
  if (!isPlainObject(query)) throw bad('the query is not a JSON object');
  const { credentials, credential_sets: sets } = query;
  if (!Array.isArray(credentials) || credentials.length === 0) throw bad('credentials must be a non-empty array');
  const ids = new Set<string>();
  for (const cq of credentials) validateCredentialQuery(cq, ids);
  if (sets !== undefined) {
    if (!Array.isArray(sets) || sets.length === 0) throw bad('credential_sets must be a non-empty array');
    for (const set of sets) {
      if (!isPlainObject(set)) throw bad('a credential set is not an object');
      if (!Array.isArray(set.options) || set.options.length === 0)
        throw bad('credential set options must be a non-empty array');
      for (const option of set.options) {
        if (!isStringArray(option, true)) throw bad('a credential set option must be a non-empty array of ids');
        const unknown = option.find((id) => !ids.has(id));
        if (unknown !== undefined) throw bad(`a credential set names the unknown credential query ${unknown}`);
      }
      if (set.required !== undefined && typeof set.required !== 'boolean')
        throw bad('credential set required must be a boolean');
    }
  }
  return query as unknown as DcqlQuery;
}

function validateCredentialQuery(cq: unknown, ids: Set<string>): void {
  if (!isPlainObject(cq)) throw bad('a credential query is not an object');
  if (typeof cq.id !== 'string' || !ID.test(cq.id)) throw bad('a credential query id must be alphanumeric, "_" or "-"');
  if (ids.has(cq.id)) throw bad(`the credential query id ${cq.id} is used twice`);
  ids.add(cq.id);
  const where = { credentialQueryId: cq.id };
  if (typeof cq.format !== 'string' || cq.format === '') throw bad(`${cq.id}: format must be a string`, where);
  if (!isPlainObject(cq.meta)) throw bad(`${cq.id}: meta must be an object`, where);
  if (cq.format === SD_JWT_VC_TYP && !isStringArray(cq.meta.vct_values, true)) {
    throw bad(`${cq.id}: meta.vct_values must be a non-empty array of strings for ${SD_JWT_VC_TYP}`, where);
  }
  for (const flag of ['multiple', 'require_cryptographic_holder_binding'] as const) {
    if (cq[flag] !== undefined && typeof cq[flag] !== 'boolean')
      throw bad(`${cq.id}: ${flag} must be a boolean`, where);
  }
  const claimIds = new Set<string>();
  if (cq.claims !== undefined) {
    if (!Array.isArray(cq.claims) || cq.claims.length === 0)
      throw bad(`${cq.id}: claims must be a non-empty array`, where);
    for (const claim of cq.claims) {
      if (!isPlainObject(claim)) throw bad(`${cq.id}: a claims query is not an object`, where);
      validateClaimPath(claim.path, 'DCQL_INVALID_QUERY');
      if (claim.id !== undefined) {
        if (typeof claim.id !== 'string' || !ID.test(claim.id))
          throw bad(`${cq.id}: a claim id must be alphanumeric, "_" or "-"`, where);
        if (claimIds.has(claim.id)) throw bad(`${cq.id}: the claim id ${claim.id} is used twice`, where);
        claimIds.add(claim.id);
      } else if (cq.claim_sets !== undefined) {
        throw bad(`${cq.id}: with claim_sets every claim needs an id`, where);
      }
      if (claim.values !== undefined) {
        const ok =
          Array.isArray(claim.values) &&
          claim.values.length > 0 &&
          claim.values.every((v) => typeof v === 'string' || typeof v === 'boolean' || Number.isInteger(v));
        if (!ok) throw bad(`${cq.id}: values must be a non-empty array of strings, integers or booleans`, where);
      }
    }
  }
  if (cq.claim_sets !== undefined) {
    if (cq.claims === undefined) throw bad(`${cq.id}: claim_sets without claims`, where);
    if (!Array.isArray(cq.claim_sets) || cq.claim_sets.length === 0)
      throw bad(`${cq.id}: claim_sets must be a non-empty array`, where);
    for (const set of cq.claim_sets) {
      if (!isStringArray(set, true)) throw bad(`${cq.id}: a claim set must be a non-empty array of claim ids`, where);
      const unknown = set.find((id) => !claimIds.has(id));
      if (unknown !== undefined) throw bad(`${cq.id}: a claim set names the unknown claim ${unknown}`, where);
    }
  }
}

/** A claim as revealed: its query id, the concrete path and the value. */
export interface DcqlClaimResult {
  id?: string;
  path: (string | number)[];
  value: unknown;
}

interface ClaimsOutcome {
  ok: boolean;
  claimSetIndex?: number;
  selected: { query: DcqlClaimsQuery; found: SelectedClaim[] }[];
  missing: DcqlClaimsQuery[];
}

/** Evaluates the claims part of a credential query over a view of a credential. */
function evaluateClaims(cq: DcqlCredentialQuery, select: (path: ClaimPath) => SelectedClaim[]): ClaimsOutcome {
  if (!cq.claims) return { ok: true, selected: [], missing: [] };
  const results = cq.claims.map((query) => {
    let found = select(query.path);
    if (query.values) {
      const values = query.values;
      found = found.filter((s) => values.some((v) => v === s.value));
    }
    return { query, found };
  });
  const satisfied = (r: { found: SelectedClaim[] }): boolean => r.found.length > 0;
  if (!cq.claim_sets) {
    const missing = results.filter((r) => !satisfied(r)).map((r) => r.query);
    return { ok: missing.length === 0, selected: results, missing };
  }
  for (const [index, set] of cq.claim_sets.entries()) {
    const chosen = set.map((id) => results.find((r) => r.query.id === id));
    if (chosen.every((r) => r !== undefined && satisfied(r))) {
      return { ok: true, claimSetIndex: index, selected: chosen as typeof results, missing: [] };
    }
  }
  return { ok: false, selected: [], missing: results.filter((r) => !satisfied(r)).map((r) => r.query) };
}

export interface DcqlCredentialMatch {
  credentialQueryId: string;
  /** Index of the credential in the list given to matchDcqlQuery. */
  credentialIndex: number;
  /** The claim_sets option used, when the query has claim_sets. */
  claimSetIndex?: number;
  /** Exactly the disclosures to reveal (pass them to presentSdJwt's `disclose`). */
  disclosures: Disclosure[];
  /** What the verifier will see of the requested claims. */
  claims: DcqlClaimResult[];
}

export interface DcqlMatchResult {
  /** Whether the credentials can answer the whole query (credential_sets honoured). */
  satisfied: boolean;
  /** For each credential query id, every credential that satisfies it. */
  matches: Record<string, DcqlCredentialMatch[]>;
  /** For each credential set of the query: the first option every credential query of which has a match. */
  credentialSets?: { required: boolean; option?: number }[];
}

/** The wallet's side: which held credentials answer which credential query, and with what disclosures. */
export function matchDcqlQuery(query: DcqlQuery, credentials: readonly ParsedSdJwt[]): DcqlMatchResult {
  const valid = validateDcqlQuery(query);
  const matches: Record<string, DcqlCredentialMatch[]> = {};
  for (const cq of valid.credentials) {
    const found: DcqlCredentialMatch[] = [];
    credentials.forEach((credential, credentialIndex) => {
      const match = matchCredential(cq, credential, credentialIndex);
      if (match) found.push(match);
    });
    setOwn(matches, cq.id, found);
  }
  const has = (id: string): boolean => (matches[id]?.length ?? 0) > 0;
  if (!valid.credential_sets) {
    return { satisfied: valid.credentials.every((cq) => has(cq.id)), matches };
  }
  const credentialSets = valid.credential_sets.map((set) => {
    const option = set.options.findIndex((ids) => ids.every(has));
    const required = set.required ?? true;
    return option >= 0 ? { required, option } : { required };
  });
  return { satisfied: credentialSets.every((s) => !s.required || s.option !== undefined), matches, credentialSets };
}

function matchCredential(
  cq: DcqlCredentialQuery,
  credential: ParsedSdJwt,
  credentialIndex: number,
): DcqlCredentialMatch | undefined {
  if (cq.format !== SD_JWT_VC_TYP || credential.header.typ !== SD_JWT_VC_TYP) return undefined;
  const vct = credential.payload.vct;
  if (typeof vct !== 'string' || !(cq.meta.vct_values ?? []).includes(vct)) return undefined;
  if (cq.require_cryptographic_holder_binding !== false && !hasHolderKey(credential.payload)) return undefined;
  const outcome = evaluateClaims(cq, (path) => selectClaim(credential.payload, credential.disclosures, path));
  if (!outcome.ok) return undefined;
  const wanted = new Set<string>();
  const claims: DcqlClaimResult[] = [];
  for (const { query, found } of outcome.selected) {
    for (const s of found) {
      for (const d of s.disclosures) wanted.add(d.digest);
      claims.push(claimResult(query, s));
    }
  }
  const match: DcqlCredentialMatch = {
    credentialQueryId: cq.id,
    credentialIndex,
    disclosures: credential.disclosures.filter((d) => wanted.has(d.digest)),
    claims,
  };
  if (outcome.claimSetIndex !== undefined) match.claimSetIndex = outcome.claimSetIndex;
  return match;
}

function hasHolderKey(payload: Record<string, unknown>): boolean {
  return isPlainObject(payload.cnf) && isPlainObject(payload.cnf.jwk);
}

function claimResult(query: DcqlClaimsQuery, s: SelectedClaim): DcqlClaimResult {
  return query.id === undefined ? { path: s.path, value: s.value } : { id: query.id, path: s.path, value: s.value };
}

export interface DcqlPresentationResult {
  credentialQueryId: string;
  claimSetIndex?: number;
  /** Only the requested claims, nested as in the credential (arrays keep the selected elements only). */
  claims: Record<string, unknown>;
  /** Each requested claim found, with its query id and concrete path. */
  values: DcqlClaimResult[];
}

/**
 * The verifier's side: a verified presentation answers a credential query (format, vct, holder
 * binding, every requested claim or the first satisfiable claim set, values). Returns the requested
 * claims only; throws DCQL_NOT_SATISFIED naming what is missing.
 */
export function checkDcqlPresentation(
  credentialQuery: DcqlCredentialQuery,
  verified: VerifiedSdJwtVc,
): DcqlPresentationResult {
  validateDcqlQuery({ credentials: [credentialQuery] });
  const cq = credentialQuery;
  const fail = (message: string, details: Record<string, unknown> = {}): SdJwtError =>
    new SdJwtError('DCQL_NOT_SATISFIED', `credential query ${cq.id}: ${message}`, {
      credentialQueryId: cq.id,
      ...details,
    });
  if (cq.format !== SD_JWT_VC_TYP) throw fail(`format ${cq.format} is not ${SD_JWT_VC_TYP}`);
  const vct = verified.claims.vct;
  if (!(cq.meta.vct_values ?? []).includes(vct as string)) {
    throw fail(`vct ${JSON.stringify(vct)} is not one of ${JSON.stringify(cq.meta.vct_values)}`, { vct });
  }
  if (cq.require_cryptographic_holder_binding !== false && !verified.keyBinding) {
    throw fail('holder binding is required and the presentation has no verified Key Binding JWT');
  }
  const outcome = evaluateClaims(cq, (path) => selectClaim(verified.claims, [], path));
  if (!outcome.ok) {
    const missing = outcome.missing.map((q) => q.path);
    throw fail(
      `the presentation does not disclose ${missing.map((p) => JSON.stringify(p)).join(', ')}${cq.claim_sets ? ' (no claim set is satisfied)' : ''} with the requested values`,
      { missing },
    );
  }
  const values: DcqlClaimResult[] = [];
  for (const { query, found } of outcome.selected) for (const s of found) values.push(claimResult(query, s));
  const result: DcqlPresentationResult = {
    credentialQueryId: cq.id,
    claims: (values.length
      ? pick(
          verified.claims,
          values.map((v) => v.path),
        )
      : {}) as Record<string, unknown>,
    values,
  };
  if (outcome.claimSetIndex !== undefined) result.claimSetIndex = outcome.claimSetIndex;
  return result;
}

/**
 * The verifier's check of a whole response: `presented` maps each credential query id to the verified
 * presentations the wallet returned for it. Every id must be in the query, `multiple` respected, each
 * presentation must answer its query, and the credential sets (or, without them, every query) satisfied.
 */
export function checkDcqlResponse(
  query: DcqlQuery,
  presented: Readonly<Record<string, readonly VerifiedSdJwtVc[]>>,
): Record<string, DcqlPresentationResult[]> {
  const valid = validateDcqlQuery(query);
  const out: Record<string, DcqlPresentationResult[]> = {};
  for (const [id, list] of Object.entries(presented)) {
    const cq = valid.credentials.find((c) => c.id === id);
    if (!cq) throw new SdJwtError('DCQL_NOT_SATISFIED', `the response answers ${id}, which the query does not ask for`);
    if (list.length > 1 && cq.multiple !== true) {
      throw new SdJwtError('DCQL_NOT_SATISFIED', `credential query ${id} allows one presentation, got ${list.length}`);
    }
    setOwn(
      out,
      id,
      list.map((v) => checkDcqlPresentation(cq, v)),
    );
  }
  const has = (id: string): boolean => (out[id]?.length ?? 0) > 0;
  const sets = valid.credential_sets ?? valid.credentials.map((c) => ({ options: [[c.id]], required: true }));
  for (const set of sets) {
    if ((set.required ?? true) && !set.options.some((ids) => ids.every(has))) {
      throw new SdJwtError(
        'DCQL_NOT_SATISFIED',
        `no option of a required credential set is answered: ${JSON.stringify(set.options)}`,
      );
    }
  }
  return out;
}

/** The parts of `source` at `paths` (concrete), nested as in `source`. */
function pick(source: unknown, paths: readonly (readonly (string | number)[])[]): unknown {
  if (paths.some((p) => p.length === 0)) return source;
  const groups = new Map<string | number, (string | number)[][]>();
  for (const [head, ...rest] of paths) {
    if (head === undefined) continue;
    const group = groups.get(head) ?? [];
    group.push(rest);
    groups.set(head, group);
  }
  if (Array.isArray(source)) {
    return [...groups.keys()]
      .filter((k): k is number => typeof k === 'number')
      .sort((a, b) => a - b)
      .map((i) => pick(source[i], groups.get(i) ?? []));
  }
  const out: Record<string, unknown> = {};
  if (!isPlainObject(source)) return out;
  for (const [key, rest] of groups) {
    if (typeof key === 'string' && Object.hasOwn(source, key)) setOwn(out, key, pick(source[key], rest));
  }
  return out;
}
