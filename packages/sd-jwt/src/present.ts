// The holder's side (RFC 9901 §4.3): keep only the disclosures the verifier needs, then bind the
// presentation to the verifier's audience and nonce with a Key Binding JWT.
import type { Disclosure } from './disclosure.js';
import { sha256B64url } from './encoding.js';
import { SdJwtError } from './errors.js';
import { numericDate } from './issue.js';
import type { Instant } from './issue.js';
import { algForKey, signJwt } from './jws.js';
import type { PrivateKey, SigningAlg } from './jws.js';
import { parseSdJwt, serializeSdJwt } from './parse.js';
import type { ParsedSdJwt } from './parse.js';
import { selectClaim, validateClaimPath } from './tree.js';
import type { ClaimPath } from './tree.js';
import { KB_JWT_TYP } from './verify.js';

/** What to reveal: claim paths (with their parents' disclosures), disclosures themselves, or all/none. */
export type DisclosureSelection = 'all' | 'none' | readonly (ClaimPath | Disclosure)[];

export interface PresentSdJwtOptions {
  disclose: DisclosureSelection;
  /** The private key of `cnf.jwk`; without it the presentation has no Key Binding JWT. */
  holderKey?: PrivateKey;
  /** Default: from the key. */
  holderAlg?: SigningAlg;
  audience?: string;
  nonce?: string;
  iat?: Instant;
}

/**
 * The disclosures that reveal `paths`, in the SD-JWT's order: for a nested path the parents' too
 * (`['address', 'prefecture_code']` → the `address` disclosure and the `prefecture_code` one), and for
 * a path to an object or array everything inside it.
 */
export function selectDisclosures(sdJwt: ParsedSdJwt, paths: readonly ClaimPath[]): Disclosure[] {
  const wanted = new Set<string>();
  for (const path of paths) {
    validateClaimPath(path, 'INVALID_ARGUMENT');
    const selected = selectClaim(sdJwt.payload, sdJwt.disclosures, path);
    if (selected.length === 0) {
      throw new SdJwtError('PATH_NOT_FOUND', `the credential has no claim at ${JSON.stringify(path)}`, { path });
    }
    for (const s of selected) for (const d of s.disclosures) wanted.add(d.digest);
  }
  return sdJwt.disclosures.filter((d) => wanted.has(d.digest));
}

export async function presentSdJwt(sdJwt: string, options: PresentSdJwtOptions): Promise<string> {
  const parsed = parseSdJwt(sdJwt);
  if (parsed.kbJwt !== undefined) {
    throw new SdJwtError('INVALID_ARGUMENT', 'this SD-JWT is already a presentation with a Key Binding JWT');
  }
  const chosen = choose(parsed, options.disclose);
  const presented = serializeSdJwt(parsed.issuerJwt, chosen);
  if (options.holderKey === undefined) return presented;

  const { audience, nonce } = options;
  if (typeof audience !== 'string' || audience === '' || typeof nonce !== 'string' || nonce === '') {
    throw new SdJwtError('INVALID_ARGUMENT', 'a Key Binding JWT needs a non-empty audience and nonce');
  }
  const kbJwt = await signJwt(
    { alg: options.holderAlg ?? algForKey(options.holderKey), typ: KB_JWT_TYP },
    {
      iat: numericDate(options.iat ?? new Date(), 'iat'),
      aud: audience,
      nonce,
      sd_hash: sha256B64url(presented),
    },
    options.holderKey,
  );
  return presented + kbJwt;
}

function choose(parsed: ParsedSdJwt, selection: DisclosureSelection): Disclosure[] {
  if (selection === 'all') return parsed.disclosures;
  if (selection === 'none') return [];
  if (!Array.isArray(selection)) throw new SdJwtError('INVALID_ARGUMENT', "disclose must be 'all', 'none' or a list");
  const paths: ClaimPath[] = [];
  const wanted = new Set<string>();
  for (const entry of selection as readonly (ClaimPath | Disclosure)[]) {
    if (Array.isArray(entry)) {
      paths.push(entry as ClaimPath);
      continue;
    }
    const d = entry as Disclosure;
    if (!parsed.disclosures.some((own) => own.digest === d.digest)) {
      throw new SdJwtError('INVALID_ARGUMENT', 'a disclosure to reveal is not one of this SD-JWT', {
        digest: d.digest,
      });
    }
    wanted.add(d.digest);
  }
  for (const d of selectDisclosures(parsed, paths)) wanted.add(d.digest);
  return parsed.disclosures.filter((d) => wanted.has(d.digest));
}
