// JWS signing and verification on top of jose, with the key lookup (JWK, JWKS by kid, or a resolver)
// every token of this package shares. Only asymmetric algorithms: `none` and HMAC are refused before
// any key is looked at.
import { CompactSign, compactVerify, importJWK } from 'jose';
import type { CompactJWSHeaderParameters, CryptoKey, JWK, KeyObject } from 'jose';
import { decodeJsonObject, isPlainObject } from './encoding.js';
import { SdJwtError } from './errors.js';
import type { SdJwtErrorCode } from './errors.js';

export const SIGNING_ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/** A private signing key as jose takes it (`generateKeyPair`, `importPKCS8`, `crypto.createPrivateKey`). */
export type PrivateKey = CryptoKey | KeyObject;

export interface Jwks {
  keys: JWK[];
}

export type JwtHeader = Record<string, unknown> & { alg?: unknown; typ?: unknown; kid?: unknown };
export type JwtPayload = Record<string, unknown>;

/** Finds the key for a token: called with its (not yet verified) header and payload. */
export type KeyResolver = (header: JwtHeader, payload: JwtPayload) => Promise<CryptoKey | KeyObject | JWK>;

/** Public keys: one JWK, a JWKS (`{ keys: [...] }`, picked by the token's `kid`), or a resolver. */
export type VerificationKeys = JWK | Jwks | KeyResolver;

export interface DecodedJwt {
  header: JwtHeader;
  payload: JwtPayload;
}

export function isSigningAlg(alg: unknown): alg is SigningAlg {
  return typeof alg === 'string' && (SIGNING_ALGS as readonly string[]).includes(alg);
}

export function assertSigningAlg(alg: unknown, what: string): asserts alg is SigningAlg {
  if (!isSigningAlg(alg)) {
    throw new SdJwtError(
      'UNSUPPORTED_ALG',
      `${what}: alg ${JSON.stringify(alg)} is not accepted (only ${SIGNING_ALGS.join(', ')})`,
      { alg },
    );
  }
}

const CURVE_ALGS: Record<string, SigningAlg> = {
  'P-256': 'ES256',
  prime256v1: 'ES256',
  'P-384': 'ES384',
  secp384r1: 'ES384',
  'P-521': 'ES512',
  secp521r1: 'ES512',
};

/** The JWS alg a private key signs with (ES256/384/512 by curve, EdDSA for Ed25519); ES256 if unknown. */
export function algForKey(key: PrivateKey): SigningAlg {
  const k = key as {
    algorithm?: { name?: string; namedCurve?: string };
    asymmetricKeyType?: string;
    asymmetricKeyDetails?: { namedCurve?: string };
  };
  if (k.algorithm?.name === 'Ed25519' || k.asymmetricKeyType === 'ed25519') return 'EdDSA';
  const curve = k.algorithm?.namedCurve ?? k.asymmetricKeyDetails?.namedCurve;
  return (curve && CURVE_ALGS[curve]) || 'ES256';
}

export async function signJwt(header: JwtHeader, payload: JwtPayload, key: PrivateKey): Promise<string> {
  assertSigningAlg(header.alg, 'signing');
  try {
    return await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ ...header, alg: header.alg } as CompactJWSHeaderParameters)
      .sign(key);
  } catch (e) {
    throw new SdJwtError(
      'INVALID_ARGUMENT',
      `cannot sign with this key and alg ${header.alg}: ${errorText(e)}`,
      {},
      {
        cause: e,
      },
    );
  }
}

/** Splits and decodes a compact JWS without checking its signature. */
export function decodeJwt(jwt: string, code: SdJwtErrorCode, what: string): DecodedJwt {
  const parts = jwt.split('.');
  // An empty signature is let through here so that `alg: none` is refused as such, by its alg.
  if (parts.length !== 3 || parts[0] === '' || parts[1] === '') {
    throw new SdJwtError(code, `${what} is not a compact JWS (three dot-separated parts)`);
  }
  const header = decodeJsonObject(parts[0] ?? '', code, `${what} header`);
  const payload = decodeJsonObject(parts[1] ?? '', code, `${what} payload`);
  return { header, payload };
}

