// @kakunin/jpki — JPKI certificate verification core. No network or database I/O.
export { parseCertificate, eraOf, parseJpkiBirthDate, formatJpkiBirthDate, JLIS_GENERATIONS } from './profile.js';
export type { JpkiCertificate, Basic4Info, Era, Sex, IssuerGeneration, ParseOptions } from './profile.js';
export { TrustStore, normalizeSha256 } from './trust.js';
export type { TrustAnchor, AnchorOptions, AnchorSource } from './trust.js';
export { validate, VALIDATION_STEPS, failedValidationStep } from './validate.js';
export type {
  ValidateOptions,
  ValidationResult,
  ValidationMode,
  ValidationContext,
  ValidationStepName,
  SkippableValidationStep,
} from './validate.js';
export type { Step } from './steps.js';
export { verifySignature, sha256DigestInfo, SHA256_DIGEST_INFO_PREFIX } from './signature.js';
export { REVOCATION_MEANING, CRL_REASON_CODE, CRL_REASONS } from './revocation.js';
export type {
  RevocationChecker,
  RevocationStatus,
  RevocationReason,
  RevocationSource,
  CertificateReference,
} from './revocation.js';
export {
  X509Certificate,
  parseX509,
  describeKeyUsage,
  toPem,
  formatName,
  isSha256WithRsa,
  SHA256_WITH_RSA_ALGORITHM,
} from './x509.js';
export type { Name, Extension, KeyUsage, AuthorityKeyIdentifier, RsaPublicKey } from './x509.js';
export * from './errors.js';
export * from './oids.js';
export { JLIS_ROOTS } from './jlis-roots.js';
export { CrlIndex, crlDer } from './crl.js';
export type { CrlEntry, CrlInfo, LoadCrlOptions } from './crl.js';
export {
  OcspClient,
  buildOcspRequest,
  ocspCertId,
  validateOcspResponse,
  httpOcspFetcher,
  findOcspNonce,
  OCSP_CHECKS,
  failedOcspCheck,
} from './ocsp.js';
export type {
  OcspFetcher,
  OcspRequest,
  OcspCertId,
  OcspResponderUrl,
  OcspClientOptions,
  OcspValidationOptions,
  OcspCheckName,
  OcspResponseContext,
} from './ocsp.js';
export { CrlChecker, RevocationPolicy, assertNotRevoked } from './revocation-policy.js';
export type { RevocationMode, RevocationPolicyOptions } from './revocation-policy.js';
export { LinkageClient, httpJsonFetcher, UnknownLinkedCertificate } from './linkage.js';
export type { LinkageAnswer, LatestCertificate, LinkedCertificate, CertificatePair, JsonFetcher } from './linkage.js';
