// Verification of an SD-JWT VC and of its Key Binding JWT (RFC 9901 §7, draft-ietf-oauth-sd-jwt-vc §3).
import type { JWK } from 'jose';
import type { Disclosure } from './disclosure.js';
import { isPlainObject, nowSeconds, sha256B64url } from './encoding.js';
import { SdJwtError } from './errors.js';
import { SD_JWT_VC_TYP } from './issue.js';
import type { StatusReference } from './issue.js';
import { decodeJwt, verifyJws } from './jws.js';
import type { JwtHeader, JwtPayload, VerificationKeys } from './jws.js';
import { parseSdJwt } from './parse.js';
import { processPayload } from './tree.js';

export const KB_JWT_TYP = 'kb+jwt';
/** The media type SD-JWT VC drafts before -06 used; accepted only with `acceptLegacyTyp`. */
export const LEGACY_SD_JWT_VC_TYP = 'vc+sd-jwt';

export interface KeyBindingExpectation {
  /** The verifier's identifier the KB-JWT `aud` must name (OpenID4VP: the client_id). */
  audience: string;
  /** The nonce of this presentation request. */
  nonce: string;
  /** How old the KB-JWT `iat` may be; 300 s by default. */
  maxAgeSeconds?: number;
}

/**
 * Key binding: an expectation (a KB-JWT is required and checked against it), `'forbidden'` (the
 * default: an SD-JWT as issued, a KB-JWT is refused) or `'optional'` (a KB-JWT, if any, is checked for
 * its signature, typ and sd_hash only — not for replay: use it only where replay does not matter).
 */
export type KeyBindingOption = KeyBindingExpectation | 'forbidden' | 'optional';

export interface VerifySdJwtVcOptions {
  /** The issuer's public keys: a JWK, a JWKS (by `kid`) or a resolver. */
  keys: VerificationKeys;
  now?: Date;
  /** Tolerance for exp, nbf, iat and the KB-JWT iat; 60 s by default. */
  clockSkewSeconds?: number;
  keyBinding?: KeyBindingOption;
  /** Accept the legacy `typ: vc+sd-jwt` as well as `dc+sd-jwt`. */
  acceptLegacyTyp?: boolean;
}

export interface VerifiedSdJwtVc {
  header: JwtHeader;
  /** The issuer-signed payload as signed (with `_sd`). */
  payload: JwtPayload;
  /** The payload with the disclosed claims in place, without `_sd`, `_sd_alg` and undisclosed digests. */
  claims: Record<string, unknown>;
  disclosures: Disclosure[];
  /** `cnf.jwk`, the holder's key. */
  holderJwk?: JWK;
  status?: StatusReference;
  /** The verified Key Binding JWT, when there was one. */
  keyBinding?: { header: JwtHeader; payload: JwtPayload };
}

const DEFAULT_SKEW = 60;
const DEFAULT_KB_MAX_AGE = 300;

export async function verifySdJwtVc(compact: string, options: VerifySdJwtVcOptions): Promise<VerifiedSdJwtVc> {
  const parsed = parseSdJwt(compact);
  const { header, payload, disclosures } = parsed;
  const skew = options.clockSkewSeconds ?? DEFAULT_SKEW;
  const now = nowSeconds(options.now);

  const typOk =
    header.typ === SD_JWT_VC_TYP || (options.acceptLegacyTyp === true && header.typ === LEGACY_SD_JWT_VC_TYP);
  if (!typOk) {
    throw new SdJwtError(
      'WRONG_TYP',
      `the issuer-signed JWT has typ ${JSON.stringify(header.typ)}, not ${SD_JWT_VC_TYP}`,
      {
        typ: header.typ,
      },
    );
  }
  await verifyJws(parsed.issuerJwt, parsed, options.keys, {
    badSignature: 'BAD_SIGNATURE',
    what: 'the issuer-signed JWT',
  });

  const claims = processPayload(payload, disclosures);

  if (typeof payload.iss !== 'string') throw new SdJwtError('MALFORMED', 'the issuer-signed JWT has no iss string');
  if (typeof payload.vct !== 'string') throw new SdJwtError('MALFORMED', 'the issuer-signed JWT has no vct string');
  const exp = numericClaim(payload, 'exp');
  const nbf = numericClaim(payload, 'nbf');
  const iat = numericClaim(payload, 'iat');
  if (exp !== undefined && now >= exp + skew) {
    throw new SdJwtError('EXPIRED', `the credential expired at ${iso(exp)} (checked at ${iso(now)})`, { exp, now });
  }
  if (nbf !== undefined && now + skew < nbf) {
    throw new SdJwtError('NOT_YET_VALID', `the credential is not valid before ${iso(nbf)} (checked at ${iso(now)})`, {
      nbf,
      now,
    });
  }
  if (iat !== undefined && now + skew < iat) {
    throw new SdJwtError('NOT_YET_VALID', `the credential is issued in the future, at ${iso(iat)}`, { iat, now });
  }

  let holderJwk: JWK | undefined;
  if (payload.cnf !== undefined) {
    if (!isPlainObject(payload.cnf)) throw new SdJwtError('MALFORMED', 'cnf is not a JSON object');
    if (payload.cnf.jwk !== undefined) {
      if (!isPlainObject(payload.cnf.jwk)) throw new SdJwtError('MALFORMED', 'cnf.jwk is not a JSON object');
      holderJwk = payload.cnf.jwk as JWK;
    }
  }
  const status = statusClaim(payload);

  const result: VerifiedSdJwtVc = { header, payload, claims, disclosures };
  if (holderJwk) result.holderJwk = holderJwk;
  if (status) result.status = status;

  const mode = options.keyBinding ?? 'forbidden';
  if (parsed.kbJwt === undefined) {
    if (typeof mode === 'object') {
      throw new SdJwtError('KB_MISSING', 'a Key Binding JWT is required, and the presentation ends without one');
    }
    return result;
  }
  if (mode === 'forbidden') {
    throw new SdJwtError(
      'KB_UNEXPECTED',
      'the SD-JWT carries a Key Binding JWT; pass keyBinding: { audience, nonce } to verify a presentation',
    );
  }
  if (!holderJwk) throw new SdJwtError('NO_HOLDER_KEY', 'the credential has no cnf.jwk to verify the Key Binding JWT');
  result.keyBinding = await verifyKeyBinding(
    compact,
    parsed.kbJwt,
    holderJwk,
    mode === 'optional' ? undefined : mode,
    now,
    skew,
  );
  return result;
}

