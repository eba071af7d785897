// Walking the issuer-signed payload with its disclosures: the verifier's processing (RFC 9901 §7.1,
// every check that makes a presentation refusable) and the holder's selection of the disclosures
// a claim path needs.
import type { Disclosure } from './disclosure.js';
import { isPlainObject } from './encoding.js';
import { SdJwtError } from './errors.js';

/**
 * A claims path pointer (OpenID4VP 1.0 §7): object keys (strings), array indexes (non-negative
 * integers) and `null` for every element of an array.
 */
export type ClaimPath = readonly (string | number | null)[];

/** Top-level claims SD-JWT VC forbids in disclosures (draft-ietf-oauth-sd-jwt-vc §3.2.2.2), and `_sd_alg`. */
export const NEVER_DISCLOSED = new Set(['iss', 'nbf', 'exp', 'cnf', 'vct', 'vct#integrity', 'status', '_sd_alg']);

/** Sets an own property even when it is named `__proto__` (JSON.parse makes such keys). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function arrayElementDigest(value: unknown): string | undefined {
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== '...') return undefined;
  const digest = value['...'];
  if (typeof digest !== 'string') throw new SdJwtError('MALFORMED', 'an array element digest ("...") is not a string');
  return digest;
}

function sdDigests(obj: Record<string, unknown>, where: string): string[] {
  if (!Object.hasOwn(obj, '_sd')) return [];
  const sd = obj._sd;
  if (!Array.isArray(sd) || sd.some((d) => typeof d !== 'string')) {
    throw new SdJwtError('MALFORMED', `_sd at ${where} is not an array of strings`);
  }
  return sd as string[];
}

function where(path: readonly (string | number)[]): string {
  return path.length === 0 ? 'the top level' : JSON.stringify(path);
}

/**
 * Replaces every digest that has a disclosure with the disclosed claim, drops the others (decoys and
 * undisclosed claims), removes `_sd`/`_sd_alg`, and refuses what RFC 9901 §7.1 refuses.
 */
export function processPayload(
  payload: Record<string, unknown>,
  disclosures: readonly Disclosure[],
): Record<string, unknown> {
  const byDigest = new Map<string, Disclosure>();
  for (const d of disclosures) {
    if (byDigest.has(d.digest)) {
      throw new SdJwtError('DISCLOSURE_DUPLICATE', `the disclosure ${d.encoded} appears more than once`, {
        digest: d.digest,
      });
    }
    byDigest.set(d.digest, d);
  }
  const seen = new Set<string>();
  const used = new Set<string>();
  const meet = (digest: string, at: readonly (string | number)[]): Disclosure | undefined => {
    if (seen.has(digest)) {
      throw new SdJwtError('DISCLOSURE_DUPLICATE', `the digest ${digest} appears more than once in the payload`, {
        digest,
        at,
      });
    }
    seen.add(digest);
    const d = byDigest.get(digest);
    if (d) used.add(digest);
    return d;
  };

  const walk = (value: unknown, at: readonly (string | number)[]): unknown => {
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (const element of value) {
        const digest = arrayElementDigest(element);
        if (digest === undefined) {
          out.push(walk(element, [...at, out.length]));
          continue;
        }
        const d = meet(digest, at);
        if (!d) continue;
        if (d.name !== undefined) {
          throw new SdJwtError(
            'DISCLOSURE_MALFORMED',
            `an array element at ${where(at)} refers to the property disclosure ${JSON.stringify(d.name)}`,
            { digest },
          );
        }
        out.push(walk(d.value, [...at, out.length]));
      }
      return out;
    }
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (key === '_sd' || (key === '_sd_alg' && at.length === 0)) continue;
      setOwn(out, key, walk(v, [...at, key]));
    }
    for (const digest of sdDigests(value, where(at))) {
      const d = meet(digest, at);
      if (!d) continue;
      if (d.name === undefined) {
        throw new SdJwtError('DISCLOSURE_MALFORMED', `_sd at ${where(at)} refers to an array element disclosure`, {
          digest,
        });
      }
      if (Object.hasOwn(out, d.name)) {
        throw new SdJwtError(
          'CLAIM_OVERWRITE',
          `a disclosure would overwrite the claim ${JSON.stringify([...at, d.name])}`,
          { name: d.name, at },
        );
      }
      if (at.length === 0 && NEVER_DISCLOSED.has(d.name)) {
        throw new SdJwtError('REGISTERED_CLAIM_DISCLOSED', `the claim ${d.name} must not be selectively disclosed`, {
          name: d.name,
        });
      }
      setOwn(out, d.name, walk(d.value, [...at, d.name]));
    }
    return out;
  };

  const claims = walk(payload, []) as Record<string, unknown>;
  for (const d of disclosures) {
    if (!used.has(d.digest)) {
      throw new SdJwtError(
        'DISCLOSURE_NOT_REFERENCED',
        `the disclosure of ${d.name === undefined ? 'an array element' : JSON.stringify(d.name)} is referenced by no digest in the payload or in other disclosed claims`,
        { digest: d.digest, name: d.name },
      );
    }
  }
  return claims;
}

