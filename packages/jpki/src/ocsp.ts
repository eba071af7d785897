// OCSP client (RFC 6960): builds requests and validates signed responses strictly — responder
// authorised by the CA, response fresh, nonce echoed, CertID matching. Network I/O goes through an
// injected fetcher.

import { constants, createHash, randomBytes, verify as cryptoVerify } from 'node:crypto';
import {
  DerCursor,
  TAG,
  bytesOf,
  ctx,
  decodeBitString,
  decodeOid,
  decodeTime,
  encodeOid,
  encodeTlv,
  readSingle,
  readTlv,
  valueOf,
  type Tlv,
} from './der.js';
import { httpBytesClient } from './http.js';
import { BadSignature, Malformed, OcspCertIdMismatch, OcspNonceMismatch, RevocationUnavailable } from './errors.js';
import { CRL_REASONS, type CertificateReference, type RevocationChecker, type RevocationStatus } from './revocation.js';
import { stepRunner, type Step } from './steps.js';
import { isSha256WithRsa, X509Certificate } from './x509.js';

const OID_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const SHA1_ALG = Buffer.from('300906052b0e03021a0500', 'hex');

/** Sends a DER OCSP request to a URL and returns the DER response (throw on transport errors). */
export type OcspFetcher = (url: string, request: Uint8Array) => Promise<Uint8Array>;

export interface OcspRequest {
  readonly der: Buffer;
  readonly nonce: Buffer | undefined;
  readonly certId: OcspCertId;
}

/** The SHA-1 CertID of RFC 6960 §4.1.1 (RFC 5019 profile): all an OCSP responder is told of a certificate. */
export interface OcspCertId {
  /** SHA-1 of the issuer's subject name (DER). */
  readonly nameHash: Buffer;
  /** SHA-1 of the issuer's public key (the subjectPublicKey BIT STRING's value, RSAPublicKey). */
  readonly keyHash: Buffer;
  /** Upper-case hex. */
  readonly serial: string;
}

/** The CertID of the certificate with this serial issued by `issuer`; no certificate bytes needed. */
export function ocspCertId(serial: string, issuer: X509Certificate): OcspCertId {
  if (!/^(?:[0-9A-F]{2})+$/.test(serial))
    throw new Malformed(`certificate serial "${serial.slice(0, 80)}" is not upper-case hex of whole bytes`);
  return {
    nameHash: createHash('sha1').update(issuer.subject.der).digest(),
    keyHash: createHash('sha1').update(issuer.publicKey.pkcs1).digest(),
    serial,
  };
}

/**
 * An OCSP request for one certificate, with a 32-byte nonce unless `nonce: false`. Only the serial
 * of `certificate` is used, so a certificate or a kept reference (serial + issuing anchor) will do.
 */
export function buildOcspRequest(
  certificate: Pick<CertificateReference, 'serial'>,
  issuer: X509Certificate,
  options: { nonce?: boolean } = {},
): OcspRequest {
  const certId = ocspCertId(certificate.serial, issuer);
  const nonce = options.nonce === false ? undefined : randomBytes(32);
  const certIdDer = encodeTlv(
    TAG.SEQUENCE,
    SHA1_ALG,
    encodeTlv(TAG.OCTET_STRING, certId.nameHash),
    encodeTlv(TAG.OCTET_STRING, certId.keyHash),
    encodeTlv(TAG.INTEGER, Buffer.from(certId.serial, 'hex')),
  );
  const extensions = nonce
    ? [
        encodeTlv(
          ctx(2),
          encodeTlv(
            TAG.SEQUENCE,
            encodeTlv(
              TAG.SEQUENCE,
              encodeOid(OID_NONCE),
              encodeTlv(TAG.OCTET_STRING, encodeTlv(TAG.OCTET_STRING, nonce)),
            ),
          ),
        ),
      ]
    : [];
  const tbs = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SEQUENCE, certIdDer)), ...extensions);
  return { der: encodeTlv(TAG.SEQUENCE, tbs), nonce, certId };
}

export interface OcspValidationOptions {
  /** Time of the check (default now). */
  at?: Date;
  /** Tolerance for clock skew and past nextUpdate, in seconds (default 300). */
  graceSeconds?: number;
  /** Without nextUpdate, the oldest acceptable thisUpdate, in seconds (default 3600). */
  maxAgeSeconds?: number;
  /**
   * The oldest acceptable thisUpdate, in seconds, whatever nextUpdate says (default: no bound but
   * nextUpdate). A responder that signs answers long in advance is otherwise believed for days.
   */
  maxResponseAgeSeconds?: number;
  /**
   * Refuse a response that carries no nonce when the request had one (default true). Responders
   * that serve pre-signed answers (RFC 5019) send none; a response with another nonce is always refused.
   */
  requireNonce?: boolean;
}

