// CRLs of the simulated J-LIS: the full CRL of a root from the sandbox's revocations, and synthetic
// CRLs of millions of entries for benchmarks, written straight into one buffer.

import { createSign, type KeyObject } from 'node:crypto';
import {
  CRL_REASON_CODE,
  SHA256_WITH_RSA_ALGORITHM,
  parseX509,
  type CertKind,
  type RevocationReason,
} from '@kakunin/jpki';
import { municipality } from '../municipalities.js';
import { crlDistributionPointRdns, nameDer, rdnsText } from '../names.js';
import type { Sandbox } from '../sandbox.js';
import { TAG, ctx, encodeLength, encodeOid, encodeTlv, encodeUnsignedInteger } from '@kakunin/jpki/der';

const OID_CRL_NUMBER = '2.5.29.20';
const OID_AKI = '2.5.29.35';
const OID_REASON = '2.5.29.21';
const OID_IDP = '2.5.29.28';

export interface CrlIssuer {
  /** DER of the issuing root's subject Name. */
  readonly nameDer: Uint8Array;
  /** The root's SubjectKeyIdentifier (AKI of the CRL). */
  readonly keyId: Uint8Array;
  readonly privateKey: KeyObject;
}

export interface CrlEntryInput {
  /** Upper-case hex. */
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason;
}

export interface CrlOptions {
  /** DER Name of the distribution point this CRL covers (adds a critical issuingDistributionPoint). */
  distributionPoint?: Uint8Array;
  thisUpdate?: Date;
  /** Default thisUpdate + 24 h. */
  nextUpdate?: Date;
  crlNumber?: bigint;
}

