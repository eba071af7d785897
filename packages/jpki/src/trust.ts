// Trust anchors. Several generations of a J-LIS root share one DN, so the issuer of a
// certificate is chosen by AKI (key id and serial) and then by signature, never by DN alone.

import { JLIS_ROOTS } from './jlis-roots.js';
import { kindOfName, parseCertificate, type JpkiCertificate } from './profile.js';
import type { CertKind, Environment, Medium } from './oids.js';
import { Malformed, PinMismatch, TrustAnchorRejected } from './errors.js';

export interface TrustAnchor {
  readonly certificate: JpkiCertificate;
  /** A human name: the J-LIS file name (`authca03`) or what the caller gave. */
  readonly label: string;
  readonly kind: CertKind;
  readonly environment: Environment;
  /** The medium whose certificates this anchor issues, when known. */
  readonly medium: Medium | undefined;
  /** How it got here: shipped with this package, pinned by SHA-256 (`addPinned`), or added unpinned (`add`). */
  readonly source: AnchorSource;
}

export type AnchorSource = 'embedded' | 'pinned' | 'added';

export interface AnchorOptions {
  label?: string;
  medium?: Medium;
}

export class TrustStore {
  private readonly anchors: TrustAnchor[] = [];
  private readonly byIssuerName = new Map<string, TrustAnchor[]>();

  /** A store holding the real J-LIS roots shipped with this package, each checked against its pin. */
  static jlis(): TrustStore {
    const store = new TrustStore();
    for (const root of JLIS_ROOTS)
      store.insert(pinned(root.pem, root.sha256, root.label), { label: root.label }, 'embedded');
    return store;
  }

  /** Adds a self-signed CA certificate (DER or PEM) as an anchor, unpinned (sandbox and test roots). */
  add(input: Uint8Array | string | JpkiCertificate, options: AnchorOptions = {}): TrustAnchor {
    const certificate = typeof input === 'object' && 'x509' in input ? input : parseCertificate(input);
    return this.insert(certificate, options, 'added');
  }

  /**
   * Adds a production root (e.g. a J-LIS generation newer than this package) only if its DER hashes
   * to `sha256` (hex; case, colons and spaces ignored). The pin is the operator's trust decision, so
   * a root can never be trusted by merely being present. Throws `PinMismatch` when the hashes differ,
   * `TrustAnchorRejected` for a missing or malformed pin or a root that is not a self-issued
   * production CA, `Malformed` for bad DER.
   */
  addPinned(input: Uint8Array | string, sha256: string, options: AnchorOptions = {}): TrustAnchor {
    const label = options.label ?? 'unnamed root';
    return this.insert(pinned(input, sha256, label), options, 'pinned');
  }

  private insert(certificate: JpkiCertificate, options: AnchorOptions, source: AnchorSource): TrustAnchor {
    const x = certificate.x509;
    if (!certificate.isCA) throw new Malformed(`trust anchor ${x.subject.text} is not a CA certificate`);
    const existing = this.anchors.find((a) => a.certificate.x509.der.equals(x.der));
    if (existing) return existing;
    const kind = kindOfName(x.subject);
    if (!kind)
      throw new Malformed(`trust anchor ${x.subject.text} names neither user authentication nor digital signature`);
    if (certificate.environment === 'unknown')
      throw new Malformed(
        `trust anchor ${x.subject.text} has an unknown organisation (expected JPKI, JPKI-TEST or JPKI-SIM)`,
      );
    const medium = options.medium ?? mediumOfName(x.subject.text);
    const anchor: TrustAnchor = {
      certificate,
      label: options.label ?? certificate.issuerGeneration.label ?? `${x.subject.text} #${x.serial}`,
      kind,
      environment: certificate.environment,
      medium,
      source,
    };
    this.anchors.push(anchor);
    const key = nameKey(x.subject.der);
    this.byIssuerName.set(key, [...(this.byIssuerName.get(key) ?? []), anchor]);
    return anchor;
  }

  list(): readonly TrustAnchor[] {
    return this.anchors;
  }

  /** Anchors whose subject equals the certificate's issuer (candidates only: AKI and signature decide). */
  candidatesFor(cert: JpkiCertificate): readonly TrustAnchor[] {
    return this.byIssuerName.get(nameKey(cert.x509.issuer.der)) ?? [];
  }

  /**
   * The anchor the certificate's AKI names (key id and serial), without checking the signature:
   * for display only — `validate` decides by signature.
   */
  namedByAki(cert: JpkiCertificate): TrustAnchor | undefined {
    const aki = cert.x509.authorityKeyId;
    if (!aki?.keyId && !aki?.serial) return undefined;
    return this.candidatesFor(cert).find((a) => akiNames(a, cert));
  }

  /** The anchor that is this very certificate, if any. */
  exact(cert: JpkiCertificate): TrustAnchor | undefined {
    return this.candidatesFor(cert).find((a) => a.certificate.x509.der.equals(cert.x509.der));
  }
}

/** Normalises a SHA-256 pin: upper-case hex without colons or spaces (how fingerprints are printed varies). */
export function normalizeSha256(pin: string): string {
  return pin.replace(/[\s:]/g, '').toUpperCase();
}

/** The certificate, once its DER is known to hash to the pin and it is a self-issued production CA. */
function pinned(input: Uint8Array | string, sha256: unknown, label: string): JpkiCertificate {
  if (typeof sha256 !== 'string' || sha256.trim() === '')
    throw new TrustAnchorRejected(label, 'no SHA-256 pin given; a root is trusted only when its fingerprint is named');
  const pin = normalizeSha256(sha256);
  if (!/^[0-9A-F]{64}$/.test(pin))
    throw new TrustAnchorRejected(label, `the pin "${sha256}" is not a SHA-256 fingerprint (64 hex digits)`);
  const certificate = parseCertificate(input);
  const actual = certificate.x509.fingerprintSha256;
  if (actual !== pin) throw new PinMismatch(label, pin, actual);
  if (certificate.environment !== 'production')
    throw new TrustAnchorRejected(label, `it is a ${certificate.environment} CA; only production roots are pinned`);
  if (!certificate.isCA || !certificate.x509.isSelfIssued)
    throw new TrustAnchorRejected(label, 'it is not a self-issued CA certificate (J-LIS roots are)');
  return certificate;
}

/** Whether the certificate's AKI (key id and serial, where present) names this anchor. */
export function akiNames(anchor: TrustAnchor, cert: JpkiCertificate): boolean {
  const aki = cert.x509.authorityKeyId;
  const a = anchor.certificate.x509;
  return (!aki?.keyId || a.subjectKeyId === aki.keyId) && (!aki?.serial || a.serial === aki.serial);
}

function nameKey(der: Uint8Array): string {
  return Buffer.from(der).toString('base64');
}

/** Smartphone issuers carry the medium in an OU (our simulator does; production is unknown, spec §7.6). */
function mediumOfName(text: string): Medium | undefined {
  if (/\bAndroid\b/i.test(text)) return 'android';
  if (/\biPhone\b/i.test(text)) return 'iphone';
  return undefined;
}
