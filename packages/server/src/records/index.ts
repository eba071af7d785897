// Verification records: the append-only 確認記録 store as a Merkle-tree log, its proofs, citations, retention and export.
export {
  newRecordId,
  canonicalJson,
  payloadHash,
  recordHash,
  entryText,
  rowEntryText,
  rowLeafHash,
  guardPayload,
  maskMyNumbers,
  recordPages,
  GENESIS_HASH,
  RECORD_HASH_VERSION,
  RECORD_ENTRY_VERSION,
  PURGE_EVENT,
  type RecordOutcome,
  type RecordRow,
} from './chain.js';
export {
  appendRecord,
  prepareRecord,
  recordInsert,
  integrate,
  latestCheckpoint,
  logBacklog,
  logIdentity,
  storedLogVerifierKey,
  defaultLogOrigin,
  LogSequencer,
  type AppendRecordInput,
  type AppendedRecord,
  type PreparedRecord,
  type Integration,
  type LatestCheckpoint,
  type LogIdentity,
  type SequencerOptions,
} from './log.js';
export {
  inclusionProof,
  consistencyProof,
  checkpointAt,
  type InclusionAnswer,
  type ConsistencyAnswer,
} from './proofs.js';
export {
  verifyLog,
  type LogProblem,
  type LogProblemCode,
  type LogVerification,
  type VerifyLogOptions,
} from './verify-log.js';
export {
  citationFor,
  citationReference,
  jstDate,
  CITATIONS,
  RECORD_METHODS,
  METHOD_LABELS_JA,
  type Citation,
  type CitationConfidence,
  type RecordMethod,
} from './citations.js';
export {
  verificationPayload,
  appendVerificationRecord,
  verificationRecordInput,
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
export { searchRecords, recordWithLogStatus, type RecordSearch, type RecordLogStatus } from './query.js';
