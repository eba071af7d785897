// Disclosures (RFC 9901 §4.2): base64url of the UTF-8 JSON array [salt, name, value] for an object
// property or [salt, value] for an array element, and their digests.
import { b64urlDecode, b64urlEncode, randomSalt, sha256B64url } from './encoding.js';
import { SdJwtError } from './errors.js';

export interface Disclosure {
  /** The base64url string exactly as it appears in the SD-JWT (the digest is over these characters). */
  readonly encoded: string;
  /** base64url(SHA-256(encoded)): what the issuer put in an `_sd` array or a `{"...": digest}` element. */
  readonly digest: string;
  readonly salt: string;
  /** The claim name; absent for an array element disclosure. */
  readonly name?: string;
  readonly value: unknown;
}

/** The only digest algorithm accepted in `_sd_alg` (and the default when absent, RFC 9901 §4.1.1). */
export const SD_ALG = 'sha-256';

/** Names a disclosure may never carry (RFC 9901 §4.2.1). */
const FORBIDDEN_NAMES = new Set(['_sd', '...']);

export function createDisclosure(name: string | undefined, value: unknown, salt: string = randomSalt()): Disclosure {
  if (name !== undefined && FORBIDDEN_NAMES.has(name)) {
    throw new SdJwtError('INVALID_ARGUMENT', `a claim cannot be named ${JSON.stringify(name)}`);
  }
  const encoded = b64urlEncode(JSON.stringify(name === undefined ? [salt, value] : [salt, name, value]));
  return name === undefined
    ? { encoded, digest: sha256B64url(encoded), salt, value }
    : { encoded, digest: sha256B64url(encoded), salt, name, value };
}

export function decodeDisclosure(encoded: string): Disclosure {
  const bytes = b64urlDecode(encoded, 'DISCLOSURE_MALFORMED', 'a disclosure');
  let array: unknown;
  try {
    array = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SdJwtError('DISCLOSURE_MALFORMED', 'a disclosure is not UTF-8 JSON', { disclosure: encoded });
  }
  if (!Array.isArray(array) || (array.length !== 2 && array.length !== 3)) {
    throw new SdJwtError('DISCLOSURE_MALFORMED', 'a disclosure is not a JSON array of 2 or 3 elements', {
      disclosure: encoded,
    });
  }
  const [salt] = array as unknown[];
  if (typeof salt !== 'string') {
    throw new SdJwtError('DISCLOSURE_MALFORMED', 'a disclosure salt is not a string', { disclosure: encoded });
  }
  const digest = sha256B64url(encoded);
  if (array.length === 2) return { encoded, digest, salt, value: array[1] as unknown };
  const name: unknown = array[1];
  if (typeof name !== 'string') {
    throw new SdJwtError('DISCLOSURE_MALFORMED', 'a disclosure claim name is not a string', { disclosure: encoded });
  }
  if (FORBIDDEN_NAMES.has(name)) {
    throw new SdJwtError('DISCLOSURE_MALFORMED', `a disclosure may not carry the claim name ${JSON.stringify(name)}`, {
      disclosure: encoded,
    });
  }
  return { encoded, digest, salt, name, value: array[2] as unknown };
}

/** A digest that references no disclosure (RFC 9901 §4.2.5), to hide how many claims there are. */
export function decoyDigest(): string {
  return sha256B64url(randomSalt());
}
