// Combining revocation sources: OCSP first with CRL fallback, or one source only, always failing
// closed when no fresh source answers. Every answer says which source spoke and how fresh it is.

import type { CrlIndex } from './crl.js';
import { RevocationUnavailable, Revoked, isJpkiError } from './errors.js';
import {
  REVOCATION_MEANING,
  type CertificateReference,
  type RevocationChecker,
  type RevocationStatus,
} from './revocation.js';
import type { X509Certificate } from './x509.js';

/** Answers from CRLs loaded (and refreshed) by the caller. */
export class CrlChecker implements RevocationChecker {
  private indexes: CrlIndex[] = [];
  private readonly graceSeconds: number;

  constructor(indexes: readonly CrlIndex[] = [], graceSeconds = 0) {
    this.graceSeconds = graceSeconds;
    for (const i of indexes) this.add(i);
  }

  /**
   * Adds or replaces (same issuer, CA key and distribution point) a loaded CRL. Lookups in flight
   * keep the index they started with: the list is swapped, never edited in place.
   */
  add(index: CrlIndex): void {
    const same = (i: CrlIndex): boolean =>
      Buffer.from(i.info.issuer.der).equals(index.info.issuer.der) &&
      i.info.authorityKeyId === index.info.authorityKeyId &&
      i.info.distributionPoint?.text === index.info.distributionPoint?.text;
    this.indexes = [...this.indexes.filter((i) => !same(i)), index];
  }

  async check(certificate: CertificateReference, issuer: X509Certificate, at: Date): Promise<RevocationStatus> {
    const dps = new Set(certificate.crlDistributionPoints.map((d) => (typeof d === 'string' ? d : d.text)));
    const covering = this.indexes.filter(
      (i) =>
        Buffer.from(i.info.issuer.der).equals(issuer.subject.der) &&
        (!i.info.authorityKeyId || !issuer.subjectKeyId || i.info.authorityKeyId === issuer.subjectKeyId) &&
        (!i.info.distributionPoint || dps.has(i.info.distributionPoint.text)),
    );
    if (covering.length === 0)
      throw new RevocationUnavailable(`no CRL is loaded for ${issuer.subject.text} (serial ${issuer.serial})`);
    // The freshest covering CRL decides.
    const index = covering.reduce((a, b) => (b.info.thisUpdate > a.info.thisUpdate ? b : a));
    const { thisUpdate, nextUpdate } = index.info;
    if (nextUpdate && at.getTime() > nextUpdate.getTime() + this.graceSeconds * 1000) {
      throw new RevocationUnavailable(
        `the loaded CRL of ${issuer.subject.text} is stale (nextUpdate ${nextUpdate.toISOString()})`,
      );
    }
    const base = { source: 'crl' as const, thisUpdate, ...(nextUpdate ? { nextUpdate } : {}), checkedAt: at };
    const entry = index.lookup(certificate.serial);
    if (!entry || entry.revokedAt > at) return { status: 'good', ...base };
    return { status: 'revoked', reason: entry.reason, revokedAt: entry.revokedAt, ...base };
  }
}

export type RevocationMode = 'ocsp' | 'crl' | 'ocsp-then-crl';

export interface RevocationPolicyOptions {
  mode: RevocationMode;
  ocsp?: RevocationChecker;
  crl?: RevocationChecker;
}

/** Tries the configured sources in order; `unknown` is not an answer; nothing fresh → RevocationUnavailable. */
export class RevocationPolicy implements RevocationChecker {
  private readonly sources: [string, RevocationChecker][];

  constructor(options: RevocationPolicyOptions) {
    const want = options.mode === 'ocsp' ? ['ocsp'] : options.mode === 'crl' ? ['crl'] : ['ocsp', 'crl'];
    this.sources = want.map((name) => {
      const checker = name === 'ocsp' ? options.ocsp : options.crl;
      if (!checker) throw new TypeError(`revocation mode ${options.mode} needs a ${name} checker`);
      return [name, checker];
    });
  }

  async check(certificate: CertificateReference, issuer: X509Certificate, at: Date): Promise<RevocationStatus> {
    const failures: string[] = [];
    for (const [name, checker] of this.sources) {
      try {
        const status = await checker.check(certificate, issuer, at);
        if (status.status !== 'unknown') return status;
        failures.push(`${name}: the source does not know certificate ${certificate.serial}`);
      } catch (e) {
        // Only "could not get a fresh answer" falls through; a forged or mismatched answer is an attack signal.
        if (isJpkiError(e) && e.code === 'REVOCATION_UNAVAILABLE')
          failures.push(`${name}: ${String(e.details.reason ?? e.message)}`);
        else throw e;
      }
    }
    throw new RevocationUnavailable(failures.join('; '));
  }
}

/** Checks revocation and throws `Revoked` (with the reason's plain meaning) or `RevocationUnavailable`. */
export async function assertNotRevoked(
  checker: RevocationChecker,
  certificate: CertificateReference,
  issuer: X509Certificate,
  at: Date = new Date(),
): Promise<RevocationStatus> {
  const status = await checker.check(certificate, issuer, at);
  if (status.status === 'unknown')
    throw new RevocationUnavailable(`the ${status.source} source does not know certificate ${certificate.serial}`);
  if (status.status === 'revoked') {
    const reason = status.reason ?? 'unspecified';
    const meaning = REVOCATION_MEANING[reason];
    throw new Revoked(certificate.serial, reason, status.revokedAt ?? at, meaning.en, meaning.ja, status.source);
  }
  return status;
}
