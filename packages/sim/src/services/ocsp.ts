// OCSP responder of the simulated J-LIS (RFC 6960): a delegated responder certificate per root,
// good / revoked / unknown from the sandbox's records, nonce echo, cached signatures.

import { createHash, createPrivateKey, createSign, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CRL_REASON_CODE,
  OID,
  SHA256_WITH_RSA_ALGORITHM,
  findOcspNonce,
  parseX509,
  type X509Certificate,
} from '@kakunin/jpki';
import {
  DerCursor,
  TAG,
  bytesOf,
  ctx,
  decodeOid,
  encodeOid,
  encodeTlv,
  encodeUnsignedInteger,
  readSingle,
  valueOf,
} from '@kakunin/jpki/der';
import { keyIdentifier } from '../ca.js';
import { generateRsaKeyPair } from '../keys.js';
import { nameDer } from '../names.js';
import type { Sandbox } from '../sandbox.js';
import { writeFileAtomic } from '../state.js';

const OID_BASIC = '1.3.6.1.5.5.7.48.1.1';
const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_NOCHECK = '1.3.6.1.5.5.7.48.1.5';
const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const HASHES: Record<string, 'sha1' | 'sha256'> = { '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256' };
const RESPONDER_DAYS = 30;
const NEXT_UPDATE_MS = 3_600_000;
const CACHE_MS = 60_000;

/** OCSPResponse with an error status and no body. */
export const OCSP_MALFORMED = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.ENUMERATED, Buffer.from([1])));
const OCSP_UNAUTHORIZED = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.ENUMERATED, Buffer.from([6])));

interface Responder {
  readonly rootId: string;
  readonly root: X509Certificate;
  readonly cert: Buffer;
  readonly key: KeyObject;
  readonly keyHash: Buffer;
  readonly notAfter: Date;
  /** Issuer name / key hashes by hash algorithm, to match CertIDs. */
  readonly match: Record<'sha1' | 'sha256', { name: Buffer; key: Buffer }>;
}

const time = (d: Date): Buffer =>
  encodeTlv(TAG.GENERALIZED_TIME, Buffer.from(`${d.toISOString().slice(0, 19).replace(/[-T:]/g, '')}Z`));
const ext = (oid: string, value: Buffer, critical = false): Buffer =>
  encodeTlv(
    TAG.SEQUENCE,
    encodeOid(oid),
    ...(critical ? [encodeTlv(TAG.BOOLEAN, Buffer.from([0xff]))] : []),
    encodeTlv(TAG.OCTET_STRING, value),
  );

