// CRLs at national scale: verify the signature, then build a compact index straight from the DER
// (no object per entry), so tens of millions of revoked serials load in seconds and answer
// "is serial S revoked, why, since when" in well under a microsecond.

import { constants, verify as cryptoVerify } from 'node:crypto';
import {
  DerCursor,
  TAG,
  bytesOf,
  ctx,
  decodeBitString,
  decodeOid,
  decodeSmallInteger,
  decodeTime,
  readSingle,
  readTlv,
  type Tlv,
} from './der.js';
import { BadSignature, Malformed, RevocationUnavailable, UntrustedIssuer } from './errors.js';
import { CRL_REASONS, type RevocationReason } from './revocation.js';
import { isSha256WithRsa, parseName, type Name, type X509Certificate } from './x509.js';

const OID_CRL_NUMBER = '2.5.29.20';
const OID_AKI = '2.5.29.35';
const OID_IDP = '2.5.29.28';
const KNOWN_CRL_EXTENSIONS = new Set([OID_CRL_NUMBER, OID_AKI, OID_IDP]);

export interface CrlEntry {
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
}

/**
 * Open-addressing hash table of revoked serials. Serials of up to 8 bytes (JPKI uses 4) live in
 * typed arrays: 8 bytes of key, 4 bytes of revocation time (seconds), 1 byte of reason per slot.
 * Longer serials go to a small Map.
 */
class SerialTable {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private time: Uint32Array;
  private reason: Uint8Array; // 0 = empty slot, else CRL reason code + 1
  private mask: number;
  private long = new Map<string, { time: number; reason: number }>();
  count = 0;

  constructor(expected: number) {
    let size = 16;
    while (size < expected * 1.5) size *= 2;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    this.time = new Uint32Array(size);
    this.reason = new Uint8Array(size);
    this.mask = size - 1;
  }

