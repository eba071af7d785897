// Issuance of an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, RFC 9901 §4–5): claims become disclosures
// bottom-up, so a nested object's disclosure carries only the `_sd` digests of its own sub-claims.
import type { JWK } from 'jose';
import { createDisclosure, decoyDigest, SD_ALG } from './disclosure.js';
import type { Disclosure } from './disclosure.js';
import { isPlainObject } from './encoding.js';
import { SdJwtError } from './errors.js';
import { algForKey, signJwt } from './jws.js';
import type { JwtPayload, PrivateKey, SigningAlg } from './jws.js';
import { serializeSdJwt } from './parse.js';
import { setOwn, validateClaimPath } from './tree.js';
import type { ClaimPath } from './tree.js';

export const SD_JWT_VC_TYP = 'dc+sd-jwt';

/** The status reference of a Referenced Token (draft-ietf-oauth-status-list §6.1). */
export interface StatusReference {
  idx: number;
  uri: string;
}

/** Time as a Date or as seconds since the epoch (a JWT NumericDate). */
export type Instant = Date | number;

export interface IssueSdJwtVcOptions {
  issuer: string;
  vct: string;
  /** The holder's claims; the registered ones (iss, vct, iat, exp, nbf, cnf, status) are options instead. */
  claims: Record<string, unknown>;
  /**
   * Which claims are selectively disclosable. `'all'` (the default): every property of every object,
   * recursively (an array is disclosed as one value). A list of claim paths chooses them one by one
   * (`null` in a path: each element of an array); `'none'` discloses everything in the clear.
   */
  disclosable?: 'all' | 'none' | readonly ClaimPath[];
  /** The holder's public key, put in `cnf.jwk` for key binding. */
  holderJwk: JWK;
  status?: StatusReference;
  iat?: Instant;
  exp: Instant;
  nbf?: Instant;
  signingKey: PrivateKey;
  kid: string;
  /** Default: from the key (ES256 for P-256, ES384, ES512, EdDSA for Ed25519). */
  alg?: SigningAlg;
  /** Decoy digests added to each `_sd` array (RFC 9901 §4.2.5); none by default. */
  decoys?: number;
}

export interface IssuedSdJwtVc {
  /** The compact SD-JWT with every disclosure, ending with `~`. */
  sdJwt: string;
  issuerJwt: string;
  /** The issuer-signed payload (with `_sd`). */
  payload: JwtPayload;
  disclosures: Disclosure[];
}

/** Claim names the caller passes as options, never inside `claims`. */
const REGISTERED = new Set(['iss', 'vct', 'vct#integrity', 'iat', 'exp', 'nbf', 'cnf', 'status', '_sd', '_sd_alg']);
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'priv'];

export async function issueSdJwtVc(options: IssueSdJwtVcOptions): Promise<IssuedSdJwtVc> {
  const { issuer, vct, claims, holderJwk, status, signingKey, kid } = options;
  const alg = options.alg ?? algForKey(signingKey);
  if (typeof issuer !== 'string' || issuer === '') throw invalid('issuer must be a non-empty string');
  if (typeof vct !== 'string' || vct === '') throw invalid('vct must be a non-empty string');
  if (typeof kid !== 'string' || kid === '') throw invalid('kid must be a non-empty string');
  if (!isPlainObject(claims)) throw invalid('claims must be a JSON object');
  for (const name of Object.keys(claims)) {
    if (REGISTERED.has(name)) throw invalid(`claims may not contain ${name}: it is set from the options`);
  }
  assertNoReservedKeys(claims, []);
  if (!isPlainObject(holderJwk) || typeof holderJwk.kty !== 'string') throw invalid('holderJwk must be a JWK');
  const privateMember = PRIVATE_JWK_MEMBERS.find((m) => Object.hasOwn(holderJwk, m));
  if (privateMember) throw invalid(`holderJwk contains the private member "${privateMember}": pass the public key`);
  if (status !== undefined) {
    if (!Number.isSafeInteger(status.idx) || status.idx < 0) throw invalid('status.idx must be a non-negative integer');
    if (typeof status.uri !== 'string' || status.uri === '') throw invalid('status.uri must be a non-empty string');
  }
  const decoys = options.decoys ?? 0;
  if (!Number.isSafeInteger(decoys) || decoys < 0) throw invalid('decoys must be a non-negative integer');

  const frame = buildFrame(claims, options.disclosable ?? 'all');
  const disclosures: Disclosure[] = [];
  const packed = pack(claims, frame, disclosures, decoys) as Record<string, unknown>;

  const payload: JwtPayload = { iss: issuer, iat: numericDate(options.iat ?? new Date(), 'iat') };
  if (options.nbf !== undefined) payload.nbf = numericDate(options.nbf, 'nbf');
  payload.exp = numericDate(options.exp, 'exp');
  payload.vct = vct;
  payload.cnf = { jwk: holderJwk };
  if (status) payload.status = { status_list: { idx: status.idx, uri: status.uri } };
  for (const [key, value] of Object.entries(packed)) setOwn(payload, key, value);
  payload._sd_alg = SD_ALG;

  const issuerJwt = await signJwt({ alg, typ: SD_JWT_VC_TYP, kid }, payload, signingKey);
  return { sdJwt: serializeSdJwt(issuerJwt, disclosures), issuerJwt, payload, disclosures };
}

