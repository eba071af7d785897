// @kakunin/jpki — JPKI certificate verification core. No network or database I/O.
export { parseCertificate, eraOf, parseJpkiBirthDate, formatJpkiBirthDate, JLIS_GENERATIONS } from './profile.js';
export type { JpkiCertificate, Basic4Info, Era, Sex, IssuerGeneration, ParseOptions } from './profile.js';
export { TrustStore } from './trust.js';
export type { TrustAnchor, AnchorOptions } from './trust.js';
export { validate } from './validate.js';
export type { ValidateOptions, ValidationResult, ValidationMode } from './validate.js';
export { verifySignature, sha256DigestInfo, SHA256_DIGEST_INFO_PREFIX } from './signature.js';
export { REVOCATION_MEANING, CRL_REASON_CODE, CRL_REASONS } from './revocation.js';
export type { RevocationChecker, RevocationStatus, RevocationReason, RevocationSource } from './revocation.js';
export { X509Certificate, parseX509, describeKeyUsage, toPem, formatName, isSha256WithRsa, SHA256_WITH_RSA_ALGORITHM } from './x509.js';
export type { Name, Extension, KeyUsage, AuthorityKeyIdentifier, RsaPublicKey } from './x509.js';
export * from './errors.js';
export * from './oids.js';
export { JLIS_ROOTS } from './jlis-roots.js';
export { CrlIndex } from './crl.js';
export type { CrlEntry, CrlInfo, LoadCrlOptions } from './crl.js';
export { OcspClient, buildOcspRequest, validateOcspResponse, httpOcspFetcher } from './ocsp.js';
export type { OcspFetcher, OcspRequest, OcspClientOptions, OcspValidationOptions } from './ocsp.js';
