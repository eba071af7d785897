// Byte and JSON helpers shared by the SD-JWT and status list code: strict base64url (RFC 4648 §5,
// no padding, as RFC 9901 and RFC 7515 require) and SHA-256 digests.
import { createHash, randomBytes } from 'node:crypto';
import { SdJwtError } from './errors.js';
import type { SdJwtErrorCode } from './errors.js';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function b64urlEncode(bytes: Uint8Array | string): string {
  return Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes).toString('base64url');
}

/** Decodes strict base64url: Node's decoder silently skips foreign characters, so check first. */
export function b64urlDecode(text: string, code: SdJwtErrorCode, what: string): Buffer {
  // A length of 1 mod 4 cannot come from any byte string.
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new SdJwtError(code, `${what} is not base64url without padding`);
  }
  return Buffer.from(text, 'base64url');
}

/** base64url(SHA-256(ASCII bytes of `text`)): the digest of RFC 9901 §4.2.3 and the sd_hash of §4.3. */
export function sha256B64url(text: string): string {
  return createHash('sha256').update(text, 'ascii').digest('base64url');
}

/** 128 random bits, base64url: the salt RFC 9901 §4.2.1 recommends. */
export function randomSalt(): string {
  return randomBytes(16).toString('base64url');
}

export function decodeJsonObject(segment: string, code: SdJwtErrorCode, what: string): Record<string, unknown> {
  const bytes = b64urlDecode(segment, code, what);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new SdJwtError(code, `${what} is not UTF-8 JSON`);
  }
  if (!isPlainObject(value)) throw new SdJwtError(code, `${what} is not a JSON object`);
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nowSeconds(now: Date | undefined): number {
  return Math.floor((now ?? new Date()).getTime() / 1000);
}
