// A small, strict DER reader (and a minimal writer) over byte offsets.
// General ASN.1 libraries allocate an object tree per certificate and parse 0.4–1.7k certs/s;
// walking offsets in one buffer keeps the verification hot path near the RSA bound.
// Strictness is deliberate: definite minimal lengths only, no trailing bytes, bounded nesting.

import { Malformed } from './errors.js';

/** One TLV: `tag` is the identifier octets as a number (e.g. 0x30, 0xa0, 0xdf21). */
export interface Tlv {
  readonly tag: number;
  /** Offset of the first identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly valueStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Context-specific tag number n, constructed or primitive. */
export const ctx = (n: number, constructed = true): number => (constructed ? 0xa0 : 0x80) | n;

const MAX_TAG_OCTETS = 4;

/** Reads the TLV at `offset`, which must end at or before `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  const start = offset;
  if (offset >= limit) throw new Malformed('unexpected end of data: a TLV was expected', { offset });
  let tag = buf[offset++]!;
  if ((tag & 0x1f) === 0x1f) {
    // High tag number form (used by card TLVs such as DF21); numbers themselves are not interpreted.
    let n = 1;
    let b: number;
    do {
      if (offset >= limit) throw new Malformed('truncated tag', { offset: start });
      b = buf[offset++]!;
      tag = tag * 256 + b;
      if (++n > MAX_TAG_OCTETS) throw new Malformed('tag too long', { offset: start });
    } while (b & 0x80);
  }
  if (offset >= limit) throw new Malformed('truncated length', { offset: start });
  const first = buf[offset++]!;
  let length: number;
  if (first < 0x80) {
    length = first;
  } else if (first === 0x80) {
    throw new Malformed('indefinite length is not DER', { offset: start });
  } else {
    const count = first & 0x7f;
    if (count > 4) throw new Malformed('length field too large', { offset: start });
    if (offset + count > limit) throw new Malformed('truncated length', { offset: start });
    if (buf[offset] === 0) throw new Malformed('non-minimal length encoding', { offset: start });
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset++]!;
    if (length < 0x80) throw new Malformed('non-minimal length encoding', { offset: start });
  }
  const end = offset + length;
  if (end > limit)
    throw new Malformed(`truncated: a TLV needs ${length} bytes but ${limit - offset} remain`, { offset: start });
  return { tag, start, valueStart: offset, end };
}

/** Parses a whole buffer as exactly one TLV; trailing bytes are an error. */
export function readSingle(buf: Uint8Array, expectedTag?: number): Tlv {
  const tlv = readTlv(buf, 0, buf.length);
  if (tlv.end !== buf.length)
    throw new Malformed(`${buf.length - tlv.end} trailing bytes after the DER object`, { offset: tlv.end });
  if (expectedTag !== undefined && tlv.tag !== expectedTag) throw unexpectedTag(tlv, expectedTag);
  return tlv;
}

function unexpectedTag(tlv: Tlv, expected: number): Malformed {
  return new Malformed(`expected tag 0x${expected.toString(16)}, found 0x${tlv.tag.toString(16)}`, {
    offset: tlv.start,
  });
}

/** Sequential reader over the children of one constructed TLV. */
export class DerCursor {
  private pos: number;
  readonly buf: Uint8Array;
  readonly end: number;

  constructor(buf: Uint8Array, start: number, end: number) {
    this.buf = buf;
    this.end = end;
    this.pos = start;
  }

