// Token Status List (draft-ietf-oauth-status-list): a byte array of 1-, 2-, 4- or 8-bit entries,
// entry i starting at bit (i * bits) % 8 of byte floor(i * bits / 8) counted from the least
// significant bit, ZLIB-compressed (RFC 1950) and base64url-encoded in `lst`, and signed as a JWT.
import { deflateSync, inflateSync } from 'node:zlib';
import { b64urlDecode, b64urlEncode, isPlainObject, nowSeconds } from './encoding.js';
import { SdJwtError } from './errors.js';
import { numericDate } from './issue.js';
import type { Instant, StatusReference } from './issue.js';
import { algForKey, decodeJwt, signJwt, verifyJws } from './jws.js';
import type { JwtHeader, JwtPayload, PrivateKey, SigningAlg, VerificationKeys } from './jws.js';

export const STATUS_VALID = 0;
export const STATUS_INVALID = 1;
export const STATUS_SUSPENDED = 2;

export const STATUS_LIST_TYP = 'statuslist+jwt';

export type StatusBits = 1 | 2 | 4 | 8;

/** A decompressed list may not exceed this (a ZLIB bomb guard): 2^27 one-bit entries. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;

function assertBits(bits: unknown): asserts bits is StatusBits {
  if (bits !== 1 && bits !== 2 && bits !== 4 && bits !== 8) {
    throw new SdJwtError('MALFORMED', `bits must be 1, 2, 4 or 8, not ${JSON.stringify(bits)}`);
  }
}

export class StatusList {
  readonly bits: StatusBits;
  /** The number of entries (for a decoded list: every entry its bytes hold). */
  readonly size: number;
  private readonly bytes: Uint8Array;

  constructor(size: number, bits: StatusBits = 1) {
    assertBits(bits);
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new SdJwtError('INVALID_ARGUMENT', `a status list size must be a positive integer, not ${size}`);
    }
    this.bits = bits;
    this.size = size;
    this.bytes = new Uint8Array(Math.ceil((size * bits) / 8));
  }

  static fromBytes(bytes: Uint8Array, bits: StatusBits): StatusList {
    assertBits(bits);
    if (bytes.length === 0) throw new SdJwtError('MALFORMED', 'a status list has no bytes');
    const list = new StatusList((bytes.length * 8) / bits, bits);
    list.bytes.set(bytes);
    return list;
  }

  /** Reads `lst` (base64url of ZLIB-compressed bytes). */
  static decode(lst: string, bits: number, options: { maxBytes?: number } = {}): StatusList {
    assertBits(bits);
    if (typeof lst !== 'string') throw new SdJwtError('MALFORMED', 'lst is not a string');
    const compressed = b64urlDecode(lst, 'MALFORMED', 'lst');
    let bytes: Buffer;
    try {
      bytes = inflateSync(compressed, { maxOutputLength: options.maxBytes ?? DEFAULT_MAX_BYTES });
    } catch (e) {
      throw new SdJwtError(
        'MALFORMED',
        `lst is not ZLIB (RFC 1950) data within the size limit: ${(e as Error).message}`,
      );
    }
    return StatusList.fromBytes(bytes, bits);
  }

  get(index: number): number {
    const { byte, shift } = this.locate(index);
    return ((this.bytes[byte] ?? 0) >> shift) & this.mask();
  }

  set(index: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > this.mask()) {
      throw new SdJwtError('INVALID_ARGUMENT', `a ${this.bits}-bit status is 0..${this.mask()}, not ${value}`);
    }
    const { byte, shift } = this.locate(index);
    this.bytes[byte] = ((this.bytes[byte] ?? 0) & ~(this.mask() << shift)) | (value << shift);
  }

  toBytes(): Uint8Array {
    return this.bytes.slice();
  }

  /** `lst`: ZLIB at the highest level, as the draft recommends (RFC 1950 header 78 DA). */
  encode(): string {
    return b64urlEncode(deflateSync(this.bytes, { level: 9 }));
  }

  toJSON(): { bits: StatusBits; lst: string } {
    return { bits: this.bits, lst: this.encode() };
  }

  private mask(): number {
    return (1 << this.bits) - 1;
  }

  private locate(index: number): { byte: number; shift: number } {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new SdJwtError(
        'STATUS_INDEX_OUT_OF_RANGE',
        `status index ${index} is outside the list (0..${this.size - 1})`,
        { index, size: this.size },
      );
    }
    const bit = index * this.bits;
    return { byte: Math.floor(bit / 8), shift: bit % 8 };
  }
}

