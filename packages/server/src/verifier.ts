// The platform's use of @kakunin/jpki: one verification of a holder's response (profile, chain,
// validity, key usage, policy, signature over the exact bytes issued, revocation) and the trust and
// revocation wiring of each mode. All the checks themselves live in jpki.

import type { LinkageClient, TrustStore } from '@kakunin/jpki';
import {
  OcspClient,
  RevocationPolicy,
  UntrustedIssuer,
  assertNotRevoked,
  httpOcspFetcher,
  ocspCertId,
  parseCertificate,
  validate,
  verifySignature,
  type JpkiCertificate,
  type RevocationChecker,
  type RevocationStatus,
  type ValidationMode,
  type ValidationResult,
  type OcspFetcher,
  type X509Certificate,
} from '@kakunin/jpki';
import type { OcspConfig } from './config.js';
import type { UsageMeter } from './usage.js';

export type CertificateKind = 'auth' | 'sign';

export interface VerificationInput {
  certificate: Uint8Array;
  signature: Uint8Array;
  /** The exact bytes the platform issued; the card signed DigestInfo(SHA-256(toBeSigned)). */
  toBeSigned: Uint8Array;
  kind: CertificateKind;
  at?: Date;
  /** Reuse a `good` OCSP answer for the same certificate younger than `seconds` (0: always ask). */
  reuse?: AnswerReuse;
}

export interface AnswerReuse {
  seconds: number;
  answers: RevocationAnswers;
}

/** Where good OCSP answers wait for reuse, by issuer generation and serial. */
export interface RevocationAnswers {
  /** A good answer checked at most `maxAgeSeconds` before `at` and still within its nextUpdate. */
  find(issuerId: string, serial: string, at: Date, maxAgeSeconds: number): Promise<RevocationStatus | undefined>;
  remember(issuerId: string, serial: string, status: RevocationStatus): Promise<void>;
}

/** A revocation answer as a verification used it: `reused` when it was an earlier answer (its checkedAt says when it was asked). */
export type VerifiedRevocation = RevocationStatus & { readonly reused?: true };

/** What the revocation monitor keeps of a certificate instead of the certificate. */
export interface WatchedCertificate {
  /** Label of the issuing trust anchor (issuer generation). */
  issuerId: string;
  serial: string;
  /** The OCSP CertID's SHA-1 hashes of the issuer's name and key. */
  issuerNameHash: Uint8Array;
  issuerKeyHash: Uint8Array;
}

export interface Verification {
  readonly certificate: JpkiCertificate;
  readonly validation: ValidationResult;
  readonly revocation: VerifiedRevocation;
  /** Stable id of the issuing root (its label, e.g. `authca03` or a simulator root id). */
  readonly issuerId: string;
}

export interface VerifierOptions {
  mode: ValidationMode;
  trustStore: TrustStore;
  revocation: RevocationChecker;
  linkage?: LinkageClient;
}

export class JpkiVerifier {
  readonly options: VerifierOptions;
  constructor(options: VerifierOptions) {
    this.options = options;
  }

  get mode(): ValidationMode {
    return this.options.mode;
  }

  get linkage(): LinkageClient | undefined {
    return this.options.linkage;
  }

  /**
   * Throws the typed jpki error of the first failed check. The signature is checked before
   * revocation so that a forgery never costs an OCSP round trip.
   */
  async verify(input: VerificationInput): Promise<Verification> {
    const at = input.at ?? new Date();
    const certificate = parseCertificate(input.certificate);
    const validation = validate(certificate, {
      at,
      mode: this.options.mode,
      trustStore: this.options.trustStore,
      kind: input.kind,
    });
    verifySignature(certificate, input.toBeSigned, input.signature);
    const issuerId = validation.anchor.label;
    const reuse = input.reuse && input.reuse.seconds > 0 ? input.reuse : undefined;
    const earlier = reuse ? await reuse.answers.find(issuerId, certificate.serial, at, reuse.seconds) : undefined;
    if (earlier) return { certificate, validation, revocation: { ...earlier, reused: true }, issuerId };
    const revocation = await assertNotRevoked(
      this.options.revocation,
      certificate.x509,
      validation.anchor.certificate.x509,
      at,
    );
    // Only OCSP answers are worth keeping: a CRL answer costs no round trip.
    if (reuse && revocation.source === 'ocsp' && revocation.status === 'good')
      await reuse.answers.remember(issuerId, certificate.serial, revocation);
    return { certificate, validation, revocation, issuerId };
  }

