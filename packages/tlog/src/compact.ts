// The right edge of the tree (the "compact range" of [0, size)): one full subtree per set bit of
// size, largest first. It is all a log needs to keep to append leaves and compute the root, so the
// server stores it beside each checkpoint instead of re-reading the tree.

import { TreeError } from './errors.js';
import { HASH_SIZE, checkHash, emptyRoot, nodeHash, type NodeId } from './hashing.js';
import { isCount, isOdd, popcount } from './numbers.js';

export interface TreeEdge {
  size: number;
  /** Hashes of the full subtrees covering [0, size), largest (leftmost) first; one per set bit of size. */
  hashes: Buffer[];
}

export interface NewNode extends NodeId {
  hash: Buffer;
}

export function emptyEdge(): TreeEdge {
  return { size: 0, hashes: [] };
}

function checkEdge(edge: TreeEdge): void {
  if (!isCount(edge?.size)) throw new TreeError('EDGE_MALFORMED', 'the edge size is not a whole number ≥ 0');
  if (!Array.isArray(edge.hashes) || edge.hashes.length !== popcount(edge.size)) {
    throw new TreeError('EDGE_MALFORMED', `an edge of size ${edge.size} has ${popcount(edge.size)} hashes`);
  }
  edge.hashes.forEach((h, i) => checkHash(h, `edge hash ${i}`));
}

/**
 * Appends leaves (their leaf hashes) to the tree whose right edge is `edge`. Returns the new edge and
 * every new full node of level ≥ 1 these appends completed, in the order they were completed (level-0
 * nodes are the leaf hashes themselves). `edge` is not modified.
 */
export function appendLeaves(edge: TreeEdge, leafHashes: readonly Uint8Array[]): { edge: TreeEdge; nodes: NewNode[] } {
  checkEdge(edge);
  leafHashes.forEach((h, i) => checkHash(h, `leaf hash ${i}`));
  if (edge.size + leafHashes.length > Number.MAX_SAFE_INTEGER)
    throw new TreeError('INDEX_OUT_OF_RANGE', 'the tree would outgrow 2^53 leaves');
  const stack: Buffer[] = edge.hashes.map((h) => Buffer.from(h));
  const nodes: NewNode[] = [];
  let size = edge.size;
  for (const leaf of leafHashes) {
    // The new leaf closes one full subtree per trailing 1 bit of its index: merge with the edge's
    // smallest subtrees until the index (shifted per level) is even.
    let hash: Buffer = Buffer.from(leaf);
    let index = size;
    let level = 0;
    while (isOdd(index)) {
      hash = nodeHash(stack.pop()!, hash);
      index = (index - 1) / 2;
      level++;
      nodes.push({ level, index, hash });
    }
    stack.push(hash);
    size++;
  }
  return { edge: { size, hashes: stack }, nodes };
}

/** The root hash of the tree of edge.size leaves (MTH; emptyRoot() for 0). */
export function edgeRoot(edge: TreeEdge): Buffer {
  checkEdge(edge);
  if (edge.size === 0) return emptyRoot();
  // MTH splits at the largest power of two, which is the edge's first subtree: fold from the right.
  let root: Buffer = Buffer.from(edge.hashes[edge.hashes.length - 1]!);
  for (let i = edge.hashes.length - 2; i >= 0; i--) root = nodeHash(edge.hashes[i]!, root);
  return root;
}

/** The edge's hashes concatenated (the caller stores the size beside them). */
export function encodeEdge(edge: TreeEdge): Buffer {
  checkEdge(edge);
  return Buffer.concat(edge.hashes);
}

export function decodeEdge(size: number, bytes: Uint8Array): TreeEdge {
  if (!isCount(size)) throw new TreeError('EDGE_MALFORMED', 'the edge size is not a whole number ≥ 0');
  const n = popcount(size);
  if (!(bytes instanceof Uint8Array) || bytes.length !== n * HASH_SIZE) {
    throw new TreeError('EDGE_MALFORMED', `an edge of size ${size} is ${n * HASH_SIZE} bytes, not ${bytes?.length}`);
  }
  const hashes: Buffer[] = [];
  for (let i = 0; i < n; i++) hashes.push(Buffer.from(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
  return { size, hashes };
}

/** The full nodes of the edge of a tree of `size` leaves (the compact range of [0, size)), largest first. */
export function edgeNodes(size: number): NodeId[] {
  if (!isCount(size)) throw new TreeError('INDEX_OUT_OF_RANGE', `tree size ${size} is not a whole number ≥ 0`);
  return rangeNodes(0, size);
}

/**
 * The full nodes covering [lo, hi), largest first, when lo is a multiple of a power of two ≥ hi − lo
 * (true of every subtree in the RFC's recursion, and of [0, size)).
 */
export function rangeNodes(lo: number, hi: number): NodeId[] {
  const nodes: NodeId[] = [];
  let start = lo;
  let width = 1;
  let level = 0;
  while (width * 2 <= hi - lo) {
    width *= 2;
    level++;
  }
  for (; width >= 1; width /= 2, level--) {
    if (hi - start >= width) {
      nodes.push({ level, index: start / width });
      start += width;
    }
  }
  return nodes;
}