export interface VerifyJwsCodes {
  badSignature: SdJwtErrorCode;
  what: string;
}

/** Checks the signature of `jwt` (already decoded) with the key `keys` designate. */
export async function verifyJws(
  jwt: string,
  decoded: DecodedJwt,
  keys: VerificationKeys | CryptoKey | KeyObject,
  codes: VerifyJwsCodes,
): Promise<void> {
  const { header } = decoded;
  assertSigningAlg(header.alg, codes.what);
  const key = await resolveKey(decoded, keys, codes.what);
  try {
    await compactVerify(jwt, key, { algorithms: [header.alg] });
  } catch (e) {
    throw new SdJwtError(codes.badSignature, `${codes.what}: signature does not verify (${errorText(e)})`, {
      kid: header.kid,
      alg: header.alg,
    });
  }
}

async function resolveKey(
  decoded: DecodedJwt,
  keys: VerificationKeys | CryptoKey | KeyObject,
  what: string,
): Promise<CryptoKey | KeyObject> {
  const { header, payload } = decoded;
  const alg = header.alg as SigningAlg;
  let found: CryptoKey | KeyObject | JWK | undefined;
  if (typeof keys === 'function') {
    try {
      found = await keys(header, payload);
    } catch (e) {
      if (e instanceof SdJwtError) throw e;
      throw new SdJwtError('UNKNOWN_KEY', `${what}: the key resolver failed: ${errorText(e)}`, { kid: header.kid });
    }
  } else if (isPlainObject(keys) && Array.isArray((keys as Jwks).keys)) {
    found = pickFromJwks((keys as Jwks).keys, header, what);
  } else if (isPlainObject(keys) && typeof (keys as JWK).kty === 'string') {
    const jwk = keys as JWK;
    if (jwk.kid !== undefined && header.kid !== undefined && jwk.kid !== header.kid) {
      throw new SdJwtError('UNKNOWN_KEY', `${what}: kid ${String(header.kid)} is not the key's kid ${jwk.kid}`, {
        kid: header.kid,
      });
    }
    found = jwk;
  } else {
    found = keys as CryptoKey | KeyObject;
  }
  if (found === undefined || found === null) {
    throw new SdJwtError('UNKNOWN_KEY', `${what}: no key for kid ${JSON.stringify(header.kid)}`, { kid: header.kid });
  }
  if (isPlainObject(found) && typeof (found as JWK).kty === 'string') {
    const jwk = found as JWK;
    if (jwk.alg !== undefined && jwk.alg !== alg) {
      throw new SdJwtError('UNKNOWN_KEY', `${what}: the key is for ${jwk.alg}, the token uses ${alg}`, {
        kid: header.kid,
      });
    }
    try {
      // Never the private half: a verifier needs the public key only.
      const { d: _d, ...pub } = jwk;
      return (await importJWK(pub, alg)) as CryptoKey | KeyObject;
    } catch (e) {
      throw new SdJwtError('UNKNOWN_KEY', `${what}: the key cannot verify ${alg}: ${errorText(e)}`, {
        kid: header.kid,
      });
    }
  }
  return found as CryptoKey | KeyObject;
}

function pickFromJwks(keys: JWK[], header: JwtHeader, what: string): JWK {
  const usable = keys.filter(
    (k) =>
      isPlainObject(k) && (k.use === undefined || k.use === 'sig') && (k.alg === undefined || k.alg === header.alg),
  );
  if (header.kid === undefined) {
    // Without a kid only an unambiguous set will do.
    if (usable.length === 1 && usable[0]) return usable[0];
    throw new SdJwtError('UNKNOWN_KEY', `${what}: no kid in the header and the JWKS has ${usable.length} usable keys`);
  }
  const match = usable.find((k) => k.kid === header.kid);
  if (!match) {
    throw new SdJwtError('UNKNOWN_KEY', `${what}: kid ${JSON.stringify(header.kid)} is not in the JWKS`, {
      kid: header.kid,
    });
  }
  return match;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