/** Which parts of the claims are disclosable: a tree keyed by path component. */
interface Frame {
  sd: boolean;
  children: Map<string | number | null, Frame>;
}

function buildFrame(claims: Record<string, unknown>, disclosable: IssueSdJwtVcOptions['disclosable']): Frame {
  const root: Frame = { sd: false, children: new Map() };
  if (disclosable === 'none') return root;
  if (disclosable === 'all') {
    const all = (value: Record<string, unknown>, frame: Frame): void => {
      for (const [key, v] of Object.entries(value)) {
        const child: Frame = { sd: true, children: new Map() };
        frame.children.set(key, child);
        if (isPlainObject(v)) all(v, child);
      }
    };
    all(claims, root);
    return root;
  }
  if (!Array.isArray(disclosable)) throw invalid("disclosable must be 'all', 'none' or a list of claim paths");
  for (const path of disclosable) {
    validateClaimPath(path, 'INVALID_ARGUMENT');
    if (!pathExists(claims, path)) throw invalid(`the disclosable path ${JSON.stringify(path)} is not in the claims`);
    let frame = root;
    for (const component of path) {
      let child = frame.children.get(component);
      if (!child) {
        child = { sd: false, children: new Map() };
        frame.children.set(component, child);
      }
      frame = child;
    }
    frame.sd = true;
  }
  return root;
}

function pathExists(value: unknown, path: ClaimPath): boolean {
  if (path.length === 0) return true;
  const [head, ...rest] = path;
  if (typeof head === 'string')
    return isPlainObject(value) && Object.hasOwn(value, head) && pathExists(value[head], rest);
  if (!Array.isArray(value)) return false;
  if (head === null) return value.length > 0 && value.every((v) => pathExists(v, rest));
  return head !== undefined && head < value.length && pathExists(value[head], rest);
}

function pack(value: unknown, frame: Frame | undefined, out: Disclosure[], decoys: number): unknown {
  if (!frame || frame.children.size === 0) return value;
  if (Array.isArray(value)) {
    return value.map((element, i) => {
      const child = frame.children.get(i) ?? frame.children.get(null);
      const packed = pack(element, child, out, decoys);
      if (!child?.sd) return packed;
      const d = createDisclosure(undefined, packed);
      out.push(d);
      return { '...': d.digest };
    });
  }
  if (!isPlainObject(value)) return value;
  const result: Record<string, unknown> = {};
  const sd: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const child = frame.children.get(key);
    const packed = pack(v, child, out, decoys);
    if (child?.sd) {
      const d = createDisclosure(key, packed);
      out.push(d);
      sd.push(d.digest);
    } else {
      setOwn(result, key, packed);
    }
  }
  if (sd.length > 0) {
    for (let i = 0; i < decoys; i++) sd.push(decoyDigest());
    // Sorted, so the order tells nothing about the claims' order (RFC 9901 §4.2.4.1).
    result._sd = sd.sort();
  }
  return result;
}

function assertNoReservedKeys(value: unknown, at: (string | number)[]): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertNoReservedKeys(v, [...at, i]));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === '_sd' || key === '...') throw invalid(`the claim ${JSON.stringify([...at, key])} uses a reserved name`);
    assertNoReservedKeys(v, [...at, key]);
  }
}

export function numericDate(instant: Instant, name: string): number {
  const seconds = instant instanceof Date ? Math.floor(instant.getTime() / 1000) : instant;
  if (!Number.isSafeInteger(seconds)) throw invalid(`${name} must be a Date or whole seconds since the epoch`);
  return seconds;
}

function invalid(message: string): SdJwtError {
  return new SdJwtError('INVALID_ARGUMENT', message);
}
