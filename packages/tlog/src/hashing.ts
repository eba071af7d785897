// RFC 9162 §2.1.1 hashing with SHA-256. The 0x00 / 0x01 prefixes keep a leaf from ever being taken
// for an interior node (second-preimage resistance of the tree).

import { createHash } from 'node:crypto';
import { TreeError } from './errors.js';

export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** A node of the tree: the full, aligned subtree of 2^level leaves starting at leaf index·2^level. */
export interface NodeId {
  level: number;
  index: number;
}

/** SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
}

/** The leaf hash of an entry given as text: its UTF-8 bytes. */
export function entryLeafHash(entry: string): Buffer {
  return leafHash(Buffer.from(entry, 'utf8'));
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

/** MTH({}) = SHA-256() of the empty string. */
export function emptyRoot(): Buffer {
  return createHash('sha256').digest();
}

/** Throws unless `h` is a HASH_SIZE-byte array. */
export function checkHash(h: unknown, what: string): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE)
    throw new TreeError('HASH_MALFORMED', `${what} is not a ${HASH_SIZE}-byte hash`);
}

/** The largest power of two strictly below n (n ≥ 2): the split point k of RFC 9162 §2.1.1. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over already-hashed leaves, by the RFC's recursion (for tests and recomputation). */
export function rootOfLeaves(leafHashes: readonly Uint8Array[]): Buffer {
  leafHashes.forEach((h, i) => checkHash(h, `leaf hash ${i}`));
  if (leafHashes.length === 0) return emptyRoot();
  return rangeRoot(leafHashes, 0, leafHashes.length);
}

/** MTH(D[lo:hi]) for hi > lo; the caller has checked the hashes. */
export function rangeRoot(leafHashes: readonly Uint8Array[], lo: number, hi: number): Buffer {
  if (hi - lo === 1) return Buffer.from(leafHashes[lo]!);
  const k = splitPoint(hi - lo);
  return nodeHash(rangeRoot(leafHashes, lo, lo + k), rangeRoot(leafHashes, lo + k, hi));
}