/** The delegated responder certificate of one root: EKU id-kp-OCSPSigning and id-pkix-ocsp-nocheck. */
function issueResponderCert(sandbox: Sandbox, rootId: string, key: { publicKey: KeyObject }, now: Date): Buffer {
  const root = parseX509(sandbox.ca.root(rootId).der);
  const notAfter = new Date(Math.min(now.getTime() + RESPONDER_DAYS * 86_400_000, root.notAfter.getTime()));
  const subject = nameDer([
    [OID.countryName, 'JP'],
    [OID.organizationName, 'JPKI-SIM'],
    [OID.organizationalUnitName, 'OCSP Responder'],
    [OID.commonName, `${rootId} OCSP`],
  ]);
  const utc = (d: Date): Buffer =>
    encodeTlv(TAG.UTC_TIME, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`));
  const tbs = encodeTlv(
    TAG.SEQUENCE,
    encodeTlv(ctx(0), encodeTlv(TAG.INTEGER, Buffer.from([2]))),
    encodeUnsignedInteger(BigInt(`0x${randomBytes(8).toString('hex')}`) >> 1n),
    SHA256_WITH_RSA_ALGORITHM,
    Buffer.from(root.subject.der),
    encodeTlv(TAG.SEQUENCE, utc(new Date(now.getTime() - 60_000)), utc(notAfter)),
    subject,
    key.publicKey.export({ format: 'der', type: 'spki' }),
    encodeTlv(
      ctx(3),
      encodeTlv(
        TAG.SEQUENCE,
        ext(OID.keyUsage, Buffer.from('03020780', 'hex'), true),
        ext(OID.extKeyUsage, encodeTlv(TAG.SEQUENCE, encodeOid(OID_OCSP_SIGNING))),
        ext(OID_NOCHECK, encodeTlv(TAG.NULL)),
        ext(
          OID.authorityKeyIdentifier,
          encodeTlv(TAG.SEQUENCE, encodeTlv(ctx(0, false), Buffer.from(root.subjectKeyId!, 'hex'))),
        ),
        ext(OID.subjectKeyIdentifier, encodeTlv(TAG.OCTET_STRING, keyIdentifier(key.publicKey))),
      ),
    ),
  );
  return sandbox.ca.signTbs(rootId, tbs);
}

/** Answers OCSP requests for every root of a sandbox. */
export class OcspResponder {
  private responders = new Map<string, Responder>();
  private cache = new Map<string, { der: Buffer; until: number }>();
  private readonly sandbox: Sandbox;

  private constructor(sandbox: Sandbox) {
    this.sandbox = sandbox;
  }

  /** Loads (or creates and persists under `<sandbox>/ocsp/`) one responder certificate per root. */
  static async open(sandbox: Sandbox, now = new Date()): Promise<OcspResponder> {
    const r = new OcspResponder(sandbox);
    const dir = join(sandbox.dir, 'ocsp');
    mkdirSync(dir, { recursive: true });
    for (const root of sandbox.roots()) {
      const certFile = join(dir, `${root.id}.der`);
      const keyFile = join(dir, `${root.id}.key.pem`);
      let cert: Buffer | undefined = existsSync(certFile) ? readFileSync(certFile) : undefined;
      let key: KeyObject | undefined = existsSync(keyFile)
        ? createPrivateKey(readFileSync(keyFile, 'utf8'))
        : undefined;
      const x = cert ? parseX509(cert) : undefined;
      // Re-issue when missing, expiring within a day, or issued by a root the sandbox no longer has (re-init).
      if (
        !cert ||
        !key ||
        !x ||
        x.notAfter.getTime() - now.getTime() < 86_400_000 ||
        !Buffer.from(x.issuer.der).equals(parseX509(root.der).subject.der) ||
        x.authorityKeyId?.keyId !== parseX509(root.der).subjectKeyId
      ) {
        const pair = await generateRsaKeyPair();
        key = pair.privateKey;
        cert = issueResponderCert(sandbox, root.id, pair, now);
        writeFileAtomic(keyFile, key.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600);
        writeFileAtomic(certFile, cert);
      }
      const rootX = parseX509(root.der);
      const responderX = parseX509(cert);
      const hashes = (alg: 'sha1' | 'sha256') => ({
        name: createHash(alg).update(rootX.subject.der).digest(),
        key: createHash(alg).update(rootX.publicKey.pkcs1).digest(),
      });
      r.responders.set(root.id, {
        rootId: root.id,
        root: rootX,
        cert,
        key,
        keyHash: createHash('sha1').update(responderX.publicKey.pkcs1).digest(),
        notAfter: responderX.notAfter,
        match: { sha1: hashes('sha1'), sha256: hashes('sha256') },
      });
    }
    return r;
  }

  /** The responder certificate of a root (for clients and tests). */
  responderCertificate(rootId: string): Buffer | undefined {
    return this.responders.get(rootId)?.cert;
  }

  /** DER OCSPRequest → DER OCSPResponse from the sandbox state as loaded (the caller reloads). Never throws: garbage gets `malformedRequest`. */
  respond(request: Uint8Array, now = new Date()): Buffer {
    let parsed: {
      certIds: { der: Buffer; hash: 'sha1' | 'sha256'; nameHash: Buffer; keyHash: Buffer; serial: string }[];
      nonce: Buffer | undefined;
    };
    try {
      parsed = parseRequest(request);
    } catch {
      return OCSP_MALFORMED;
    }
    if (parsed.certIds.length === 0) return OCSP_MALFORMED;
    const first = parsed.certIds[0]!;
    const responder = [...this.responders.values()].find(
      (r) => r.match[first.hash].name.equals(first.nameHash) && r.match[first.hash].key.equals(first.keyHash),
    );
    if (!responder) return OCSP_UNAUTHORIZED;
    const cacheKey = parsed.nonce ? undefined : Buffer.from(request).toString('base64');
    const cached = cacheKey ? this.cache.get(cacheKey) : undefined;
    if (cached && cached.until > now.getTime()) return cached.der;

    const singles = parsed.certIds.map((id) => {
      const sameIssuer =
        responder.match[id.hash].name.equals(id.nameHash) && responder.match[id.hash].key.equals(id.keyHash);
      let status: Buffer = encodeTlv(ctx(2, false)); // unknown
      if (sameIssuer) {
        const record = this.sandbox.certificates({ issuerId: responder.rootId }).find((c) => c.serial === id.serial);
        if (record?.revocation) {
          status = encodeTlv(
            ctx(1),
            time(new Date(record.revocation.revokedAt)),
            encodeTlv(ctx(0), encodeTlv(TAG.ENUMERATED, Buffer.from([CRL_REASON_CODE[record.revocation.reason]]))),
          );
        } else if (record) {
          status = encodeTlv(ctx(0, false));
        }
      }
      return encodeTlv(
        TAG.SEQUENCE,
        id.der,
        status,
        time(now),
        encodeTlv(ctx(0), time(new Date(now.getTime() + NEXT_UPDATE_MS))),
      );
    });
    const tbs = encodeTlv(
      TAG.SEQUENCE,
      encodeTlv(ctx(2), encodeTlv(TAG.OCTET_STRING, responder.keyHash)),
      time(now),
      encodeTlv(TAG.SEQUENCE, ...singles),
      ...(parsed.nonce
        ? [encodeTlv(ctx(1), encodeTlv(TAG.SEQUENCE, ext(OID_NONCE, encodeTlv(TAG.OCTET_STRING, parsed.nonce))))]
        : []),
    );
    const signature = createSign('sha256').update(tbs).sign(responder.key);
    const basic = encodeTlv(
      TAG.SEQUENCE,
      tbs,
      SHA256_WITH_RSA_ALGORITHM,
      encodeTlv(TAG.BIT_STRING, Buffer.from([0]), signature),
      encodeTlv(ctx(0), encodeTlv(TAG.SEQUENCE, responder.cert)),
    );
    const der = encodeTlv(
      TAG.SEQUENCE,
      encodeTlv(TAG.ENUMERATED, Buffer.from([0])),
      encodeTlv(ctx(0), encodeTlv(TAG.SEQUENCE, encodeOid(OID_BASIC), encodeTlv(TAG.OCTET_STRING, basic))),
    );
    if (cacheKey) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(cacheKey, { der, until: now.getTime() + CACHE_MS });
    }
    return der;
  }

  /** Forget cached answers (after a life event in this process). */
  invalidate(): void {
    this.cache.clear();
  }
}

function parseRequest(der: Uint8Array): {
  certIds: { der: Buffer; hash: 'sha1' | 'sha256'; nameHash: Buffer; keyHash: Buffer; serial: string }[];
  nonce: Buffer | undefined;
} {
  const req = DerCursor.of(der, readSingle(der, TAG.SEQUENCE));
  const tbs = DerCursor.of(der, req.next(TAG.SEQUENCE));
  tbs.optional(ctx(0));
  tbs.optional(ctx(1));
  const list = DerCursor.of(der, tbs.next(TAG.SEQUENCE)).rest();
  const exts = tbs.optional(ctx(2));
  const certIds = list.map((r) => {
    const idTlv = DerCursor.of(der, r).next(TAG.SEQUENCE);
    const c = DerCursor.of(der, idTlv);
    const alg = DerCursor.of(der, c.next(TAG.SEQUENCE));
    const hash = HASHES[decodeOid(der, alg.next(TAG.OID))];
    if (!hash) throw new Error('unsupported CertID hash');
    const nameHash = Buffer.from(valueOf(der, c.next(TAG.OCTET_STRING)));
    const keyHash = Buffer.from(valueOf(der, c.next(TAG.OCTET_STRING)));
    const serial = Buffer.from(valueOf(der, c.next(TAG.INTEGER)))
      .toString('hex')
      .toUpperCase();
    return { der: Buffer.from(bytesOf(der, idTlv)), hash, nameHash, keyHash, serial };
  });
  return { certIds, nonce: exts ? findOcspNonce(der, exts) : undefined };
}
