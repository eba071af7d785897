// @kakunin/server/data — the platform's stored data and settings without its HTTP server: open the
// database (or find the server that holds the embedded one), the master key and the signing keys,
// relying parties, usage, configured trust anchors. What the `kakunin` administration commands use:
// none of it loads the web framework, the OpenID provider or the simulator, so they start quickly.
export { openDatabase, type Database, type Queryable, type SqlValue } from './db/database.js';
export { openPlatformDatabase, runningServer, DatabaseBusy, type RunningServer } from './db/open.js';
export { pgliteDir, simDir, ConfigError, DEFAULT_DATA_DIR, type Mode } from './config.js';
export { withConfiguredAnchors } from './trust-anchors.js';
export { isServerError } from './errors.js';
export { MasterKey, loadMasterKey } from './master-key.js';
export {
  listSigningKeys,
  rotateSigningKey,
  retireSigningKey,
  rotateMasterKey,
  type KeyRing,
  type SigningKeyInfo,
} from './secrets.js';
export { createRelyingParty, listRelyingParties, publicView } from './relying-parties.js';
export { CEREMONY_KINDS, type CeremonyKind } from './ceremony-domain.js';
export { usageReport, type UsageReport } from './usage.js';