const utcTime = (d: Date): Buffer =>
  encodeTlv(TAG.UTC_TIME, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`));

function crlExtensions(issuer: CrlIssuer, crlNumber: bigint, distributionPoint?: Uint8Array): Buffer {
  const ext = (oid: string, value: Buffer, critical = false): Buffer =>
    encodeTlv(
      TAG.SEQUENCE,
      encodeOid(oid),
      ...(critical ? [encodeTlv(TAG.BOOLEAN, Buffer.from([0xff]))] : []),
      encodeTlv(TAG.OCTET_STRING, value),
    );
  return encodeTlv(
    ctx(0),
    encodeTlv(
      TAG.SEQUENCE,
      ext(OID_CRL_NUMBER, encodeUnsignedInteger(crlNumber)),
      ext(OID_AKI, encodeTlv(TAG.SEQUENCE, encodeTlv(ctx(0, false), Buffer.from(issuer.keyId)))),
      // IssuingDistributionPoint { distributionPoint [0] { fullName [0] { directoryName [4] Name } } }
      ...(distributionPoint
        ? [
            ext(
              OID_IDP,
              encodeTlv(
                TAG.SEQUENCE,
                encodeTlv(ctx(0), encodeTlv(ctx(0), encodeTlv(ctx(4), Buffer.from(distributionPoint)))),
              ),
              true,
            ),
          ]
        : []),
    ),
  );
}

function times(o: CrlOptions): { thisUpdate: Date; nextUpdate: Date } {
  const thisUpdate = o.thisUpdate ?? new Date(Math.floor(Date.now() / 1000) * 1000);
  return { thisUpdate, nextUpdate: o.nextUpdate ?? new Date(thisUpdate.getTime() + 24 * 3_600_000) };
}

/** Wraps TBSCertList parts (header fields, the revoked list's bytes, extensions) and signs them. */
function signCrl(issuer: CrlIssuer, head: Buffer[], revoked: Buffer | undefined, extensions: Buffer): Buffer {
  const tbs = encodeTlv(TAG.SEQUENCE, ...head, ...(revoked ? [revoked] : []), extensions);
  const signature = createSign('sha256').update(tbs).sign(issuer.privateKey);
  return encodeTlv(
    TAG.SEQUENCE,
    tbs,
    SHA256_WITH_RSA_ALGORITHM,
    encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signature),
  );
}

function header(issuer: CrlIssuer, o: CrlOptions): Buffer[] {
  const { thisUpdate, nextUpdate } = times(o);
  return [
    encodeTlv(TAG.INTEGER, Buffer.from([1])),
    SHA256_WITH_RSA_ALGORITHM,
    Buffer.from(issuer.nameDer),
    utcTime(thisUpdate),
    utcTime(nextUpdate),
  ];
}

/** A v2 CRL of `entries`, signed with sha256WithRSA by the issuer, with cRLNumber and AKI. */
export function buildCrl(issuer: CrlIssuer, entries: readonly CrlEntryInput[], o: CrlOptions = {}): Buffer {
  const list = entries.map((e) =>
    encodeTlv(
      TAG.SEQUENCE,
      encodeTlv(TAG.INTEGER, Buffer.from(e.serial, 'hex')),
      utcTime(e.revokedAt),
      encodeTlv(
        TAG.SEQUENCE,
        encodeTlv(
          TAG.SEQUENCE,
          encodeOid(OID_REASON),
          encodeTlv(TAG.OCTET_STRING, encodeTlv(TAG.ENUMERATED, Buffer.from([CRL_REASON_CODE[e.reason]]))),
        ),
      ),
    ),
  );
  const crlNumber = o.crlNumber ?? BigInt(Math.floor((o.thisUpdate ?? new Date()).getTime() / 1000));
  return signCrl(
    issuer,
    header(issuer, o),
    list.length ? encodeTlv(TAG.SEQUENCE, ...list) : undefined,
    crlExtensions(issuer, crlNumber, o.distributionPoint),
  );
}

// ---------------------------------------------------------------------------------------------
// Synthetic CRLs for benchmarks

const SERIAL_BITS = 30;
const SERIAL_MASK = 2 ** SERIAL_BITS - 1;
/** Reasons in a plausible national mix: moves dominate, then renewals, then lost cards. */
const SYNTHETIC_REASONS = [3, 3, 3, 3, 4, 4, 4, 1, 5, 0] as const;

/**
 * Serial of synthetic entry i: a bijection on 30 bits (multiply by an odd constant, xor-shift),
 * so serials are unique and scattered without a Set; 0x40 in the top byte keeps every serial a
 * positive, minimally encoded 4-byte INTEGER.
 */
export function syntheticSerial(i: number): string {
  return syntheticSerialValue(i).toString(16).toUpperCase();
}

function syntheticSerialValue(i: number): number {
  let x = Math.imul(i, 0x2545f491) & SERIAL_MASK;
  x = (x ^ (x >>> 15)) & SERIAL_MASK;
  return (0x40000000 | x) >>> 0;
}

export function syntheticReason(i: number): RevocationReason {
  const code = SYNTHETIC_REASONS[i % SYNTHETIC_REASONS.length]!;
  return (Object.keys(CRL_REASON_CODE) as RevocationReason[]).find((r) => CRL_REASON_CODE[r] === code)!;
}

// One entry: 30 23 | 02 04 <serial> | 17 0D <YYMMDDHHMMSSZ> | 30 0C 30 0A 06 03 55 1D 15 04 03 0A 01 <reason>
const ENTRY_BYTES = 37;
const ENTRY_EXT_PREFIX = Buffer.from('300c300a0603551d1504030a01', 'hex');

/**
 * A CRL of `revoked` synthetic entries signed by the issuer (entry i has serial `syntheticSerial(i)`,
 * reason `syntheticReason(i)`, and a revocation time in the year before thisUpdate). Built in one
 * preallocated buffer: 10 million entries are ~370 MB.
 */
export function buildSyntheticCrl(
  issuer: CrlIssuer,
  revoked: number,
  o: CrlOptions & { onProgress?: (done: number) => void } = {},
): Buffer {
  if (!Number.isInteger(revoked) || revoked < 0 || revoked > 2 ** SERIAL_BITS)
    throw new RangeError(`revoked must be an integer from 0 to ${2 ** SERIAL_BITS}`);
  const { thisUpdate } = times(o);
  const head = header(issuer, o);
  const extensions = crlExtensions(issuer, o.crlNumber ?? BigInt(Math.floor(thisUpdate.getTime() / 1000)));
  const listLength = revoked * ENTRY_BYTES;
  const listHeader = Buffer.concat([Buffer.from([TAG.SEQUENCE]), encodeLength(listLength)]);
  const headBytes = Buffer.concat(head);
  const tbsContent = headBytes.length + (revoked ? listHeader.length + listLength : 0) + extensions.length;
  const tbsHeader = Buffer.concat([Buffer.from([TAG.SEQUENCE]), encodeLength(tbsContent)]);
  const tbs = Buffer.allocUnsafe(tbsHeader.length + tbsContent);
  let p = tbsHeader.copy(tbs, 0);
  p += headBytes.copy(tbs, p);
  if (revoked) {
    p += listHeader.copy(tbs, p);
    const end = thisUpdate.getTime() / 1000;
    for (let i = 0; i < revoked; i++) {
      tbs[p] = 0x30;
      tbs[p + 1] = 0x23;
      tbs[p + 2] = 0x02;
      tbs[p + 3] = 0x04;
      tbs.writeUInt32BE(syntheticSerialValue(i), p + 4);
      tbs[p + 8] = 0x17;
      tbs[p + 9] = 0x0d;
      writeUtcTime(tbs, p + 10, end - 60 - ((i * 2654435761) % 31_536_000));
      ENTRY_EXT_PREFIX.copy(tbs, p + 23);
      tbs[p + 36] = SYNTHETIC_REASONS[i % SYNTHETIC_REASONS.length]!;
      p += ENTRY_BYTES;
      if (o.onProgress && (i + 1) % 1_000_000 === 0) o.onProgress(i + 1);
    }
  }
  extensions.copy(tbs, p);
  const signature = createSign('sha256').update(tbs).sign(issuer.privateKey);
  const tail = Buffer.concat([SHA256_WITH_RSA_ALGORITHM, encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signature)]);
  return Buffer.concat([Buffer.from([TAG.SEQUENCE]), encodeLength(tbs.length + tail.length), tbs, tail]);
}

function writeUtcTime(buf: Buffer, at: number, seconds: number): void {
  const d = new Date(seconds * 1000);
  const fields = [
    d.getUTCFullYear() % 100,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
  ];
  for (let k = 0; k < 6; k++) {
    const v = fields[k]!;
    buf[at + 2 * k] = 0x30 + Math.floor(v / 10);
    buf[at + 2 * k + 1] = 0x30 + (v % 10);
  }
  buf[at + 12] = 0x5a;
}

/** The CRL signer of a simulator root: its name, key id and private key. */
export function crlIssuerOf(root: { der: Uint8Array; privateKey: KeyObject }): CrlIssuer {
  const x = parseX509(root.der);
  if (!x.subjectKeyId) throw new TypeError(`root ${x.subject.text} has no subjectKeyIdentifier`);
  return { nameDer: x.subject.der, keyId: Buffer.from(x.subjectKeyId, 'hex'), privateKey: root.privateKey };
}

/**
 * The CRL of one simulator root: every revocation the sandbox recorded for its certificates, or,
 * with `municipalityCode`, only those of the certificates naming that municipality's distribution
 * point (J-LIS partitions its CRLs per municipality), marked with issuingDistributionPoint.
 */
export function sandboxCrl(
  sandbox: Sandbox,
  issuerId: string,
  o: CrlOptions & { municipalityCode?: string } = {},
): Buffer {
  const root = sandbox.ca.root(issuerId);
  const code = o.municipalityCode;
  const entries = sandbox
    .revocations()
    .filter(
      (r) =>
        r.issuerId === issuerId && (!code || sandbox.certificateRecord(r.issuerId, r.serial).municipalityCode === code),
    )
    .map((r) => ({ serial: r.serial, revokedAt: new Date(r.revokedAt), reason: r.reason }));
  const distributionPoint = code
    ? nameDer(crlDistributionPointRdns(root.kind, root.medium, municipality(code)))
    : undefined;
  return buildCrl(crlIssuerOf(root), entries, { ...o, ...(distributionPoint ? { distributionPoint } : {}) });
}

/** Municipality codes whose distribution points a root's certificates name. */
export function distributionPointsOf(sandbox: Sandbox, issuerId: string): string[] {
  return [...new Set(sandbox.certificates({ issuerId }).map((c) => c.municipalityCode))].sort();
}

/** The root a `kakunin sim crl --kind` means: the newest card generation of that kind. */
export function currentCardRoot(sandbox: Sandbox, kind: CertKind): string {
  const roots = sandbox.roots().filter((r) => r.kind === kind && r.medium === 'card');
  return roots.reduce((a, b) => (b.generation > a.generation ? b : a)).id;
}

/** Text of the distribution point Name of a root and municipality, as certificates carry it. */
export function distributionPointText(sandbox: Sandbox, issuerId: string, municipalityCode: string): string {
  const root = sandbox.ca.root(issuerId);
  return rdnsText(crlDistributionPointRdns(root.kind, root.medium, municipality(municipalityCode)));
}