const RESPONSE_STATUS = [
  'successful',
  'malformedRequest',
  'internalError',
  'tryLater',
  '(unused)',
  'sigRequired',
  'unauthorized',
];

/** What the checks of one OCSP response share: the inputs, and the response as the checks read it. */
export interface OcspResponseContext {
  readonly der: Uint8Array;
  readonly request: OcspRequest;
  readonly issuer: X509Certificate;
  readonly options: OcspValidationOptions;
  readonly at: Date;
  /** Tolerance in milliseconds. */
  readonly grace: number;
  /** Set by `response-status`: the responseBytes of a successful response. */
  responseBytes: Tlv | undefined;
  /** Set by `basic-response`. */
  basic: BasicResponse | undefined;
  /** Set by `responder`: the CA itself or the delegated responder certificate. */
  signer: X509Certificate | undefined;
  /** Set by `cert-id`. */
  single: SingleResponse | undefined;
  /** Set by `cert-status`. */
  status: RevocationStatus | undefined;
}

interface BasicResponse {
  readonly der: Uint8Array;
  readonly tbs: Tlv;
  readonly signature: { unusedBits: number; bytes: Uint8Array };
  readonly certs: Tlv | undefined;
  readonly responderId: Tlv;
  readonly responses: readonly Tlv[];
  readonly extensions: Tlv | undefined;
}

interface SingleResponse {
  readonly certStatus: Tlv;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
}

// Each check runs after the one that reads what it needs (basic, signer, single).
const basicOf = (c: OcspResponseContext): BasicResponse => c.basic!;
const singleOf = (c: OcspResponseContext): SingleResponse => c.single!;

/**
 * The checks of `validateOcspResponse`, in the order they run: RFC 6960 §3.2's list (the CertID
 * matches, the signature is valid, the signer is the CA or a responder it authorised, thisUpdate is
 * recent, nextUpdate has not passed), plus the response status, the nonce (RFC 8954) and this
 * verifier's age bounds. The package README lists them (a test holds the two together).
 */
