// What a relying party runs offline on a saved proof bundle, with the log's verifier key only.

import { openCheckpoint, type Checkpoint } from './checkpoint.js';
import { ProofError } from './errors.js';
import { HASH_SIZE, leafHash } from './hashing.js';
import type { VerifierKey } from './note.js';
import { isCount } from './numbers.js';
import { verifyConsistency, verifyInclusion } from './proofs.js';
import { decodeBase64, isWellFormed } from './text.js';

export interface InclusionBundle {
  /** The canonical entry text (UTF-8) whose leaf hash is proven. */
  entry: string;
  leafIndex: number;
  treeSize: number;
  /** Base64 hashes, from the leaf up. */
  proof: string[];
  /** The signed checkpoint (C2SP signed note) of the tree of treeSize. */
  checkpoint: string;
}

// An inclusion proof has at most one hash per level (53 for 2^53 leaves), a consistency proof two.
const MAX_INCLUSION = 64;
const MAX_CONSISTENCY = 128;

const malformed = (why: string): ProofError => new ProofError('PROOF_MALFORMED', why);

function decodeProof(proof: unknown, max: number): Buffer[] {
  if (!Array.isArray(proof)) throw malformed('the proof is not an array of base64 hashes');
  if (proof.length > max) throw malformed(`the proof has ${proof.length} hashes, more than any tree needs`);
  return proof.map((p, i) => {
    const h = typeof p === 'string' ? decodeBase64(p) : undefined;
    if (!h || h.length !== HASH_SIZE) throw malformed(`proof hash ${i} is not the base64 of ${HASH_SIZE} bytes`);
    return h;
  });
}

const plain = (c: Checkpoint): Checkpoint => ({
  origin: c.origin,
  size: c.size,
  root: c.root,
  extensions: c.extensions,
});

/**
 * Checks a saved inclusion bundle: the checkpoint's signature with `key` (and its origin, when given),
 * that the bundle's tree size is the checkpoint's, and the proof of the entry's leaf hash against the
 * checkpoint's root. Throws ProofError, or NoteError / CheckpointError for the checkpoint.
 */
export function checkInclusionBundle(
  bundle: InclusionBundle,
  key: string | VerifierKey,
  o: { origin?: string } = {},
): { ok: true; checkpoint: Checkpoint; leafHash: Buffer } {
  if (!bundle || typeof bundle !== 'object') throw malformed('the bundle is not an object');
  const { entry, leafIndex, treeSize, proof, checkpoint } = bundle;
  if (typeof entry !== 'string' || !isWellFormed(entry)) throw malformed('the entry is not text');
  if (!isCount(leafIndex)) throw malformed('leafIndex is not a whole number ≥ 0');
  if (!isCount(treeSize)) throw malformed('treeSize is not a whole number ≥ 0');
  if (typeof checkpoint !== 'string') throw malformed('the checkpoint is not a signed note');
  const hashes = decodeProof(proof, MAX_INCLUSION);
  const cp = openCheckpoint(checkpoint, key, o.origin);
  if (treeSize !== cp.size)
    throw new ProofError(
      'PROOF_INVALID',
      `the proof is for a tree of size ${treeSize}, the checkpoint is of size ${cp.size}`,
    );
  if (leafIndex >= treeSize)
    throw new ProofError('PROOF_INVALID', `leaf ${leafIndex} is not in a tree of size ${treeSize}`);
  const leaf = leafHash(Buffer.from(entry, 'utf8'));
  if (!verifyInclusion({ leafHash: leaf, index: leafIndex, size: treeSize, proof: hashes, root: cp.root })) {
    throw new ProofError(
      'PROOF_INVALID',
      `the inclusion proof of leaf ${leafIndex} does not lead to the root of the checkpoint of ${cp.origin} at size ${cp.size}: the entry, index or proof was altered, or the entry is not in this log`,
    );
  }
  return { ok: true, checkpoint: plain(cp), leafHash: leaf };
}

/**
 * Checks that the `newer` signed checkpoint extends the `older` one (same log, a consistency proof
 * from the older size to the newer). Throws ProofError, or NoteError / CheckpointError for a checkpoint.
 */
export function checkConsistency(o: {
  older: string;
  newer: string;
  proof: string[];
  key: string | VerifierKey;
  origin?: string;
}): { ok: true; older: Checkpoint; newer: Checkpoint } {
  if (!o || typeof o !== 'object') throw malformed('no arguments');
  if (typeof o.older !== 'string' || typeof o.newer !== 'string')
    throw malformed('the checkpoints are not signed notes');
  const hashes = decodeProof(o.proof, MAX_CONSISTENCY);
  const older = openCheckpoint(o.older, o.key, o.origin);
  const newer = openCheckpoint(o.newer, o.key, o.origin);
  if (older.origin !== newer.origin)
    throw new ProofError('PROOF_INVALID', `the checkpoints are of two logs (${older.origin}, ${newer.origin})`);
  if (older.size > newer.size)
    throw new ProofError(
      'PROOF_INVALID',
      `the older checkpoint (size ${older.size}) is larger than the newer (size ${newer.size})`,
    );
  if (
    !verifyConsistency({ size1: older.size, size2: newer.size, proof: hashes, root1: older.root, root2: newer.root })
  ) {
    throw new ProofError(
      'PROOF_INVALID',
      `the tree of size ${newer.size} is not an extension of the tree of size ${older.size}: the proof does not verify (the log forked, or the proof was altered)`,
    );
  }
  return { ok: true, older: plain(older), newer: plain(newer) };
}
