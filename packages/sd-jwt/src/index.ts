// @kakunin/sd-jwt: SD-JWT VC issuance, presentation with key binding and verification (RFC 9901,
// draft-ietf-oauth-sd-jwt-vc), the IETF Token Status List, and DCQL matching (OpenID4VP 1.0).
export { SD_JWT_ERROR_CODES, SdJwtError, isSdJwtError } from './errors.js';
export type { SdJwtErrorCode } from './errors.js';
export { createDisclosure, decodeDisclosure, SD_ALG } from './disclosure.js';
export type { Disclosure } from './disclosure.js';
export { SIGNING_ALGS } from './jws.js';
export type { Jwks, JwtHeader, JwtPayload, KeyResolver, PrivateKey, SigningAlg, VerificationKeys } from './jws.js';
export { parseSdJwt, serializeSdJwt } from './parse.js';
export type { ParsedSdJwt } from './parse.js';
export { issueSdJwtVc, SD_JWT_VC_TYP } from './issue.js';
export type { Instant, IssueSdJwtVcOptions, IssuedSdJwtVc, StatusReference } from './issue.js';
export { verifySdJwtVc, KB_JWT_TYP, LEGACY_SD_JWT_VC_TYP } from './verify.js';
export type { KeyBindingExpectation, KeyBindingOption, VerifiedSdJwtVc, VerifySdJwtVcOptions } from './verify.js';
export { presentSdJwt, selectDisclosures } from './present.js';
export type { DisclosureSelection, PresentSdJwtOptions } from './present.js';
export { selectClaim } from './tree.js';
export type { ClaimPath, SelectedClaim } from './tree.js';
export {
  StatusList,
  signStatusListToken,
  verifyStatusListToken,
  resolveStatus,
  STATUS_VALID,
  STATUS_INVALID,
  STATUS_SUSPENDED,
  STATUS_LIST_TYP,
} from './status-list.js';
export type {
  SignStatusListTokenOptions,
  StatusBits,
  VerifiedStatusListToken,
  VerifyStatusListTokenOptions,
} from './status-list.js';
export { validateDcqlQuery, matchDcqlQuery, checkDcqlPresentation, checkDcqlResponse } from './dcql.js';
export type {
  DcqlClaimResult,
  DcqlClaimValue,
  DcqlClaimsQuery,
  DcqlCredentialMatch,
  DcqlCredentialQuery,
  DcqlCredentialSetQuery,
  DcqlMatchResult,
  DcqlPresentationResult,
  DcqlQuery,
} from './dcql.js';