export const OCSP_CHECKS = [
  {
    // §4.2.1: anything but `successful` carries no answer.
    name: 'response-status',
    codes: ['MALFORMED', 'REVOCATION_UNAVAILABLE'],
    run: (c) => {
      const { der } = c;
      const top = DerCursor.of(der, readSingle(der, TAG.SEQUENCE));
      const statusTlv = top.next(TAG.ENUMERATED);
      const status = der[statusTlv.valueStart]!;
      if (status !== 0)
        throw new RevocationUnavailable(`the OCSP responder answered ${RESPONSE_STATUS[status] ?? `status ${status}`}`);
      c.responseBytes = top.next(ctx(0));
      top.expectEnd('OCSPResponse');
    },
  },
  {
    // §4.2.1: id-pkix-ocsp-basic, signed with sha256WithRSAEncryption.
    name: 'basic-response',
    codes: ['MALFORMED'],
    run: (c) => {
      c.basic = readBasicResponse(c.der, c.responseBytes!);
    },
  },
  {
    // §3.2 item 3: the signer is the CA itself, or a certificate in the response that the responderID names.
    name: 'responder',
    codes: ['MALFORMED', 'BAD_SIGNATURE'],
    run: (c) => {
      const { der, certs, responderId } = basicOf(c);
      const embedded = certs
        ? DerCursor.of(der, DerCursor.of(der, certs).next(TAG.SEQUENCE))
            .rest()
            .map((t) => new X509Certificate(bytesOf(der, t)))
        : [];
      c.signer = [c.issuer, ...embedded].find((cert) => responderIdNames(der, responderId, cert));
      if (!c.signer)
        throw new BadSignature(
          'the OCSP response is signed by a responder that neither the CA nor a certificate in the response matches',
        );
    },
  },
  {
    // §3.2 item 4, §4.2.2.2: a delegated responder is issued by the CA for OCSP signing and valid now.
    name: 'responder-authorization',
    codes: ['BAD_SIGNATURE'],
    when: (c) => c.signer !== c.issuer,
    run: (c) => checkDelegatedResponder(c.signer!, c.issuer, c.at),
  },
  {
    // §3.2 item 2.
    name: 'signature',
    codes: ['BAD_SIGNATURE'],
    run: (c) => {
      const { der, tbs, signature } = basicOf(c);
      const signer = c.signer!;
      if (
        signature.unusedBits !== 0 ||
        !cryptoVerify(
          'sha256',
          bytesOf(der, tbs),
          { key: signer.key, padding: constants.RSA_PKCS1_PADDING },
          signature.bytes,
        )
      ) {
        throw new BadSignature(`the OCSP response's signature does not verify with ${signer.subject.text}`);
      }
    },
  },
  {
    // RFC 8954. No nonce at all is a pre-signed answer (allowed when the caller says so: its age then
    // bounds a replay); another nonce is the answer to another request.
    name: 'nonce',
    codes: ['OCSP_NONCE_MISMATCH'],
    when: (c) => c.request.nonce !== undefined,
    run: (c) => {
      const { der, extensions } = basicOf(c);
      const echoed = extensions ? findOcspNonce(der, extensions) : undefined;
      if (echoed ? !echoed.equals(c.request.nonce!) : c.options.requireNonce !== false) throw new OcspNonceMismatch();
    },
  },
  {
    // §3.2 item 1.
    name: 'cert-id',
    codes: ['MALFORMED', 'OCSP_CERT_ID_MISMATCH'],
    run: (c) => {
      const { der, responses } = basicOf(c);
      const single = responses.find((r) => certIdMatches(der, r, c.request.certId));
      if (!single) throw new OcspCertIdMismatch(c.request.certId.serial);
      const s = DerCursor.of(der, single);
      s.next(TAG.SEQUENCE);
      const certStatus = s.next();
      const thisUpdate = decodeTime(der, s.next(TAG.GENERALIZED_TIME));
      const nextWrapper = s.optional(ctx(0));
      const nextUpdate = nextWrapper
        ? decodeTime(der, DerCursor.of(der, nextWrapper).next(TAG.GENERALIZED_TIME))
        : undefined;
      c.single = { certStatus, thisUpdate, nextUpdate };
    },
  },
  {
    // §3.2 item 5, within the grace for clock skew.
    name: 'this-update',
    codes: ['REVOCATION_UNAVAILABLE'],
    run: (c) => {
      const { thisUpdate } = singleOf(c);
      if (thisUpdate.getTime() > c.at.getTime() + c.grace)
        throw new RevocationUnavailable(`the OCSP response's thisUpdate ${thisUpdate.toISOString()} is in the future`);
    },
  },
  {
    // §3.2 item 6, within the grace.
    name: 'next-update',
    codes: ['REVOCATION_UNAVAILABLE'],
    run: (c) => {
      const { nextUpdate } = singleOf(c);
      if (nextUpdate && c.at.getTime() > nextUpdate.getTime() + c.grace)
        throw new RevocationUnavailable(`stale OCSP response: nextUpdate ${nextUpdate.toISOString()} has passed`);
    },
  },
  {
    // Without nextUpdate, "sufficiently recent" (§3.2 item 5) is `maxAgeSeconds`.
    name: 'age-without-next-update',
    codes: ['REVOCATION_UNAVAILABLE'],
    run: (c) => {
      const { thisUpdate, nextUpdate } = singleOf(c);
      if (!nextUpdate && c.at.getTime() - thisUpdate.getTime() > (c.options.maxAgeSeconds ?? 3600) * 1000)
        throw new RevocationUnavailable(`stale OCSP response: produced ${thisUpdate.toISOString()} without nextUpdate`);
    },
  },
  {
    name: 'max-response-age',
    codes: ['REVOCATION_UNAVAILABLE'],
    when: (c) => c.options.maxResponseAgeSeconds !== undefined,
    run: (c) => {
      const { thisUpdate } = singleOf(c);
      const max = c.options.maxResponseAgeSeconds!;
      if (c.at.getTime() - thisUpdate.getTime() > max * 1000)
        throw new RevocationUnavailable(
          `stale OCSP response: thisUpdate ${thisUpdate.toISOString()} is older than ${max} s`,
        );
    },
  },
  {
    name: 'cert-status',
    codes: ['MALFORMED'],
    run: (c) => {
      const { der } = basicOf(c);
      const { certStatus, thisUpdate, nextUpdate } = singleOf(c);
      const base = { source: 'ocsp' as const, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}), checkedAt: c.at };
      if (certStatus.tag === ctx(0, false)) c.status = { status: 'good', ...base };
      else if (certStatus.tag === ctx(2, false)) c.status = { status: 'unknown', ...base };
      else if (certStatus.tag !== ctx(1)) throw new Malformed('unknown OCSP certStatus');
      else {
        const ri = DerCursor.of(der, certStatus);
        const revokedAt = decodeTime(der, ri.next(TAG.GENERALIZED_TIME));
        const reasonWrapper = ri.optional(ctx(0));
        const code = reasonWrapper ? der[DerCursor.of(der, reasonWrapper).next(TAG.ENUMERATED).valueStart]! : 0;
        c.status = { status: 'revoked', reason: CRL_REASONS[code] ?? 'unspecified', revokedAt, ...base };
      }
    },
  },
] as const satisfies readonly Step<OcspResponseContext>[];

