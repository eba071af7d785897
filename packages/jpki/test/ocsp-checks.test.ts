// Every check of OCSP response acceptance (OCSP_CHECKS, RFC 6960 §3.2 and the rest), made to fail
// with each code it can throw, by responses built byte by byte as a forger or a broken responder would.
import 'reflect-metadata';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  OCSP_CHECKS,
  buildOcspRequest,
  failedOcspCheck,
  parseX509,
  validateOcspResponse,
  type JpkiError,
  type OcspRequest,
  type OcspValidationOptions,
  type X509Certificate,
} from '@kakunin/jpki';
import { TAG, ctx, encodeOid, encodeTlv } from '@kakunin/jpki/der';
import { SimCa, type SimRoot } from '@kakunin/sim';
import { buildOcspResponse, readOcspRequest, type ForgedAnswer } from '../../../test/adversarial/support/ocsp.js';

const HOUR = 3_600_000;
const YEAR = 8766 * HOUR;
const now = new Date();
const ago = (hours: number): Date => new Date(now.getTime() - hours * HOUR);

let root: SimRoot;
/** Another root of the same name: a CA key that did not issue the certificate. */
let otherRoot: SimRoot;
let issuer: X509Certificate;
let request: OcspRequest;

beforeAll(async () => {
  const spec = { kind: 'auth', medium: 'card', notBefore: new Date(now.getTime() - YEAR) } as const;
  const ca = await SimCa.create(
    [
      { ...spec, id: 'k-authca01', generation: 1, notAfter: new Date(now.getTime() + 9 * YEAR) },
      { ...spec, id: 'k-authca02', generation: 2, notAfter: new Date(now.getTime() + 9 * YEAR) },
    ],
    'http://127.0.0.1:1',
  );
  root = ca.root('k-authca01');
  otherRoot = ca.root('k-authca02');
  issuer = parseX509(root.der);
  const holder = await ca.issueAuth({ birthDate: '1980-02-17', municipality: '18201' }, { issuerId: root.id });
  request = buildOcspRequest(parseX509(holder.der), issuer);
});

/** A good answer to `request`, signed by the CA itself, with `change` applied. */
const answer = (change: Partial<ForgedAnswer> = {}): Buffer =>
  buildOcspResponse({
    certId: readOcspRequest(request.der).certId,
    status: 'good',
    thisUpdate: ago(1),
    nextUpdate: ago(-1),
    nonce: request.nonce,
    responderCert: root.der,
    signingKey: root.privateKey,
    ...change,
  });

/** `der` with the first occurrence of `find` replaced (same length: the DER stays well formed). */
function patched(der: Buffer, find: Buffer, replace: Buffer): Buffer {
  const i = der.indexOf(find);
  if (i < 0) throw new Error(`no ${find.toString('hex')} in the response`);
  const out = Buffer.from(der);
  replace.copy(out, i);
  return out;
}

const keyHashOf = (r: SimRoot): Buffer => Buffer.from(r.keyId);
const responderIdByKey = (hash: Buffer): Buffer => encodeTlv(ctx(2), encodeTlv(TAG.OCTET_STRING, hash));
const OID_BASIC = encodeOid('1.3.6.1.5.5.7.48.1.1');

type Failure = { der: () => Buffer; options?: OcspValidationOptions };

/**
 * For every OCSP check and every code it can throw, a response that fails that check with that
 * code. Keyed by the checks' own names and codes: a new check does not compile without its cases.
 */
type CheckFailures = {
  [C in (typeof OCSP_CHECKS)[number] as C['name']]: Record<C['codes'][number], Failure>;
};

const FAILURES: CheckFailures = {
  'response-status': {
    MALFORMED: { der: () => Buffer.from('3000', 'hex') },
    REVOCATION_UNAVAILABLE: { der: () => encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.ENUMERATED, Buffer.from([3]))) },
  },
  'basic-response': {
    MALFORMED: { der: () => patched(answer(), OID_BASIC, encodeOid('1.3.6.1.5.5.7.48.1.9')) },
  },
  responder: {
    // A responderID that is neither byName [1] nor byKey [2].
    MALFORMED: {
      der: () => patched(answer(), responderIdByKey(keyHashOf(root)), Buffer.from([ctx(3)])),
    },
    BAD_SIGNATURE: {
      der: () => patched(answer(), responderIdByKey(keyHashOf(root)), responderIdByKey(Buffer.alloc(20, 0x42))),
    },
  },
  // Another CA's certificate as a delegated responder: not issued (signed) by this CA.
  'responder-authorization': {
    BAD_SIGNATURE: { der: () => answer({ responderCert: otherRoot.der, signingKey: otherRoot.privateKey }) },
  },
  // Named as the CA, signed with another key.
  signature: { BAD_SIGNATURE: { der: () => answer({ signingKey: otherRoot.privateKey }) } },
  nonce: { OCSP_NONCE_MISMATCH: { der: () => answer({ nonce: Buffer.alloc(32, 7) }) } },
  'cert-id': {
    MALFORMED: { der: () => answer({ certId: encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.INTEGER, Buffer.from([1]))) }) },
    OCSP_CERT_ID_MISMATCH: {
      der: () => answer({ certId: readOcspRequest(buildOcspRequest({ serial: '0BAD' }, issuer).der).certId }),
    },
  },
  'this-update': { REVOCATION_UNAVAILABLE: { der: () => answer({ thisUpdate: ago(-1), nextUpdate: ago(-2) }) } },
  'next-update': { REVOCATION_UNAVAILABLE: { der: () => answer({ thisUpdate: ago(3), nextUpdate: ago(2) }) } },
  'age-without-next-update': {
    REVOCATION_UNAVAILABLE: { der: () => answer({ thisUpdate: ago(2), nextUpdate: undefined }) },
  },
  'max-response-age': {
    REVOCATION_UNAVAILABLE: { der: () => answer(), options: { maxResponseAgeSeconds: 60 } },
  },
  'cert-status': { MALFORMED: { der: () => answer({ status: encodeTlv(ctx(3, false)) }) } },
};

describe('OCSP checks', () => {
  it('a good answer passes them all', () => {
    expect(validateOcspResponse(answer(), request, issuer, { at: now }).status).toBe('good');
    expect(validateOcspResponse(answer({ status: 'unknown' }), request, issuer, { at: now }).status).toBe('unknown');
  });

  it('every check, in order, has a case for each code it can throw', () => {
    expect(Object.keys(FAILURES)).toEqual(OCSP_CHECKS.map((c) => c.name));
    for (const check of OCSP_CHECKS) expect(Object.keys(FAILURES[check.name]).sort()).toEqual([...check.codes].sort());
  });

  for (const check of OCSP_CHECKS) {
    for (const code of check.codes) {
      it(`${check.name} fails with ${code}`, () => {
        const failure = (FAILURES[check.name] as Record<string, Failure>)[code]!;
        let thrown: unknown;
        try {
          validateOcspResponse(failure.der(), request, issuer, { at: now, ...failure.options });
        } catch (e) {
          thrown = e;
        }
        expect((thrown as JpkiError | undefined)?.code, String(thrown)).toBe(code);
        expect(failedOcspCheck(thrown)).toBe(check.name);
      });
    }
  }
});
