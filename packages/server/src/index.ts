// @kakunin/server — the Kakunin platform: start it, configure it, manage its relying parties and
// keys. The verification records log is `@kakunin/server/records`; test and benchmark support
// (with the internals they drive) is `@kakunin/server/testing`.
export { openDatabase, type Database, type Queryable, type SqlValue, type OpenDatabaseOptions } from './db/database.js';
export {
  openPlatformDatabase,
  runningServer,
  announceServer,
  DatabaseBusy,
  type RunningServer,
  type DatabaseLocation,
} from './db/open.js';
export { MIGRATIONS, migrate } from './db/migrations.js';
export {
  loadConfig,
  simDir,
  pgliteDir,
  ConfigError,
  DEFAULTS,
  DEFAULT_DATA_DIR,
  type ServerConfig,
  type Mode,
  type TrustAnchorConfig,
} from './config.js';
export { withConfiguredAnchors } from './trust-anchors.js';
export {
  ServerError,
  isServerError,
  InvalidRequest,
  NotFound,
  Unauthorized,
  TooManyAttempts,
  CeremonyNotFound,
  CeremonyExpired,
  CeremonyFinished,
  CeremonyNotAllowed,
  NonceUnknown,
  NonceReplayed,
  NonceExpired,
  NonceCeremonyMismatch,
  NonceAudienceMismatch,
  MalformedSubmission,
  RecordNotIntegrated,
  NoSuchCheckpoint,
  type ErrorBody,
} from './errors.js';
export {
  createRelyingParty,
  findRelyingParty,
  getRelyingParty,
  listRelyingParties,
  updateRelyingParty,
  publicView,
  webhookSecretOf,
  type RelyingParty,
  type RegisteredRelyingParty,
  type RegistryStore,
  type NewRelyingParty,
} from './relying-parties.js';
export { CEREMONY_KINDS, TRUST_FRAMEWORKS, type CeremonyKind, type CeremonyResult } from './ceremony-domain.js';
export {
  MasterKey,
  SealedSecretError,
  loadMasterKey,
  defaultMasterKeyFile,
  type MasterKeySource,
} from './master-key.js';
export {
  listSigningKeys,
  rotateSigningKey,
  retireSigningKey,
  rotateMasterKey,
  type KeyRing,
  type SigningKeyInfo,
} from './secrets.js';
export {
  JpkiVerifier,
  productionRevocation,
  type VerifierOptions,
  type Verification,
  type VerificationInput,
  type CertificateKind,
} from './verifier.js';
export { Metrics } from './metrics.js';
export type { Platform } from './platform.js';
export { startServer, type RunningPlatform, type StartOptions } from './app.js';
export { createCeremony, getCeremony, submitResponse, identityStatement, type HolderResponse } from './ceremonies.js';
export { findCeremony, type Ceremony } from './ceremony-store.js';
export { holderView } from './ceremony-views.js';
export { buildVerifiedClaims, filterVerifiedClaims, JPKI_CLAIM, type VerifiedClaims } from './oidc/claims.js';
export type { SandboxJlis, StartSimulatedJlis } from './sandbox-mode.js';
export {
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  EVENT_ID_HEADER,
  type SignatureCheck,
  type VerifyOptions,
} from './webhooks/index.js';
export {
  UsageMeter,
  withUsage,
  usageReport,
  monthRange,
  type UsageContext,
  type UsagePurpose,
  type UsageLookup,
  type UsageReport,
  type UsageRow,
} from './usage.js';
export { CrlRefresher, crlSource, type CrlSource } from './crl/index.js';