export type OcspCheckName = (typeof OCSP_CHECKS)[number]['name'];

const ocspRunner = stepRunner<OcspResponseContext, (typeof OCSP_CHECKS)[number]>(OCSP_CHECKS);

/** The OCSP check that threw `error`, if `validateOcspResponse` threw it. */
export const failedOcspCheck: (error: unknown) => OcspCheckName | undefined = ocspRunner.failedStep;

/**
 * Validates a DER OCSP response for `request` and returns the certificate's status, running
 * `OCSP_CHECKS` in order. Throws `BadSignature` (forged or unauthorised signer), `OcspNonceMismatch`,
 * `OcspCertIdMismatch`, `RevocationUnavailable` (error status, stale) or `Malformed`.
 */
export function validateOcspResponse(
  der: Uint8Array,
  request: OcspRequest,
  issuer: X509Certificate,
  options: OcspValidationOptions = {},
): RevocationStatus {
  const context: OcspResponseContext = {
    der,
    request,
    issuer,
    options,
    at: options.at ?? new Date(),
    grace: (options.graceSeconds ?? 300) * 1000,
    responseBytes: undefined,
    basic: undefined,
    signer: undefined,
    single: undefined,
    status: undefined,
  };
  ocspRunner.run(context);
  return context.status!;
}

/** The BasicOCSPResponse inside the responseBytes of an OCSPResponse, read down to its fields. */
function readBasicResponse(der: Uint8Array, bytesWrapper: Tlv): BasicResponse {
  const rb = DerCursor.of(der, DerCursor.of(der, bytesWrapper).next(TAG.SEQUENCE));
  if (decodeOid(der, rb.next(TAG.OID)) !== OID_BASIC)
    throw new Malformed('OCSP response type is not id-pkix-ocsp-basic');
  const basicDer = valueOf(der, rb.next(TAG.OCTET_STRING));
  const basic = DerCursor.of(basicDer, readSingle(basicDer, TAG.SEQUENCE));
  const tbsTlv = basic.next(TAG.SEQUENCE);
  const algorithm = basic.next(TAG.SEQUENCE);
  const signature = decodeBitString(basicDer, basic.next(TAG.BIT_STRING));
  const certs = basic.optional(ctx(0));
  basic.expectEnd('BasicOCSPResponse');
  if (!isSha256WithRsa(bytesOf(basicDer, algorithm)))
    throw new Malformed('OCSP response is not signed with sha256WithRSAEncryption');
  const tbs = DerCursor.of(basicDer, tbsTlv);
  tbs.optional(ctx(0));
  const responderId = tbs.next();
  decodeTime(basicDer, tbs.next(TAG.GENERALIZED_TIME)); // producedAt: freshness is judged by thisUpdate/nextUpdate
  const responses = DerCursor.of(basicDer, tbs.next(TAG.SEQUENCE)).rest();
  const extensions = tbs.optional(ctx(1));
  return { der: basicDer, tbs: tbsTlv, signature, certs, responderId, responses, extensions };
}

function responderIdNames(buf: Uint8Array, responderId: Tlv, cert: X509Certificate): boolean {
  const inner = readTlv(buf, responderId.valueStart, responderId.end);
  if (responderId.tag === ctx(1)) return Buffer.from(bytesOf(buf, inner)).equals(cert.subject.der as Buffer);
  if (responderId.tag === ctx(2))
    return Buffer.from(valueOf(buf, inner)).equals(createHash('sha1').update(cert.publicKey.pkcs1).digest());
  throw new Malformed('bad OCSP responderID');
}

function checkDelegatedResponder(responder: X509Certificate, issuer: X509Certificate, at: Date): void {
  const by = issuer.subject.text;
  if (!Buffer.from(responder.issuer.der).equals(issuer.subject.der))
    throw new BadSignature(`the OCSP responder certificate is not issued by ${by}`);
  if (
    !cryptoVerify(
      'sha256',
      responder.tbs,
      { key: issuer.key, padding: constants.RSA_PKCS1_PADDING },
      responder.signature,
    )
  ) {
    throw new BadSignature(`the OCSP responder certificate's signature does not verify with ${by}`);
  }
  if (!responder.extKeyUsage?.includes(OID_OCSP_SIGNING))
    throw new BadSignature('the OCSP responder certificate is not authorised for OCSP signing (no id-kp-OCSPSigning)');
  if (at < responder.notBefore || at > responder.notAfter)
    throw new BadSignature('the OCSP responder certificate is outside its validity');
}