export interface SignStatusListTokenOptions {
  /** The status list's URI: the token's `sub`, and the `uri` Referenced Tokens carry. */
  uri: string;
  list: StatusList;
  signingKey: PrivateKey;
  kid: string;
  /** Default: from the key. */
  alg?: SigningAlg;
  /** Optional `iss`. */
  issuer?: string;
  iat?: Instant;
  exp?: Instant;
  /** Seconds a verifier may cache the token. */
  ttl?: number;
  aggregationUri?: string;
}

export async function signStatusListToken(options: SignStatusListTokenOptions): Promise<string> {
  const { uri, list, kid } = options;
  if (typeof uri !== 'string' || uri === '') throw new SdJwtError('INVALID_ARGUMENT', 'uri must be a non-empty string');
  if (!(list instanceof StatusList)) throw new SdJwtError('INVALID_ARGUMENT', 'list must be a StatusList');
  const payload: JwtPayload = {};
  if (options.issuer !== undefined) payload.iss = options.issuer;
  payload.sub = uri;
  payload.iat = numericDate(options.iat ?? new Date(), 'iat');
  if (options.exp !== undefined) payload.exp = numericDate(options.exp, 'exp');
  if (options.ttl !== undefined) {
    if (!Number.isSafeInteger(options.ttl) || options.ttl <= 0) {
      throw new SdJwtError('INVALID_ARGUMENT', 'ttl must be a positive number of seconds');
    }
    payload.ttl = options.ttl;
  }
  const statusList: Record<string, unknown> = { bits: list.bits, lst: list.encode() };
  if (options.aggregationUri !== undefined) statusList.aggregation_uri = options.aggregationUri;
  payload.status_list = statusList;
  return signJwt(
    { alg: options.alg ?? algForKey(options.signingKey), kid, typ: STATUS_LIST_TYP },
    payload,
    options.signingKey,
  );
}

export interface VerifyStatusListTokenOptions {
  keys: VerificationKeys;
  /** The URI the Referenced Token names: the token's `sub` must be exactly this. */
  uri: string;
  now?: Date;
  clockSkewSeconds?: number;
  maxBytes?: number;
}

export interface VerifiedStatusListToken {
  header: JwtHeader;
  payload: JwtPayload;
  list: StatusList;
}

export async function verifyStatusListToken(
  jwt: string,
  options: VerifyStatusListTokenOptions,
): Promise<VerifiedStatusListToken> {
  if (typeof jwt !== 'string') throw new SdJwtError('MALFORMED', 'a Status List Token must be a string');
  const decoded = decodeJwt(jwt, 'MALFORMED', 'the Status List Token');
  const { header, payload } = decoded;
  if (header.typ !== STATUS_LIST_TYP) {
    throw new SdJwtError(
      'WRONG_TYP',
      `the Status List Token has typ ${JSON.stringify(header.typ)}, not ${STATUS_LIST_TYP}`,
    );
  }
  await verifyJws(jwt, decoded, options.keys, {
    badSignature: 'STATUS_LIST_BAD_SIGNATURE',
    what: 'the Status List Token',
  });
  if (payload.sub !== options.uri) {
    throw new SdJwtError(
      'STATUS_LIST_WRONG_SUBJECT',
      `the Status List Token is for ${JSON.stringify(payload.sub)}, not the referenced ${options.uri}`,
      { sub: payload.sub, uri: options.uri },
    );
  }
  if (typeof payload.iat !== 'number') throw new SdJwtError('MALFORMED', 'the Status List Token has no iat');
  if (payload.exp !== undefined) {
    if (typeof payload.exp !== 'number') throw new SdJwtError('MALFORMED', 'the Status List Token exp is not a number');
    const now = nowSeconds(options.now);
    if (now >= payload.exp + (options.clockSkewSeconds ?? 60)) {
      throw new SdJwtError(
        'STATUS_LIST_EXPIRED',
        `the Status List Token expired at ${new Date(payload.exp * 1000).toISOString()}`,
        {
          exp: payload.exp,
          now,
        },
      );
    }
  }
  const statusList = payload.status_list;
  if (!isPlainObject(statusList)) throw new SdJwtError('MALFORMED', 'the Status List Token has no status_list object');
  assertBits(statusList.bits);
  const list = StatusList.decode(statusList.lst as string, statusList.bits, { maxBytes: options.maxBytes });
  return { header, payload, list };
}

/** The status of a credential: verifies its Status List Token, then reads the entry at `idx`. */
export async function resolveStatus(
  reference: StatusReference,
  statusListToken: string,
  options: Omit<VerifyStatusListTokenOptions, 'uri'>,
): Promise<{ status: number; list: StatusList; payload: JwtPayload }> {
  const { list, payload } = await verifyStatusListToken(statusListToken, { ...options, uri: reference.uri });
  return { status: list.get(reference.idx), list, payload };
}
