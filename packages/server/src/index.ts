// @kakunin/server — the Kakunin platform.
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
export * from './errors.js';
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
  type SigningKeyInfo,
} from './secrets.js';
export {
  JpkiVerifier,
  productionRevocation,
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
export * from './records/index.js';
export * from './jobs/index.js';
export * from './monitor/index.js';
export * from './webhooks/index.js';
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