  static hash(hi: number, lo: number): number {
    let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi ^ 0xc2b2ae35, 0x27d4eb2f);
    h ^= h >>> 15;
    return Math.imul(h, 0x2c1b3c6d) >>> 0;
  }

  insert(hi: number, lo: number, time: number, reasonCode: number): void {
    if (this.count * 1.5 >= this.mask) this.grow();
    let i = SerialTable.hash(hi, lo) & this.mask;
    while (this.reason[i] !== 0) {
      if (this.hi[i] === hi && this.lo[i] === lo) {
        this.time[i] = time;
        this.reason[i] = reasonCode + 1;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.time[i] = time;
    this.reason[i] = reasonCode + 1;
    this.count++;
  }

  insertLong(serialHex: string, time: number, reasonCode: number): void {
    if (!this.long.has(serialHex)) this.count++;
    this.long.set(serialHex, { time, reason: reasonCode });
  }

  /** Slot index or -1. */
  find(hi: number, lo: number): number {
    let i = SerialTable.hash(hi, lo) & this.mask;
    while (this.reason[i] !== 0) {
      if (this.hi[i] === hi && this.lo[i] === lo) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  findLong(serialHex: string): { time: number; reason: number } | undefined {
    return this.long.get(serialHex);
  }

  /** Entries of this table that `other` lacks: a scan of the typed arrays, an object only per entry found. */
  *missingFrom(
    other: SerialTable,
  ): Generator<
    { hi: number; lo: number; time: number; reason: number } | { serial: string; time: number; reason: number }
  > {
    for (let i = 0; i <= this.mask; i++) {
      if (this.reason[i] !== 0 && other.find(this.hi[i]!, this.lo[i]!) < 0)
        yield { hi: this.hi[i]!, lo: this.lo[i]!, time: this.time[i]!, reason: this.reason[i]! - 1 };
    }
    for (const [serial, v] of this.long) if (!other.long.has(serial)) yield { serial, ...v };
  }

  entryAt(slot: number): { time: number; reason: number } {
    return { time: this.time[slot]!, reason: this.reason[slot]! - 1 };
  }

  *entries(): Generator<
    { hi: number; lo: number; time: number; reason: number } | { serial: string; time: number; reason: number }
  > {
    for (let i = 0; i <= this.mask; i++)
      if (this.reason[i] !== 0)
        yield { hi: this.hi[i]!, lo: this.lo[i]!, time: this.time[i]!, reason: this.reason[i]! - 1 };
    for (const [serial, v] of this.long) yield { serial, ...v };
  }

  get bytes(): number {
    return this.hi.byteLength * 2 + this.time.byteLength + this.reason.byteLength;
  }

  private grow(): void {
    const old = { hi: this.hi, lo: this.lo, time: this.time, reason: this.reason };
    const size = (this.mask + 1) * 2;
    this.hi = new Uint32Array(size);
    this.lo = new Uint32Array(size);
    this.time = new Uint32Array(size);
    this.reason = new Uint8Array(size);
    this.mask = size - 1;
    const long = this.long.size;
    this.count = long;
    for (let i = 0; i < old.reason.length; i++) {
      if (old.reason[i] !== 0) this.insert(old.hi[i]!, old.lo[i]!, old.time[i]!, old.reason[i]! - 1);
    }
  }
}

/** Serial bytes (without sign padding) → two 32-bit halves, or undefined when longer than 8 bytes. */
function splitSerial(buf: Uint8Array, start: number, end: number): [number, number] | undefined {
  while (start < end - 1 && buf[start] === 0) start++;
  const len = end - start;
  if (len > 8) return undefined;
  let hi = 0;
  let lo = 0;
  for (let i = start; i < end; i++) {
    hi = ((hi << 8) | (lo >>> 24)) >>> 0;
    lo = ((lo << 8) | buf[i]!) >>> 0;
  }
  return [hi, lo];
}

/** Canonical serial text: upper-case hex of the value, without leading zero bytes, even length. */
function normalizeSerial(hex: string): string {
  const digits = hex.toUpperCase().replace(/^0+(?=.)/, '');
  return digits.length % 2 ? `0${digits}` : digits;
}

function serialHex(serial: string): [number, number] | undefined {
  if (!/^[0-9A-Fa-f]+$/.test(serial)) throw new Malformed(`serial "${serial}" is not hex`);
  const hex = normalizeSerial(serial);
  if (hex.length > 16) return undefined;
  const padded = hex.padStart(16, '0');
  return [parseInt(padded.slice(0, 8), 16) >>> 0, parseInt(padded.slice(8), 16) >>> 0];
}

/** Seconds since the epoch from a UTCTime/GeneralizedTime TLV, without allocating strings. */
function timeSeconds(buf: Uint8Array, tlv: Tlv): number {
  const v = tlv.valueStart;
  const d = (i: number): number => {
    const c = buf[v + i]! - 0x30;
    if (c < 0 || c > 9) throw new Malformed('invalid digit in a CRL time', { offset: tlv.start });
    return c;
  };
  let year: number;
  let o: number;
  if (tlv.tag === TAG.UTC_TIME && tlv.end - v === 13) {
    const yy = d(0) * 10 + d(1);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    o = 2;
  } else if (tlv.tag === TAG.GENERALIZED_TIME && tlv.end - v === 15) {
    year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
    o = 4;
  } else {
    return decodeTime(buf, tlv).getTime() / 1000; // throws the precise error
  }
  if (buf[tlv.end - 1] !== 0x5a) throw new Malformed('CRL time is not in UTC (Z)', { offset: tlv.start });
  const ms = Date.UTC(
    year,
    d(o) * 10 + d(o + 1) - 1,
    d(o + 2) * 10 + d(o + 3),
    d(o + 4) * 10 + d(o + 5),
    d(o + 6) * 10 + d(o + 7),
    d(o + 8) * 10 + d(o + 9),
  );
  return ms / 1000;
}

export interface CrlInfo {
  readonly issuer: Name;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly crlNumber: string | undefined;
  /** AKI key id of the signing CA (upper-case hex). */
  readonly authorityKeyId: string | undefined;
  /** Distribution point this CRL covers (issuingDistributionPoint), when partitioned. */
  readonly distributionPoint: Name | undefined;
  readonly count: number;
}

export interface LoadCrlOptions {
  /** The CA that must have signed the CRL (chosen by the caller from the trust store). */
  issuer: X509Certificate;
  /** Refuse CRLs whose nextUpdate + grace is before this time (default now). */
  at?: Date;
  /** Tolerance past nextUpdate, in seconds (default 0). */
  graceSeconds?: number;
}

/** A verified CRL's revoked serials, indexed. */
export class CrlIndex {
  readonly info: CrlInfo;
  private readonly table: SerialTable;
  private constructor(info: CrlInfo, table: SerialTable) {
    this.info = info;
    this.table = table;
  }

  /**
   * Verifies the CRL's signature with `issuer`, checks freshness and builds the index.
   * Throws `Malformed`, `BadSignature`, `UntrustedIssuer` (issuer name mismatch) or
   * `RevocationUnavailable` (stale: past nextUpdate + grace).
   */
  static load(der: Uint8Array, options: LoadCrlOptions): CrlIndex {
    const buf = der;
    const top = readSingle(buf, TAG.SEQUENCE);
    const c = DerCursor.of(buf, top);
    const tbsTlv = c.next(TAG.SEQUENCE);
    const algTlv = c.next(TAG.SEQUENCE);
    const sigTlv = c.next(TAG.BIT_STRING);
    c.expectEnd('CertificateList');
    const alg = Buffer.from(bytesOf(buf, algTlv));
    if (!isSha256WithRsa(alg)) throw new Malformed('CRL signature algorithm is not sha256WithRSAEncryption');

    const t = DerCursor.of(buf, tbsTlv);
    const versionTlv = t.optional(TAG.INTEGER);
    if (versionTlv && decodeSmallInteger(buf, versionTlv) !== 1) throw new Malformed('CRL version is not v2');
    const innerAlg = t.next(TAG.SEQUENCE);
    if (!Buffer.from(bytesOf(buf, innerAlg)).equals(alg))
      throw new Malformed('CRL signature algorithm inside TBS differs from the outer one');
    const issuerName = parseName(buf, t.next(TAG.SEQUENCE));
    const thisUpdate = decodeTime(buf, t.next());
    const nextTag = t.peekTag();
    const nextUpdate =
      nextTag === TAG.UTC_TIME || nextTag === TAG.GENERALIZED_TIME ? decodeTime(buf, t.next()) : undefined;
    const revoked = t.optional(TAG.SEQUENCE);
    const extsWrapper = t.optional(ctx(0));
    t.expectEnd('TBSCertList');

    // Who signed it: the name must match and the signature must verify with the given CA.
    const issuer = options.issuer;
    if (!Buffer.from(issuerName.der).equals(issuer.subject.der)) {
      throw new UntrustedIssuer(issuerName.text, `the CRL is not from ${issuer.subject.text}`);
    }
    const sig = decodeBitString(buf, sigTlv);
    if (
      sig.unusedBits !== 0 ||
      !cryptoVerify(
        'sha256',
        bytesOf(buf, tbsTlv),
        { key: issuer.key, padding: constants.RSA_PKCS1_PADDING },
        sig.bytes,
      )
    ) {
      throw new BadSignature(
        `the CRL's signature does not verify with ${issuer.subject.text} (serial ${issuer.serial})`,
      );
    }

    const at = options.at ?? new Date();
    const grace = (options.graceSeconds ?? 0) * 1000;
    if (!nextUpdate) throw new RevocationUnavailable('the CRL has no nextUpdate, so its freshness cannot be judged');
    if (at.getTime() > nextUpdate.getTime() + grace) {
      throw new RevocationUnavailable(
        `the CRL is stale: nextUpdate ${nextUpdate.toISOString()} (+${grace / 1000} s grace) is before ${at.toISOString()}`,
      );
    }
    if (thisUpdate.getTime() > at.getTime() + 300_000)
      throw new RevocationUnavailable(`the CRL's thisUpdate ${thisUpdate.toISOString()} is in the future`);

    let crlNumber: string | undefined;
    let authorityKeyId: string | undefined;
    let distributionPoint: Name | undefined;
    if (extsWrapper) {
      const w = DerCursor.of(buf, extsWrapper);
      const exts = w.next(TAG.SEQUENCE);
      w.expectEnd('crlExtensions');
      for (const e of DerCursor.of(buf, exts).rest()) {
        const ec = DerCursor.of(buf, e);
        const oid = decodeOid(buf, ec.next(TAG.OID));
        const crit = ec.optional(TAG.BOOLEAN);
        const critical = crit !== undefined && buf[crit.valueStart] === 0xff;
        const value = ec.next(TAG.OCTET_STRING);
        if (critical && !KNOWN_CRL_EXTENSIONS.has(oid))
          throw new Malformed(`CRL has an unknown critical extension ${oid}`);
        const inner = readTlv(buf, value.valueStart, value.end);
        if (oid === OID_CRL_NUMBER)
          crlNumber = Buffer.from(buf.subarray(inner.valueStart, inner.end)).toString('hex').toUpperCase();
        if (oid === OID_AKI) {
          const k = DerCursor.of(buf, inner).optional(ctx(0, false));
          if (k) authorityKeyId = Buffer.from(buf.subarray(k.valueStart, k.end)).toString('hex').toUpperCase();
        }
        if (oid === OID_IDP) distributionPoint = parseIdpName(buf, inner);
      }
    }
    if (authorityKeyId && issuer.subjectKeyId && authorityKeyId !== issuer.subjectKeyId) {
      throw new UntrustedIssuer(
        issuerName.text,
        `the CRL's AKI ${authorityKeyId} names another CA generation than ${issuer.serial}`,
      );
    }

    const table = new SerialTable(revoked ? countEntries(buf, revoked) : 0);
    if (revoked) indexEntries(buf, revoked, table);
    return new CrlIndex(
      { issuer: issuerName, thisUpdate, nextUpdate, crlNumber, authorityKeyId, distributionPoint, count: table.count },
      table,
    );
  }

  /** The revocation of `serial` (upper-case or lower-case hex), or undefined when not on this CRL. */
  lookup(serial: string): CrlEntry | undefined {
    const split = serialHex(serial);
    let hit: { time: number; reason: number } | undefined;
    if (split) {
      const slot = this.table.find(split[0], split[1]);
      hit = slot < 0 ? undefined : this.table.entryAt(slot);
    } else {
      hit = this.table.findLong(normalizeSerial(serial));
    }
    if (!hit) return undefined;
    return {
      serial: normalizeSerial(serial),
      revokedAt: new Date(hit.time * 1000),
      reason: CRL_REASONS[hit.reason] ?? 'unspecified',
    };
  }

  get size(): number {
    return this.table.count;
  }

  /** Memory held by the index (the CRL bytes themselves are not kept). */
  get indexBytes(): number {
    return this.table.bytes;
  }

  *entries(): Generator<CrlEntry> {
    for (const e of this.table.entries()) yield toEntry(e);
  }

  /**
   * The entries of this CRL that `previous` does not list (all of them without one): what became
   * revoked between two CRLs of the same scope. One pass over this index's arrays with a probe of
   * the other's, so millions of entries cost milliseconds and no object per unchanged entry.
   * Entries only `previous` lists (a released hold) are not reported.
   */
  addedSince(previous: CrlIndex | undefined): CrlEntry[] {
    if (!previous) return [...this.entries()];
    const added: CrlEntry[] = [];
    for (const e of this.table.missingFrom(previous.table)) added.push(toEntry(e));
    return added;
  }
}

function toEntry(
  e: { hi: number; lo: number; time: number; reason: number } | { serial: string; time: number; reason: number },
): CrlEntry {
  const serial = 'serial' in e ? e.serial : normalizeSerial(((BigInt(e.hi) << 32n) | BigInt(e.lo)).toString(16));
  return { serial, revokedAt: new Date(e.time * 1000), reason: CRL_REASONS[e.reason] ?? 'unspecified' };
}

function parseIdpName(buf: Uint8Array, idp: Tlv): Name | undefined {
  const dpName = DerCursor.of(buf, idp).optional(ctx(0));
  if (!dpName) return undefined;
  const fullName = DerCursor.of(buf, dpName).optional(ctx(0));
  if (!fullName) return undefined;
  const dir = DerCursor.of(buf, fullName).optional(ctx(4));
  if (!dir) return undefined;
  return parseName(buf, readTlv(buf, dir.valueStart, dir.end));
}

/** Entries in revokedCertificates, counted from their headers only, to size the table once. */
function countEntries(buf: Uint8Array, revoked: Tlv): number {
  let n = 0;
  for (let pos = revoked.valueStart; pos < revoked.end; n++) pos = readTlv(buf, pos, revoked.end).end;
  return n;
}

/** The hot loop: one pass over revokedCertificates with no per-entry objects beyond TLV reads. */
function indexEntries(buf: Uint8Array, revoked: Tlv, table: SerialTable): void {
  for (let pos = revoked.valueStart; pos < revoked.end;) {
    const entry = readTlv(buf, pos, revoked.end);
    if (entry.tag !== TAG.SEQUENCE) throw new Malformed('revokedCertificates entry is not a SEQUENCE', { offset: pos });
    pos = entry.end;
    const serial = readTlv(buf, entry.valueStart, entry.end);
    if (serial.tag !== TAG.INTEGER || serial.end === serial.valueStart)
      throw new Malformed('revoked entry without a serial', { offset: entry.start });
    if (buf[serial.valueStart]! & 0x80) throw new Malformed('negative serial in a CRL entry', { offset: entry.start });
    const date = readTlv(buf, serial.end, entry.end);
    const time = timeSeconds(buf, date);
    let reason = 0;
    if (date.end < entry.end) {
      const exts = readTlv(buf, date.end, entry.end);
      if (exts.tag !== TAG.SEQUENCE || exts.end !== entry.end)
        throw new Malformed('bad crlEntryExtensions', { offset: date.end });
      for (let e = exts.valueStart; e < exts.end;) {
        const ext = readTlv(buf, e, exts.end);
        e = ext.end;
        const oid = readTlv(buf, ext.valueStart, ext.end);
        let next = readTlv(buf, oid.end, ext.end);
        const critical = next.tag === TAG.BOOLEAN && buf[next.valueStart] === 0xff;
        if (next.tag === TAG.BOOLEAN) next = readTlv(buf, next.end, ext.end);
        const isReason =
          oid.end - oid.valueStart === 3 &&
          buf[oid.valueStart] === 0x55 &&
          buf[oid.valueStart + 1] === 0x1d &&
          buf[oid.valueStart + 2] === 0x15;
        if (isReason) {
          const en = readTlv(buf, next.valueStart, next.end);
          if (en.tag !== TAG.ENUMERATED || en.end - en.valueStart !== 1)
            throw new Malformed('bad CRL reasonCode', { offset: ext.start });
          reason = buf[en.valueStart]!;
          if (reason > 10 || reason === 7)
            throw new Malformed(`unknown CRL reason code ${reason}`, { offset: ext.start });
        } else if (critical) {
          throw new Malformed(`unknown critical CRL entry extension ${decodeOid(buf, oid)}`, { offset: ext.start });
        }
      }
    }
    const split = splitSerial(buf, serial.valueStart, serial.end);
    if (split) table.insert(split[0], split[1], time, reason);
    else
      table.insertLong(
        normalizeSerial(Buffer.from(buf.subarray(serial.valueStart, serial.end)).toString('hex')),
        time,
        reason,
      );
  }
}

/** A CRL file's DER: PEM (`X509 CRL`) is decoded, anything else is taken as DER. */
export function crlDer(data: Uint8Array): Buffer {
  const m = /-----BEGIN X509 CRL-----([A-Za-z0-9+/=\s]+)-----END X509 CRL-----/.exec(
    Buffer.from(data).toString('latin1'),
  );
  return m ? Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64') : Buffer.from(data);
}
