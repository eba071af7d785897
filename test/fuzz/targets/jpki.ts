// Fuzz targets of @kakunin/jpki: the DER reader and its primitive decoders, certificates
// (parseCertificate / parseX509, validate), CRLs (CrlIndex.load) and OCSP responses
// (validateOcspResponse, findOcspNonce). Typed errors: JpkiError (isJpkiError).

import fc from 'fast-check';
import {
  CrlIndex,
  findOcspNonce,
  isJpkiError,
  parseCertificate,
  validate,
  validateOcspResponse,
  verifySignature,
  type CertKind,
} from '@kakunin/jpki';
import {
  DerCursor,
  TAG,
  decodeBitString,
  decodeBoolean,
  decodeIntegerHex,
  decodeOid,
  decodeSmallInteger,
  decodeString,
  decodeTime,
  readSingle,
  readTlv,
  type Tlv,
} from '@kakunin/jpki/der';
import { SEED_TIME, certificateSeeds, crlSeeds, ocspSeeds, smallPki } from '../seeds.js';
import { Attempts, defineTarget, mutated, mutatedFrom, wildBytes, type Target } from '../support.js';

const STRING_TAGS = new Set<number>([
  TAG.UTF8_STRING,
  TAG.PRINTABLE_STRING,
  TAG.IA5_STRING,
  TAG.T61_STRING,
  TAG.BMP_STRING,
]);

const isConstructed = (tag: number): boolean => {
  let first = tag;
  while (first > 0xff) first = Math.floor(first / 256);
  return (first & 0x20) !== 0;
};

/** Every decoder on one primitive TLV: the one its tag calls for, and a few that must refuse it. */
function decodePrimitive(buf: Uint8Array, t: Tlv, a: Attempts, twist: number): void {
  switch (t.tag) {
    case TAG.OID:
      a.try(() => decodeOid(buf, t));
      break;
    case TAG.INTEGER:
      a.try(() => decodeIntegerHex(buf, t));
      a.try(() => decodeSmallInteger(buf, t));
      break;
    case TAG.BOOLEAN:
      a.try(() => decodeBoolean(buf, t));
      break;
    case TAG.BIT_STRING:
      a.try(() => decodeBitString(buf, t));
      break;
    case TAG.UTC_TIME:
    case TAG.GENERALIZED_TIME:
      a.try(() => decodeTime(buf, t));
      break;
    default:
      if (STRING_TAGS.has(t.tag)) a.try(() => decodeString(buf, t));
  }
  // Decoders given the wrong tag must refuse with Malformed, never crash.
  switch (twist % 5) {
    case 0:
      a.try(() => decodeString(buf, t));
      break;
    case 1:
      a.try(() => decodeTime(buf, t));
      break;
    case 2:
      a.try(() => decodeOid(buf, { ...t, tag: TAG.OID }));
      break;
    case 3:
      a.try(() => decodeSmallInteger(buf, { ...t, tag: TAG.INTEGER }));
      break;
    default:
      a.try(() => decodeBitString(buf, { ...t, tag: TAG.BIT_STRING }));
  }
}

/** Walks every TLV with DerCursor (iteratively: nesting bombs must not matter) and decodes the primitives. */
export function walkDer(buf: Uint8Array, offset = 0): void {
  const a = new Attempts(isJpkiError);
  a.try(() => readSingle(buf));
  a.try(() => readTlv(buf, offset % (buf.length + 1)));
  const stack: [number, number][] = [[0, buf.length]];
  let visited = 0;
  while (stack.length > 0 && visited < 20_000) {
    const [start, end] = stack.pop()!;
    const cursor = new DerCursor(buf, start, end);
    a.try(() => cursor.peekTag());
    a.try(() => cursor.optional(TAG.SEQUENCE) && cursor.expectEnd('fuzz'));
    while (!cursor.done && visited < 20_000) {
      const t = a.try(() => cursor.next());
      if (!t) break;
      visited++;
      if (isConstructed(t.tag)) stack.push([t.valueStart, t.end]);
      else decodePrimitive(buf, t, a, visited + offset);
    }
  }
  a.done();
}

