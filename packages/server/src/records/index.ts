// Verification records: the hash-chained, append-only 確認記録 store, its citations, retention and export.
export {
  appendRecord,
  newRecordId,
  verifyChain,
  canonicalJson,
  payloadHash,
  recordHash,
  guardPayload,
  maskMyNumbers,
  recordPages,
  GENESIS_HASH,
  RECORD_HASH_VERSION,
  PURGE_EVENT,
  type AppendRecordInput,
  type AppendedRecord,
  type RecordOutcome,
  type RecordRow,
  type ChainProblem,
  type ChainVerification,
  type VerifyChainOptions,
} from './chain.js';
export { citationFor, citationReference, jstDate, CITATIONS, RECORD_METHODS, METHOD_LABELS_JA, type Citation, type CitationConfidence, type RecordMethod } from './citations.js';
export {
  verificationPayload,
  appendVerificationRecord,
  methodForCeremony,
  VERIFICATION_PAYLOAD_SCHEMA,
  PLATFORM_NAME,
  PLATFORM_VERSION,
  type VerificationRecordInput,
} from './payload.js';
export {
  endRelationship,
  purgeExpired,
  retentionPolicy,
  retentionEnd,
  retentionCutoff,
  RETENTION,
  DEFAULT_RETENTION,
  type RetentionPolicy,
  type RelationshipEnd,
  type PurgeOptions,
  type PurgeResult,
} from './retention.js';
export { exportRecords, csvCell, flattenRecord, CSV_COLUMNS, type ExportOptions } from './export.js';
export { searchRecords, recordWithChainStatus, type RecordSearch, type RecordChainStatus } from './query.js';