/** The nonce (RFC 8954) in an OCSP request's or response's explicitly tagged Extensions, if any. */
export function findOcspNonce(buf: Uint8Array, wrapper: Tlv): Buffer | undefined {
  for (const ext of DerCursor.of(buf, DerCursor.of(buf, wrapper).next(TAG.SEQUENCE)).rest()) {
    const c = DerCursor.of(buf, ext);
    if (decodeOid(buf, c.next(TAG.OID)) !== OID_NONCE) continue;
    c.optional(TAG.BOOLEAN);
    const value = valueOf(buf, c.next(TAG.OCTET_STRING));
    // RFC 8954: the nonce is an OCTET STRING inside extnValue; tolerate responders that put raw bytes.
    try {
      const inner = readSingle(value, TAG.OCTET_STRING);
      return Buffer.from(valueOf(value, inner));
    } catch {
      return Buffer.from(value);
    }
  }
  return undefined;
}

function certIdMatches(buf: Uint8Array, single: Tlv, want: OcspCertId): boolean {
  const c = DerCursor.of(buf, DerCursor.of(buf, single).next(TAG.SEQUENCE));
  const alg = DerCursor.of(buf, c.next(TAG.SEQUENCE));
  const hashOid = decodeOid(buf, alg.next(TAG.OID));
  const nameHash = Buffer.from(valueOf(buf, c.next(TAG.OCTET_STRING)));
  const keyHash = Buffer.from(valueOf(buf, c.next(TAG.OCTET_STRING)));
  const serialTlv = c.next(TAG.INTEGER);
  const serial = Buffer.from(valueOf(buf, serialTlv)).toString('hex').toUpperCase();
  if (serial !== want.serial) return false;
  if (hashOid === '1.3.14.3.2.26') return nameHash.equals(want.nameHash) && keyHash.equals(want.keyHash);
  return false; // we only ask with SHA-1 CertIDs (RFC 5019); a response for another CertID is not ours
}

/**
 * Which responder to ask: one URL for every issuer, or one chosen by the issuing CA (J-LIS gives
 * accredited verifiers endpoints of their own per CA generation). `undefined` falls back to the
 * certificate's AIA URL.
 */
export type OcspResponderUrl = string | ((issuer: X509Certificate) => string | undefined);

export interface OcspClientOptions extends OcspValidationOptions {
  fetcher: OcspFetcher;
  /** Overrides the AIA OCSP URL of the certificates. */
  url?: OcspResponderUrl;
  /** Send a nonce (default true). */
  nonce?: boolean;
}

/** A RevocationChecker over OCSP; fails closed (`RevocationUnavailable`) when the responder cannot answer. */
export class OcspClient implements RevocationChecker {
  private readonly options: OcspClientOptions;
  constructor(options: OcspClientOptions) {
    this.options = options;
  }

  async check(certificate: CertificateReference, issuer: X509Certificate, at: Date): Promise<RevocationStatus> {
    const configured = typeof this.options.url === 'function' ? this.options.url(issuer) : this.options.url;
    const url = configured ?? certificate.ocspUrls[0];
    if (!url)
      throw new RevocationUnavailable(
        `no OCSP responder is configured for ${issuer.subject.text} (serial ${issuer.serial}) and certificate ${certificate.serial} names none`,
      );
    const request = buildOcspRequest(certificate, issuer, { nonce: this.options.nonce !== false });
    let response: Uint8Array;
    try {
      response = await this.options.fetcher(url, request.der);
    } catch (e) {
      throw new RevocationUnavailable(`the OCSP responder ${url} did not answer: ${(e as Error).message}`);
    }
    return validateOcspResponse(response, request, issuer, { ...this.options, at });
  }
}

/** The most a responder may send: an OCSP response for one certificate is a few kilobytes. */
const MAX_OCSP_RESPONSE_BYTES = 1024 * 1024;

/**
 * The default fetcher: HTTP(S) POST over kept-alive connections, bounded by a timeout and a size
 * limit. node:http rather than `fetch`: one OCSP round trip per verification is the platform's
 * hottest network call, and fetch's streams and abort signals cost more than the request itself.
 */
export function httpOcspFetcher(timeoutMs = 5000): OcspFetcher {
  const http = httpBytesClient();
  return (url, request) =>
    http(url, {
      method: 'POST',
      body: request,
      headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
      timeoutMs,
      maxBytes: MAX_OCSP_RESPONSE_BYTES,
      what: 'OCSP',
    });
}
