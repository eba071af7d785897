// The platform's use of @kakunin/jpki: one verification of a holder's response (profile, chain,
// validity, key usage, policy, signature over the exact bytes issued, revocation) and the trust and
// revocation wiring of each mode. All the checks themselves live in jpki.

import type {
  LinkageClient,
  TrustStore} from '@kakunin/jpki';
import {
  CrlChecker,
  CrlIndex,
  crlDer,
  OcspClient,
  RevocationPolicy,
  assertNotRevoked,
  httpOcspFetcher,
  parseCertificate,
  validate,
  verifySignature,
  type JpkiCertificate,
  type RevocationChecker,
  type RevocationStatus,
  type ValidationMode,
  type ValidationResult,
} from '@kakunin/jpki';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type CertificateKind = 'auth' | 'sign';

export interface VerificationInput {
  certificate: Uint8Array;
  signature: Uint8Array;
  /** The exact bytes the platform issued; the card signed DigestInfo(SHA-256(toBeSigned)). */
  toBeSigned: Uint8Array;
  kind: CertificateKind;
  at?: Date;
}

export interface Verification {
  readonly certificate: JpkiCertificate;
  readonly validation: ValidationResult;
  readonly revocation: RevocationStatus;
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
  constructor(readonly options: VerifierOptions) {}

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
    const validation = validate(certificate, { at, mode: this.options.mode, trustStore: this.options.trustStore, kind: input.kind });
    verifySignature(certificate, input.toBeSigned, input.signature);
    const revocation = await assertNotRevoked(this.options.revocation, certificate.x509, validation.anchor.certificate.x509, at);
    return { certificate, validation, revocation, issuerId: validation.anchor.label };
  }

  /** Revocation of an already verified certificate, now (the revocation monitor). */
  async recheck(certificateDer: Uint8Array, at = new Date()): Promise<{ certificate: JpkiCertificate; status: RevocationStatus; issuerId: string }> {
    const certificate = parseCertificate(certificateDer);
    // Validity is not re-checked here: an expired certificate is reported by the monitor as expired.
    const validation = validate(certificate, { at: certificate.notBefore, mode: this.options.mode, trustStore: this.options.trustStore });
    const status = await this.options.revocation.check(certificate.x509, validation.anchor.certificate.x509, at);
    return { certificate, status, issuerId: validation.anchor.label };
  }
}

/** Production revocation sources: OCSP (with CRL fallback when a CRL directory is configured). */
export function productionRevocation(o: { ocspUrl?: string; crlDir?: string; trustStore: TrustStore }): RevocationChecker {
  const ocsp = new OcspClient({ fetcher: httpOcspFetcher(), ...(o.ocspUrl ? { url: o.ocspUrl } : {}) });
  if (!o.crlDir) return new RevocationPolicy({ mode: 'ocsp', ocsp });
  const crl = new CrlChecker(loadCrlDir(o.crlDir, o.trustStore));
  return new RevocationPolicy({ mode: 'ocsp-then-crl', ocsp, crl });
}

/** Loads every CRL in a directory, each verified against the anchor that signed it. */
export function loadCrlDir(dir: string, store: TrustStore): CrlIndex[] {
  const out: CrlIndex[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.(crl|der|pem)$/i.test(f))) {
    const der = crlDer(readFileSync(join(dir, file)));
    // The anchor whose key verifies the CRL is its issuer; the index loaded with it is kept.
    let index: CrlIndex | undefined;
    for (const anchor of store.list()) {
      try {
        index = CrlIndex.load(der, { issuer: anchor.certificate.x509 });
        break;
      } catch {
        // not this anchor
      }
    }
    if (!index) throw new Error(`CRL ${file} is not signed by any trusted J-LIS root`);
    out.push(index);
  }
  return out;
}
