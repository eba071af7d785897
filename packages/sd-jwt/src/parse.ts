// The compact SD-JWT serialization (RFC 9901 §4): <issuer-jwt>~<disclosure>~...~<disclosure>~[<kb-jwt>].
import { decodeDisclosure, SD_ALG } from './disclosure.js';
import type { Disclosure } from './disclosure.js';
import { SdJwtError } from './errors.js';
import { decodeJwt } from './jws.js';
import type { JwtHeader, JwtPayload } from './jws.js';

export interface ParsedSdJwt {
  /** The issuer-signed JWT (compact JWS). */
  issuerJwt: string;
  header: JwtHeader;
  /** The issuer-signed payload as signed: with `_sd`, `_sd_alg` and `{"...": digest}` elements. */
  payload: JwtPayload;
  /** In the order they appear. */
  disclosures: Disclosure[];
  /** The Key Binding JWT, when the SD-JWT ends with one instead of `~`. */
  kbJwt?: string;
}

export function parseSdJwt(compact: string): ParsedSdJwt {
  if (typeof compact !== 'string' || compact.length === 0) {
    throw new SdJwtError('MALFORMED', 'an SD-JWT must be a non-empty string');
  }
  const parts = compact.split('~');
  if (parts.length < 2) {
    throw new SdJwtError('MALFORMED', 'not an SD-JWT: no "~" after the issuer-signed JWT');
  }
  const issuerJwt = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  const middle = parts.slice(1, -1);
  if (middle.some((d) => d === '')) {
    throw new SdJwtError('MALFORMED', 'an SD-JWT has an empty disclosure ("~~")');
  }
  const { header, payload } = decodeJwt(issuerJwt, 'MALFORMED', 'the issuer-signed JWT');
  const sdAlg = payload._sd_alg;
  if (sdAlg !== undefined && sdAlg !== SD_ALG) {
    throw new SdJwtError('UNSUPPORTED_ALG', `_sd_alg ${JSON.stringify(sdAlg)} is not supported (only ${SD_ALG})`, {
      sdAlg,
    });
  }
  const disclosures = middle.map(decodeDisclosure);
  if (last === '') return { issuerJwt, header, payload, disclosures };
  if (last.split('.').length !== 3) {
    throw new SdJwtError('MALFORMED', 'the part after the last "~" is neither empty nor a Key Binding JWT');
  }
  return { issuerJwt, header, payload, disclosures, kbJwt: last };
}

/** The compact form without a KB-JWT: the issuer JWT, each disclosure, and a trailing `~`. */
export function serializeSdJwt(issuerJwt: string, disclosures: readonly Disclosure[]): string {
  return `${issuerJwt}~${disclosures.map((d) => `${d.encoded}~`).join('')}`;
}