  static of(buf: Uint8Array, parent: Tlv): DerCursor {
    return new DerCursor(buf, parent.valueStart, parent.end);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  peekTag(): number | undefined {
    return this.done ? undefined : readTlv(this.buf, this.pos, this.end).tag;
  }

  next(expectedTag?: number): Tlv {
    const tlv = readTlv(this.buf, this.pos, this.end);
    if (expectedTag !== undefined && tlv.tag !== expectedTag) throw unexpectedTag(tlv, expectedTag);
    this.pos = tlv.end;
    return tlv;
  }

  /** Next element if it carries `tag`, else undefined (for OPTIONAL / DEFAULT fields). */
  optional(tag: number): Tlv | undefined {
    if (this.done) return undefined;
    const tlv = readTlv(this.buf, this.pos, this.end);
    if (tlv.tag !== tag) return undefined;
    this.pos = tlv.end;
    return tlv;
  }

  expectEnd(what: string): void {
    if (!this.done) throw new Malformed(`unexpected extra element in ${what}`, { offset: this.pos });
  }

  /** All remaining children. */
  rest(): Tlv[] {
    const out: Tlv[] = [];
    while (!this.done) out.push(this.next());
    return out;
  }
}

export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  return DerCursor.of(buf, parent).rest();
}

export function valueOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.valueStart, tlv.end);
}

export function bytesOf(buf: Uint8Array, tlv: Tlv): Uint8Array {
  return buf.subarray(tlv.start, tlv.end);
}

// ---------------------------------------------------------------------------------------------
// Primitive decoders

const oidCache = new Map<string, string>();

export function decodeOid(buf: Uint8Array, tlv: Tlv): string {
  if (tlv.tag !== TAG.OID) throw unexpectedTag(tlv, TAG.OID);
  const key = Buffer.from(buf.buffer, buf.byteOffset + tlv.valueStart, tlv.end - tlv.valueStart).toString('latin1');
  const cached = oidCache.get(key);
  if (cached !== undefined) return cached;
  if (tlv.end === tlv.valueStart) throw new Malformed('empty OBJECT IDENTIFIER', { offset: tlv.start });
  const arcs: string[] = [];
  let value = 0n;
  let fresh = true;
  for (let i = tlv.valueStart; i < tlv.end; i++) {
    const b = buf[i]!;
    if (fresh && b === 0x80) throw new Malformed('non-minimal OBJECT IDENTIFIER arc', { offset: tlv.start });
    value = (value << 7n) | BigInt(b & 0x7f);
    fresh = (b & 0x80) === 0;
    if (fresh) {
      if (arcs.length === 0) {
        const first = value < 80n ? value / 40n : 2n;
        arcs.push(first.toString(), (value - first * 40n).toString());
      } else {
        arcs.push(value.toString());
      }
      value = 0n;
    }
  }
  if (!fresh) throw new Malformed('truncated OBJECT IDENTIFIER', { offset: tlv.start });
  const oid = arcs.join('.');
  if (oidCache.size < 4096) oidCache.set(key, oid);
  return oid;
}

/** INTEGER contents as upper-case hex of its minimal two's-complement encoding. */
export function decodeIntegerHex(buf: Uint8Array, tlv: Tlv): string {
  if (tlv.tag !== TAG.INTEGER) throw unexpectedTag(tlv, TAG.INTEGER);
  const len = tlv.end - tlv.valueStart;
  if (len === 0) throw new Malformed('empty INTEGER', { offset: tlv.start });
  if (len > 1) {
    const a = buf[tlv.valueStart]!;
    const b = buf[tlv.valueStart + 1]!;
    if ((a === 0x00 && (b & 0x80) === 0) || (a === 0xff && (b & 0x80) !== 0)) {
      throw new Malformed('non-minimal INTEGER encoding', { offset: tlv.start });
    }
  }
  return Buffer.from(valueOf(buf, tlv)).toString('hex').toUpperCase();
}

export function decodeSmallInteger(buf: Uint8Array, tlv: Tlv): number {
  const hex = decodeIntegerHex(buf, tlv);
  if (hex.length > 12) throw new Malformed('INTEGER too large', { offset: tlv.start });
  let n = parseInt(hex, 16);
  if (buf[tlv.valueStart]! & 0x80) n -= 2 ** (hex.length * 4);
  return n;
}

export function decodeBoolean(buf: Uint8Array, tlv: Tlv): boolean {
  if (tlv.tag !== TAG.BOOLEAN) throw unexpectedTag(tlv, TAG.BOOLEAN);
  if (tlv.end - tlv.valueStart !== 1) throw new Malformed('BOOLEAN must be one byte', { offset: tlv.start });
  const v = buf[tlv.valueStart];
  if (v === 0xff) return true;
  if (v === 0x00) return false;
  throw new Malformed('BOOLEAN must be 00 or FF in DER', { offset: tlv.start });
}

