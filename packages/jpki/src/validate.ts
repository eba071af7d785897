// Path and profile validation of a JPKI certificate against a trust store (chain length 2:
// J-LIS issues end-entity certificates directly from the root, spec §7.3).

import { constants, verify as cryptoVerify } from 'node:crypto';
import {
  BadSignature,
  Expired,
  InvalidBasicConstraints,
  NotYetValid,
  UnknownCriticalExtension,
  UnknownIssuerGeneration,
  UntrustedIssuer,
  WeakKey,
  WrongKeyUsage,
  WrongKind,
  WrongPolicy,
} from './errors.js';
import { OID, type CertKind, type Environment, type Medium } from './oids.js';
import { JLIS_GENERATIONS, parseCertificate, type JpkiCertificate } from './profile.js';
import { TrustStore, akiNames, type TrustAnchor } from './trust.js';
import { describeKeyUsage, type X509Certificate } from './x509.js';

/**
 * `production`: only production anchors and production policies are accepted (test and simulator
 * certificates are rejected). `sandbox`: every anchor in the store is accepted, with the policy of
 * its own environment.
 */
export type ValidationMode = 'production' | 'sandbox';

export interface ValidateOptions {
  /** Time of the check (default: now). */
  at?: Date;
  mode?: ValidationMode;
  /** Default: the J-LIS roots only. */
  trustStore?: TrustStore;
  /** Require this kind (e.g. a signing certificate for 犯収法 identity). */
  kind?: CertKind;
  /**
   * Accept a trust anchor presented as itself (inspecting a root, `kakunin cert verify ROOT`).
   * Never for a holder's certificate: by default a CA is refused as an end entity.
   */
  acceptAnchor?: boolean;
}

export interface ValidationResult {
  readonly certificate: JpkiCertificate;
  readonly anchor: TrustAnchor;
  /** True when the certificate is itself a trust anchor. */
  readonly isAnchor: boolean;
  readonly kind: CertKind;
  readonly environment: Environment;
  readonly medium: Medium | 'unknown';
  /** Label of the issuing root generation. */
  readonly generation: string;
}

const MIN_RSA_BITS = 2048; // JPKI 施行規則 2条

let defaultStore: TrustStore | undefined;
function jlisStore(): TrustStore {
  defaultStore ??= TrustStore.jlis();
  return defaultStore;
}

export function validate(
  input: JpkiCertificate | Uint8Array | string,
  options: ValidateOptions = {},
): ValidationResult {
  const cert = typeof input === 'object' && 'x509' in input ? input : parseCertificate(input);
  const at = options.at ?? new Date();
  const mode = options.mode ?? 'production';
  const store = options.trustStore ?? jlisStore();
  const x = cert.x509;

  const usable = (a: TrustAnchor): boolean => mode === 'sandbox' || a.environment === 'production';

  // A trust anchor presented as itself.
  const self = store.exact(cert);
  if (self) {
    if (!options.acceptAnchor)
      throw new InvalidBasicConstraints(`${self.label} is a trust anchor (a CA certificate), not an end entity`);
    if (!usable(self)) throw notInProduction(self.certificate, cert);
    checkCa(self, at);
    return result(cert, self, true);
  }
  if (x.isSelfIssued && cert.isCA)
    throw new UntrustedIssuer(x.subject.text, 'this self-signed CA certificate is not in the trust store');
  // Only end entities from here on: a CA certificate (an intermediate, a cross certificate) is never a holder's.
  if (x.basicConstraints?.cA || x.keyUsage?.keyCertSign) {
    throw new InvalidBasicConstraints(
      `a CA certificate (${x.basicConstraints?.cA ? 'basicConstraints cA' : 'keyUsage keyCertSign'}) cannot be an end entity`,
    );
  }

  // Issuer: candidates by name, narrowed by AKI, decided by signature.
  const byName = store.candidatesFor(cert);
  if (byName.length === 0) {
    const why =
      cert.environment === 'simulator' || cert.environment === 'test'
        ? `it is a ${cert.environment} CA that is not in the trust store; such certificates are accepted only in sandbox mode with their roots added`
        : 'no trust anchor has this name';
    throw new UntrustedIssuer(x.issuer.text, why);
  }
  const candidates = byName.filter(usable);
  if (candidates.length === 0) throw notInProduction(byName[0]!.certificate, cert);
  const aki = x.authorityKeyId;
  const matching = candidates.filter((a) => akiNames(a, cert));
  if (matching.length === 0) {
    const knownAs = JLIS_GENERATIONS.find((g) => g.serial === aki?.serial && g.kind === cert.kind)?.label;
    throw new UnknownIssuerGeneration(
      x.issuer.text,
      aki?.serial,
      aki?.keyId,
      cert.environment === 'production' ? knownAs : undefined,
    );
  }
  const anchor = matching.find((a) => signatureVerifies(x, a.certificate.x509));
  if (!anchor) {
    throw new BadSignature(
      `the certificate's signature does not verify with ${matching.map((a) => a.label).join(' or ')}`,
    );
  }
  checkCa(anchor, at);

  checkValidity(x, 'the certificate', at);
  if (x.publicKey.modulusBits < MIN_RSA_BITS)
    throw new WeakKey(`RSA-${x.publicKey.modulusBits}; JPKI requires at least ${MIN_RSA_BITS} bits`);
  const unknownCritical = x.unknownCriticalExtensions;
  if (unknownCritical.length) throw new UnknownCriticalExtension(unknownCritical[0]!);

  // Policy decides the kind; it must agree with the issuing CA and, in production, be a production policy.
  if (!x.policies.length) throw new WrongPolicy('no certificatePolicies extension');
  if (!x.extensions.find((e) => e.oid === OID.certificatePolicies)?.critical)
    throw new WrongPolicy('certificatePolicies must be critical');
  const policy = cert.policy;
  if (!policy) throw new WrongPolicy(`unknown policy ${x.policies.join(', ')}`, { policies: x.policies });
  if (x.policies.length !== 1)
    throw new WrongPolicy(`expected exactly one policy, found ${x.policies.length}`, { policies: x.policies });
  if (policy.kind !== anchor.kind) {
    throw new WrongPolicy(
      `policy ${policy.oid} is for ${policy.kind} certificates but the issuer is a ${anchor.kind} CA`,
      { policy: policy.oid },
    );
  }
  if (policy.environment !== anchor.environment) {
    throw new WrongPolicy(
      `policy ${policy.oid} belongs to ${policy.environment}, the issuer to ${anchor.environment}`,
      { policy: policy.oid },
    );
  }
  if (mode === 'production' && policy.environment !== 'production') {
    throw new WrongPolicy(`${policy.environment} policy ${policy.oid} is not accepted in production mode`, {
      policy: policy.oid,
    });
  }
  if (policy.medium && anchor.medium && policy.medium !== anchor.medium) {
    throw new WrongPolicy(`policy ${policy.oid} is for ${policy.medium} but the issuer issues for ${anchor.medium}`, {
      policy: policy.oid,
    });
  }

  checkKeyUsage(x, policy.kind);
  if (options.kind && options.kind !== policy.kind) throw new WrongKind(options.kind, policy.kind);
  return result(cert, anchor, false);
}