export const derTarget: Target = defineTarget({
  name: 'der',
  description:
    'readTlv / readSingle / DerCursor and the primitive decoders (OID, INTEGER, BOOLEAN, BIT STRING, strings, times) over mutated DER',
  isTyped: isJpkiError,
  async setup() {
    const [c, crl, ocsp] = await Promise.all([certificateSeeds(), crlSeeds(), ocspSeeds()]);
    return {
      seeds: [...c.all, ...crl.signed.map((s) => s.der), ...ocsp.signed.map((s) => s.der), ...ocsp.extensionBlocks],
    };
  },
  input: (ctx) =>
    fc.tuple(fc.oneof({ weight: 12, arbitrary: mutated(ctx.seeds) }, { weight: 1, arbitrary: wildBytes }), fc.nat()),
  run: (_ctx, [bytes, offset]) => walkDer(bytes, offset),
  show: ([bytes]) => bytes,
});

// ---------------------------------------------------------------------------------------------
// Certificates

type CertInput = { der: Uint8Array } | { pem: string };

export const x509Target: Target = defineTarget({
  name: 'x509',
  description:
    'parseCertificate / parseX509 (DER, PEM text, PEM as bytes) of mutated certificates, then validate() against the J-LIS roots',
  isTyped: isJpkiError,
  setup: certificateSeeds,
  input: (ctx) =>
    fc.oneof(
      { weight: 16, arbitrary: mutated(ctx.all).map((der): CertInput => ({ der })) },
      { weight: 1, arbitrary: wildBytes.map((der): CertInput => ({ der })) },
      {
        weight: 2,
        arbitrary: mutated(ctx.jlisPems.map((p) => Uint8Array.from(Buffer.from(p, 'latin1')))).map((b): CertInput => ({
          pem: Buffer.from(b).toString('latin1'),
        })),
      },
      {
        weight: 1,
        arbitrary: mutated(ctx.jlisPems.map((p) => Uint8Array.from(Buffer.from(p, 'latin1')))).map(
          (der): CertInput => ({ der }),
        ),
      },
    ),
  run: (_ctx, input) => {
    const cert = parseCertificate('der' in input ? input.der : input.pem);
    const a = new Attempts(isJpkiError);
    // What callers read from a parsed certificate must not throw either.
    a.try(() => [
      cert.x509.fingerprintSha256,
      cert.x509.isSelfIssued,
      cert.x509.unknownCriticalExtensions,
      cert.x509.toPem(),
    ]);
    a.try(() => validate(cert));
    a.done();
  },
  show: (input) => ('der' in input ? input.der : `PEM text: ${JSON.stringify(input.pem)}`),
});

export const validateTarget: Target = defineTarget({
  name: 'validate',
  description:
    'validate() + verifySignature() on mutated TBSCertificates re-signed by a trusted (re-keyed simulator) root: every profile check',
  isTyped: isJpkiError,
  weight: 0.5,
  setup: smallPki,
  input: (ctx) =>
    fc.tuple(
      mutated(ctx.tbs, { maxOps: 3 }),
      fc.constantFrom<(CertKind | undefined)[]>(undefined, 'auth', 'sign'),
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
    ),
  run: (ctx, [tbs, kind, signature]) => {
    const der = ctx.resign(tbs);
    const result = validate(der, { mode: 'sandbox', trustStore: ctx.store, at: SEED_TIME, ...(kind ? { kind } : {}) });
    // The verifier's next step: a holder signature checked with the certificate's key (a
    // BadSignature is expected; the input still counts as accepted by validate).
    try {
      verifySignature(
        result.certificate,
        Buffer.from('fuzz'),
        signature.length === 0
          ? new Uint8Array(Math.ceil(result.certificate.x509.publicKey.modulusBits / 8))
          : signature,
      );
    } catch (e) {
      if (!isJpkiError(e)) throw e;
    }
  },
  show: ([tbs, kind, signature]) =>
    `kind=${kind ?? '-'} signature=${Buffer.from(signature).toString('hex')} resigned TBS hex:${Buffer.from(tbs).toString('hex')}`,
});

// ---------------------------------------------------------------------------------------------
// CRLs

function afterLoad(index: CrlIndex, probe: string): void {
  const a = new Attempts(isJpkiError);
  for (const e of index.entries()) a.try(() => index.lookup(e.serial));
  a.try(() => index.lookup(probe));
  a.try(() => [index.size, index.indexBytes, index.info]);
  a.done();
}

const probes = fc.oneof(
  fc.constantFrom('01', '0A0B0C0D', '0123456789ABCDEF0123', '', '00', 'zz', '0'.repeat(100)),
  fc.string({ maxLength: 24 }),
  fc.stringMatching(/^[0-9A-Fa-f]{1,40}$/),
);