async function verifyKeyBinding(
  compact: string,
  kbJwt: string,
  holderJwk: JWK,
  expected: KeyBindingExpectation | undefined,
  now: number,
  skew: number,
): Promise<{ header: JwtHeader; payload: JwtPayload }> {
  const decoded = decodeJwt(kbJwt, 'KB_MALFORMED', 'the Key Binding JWT');
  const { header, payload } = decoded;
  if (header.typ !== KB_JWT_TYP) {
    throw new SdJwtError(
      'KB_WRONG_TYP',
      `the Key Binding JWT has typ ${JSON.stringify(header.typ)}, not ${KB_JWT_TYP}`,
    );
  }
  // The key is cnf.jwk whatever kid either side names.
  const { kid: _kid, ...jwk } = holderJwk;
  try {
    await verifyJws(kbJwt, decoded, jwk, { badSignature: 'KB_BAD_SIGNATURE', what: 'the Key Binding JWT' });
  } catch (e) {
    if (e instanceof SdJwtError && e.code === 'UNKNOWN_KEY') throw new SdJwtError('KB_BAD_SIGNATURE', e.message);
    throw e;
  }
  const { iat, aud, nonce } = payload;
  const sdHash = payload.sd_hash;
  if (typeof iat !== 'number' || typeof nonce !== 'string' || typeof sdHash !== 'string') {
    throw new SdJwtError('KB_MALFORMED', 'the Key Binding JWT needs iat (number), nonce and sd_hash (strings)');
  }
  if (typeof aud !== 'string' && !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))) {
    throw new SdJwtError('KB_MALFORMED', 'the Key Binding JWT needs aud');
  }
  // The SD-JWT part exactly as received, up to and including the last "~" (RFC 9901 §4.3.1).
  const expectedHash = sha256B64url(compact.slice(0, compact.lastIndexOf('~') + 1));
  if (sdHash !== expectedHash) {
    throw new SdJwtError(
      'KB_SD_HASH_MISMATCH',
      'the Key Binding JWT sd_hash does not match the presented SD-JWT (disclosures added, removed or reordered)',
    );
  }
  if (iat > now + skew) throw new SdJwtError('KB_STALE', `the Key Binding JWT is issued in the future (${iso(iat)})`);
  if (expected) {
    const audiences = typeof aud === 'string' ? [aud] : (aud as string[]);
    if (!audiences.includes(expected.audience)) {
      throw new SdJwtError(
        'KB_AUDIENCE_MISMATCH',
        `the Key Binding JWT is for ${JSON.stringify(aud)}, not ${expected.audience}`,
        { aud },
      );
    }
    if (nonce !== expected.nonce) {
      throw new SdJwtError('KB_NONCE_MISMATCH', 'the Key Binding JWT nonce is not the nonce of this request');
    }
    const maxAge = expected.maxAgeSeconds ?? DEFAULT_KB_MAX_AGE;
    if (now - iat > maxAge + skew) {
      throw new SdJwtError('KB_STALE', `the Key Binding JWT was made at ${iso(iat)}, more than ${maxAge} s ago`, {
        iat,
        now,
      });
    }
  }
  return { header, payload };
}

function numericClaim(payload: JwtPayload, name: string): number | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SdJwtError('MALFORMED', `${name} is not a NumericDate`);
  }
  return value;
}

function statusClaim(payload: JwtPayload): StatusReference | undefined {
  if (payload.status === undefined) return undefined;
  const list = isPlainObject(payload.status) ? payload.status.status_list : undefined;
  if (list === undefined && isPlainObject(payload.status)) return undefined; // another status mechanism
  if (
    !isPlainObject(list) ||
    typeof list.uri !== 'string' ||
    typeof list.idx !== 'number' ||
    !Number.isSafeInteger(list.idx) ||
    list.idx < 0
  ) {
    throw new SdJwtError('MALFORMED', 'status.status_list must be { idx: non-negative integer, uri: string }');
  }
  return { idx: list.idx, uri: list.uri };
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
