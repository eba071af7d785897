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
import { stepRunner, type Step } from './steps.js';
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
  /**
   * Steps not to run, by name. Only `validity`: finding a stored certificate's issuer at any time
   * (the revocation monitor) is not judging it now.
   */
  skip?: readonly SkippableValidationStep[];
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

/** What the steps of one validation share: the inputs, and the issuer as the steps narrow it down. */
export interface ValidationContext {
  readonly cert: JpkiCertificate;
  readonly x: X509Certificate;
  readonly at: Date;
  readonly mode: ValidationMode;
  readonly store: TrustStore;
  readonly options: ValidateOptions;
  /** Anchors that may have issued the certificate: by name, then usable in this mode, then by AKI. */
  candidates: readonly TrustAnchor[];
  /** The issuing anchor once its signature verifies (or the certificate itself, as an anchor). */
  anchor: TrustAnchor | undefined;
  /** The certificate is a trust anchor presented as itself: the holder-only steps do not apply. */
  isAnchor: boolean;
}

const holderOnly = (c: ValidationContext): boolean => !c.isAnchor;
const usable = (c: ValidationContext, a: TrustAnchor): boolean =>
  c.mode === 'sandbox' || a.environment === 'production';
// Steps after `signature` run only once an anchor is decided.
const anchorOf = (c: ValidationContext): TrustAnchor => c.anchor!;

/**
 * The checks of `validate`, in the order they run; the first that fails throws. The package README
 * lists them in this order (a test holds the two together), and every step has a test that fails it.
 */