  /**
   * Revocation of a watched certificate, now (the revocation monitor), from its issuer generation,
   * serial and CertID hashes: the certificate itself is not kept, so only configured responders and
   * CRLs covering the whole issuer can answer.
   */
  async recheck(watched: WatchedCertificate, at = new Date()): Promise<RevocationStatus> {
    const issuer = this.issuerOf(watched);
    return this.options.revocation.check(
      { serial: watched.serial, ocspUrls: [], crlDistributionPoints: [] },
      issuer,
      at,
    );
  }

  /** The anchor labelled as the watch says, provided it is the CA the kept CertID names. */
  private issuerOf(watched: WatchedCertificate): X509Certificate {
    const anchor = this.options.trustStore.list().find((a) => a.label === watched.issuerId);
    if (!anchor) throw new UntrustedIssuer(watched.issuerId, 'no trust anchor has this label any more');
    const issuer = anchor.certificate.x509;
    const certId = ocspCertId(watched.serial, issuer);
    if (!certId.nameHash.equals(watched.issuerNameHash) || !certId.keyHash.equals(watched.issuerKeyHash)) {
      throw new UntrustedIssuer(
        watched.issuerId,
        `the anchor with this label is not the CA that issued certificate ${watched.serial} (the kept CertID hashes differ)`,
      );
    }
    return issuer;
  }
}

/**
 * The OCSP client of the configuration: the responder configured for the issuing anchor's label,
 * else `fallbackUrl` (KAKUNIN_OCSP_URL, or the simulator's), else the certificate's AIA URL.
 */
export function configuredOcspClient(o: {
  ocsp: OcspConfig;
  fallbackUrl?: string;
  trustStore: TrustStore;
  fetcher?: OcspFetcher;
}): OcspClient {
  const responderOf = (issuer: X509Certificate): string | undefined => {
    const label = o.trustStore.list().find((a) => a.certificate.x509.der.equals(issuer.der))?.label;
    return (
      (label !== undefined && Object.hasOwn(o.ocsp.responders, label) ? o.ocsp.responders[label] : undefined) ??
      o.fallbackUrl
    );
  };
  return new OcspClient({
    fetcher: o.fetcher ?? httpOcspFetcher(o.ocsp.timeoutMs),
    url: responderOf,
    maxResponseAgeSeconds: o.ocsp.maxResponseAgeSeconds,
    requireNonce: o.ocsp.requireNonce,
  });
}

/** Production revocation sources: OCSP, with the refreshed CRLs (crl/) as fallback when there are any. */
export function productionRevocation(o: {
  ocspUrl?: string;
  ocsp: OcspConfig;
  crl?: RevocationChecker;
  trustStore: TrustStore;
  usage?: Pick<UsageMeter, 'ocspFetcher'>;
}): RevocationChecker {
  const fetcher = httpOcspFetcher(o.ocsp.timeoutMs);
  const ocsp = configuredOcspClient({
    ocsp: o.ocsp,
    trustStore: o.trustStore,
    fetcher: o.usage ? o.usage.ocspFetcher(fetcher) : fetcher,
    ...(o.ocspUrl ? { fallbackUrl: o.ocspUrl } : {}),
  });
  if (!o.crl) return new RevocationPolicy({ mode: 'ocsp', ocsp });
  return new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp, crl: o.crl });
}