export const crlTarget: Target = defineTarget({
  name: 'crl',
  description:
    'CrlIndex.load of mutated CRLs signed by a simulator root (structure before and around the signature), then lookups',
  isTyped: isJpkiError,
  setup: crlSeeds,
  input: (ctx) =>
    fc.tuple(
      fc.oneof(
        { weight: 12, arbitrary: mutatedFrom(ctx.signed.map((s) => s.der)) },
        { weight: 1, arbitrary: wildBytes.map((bytes) => ({ seed: 0, bytes })) },
      ),
      probes,
    ),
  run: (ctx, [{ seed, bytes }, probe]) =>
    afterLoad(CrlIndex.load(bytes, { issuer: ctx.signed[seed]!.issuer, at: ctx.at }), probe),
  show: ([{ bytes }]) => bytes,
});

export const crlResignedTarget: Target = defineTarget({
  name: 'crl-resigned',
  description:
    'CrlIndex.load of mutated TBSCertLists re-signed by the issuer: entries, reasons, extensions, IDP, times',
  isTyped: isJpkiError,
  weight: 0.5,
  setup: crlSeeds,
  input: (ctx) => fc.tuple(mutated(ctx.tbs), probes, fc.constantFrom(0, 60, 86_400 * 365)),
  run: (ctx, [tbs, probe, graceSeconds]) =>
    afterLoad(CrlIndex.load(ctx.resign(tbs), { issuer: ctx.issuer, at: ctx.at, graceSeconds }), probe),
  show: ([tbs, probe, grace]) =>
    `probe=${JSON.stringify(probe)} grace=${grace} resigned TBS hex:${Buffer.from(tbs).toString('hex')}`,
});

// ---------------------------------------------------------------------------------------------
// OCSP

export const ocspTarget: Target = defineTarget({
  name: 'ocsp',
  description:
    'validateOcspResponse of mutated responses of the simulator OCSP responder (good, unknown, no nonce, error statuses)',
  isTyped: isJpkiError,
  setup: ocspSeeds,
  input: (ctx) =>
    fc.oneof(
      { weight: 12, arbitrary: mutatedFrom(ctx.signed.map((s) => s.der)) },
      { weight: 1, arbitrary: wildBytes.map((bytes) => ({ seed: 0, bytes })) },
    ),
  run: (ctx, { seed, bytes }) => {
    const s = ctx.signed[seed]!;
    return validateOcspResponse(bytes, s.request, s.issuer, { at: ctx.at });
  },
  show: ({ bytes }) => bytes,
});

type ResignedOcsp = { tbs: Uint8Array } | { whole: Uint8Array };

export const ocspResignedTarget: Target = defineTarget({
  name: 'ocsp-resigned',
  description:
    'validateOcspResponse of re-signed mutated tbsResponseData (CA-signed and delegated responder): statuses, CertIDs, nonces, times',
  isTyped: isJpkiError,
  weight: 0.5,
  setup: ocspSeeds,
  input: (ctx) =>
    fc.oneof(
      { weight: 4, arbitrary: mutated(ctx.tbs).map((tbs): ResignedOcsp => ({ tbs })) },
      { weight: 1, arbitrary: mutated(ctx.tbs.map(ctx.wrap)).map((whole): ResignedOcsp => ({ whole })) },
    ),
  run: (ctx, input) =>
    validateOcspResponse('tbs' in input ? ctx.wrap(input.tbs) : input.whole, ctx.request, ctx.issuer, { at: ctx.at }),
  show: (input) =>
    'tbs' in input ? `resigned tbsResponseData hex:${Buffer.from(input.tbs).toString('hex')}` : input.whole,
});

export const ocspNonceTarget: Target = defineTarget({
  name: 'ocsp-nonce',
  description: 'findOcspNonce over mutated [1]/[2] Extensions blocks',
  isTyped: isJpkiError,
  setup: ocspSeeds,
  input: (ctx) =>
    fc.oneof({ weight: 10, arbitrary: mutated(ctx.extensionBlocks) }, { weight: 1, arbitrary: wildBytes }),
  run: (_ctx, bytes) => findOcspNonce(bytes, readTlv(bytes, 0)),
  show: (bytes) => bytes,
});

export const jpkiTargets: readonly Target[] = [
  derTarget,
  x509Target,
  validateTarget,
  crlTarget,
  crlResignedTarget,
  ocspTarget,
  ocspResignedTarget,
  ocspNonceTarget,
];
