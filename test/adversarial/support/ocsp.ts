// OCSP answers as a network attacker (or a broken responder) would send them: built byte by byte,
// signed with whatever key the scenario has.

import { createHash, sign, type KeyObject } from 'node:crypto';
import { SHA256_WITH_RSA_ALGORITHM, findOcspNonce, parseX509 } from '@kakunin/jpki';
import { DerCursor, TAG, bytesOf, ctx, encodeOid, encodeTlv, readSingle } from '@kakunin/jpki/der';

const OID_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';

const generalizedTime = (d: Date): Buffer =>
  encodeTlv(TAG.GENERALIZED_TIME, Buffer.from(`${d.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`));

/** The CertID (DER) and the nonce of a DER OCSPRequest with one request. */
export function readOcspRequest(der: Uint8Array): { certId: Buffer; nonce: Buffer | undefined } {
  const req = DerCursor.of(der, readSingle(der, TAG.SEQUENCE));
  const tbs = DerCursor.of(der, req.next(TAG.SEQUENCE));
  tbs.optional(ctx(0));
  tbs.optional(ctx(1));
  const list = DerCursor.of(der, tbs.next(TAG.SEQUENCE)).rest();
  const exts = tbs.optional(ctx(2));
  const certId = DerCursor.of(der, list[0]!).next(TAG.SEQUENCE);
  return { certId: Buffer.from(bytesOf(der, certId)), nonce: exts ? findOcspNonce(der, exts) : undefined };
}

export interface ForgedAnswer {
  certId: Buffer;
  /** A certStatus, or its raw DER (e.g. one no responder may send). */
  status: 'good' | 'revoked' | 'unknown' | Buffer;
  thisUpdate: Date;
  nextUpdate?: Date;
  /** Echoed in the response extensions when given. */
  nonce?: Buffer;
  /** The responder certificate (embedded, named by key hash) and the key that signs. */
  responderCert: Buffer;
  signingKey: KeyObject;
}

/** A successful BasicOCSPResponse for one CertID. */
export function buildOcspResponse(a: ForgedAnswer): Buffer {
  const responder = parseX509(a.responderCert);
  const keyHash = createHash('sha1').update(responder.publicKey.pkcs1).digest();
  const status = Buffer.isBuffer(a.status)
    ? a.status
    : a.status === 'good'
      ? encodeTlv(ctx(0, false))
      : a.status === 'unknown'
        ? encodeTlv(ctx(2, false))
        : encodeTlv(ctx(1), generalizedTime(new Date(a.thisUpdate.getTime() - 3_600_000)));
  const single = encodeTlv(
    TAG.SEQUENCE,
    a.certId,
    status,
    generalizedTime(a.thisUpdate),
    ...(a.nextUpdate ? [encodeTlv(ctx(0), generalizedTime(a.nextUpdate))] : []),
  );
  const tbs = encodeTlv(
    TAG.SEQUENCE,
    encodeTlv(ctx(2), encodeTlv(TAG.OCTET_STRING, keyHash)),
    generalizedTime(a.thisUpdate),
    encodeTlv(TAG.SEQUENCE, single),
    ...(a.nonce
      ? [
          encodeTlv(
            ctx(1),
            encodeTlv(
              TAG.SEQUENCE,
              encodeTlv(
                TAG.SEQUENCE,
                encodeOid(OID_NONCE),
                encodeTlv(TAG.OCTET_STRING, encodeTlv(TAG.OCTET_STRING, a.nonce)),
              ),
            ),
          ),
        ]
      : []),
  );
  const basic = encodeTlv(
    TAG.SEQUENCE,
    tbs,
    SHA256_WITH_RSA_ALGORITHM,
    encodeTlv(TAG.BIT_STRING, Buffer.from([0]), sign('sha256', tbs, a.signingKey)),
    encodeTlv(ctx(0), encodeTlv(TAG.SEQUENCE, a.responderCert)),
  );
  return encodeTlv(
    TAG.SEQUENCE,
    encodeTlv(TAG.ENUMERATED, Buffer.from([0])),
    encodeTlv(ctx(0), encodeTlv(TAG.SEQUENCE, encodeOid(OID_BASIC), encodeTlv(TAG.OCTET_STRING, basic))),
  );
}