/** One value a claim path selects, with the disclosures that reveal it (parents first). */
export interface SelectedClaim {
  /** The concrete path (indexes instead of `null`) in the fully disclosed view. */
  path: (string | number)[];
  /** The value with every nested disclosure resolved. */
  value: unknown;
  disclosures: Disclosure[];
}

interface Node {
  raw: unknown;
  path: (string | number)[];
  needed: Disclosure[];
}

/**
 * What `path` selects in the SD-JWT when every disclosure given is revealed: empty when nothing.
 * A selected object or array comes whole, with all its nested disclosures.
 */
export function selectClaim(
  payload: Record<string, unknown>,
  disclosures: readonly Disclosure[],
  path: ClaimPath,
): SelectedClaim[] {
  const byDigest = new Map(disclosures.map((d) => [d.digest, d]));
  let nodes: Node[] = [{ raw: payload, path: [], needed: [] }];
  for (const component of path) {
    const next: Node[] = [];
    for (const node of nodes) {
      if (typeof component === 'string') {
        if (!isPlainObject(node.raw) || component === '_sd' || (component === '_sd_alg' && node.path.length === 0)) {
          continue;
        }
        const obj = node.raw;
        if (Object.hasOwn(obj, component)) {
          next.push({ raw: obj[component], path: [...node.path, component], needed: node.needed });
          continue;
        }
        for (const digest of Array.isArray(obj._sd) ? obj._sd : []) {
          const d = byDigest.get(digest as string);
          if (d && d.name === component) {
            next.push({ raw: d.value, path: [...node.path, component], needed: [...node.needed, d] });
            break;
          }
        }
        continue;
      }
      if (!Array.isArray(node.raw)) continue;
      const elements = expandArray(node.raw, byDigest);
      elements.forEach((e, i) => {
        if (component === null || component === i) {
          next.push({ raw: e.raw, path: [...node.path, i], needed: e.d ? [...node.needed, e.d] : node.needed });
        }
      });
    }
    nodes = next;
  }
  return nodes.map((node) => {
    const inner: Disclosure[] = [];
    const value = resolveAll(node.raw, byDigest, inner);
    return { path: node.path, value, disclosures: [...node.needed, ...inner] };
  });
}

function expandArray(raw: unknown[], byDigest: ReadonlyMap<string, Disclosure>): { raw: unknown; d?: Disclosure }[] {
  const out: { raw: unknown; d?: Disclosure }[] = [];
  for (const element of raw) {
    const digest = arrayElementDigest(element);
    if (digest === undefined) {
      out.push({ raw: element });
      continue;
    }
    const d = byDigest.get(digest);
    if (d) out.push({ raw: d.value, d });
  }
  return out;
}

function resolveAll(raw: unknown, byDigest: ReadonlyMap<string, Disclosure>, acc: Disclosure[]): unknown {
  if (Array.isArray(raw)) {
    return expandArray(raw, byDigest).map((e) => {
      if (e.d) acc.push(e.d);
      return resolveAll(e.raw, byDigest, acc);
    });
  }
  if (!isPlainObject(raw)) return raw;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    if (key !== '_sd') setOwn(out, key, resolveAll(v, byDigest, acc));
  }
  for (const digest of Array.isArray(raw._sd) ? raw._sd : []) {
    const d = byDigest.get(digest as string);
    if (d && d.name !== undefined) {
      acc.push(d);
      setOwn(out, d.name, resolveAll(d.value, byDigest, acc));
    }
  }
  return out;
}

export function validateClaimPath(path: unknown, code: 'INVALID_ARGUMENT' | 'DCQL_INVALID_QUERY'): ClaimPath {
  if (
    !Array.isArray(path) ||
    path.length === 0 ||
    !path.every((c) => c === null || typeof c === 'string' || (typeof c === 'number' && Number.isInteger(c) && c >= 0))
  ) {
    throw new SdJwtError(
      code,
      `a claim path must be a non-empty array of strings, non-negative integers and nulls: ${JSON.stringify(path)}`,
    );
  }
  return path as ClaimPath;
}