function result(cert: JpkiCertificate, anchor: TrustAnchor, isAnchor: boolean): ValidationResult {
  return {
    certificate: cert,
    anchor,
    isAnchor,
    kind: anchor.kind,
    environment: anchor.environment,
    medium: cert.medium !== 'unknown' ? cert.medium : (anchor.medium ?? 'unknown'),
    generation: anchor.label,
  };
}

function notInProduction(anchorCert: JpkiCertificate, cert: JpkiCertificate): UntrustedIssuer {
  const what = anchorCert.environment === 'simulator' ? 'a simulator CA' : `a ${anchorCert.environment} CA`;
  return new UntrustedIssuer(cert.x509.issuer.text, `it is ${what}; production mode trusts only the J-LIS roots`);
}

function signatureVerifies(cert: X509Certificate, issuer: X509Certificate): boolean {
  if (cert.signature.length !== Math.ceil(issuer.publicKey.modulusBits / 8)) return false;
  return cryptoVerify('sha256', cert.tbs, { key: issuer.key, padding: constants.RSA_PKCS1_PADDING }, cert.signature);
}

function checkValidity(x: X509Certificate, what: string, at: Date): void {
  if (at < x.notBefore) throw new NotYetValid(what, x.notBefore, at);
  if (at > x.notAfter) throw new Expired(what, x.notAfter, at);
}

function checkCa(anchor: TrustAnchor, at: Date): void {
  const x = anchor.certificate.x509;
  if (!x.basicConstraints?.cA) throw new InvalidBasicConstraints(`trust anchor ${anchor.label} is not a CA`);
  if (!x.keyUsage?.keyCertSign) throw new WrongKeyUsage('keyCertSign on the CA', describeKeyUsage(x.keyUsage));
  checkValidity(x, `issuing CA ${anchor.label}`, at);
}

const EXPECTED_USAGE: Record<CertKind, string> = {
  auth: 'digitalSignature',
  sign: 'digitalSignature+nonRepudiation',
};

function checkKeyUsage(x: X509Certificate, kind: CertKind): void {
  const ext = x.extensions.find((e) => e.oid === OID.keyUsage);
  const found = describeKeyUsage(x.keyUsage);
  if (!ext) throw new WrongKeyUsage(EXPECTED_USAGE[kind], found);
  if (!ext.critical) throw new WrongKeyUsage(`${EXPECTED_USAGE[kind]} (critical)`, `${found} (not critical)`);
  if (found !== EXPECTED_USAGE[kind]) throw new WrongKeyUsage(EXPECTED_USAGE[kind], found);
}
