// @kakunin/tlog — RFC 9162 Merkle-tree log with C2SP signed-note checkpoints. node:crypto only.
export { HASH_SIZE, leafHash, entryLeafHash, nodeHash, emptyRoot, rootOfLeaves } from './hashing.js';
export type { NodeId } from './hashing.js';
export { emptyEdge, appendLeaves, edgeRoot, encodeEdge, decodeEdge, edgeNodes } from './compact.js';
export type { TreeEdge, NewNode } from './compact.js';
export {
  inclusionProofNodes,
  consistencyProofNodes,
  buildInclusionProof,
  buildConsistencyProof,
  rootFromNodes,
  verifyInclusion,
  verifyConsistency,
  inclusionProofFromLeaves,
  consistencyProofFromLeaves,
} from './proofs.js';
export type { NodeLookup } from './proofs.js';
export {
  ed25519Signer,
  verifierKey,
  parseVerifierKey,
  signNote,
  openNote,
  ed25519KeyId,
  ed25519PrivateKeyFromSeed,
  isValidKeyName,
} from './note.js';
export type { NoteSigner, VerifierKey } from './note.js';
export { formatCheckpoint, parseCheckpoint, signCheckpoint, openCheckpoint } from './checkpoint.js';
export type { Checkpoint } from './checkpoint.js';
export { checkInclusionBundle, checkConsistency } from './verify.js';
export type { InclusionBundle } from './verify.js';
export { TlogError, ProofError, NoteError, CheckpointError, TreeError } from './errors.js';