export const VALIDATION_STEPS = [
  {
    // A trust anchor presented as itself (inspecting a root, `kakunin cert verify ROOT`).
    name: 'anchor-itself',
    codes: ['INVALID_BASIC_CONSTRAINTS', 'UNTRUSTED_ISSUER'],
    run: (c) => {
      const self = c.store.exact(c.cert);
      if (!self) return;
      if (!c.options.acceptAnchor)
        throw new InvalidBasicConstraints(`${self.label} is a trust anchor (a CA certificate), not an end entity`);
      if (!usable(c, self)) throw notInProduction(self.certificate, c.cert);
      c.anchor = self;
      c.isAnchor = true;
    },
  },
  {
    // Only end entities from here on: a CA certificate (an intermediate, a cross certificate) is never a holder's.
    name: 'end-entity',
    codes: ['UNTRUSTED_ISSUER', 'INVALID_BASIC_CONSTRAINTS'],
    when: holderOnly,
    run: ({ x, cert }) => {
      if (x.isSelfIssued && cert.isCA)
        throw new UntrustedIssuer(x.subject.text, 'this self-signed CA certificate is not in the trust store');
      if (x.basicConstraints?.cA || x.keyUsage?.keyCertSign) {
        throw new InvalidBasicConstraints(
          `a CA certificate (${x.basicConstraints?.cA ? 'basicConstraints cA' : 'keyUsage keyCertSign'}) cannot be an end entity`,
        );
      }
    },
  },
  {
    // Issuer: candidates by name, narrowed by AKI, decided by signature.
    name: 'issuer-name',
    codes: ['UNTRUSTED_ISSUER'],
    when: holderOnly,
    run: (c) => {
      const byName = c.store.candidatesFor(c.cert);
      if (byName.length === 0) {
        const why =
          c.cert.environment === 'simulator' || c.cert.environment === 'test'
            ? `it is a ${c.cert.environment} CA that is not in the trust store; such certificates are accepted only in sandbox mode with their roots added`
            : 'no trust anchor has this name';
        throw new UntrustedIssuer(c.x.issuer.text, why);
      }
      c.candidates = byName.filter((a) => usable(c, a));
      if (c.candidates.length === 0) throw notInProduction(byName[0]!.certificate, c.cert);
    },
  },
  {
    name: 'issuer-generation',
    codes: ['UNKNOWN_ISSUER_GENERATION'],
    when: holderOnly,
    run: (c) => {
      c.candidates = c.candidates.filter((a) => akiNames(a, c.cert));
      if (c.candidates.length === 0) {
        const aki = c.x.authorityKeyId;
        const knownAs = JLIS_GENERATIONS.find((g) => g.serial === aki?.serial && g.kind === c.cert.kind)?.label;
        throw new UnknownIssuerGeneration(
          c.x.issuer.text,
          aki?.serial,
          aki?.keyId,
          c.cert.environment === 'production' ? knownAs : undefined,
        );
      }
    },
  },
  {
    name: 'signature',
    codes: ['BAD_SIGNATURE'],
    when: holderOnly,
    run: (c) => {
      c.anchor = c.candidates.find((a) => signatureVerifies(c.x, a.certificate.x509));
      if (!c.anchor) {
        throw new BadSignature(
          `the certificate's signature does not verify with ${c.candidates.map((a) => a.label).join(' or ')}`,
        );
      }
    },
  },
  {
    name: 'issuer-ca',
    codes: ['INVALID_BASIC_CONSTRAINTS', 'WRONG_KEY_USAGE'],
    run: (c) => {
      const anchor = anchorOf(c);
      const x = anchor.certificate.x509;
      if (!x.basicConstraints?.cA) throw new InvalidBasicConstraints(`trust anchor ${anchor.label} is not a CA`);
      if (!x.keyUsage?.keyCertSign) throw new WrongKeyUsage('keyCertSign on the CA', describeKeyUsage(x.keyUsage));
    },
  },
  {
    // The issuing anchor's validity too: an expired root still answers for dates inside both validities.
    name: 'validity',
    codes: ['EXPIRED', 'NOT_YET_VALID'],
    skippable: true,
    run: (c) => {
      const anchor = anchorOf(c);
      checkValidity(anchor.certificate.x509, `issuing CA ${anchor.label}`, c.at);
      if (!c.isAnchor) checkValidity(c.x, 'the certificate', c.at);
    },
  },
  {
    name: 'key-size',
    codes: ['WEAK_KEY'],
    when: holderOnly,
    run: ({ x }) => {
      if (x.publicKey.modulusBits < MIN_RSA_BITS)
        throw new WeakKey(`RSA-${x.publicKey.modulusBits}; JPKI requires at least ${MIN_RSA_BITS} bits`);
    },
  },
  {
    name: 'critical-extensions',
    codes: ['UNKNOWN_CRITICAL_EXTENSION'],
    when: holderOnly,
    run: ({ x }) => {
      const unknownCritical = x.unknownCriticalExtensions;
      if (unknownCritical.length) throw new UnknownCriticalExtension(unknownCritical[0]!);
    },
  },
  {
    // Policy decides the kind; it must agree with the issuing CA and, in production, be a production policy.
    name: 'policy',
    codes: ['WRONG_POLICY'],
    when: holderOnly,
    run: (c) => checkPolicy(c.cert, anchorOf(c), c.mode),
  },
  {
    name: 'key-usage',
    codes: ['WRONG_KEY_USAGE'],
    when: holderOnly,
    run: ({ x, cert }) => checkKeyUsage(x, cert.policy!.kind),
  },
  {
    name: 'kind',
    codes: ['WRONG_KIND'],
    when: holderOnly,
    run: ({ options, cert }) => {
      if (options.kind && options.kind !== cert.policy!.kind) throw new WrongKind(options.kind, cert.policy!.kind);
    },
  },
] as const satisfies readonly Step<ValidationContext>[];

export type ValidationStepName = (typeof VALIDATION_STEPS)[number]['name'];
/** The steps a caller may skip (`validate(cert, { skip: ['validity'] })`). */
export type SkippableValidationStep = Extract<(typeof VALIDATION_STEPS)[number], { skippable: true }>['name'];

const runner = stepRunner<ValidationContext, (typeof VALIDATION_STEPS)[number]>(VALIDATION_STEPS);

/** The validation step that threw `error`, if `validate` threw it. */
export const failedValidationStep: (error: unknown) => ValidationStepName | undefined = runner.failedStep;

export function validate(
  input: JpkiCertificate | Uint8Array | string,
  options: ValidateOptions = {},
): ValidationResult {
  const cert = typeof input === 'object' && 'x509' in input ? input : parseCertificate(input);
  const context: ValidationContext = {
    cert,
    x: cert.x509,
    at: options.at ?? new Date(),
    mode: options.mode ?? 'production',
    store: options.trustStore ?? jlisStore(),
    options,
    candidates: [],
    anchor: undefined,
    isAnchor: false,
  };
  runner.run(context, options.skip);
  return result(cert, anchorOf(context), context.isAnchor);
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

function checkPolicy(cert: JpkiCertificate, anchor: TrustAnchor, mode: ValidationMode): void {
  const x = cert.x509;
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