/** BIT STRING contents without the unused-bits octet, and the number of unused bits. */
export function decodeBitString(buf: Uint8Array, tlv: Tlv): { bytes: Uint8Array; unusedBits: number } {
  if (tlv.tag !== TAG.BIT_STRING) throw unexpectedTag(tlv, TAG.BIT_STRING);
  if (tlv.end === tlv.valueStart) throw new Malformed('empty BIT STRING', { offset: tlv.start });
  const unusedBits = buf[tlv.valueStart]!;
  if (unusedBits > 7 || (unusedBits > 0 && tlv.end - tlv.valueStart === 1)) {
    throw new Malformed('invalid BIT STRING unused-bits count', { offset: tlv.start });
  }
  return { bytes: buf.subarray(tlv.valueStart + 1, tlv.end), unusedBits };
}

const decoderUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Any ASN.1 character string type a JPKI certificate may carry, as a JS string. */
export function decodeString(buf: Uint8Array, tlv: Tlv): string {
  const bytes = valueOf(buf, tlv);
  switch (tlv.tag) {
    case TAG.UTF8_STRING:
      try {
        return decoderUtf8.decode(bytes);
      } catch {
        throw new Malformed('invalid UTF-8 in UTF8String', { offset: tlv.start });
      }
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case TAG.T61_STRING:
      for (const b of bytes)
        if (b > 0x7f) throw new Malformed('non-ASCII byte in an ASCII string type', { offset: tlv.start });
      return Buffer.from(bytes).toString('latin1');
    case TAG.BMP_STRING: {
      if (bytes.length % 2) throw new Malformed('odd-length BMPString', { offset: tlv.start });
      let s = '';
      for (let i = 0; i < bytes.length; i += 2) s += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
      return s;
    }
    default:
      throw new Malformed(`tag 0x${tlv.tag.toString(16)} is not a string type`, { offset: tlv.start });
  }
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), as DER requires them. */
export function decodeTime(buf: Uint8Array, tlv: Tlv): Date {
  const s = Buffer.from(valueOf(buf, tlv)).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  if (tlv.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new Malformed(`invalid UTCTime "${s}"`, { offset: tlv.start });
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (tlv.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) throw new Malformed(`invalid GeneralizedTime "${s}"`, { offset: tlv.start });
    year = Number(m[1]);
  } else {
    throw new Malformed(`tag 0x${tlv.tag.toString(16)} is not a time`, { offset: tlv.start });
  }
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const t = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(t);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw new Malformed(`impossible date "${s}"`, { offset: tlv.start });
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Minimal writer (requests, test fixtures)

/** DER length octets for a content of n bytes. */
export function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function encodeTag(tag: number): Buffer {
  const bytes: number[] = [];
  for (let v = tag; v > 0 || bytes.length === 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes);
}

/** Encodes one TLV whose value is the concatenation of `parts`. */
export function encodeTlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const value = Buffer.concat(parts);
  return Buffer.concat([encodeTag(tag), encodeLength(value.length), value]);
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map((a) => BigInt(a));
  if (arcs.length < 2) throw new RangeError(`invalid OID ${oid}`);
  const out: number[] = [];
  const values = [arcs[0]! * 40n + arcs[1]!, ...arcs.slice(2)];
  for (const v of values) {
    const chunk: number[] = [Number(v & 0x7fn)];
    for (let rest = v >> 7n; rest > 0n; rest >>= 7n) chunk.unshift(Number(rest & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return encodeTlv(TAG.OID, Buffer.from(out));
}

/** INTEGER from a non-negative bigint or an unsigned big-endian byte string. */
export function encodeUnsignedInteger(value: bigint | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'bigint') {
    let hex = value.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    bytes = Buffer.from(hex, 'hex');
  } else {
    bytes = Buffer.from(value);
  }
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return encodeTlv(TAG.INTEGER, bytes);
}
