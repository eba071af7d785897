// RFC 9162 §2.1.3 (inclusion) and §2.1.4 (consistency) proofs.
//
// Generation works over stored nodes: a proof element is the hash of one subtree of the RFC's
// recursion; a subtree on the left is always full (one stored node), one on the right edge of a tree
// whose size is not a power of two is not, and is hashed here from the full nodes covering it. So a
// caller asks which nodes are needed (…ProofNodes), fetches them at once, then builds (build…Proof).

import { rangeNodes } from './compact.js';
import { ProofError, TreeError } from './errors.js';
import { HASH_SIZE, checkHash, emptyRoot, nodeHash, rangeRoot, splitPoint, type NodeId } from './hashing.js';
import { half, isCount, isOdd, isPowerOfTwo } from './numbers.js';

/** Returns the stored hash of a full node (level 0: the leaf hash); throws if it is missing. */
export type NodeLookup = (node: NodeId) => Uint8Array;

/** One entry per proof element: the full nodes whose right fold is that element. */
type Plan = NodeId[][];

function checkCount(n: unknown, what: string): asserts n is number {
  if (!isCount(n))
    throw new TreeError('INDEX_OUT_OF_RANGE', `${what} (${String(n)}) is not a whole number from 0 to 2^53`);
}

function checkInclusionArgs(index: number, size: number): void {
  checkCount(index, 'the leaf index');
  checkCount(size, 'the tree size');
  if (index >= size) throw new TreeError('INDEX_OUT_OF_RANGE', `leaf ${index} is not in a tree of size ${size}`);
}

function checkConsistencyArgs(size1: number, size2: number): void {
  checkCount(size1, 'the first tree size');
  checkCount(size2, 'the second tree size');
  if (size1 > size2)
    throw new TreeError('INDEX_OUT_OF_RANGE', `the first tree size ${size1} is larger than the second ${size2}`);
}

// PATH(m, D[lo:hi]), walked from the root down; the RFC lists the elements from the leaf up.
function inclusionPlan(index: number, size: number): Plan {
  checkInclusionArgs(index, size);
  const plan: Plan = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      plan.push(rangeNodes(lo + k, hi));
      hi = lo + k;
    } else {
      plan.push(rangeNodes(lo, lo + k));
      lo += k;
    }
  }
  return plan.reverse();
}

// SUBPROOF(size1, D[lo:hi], whole), walked from the root down, listed from the bottom up.
function consistencyPlan(size1: number, size2: number): Plan {
  checkConsistencyArgs(size1, size2);
  if (size1 === 0 || size1 === size2) return [];
  const plan: Plan = [];
  let lo = 0;
  let hi = size2;
  let whole = true;
  while (size1 !== hi) {
    const k = splitPoint(hi - lo);
    if (size1 <= lo + k) {
      plan.push(rangeNodes(lo + k, hi));
      hi = lo + k;
    } else {
      plan.push(rangeNodes(lo, lo + k));
      lo += k;
      whole = false;
    }
  }
  // The old tree is a subtree of the new one only when the walk never went right: then its root is
  // the verifier's own starting point and is not sent.
  if (!whole) plan.push(rangeNodes(lo, hi));
  return plan.reverse();
}

function build(plan: Plan, lookup: NodeLookup): Buffer[] {
  return plan.map((ids) => {
    const hashes = ids.map((id) => {
      const h = lookup(id);
      checkHash(h, `the stored hash of node ${id.level}/${id.index}`);
      return h;
    });
    let acc: Buffer = Buffer.from(hashes[hashes.length - 1]!);
    for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
    return acc;
  });
}

/** Every full node (level ≥ 0) needed for the inclusion proof of leaf `index` in the tree of `size`. */
export function inclusionProofNodes(index: number, size: number): NodeId[] {
  return inclusionPlan(index, size).flat();
}

/** Every full node (level ≥ 0) needed for the consistency proof from `size1` to `size2`. */
export function consistencyProofNodes(size1: number, size2: number): NodeId[] {
  return consistencyPlan(size1, size2).flat();
}

export function buildInclusionProof(index: number, size: number, lookup: NodeLookup): Buffer[] {
  return build(inclusionPlan(index, size), lookup);
}

/** Empty for size1 = 0 and for size1 = size2. */
export function buildConsistencyProof(size1: number, size2: number, lookup: NodeLookup): Buffer[] {
  return build(consistencyPlan(size1, size2), lookup);
}

/** The root of the tree of `size` leaves from stored nodes (the full nodes of its right edge). */
export function rootFromNodes(size: number, lookup: NodeLookup): Buffer {
  checkCount(size, 'the tree size');
  if (size === 0) return emptyRoot();
  return build([rangeNodes(0, size)], lookup)[0]!;
}

// ---- verification ----

const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_SIZE;
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

function checkVerifyArgs(numbers: Record<string, unknown>, proof: unknown): void {
  for (const [what, n] of Object.entries(numbers)) {
    if (!isCount(n))
      throw new ProofError('PROOF_MALFORMED', `${what} (${String(n)}) is not a whole number from 0 to 2^53`);
  }
  if (!Array.isArray(proof)) throw new ProofError('PROOF_MALFORMED', 'the proof is not an array of hashes');
}

/**
 * RFC 9162 §2.1.3.2. False for any proof that does not verify (wrong hashes, wrong length, index ≥
 * size, a hash of the wrong size); throws ProofError only for sizes that are not whole numbers.
 */
export function verifyInclusion(o: {
  leafHash: Uint8Array;
  index: number;
  size: number;
  proof: readonly Uint8Array[];
  root: Uint8Array;
}): boolean {
  const { leafHash, index, size, proof, root } = o;
  checkVerifyArgs({ index, size }, proof);
  if (index >= size || !isHash(leafHash) || !isHash(root)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    // sn reaching 0 ends the path: a longer proof is refused here, so hostile input costs ≤ 53 hashes.
    if (sn === 0 || !isHash(p)) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(r, root);
}

/**
 * RFC 9162 §2.1.4.2, and the cases the RFC's algorithm leaves out: size1 = size2 needs an empty
 * proof and equal roots; size1 = 0 needs an empty proof and root1 = MTH({}) (the empty tree is a
 * prefix of every tree). False for any mismatch; throws ProofError only for sizes that are not
 * whole numbers.
 */
export function verifyConsistency(o: {
  size1: number;
  size2: number;
  proof: readonly Uint8Array[];
  root1: Uint8Array;
  root2: Uint8Array;
}): boolean {
  const { size1, size2, proof, root1, root2 } = o;
  checkVerifyArgs({ size1, size2 }, proof);
  if (!isHash(root1) || !isHash(root2) || size1 > size2) return false;
  if (size1 === 0) return proof.length === 0 && same(root1, emptyRoot()) && (size2 > 0 || same(root2, root1));
  if (size1 === size2) return proof.length === 0 && same(root1, root2);
  if (proof.length === 0 || !proof.every(isHash)) return false;
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && same(fr, root1) && same(sr, root2);
}

// ---- whole-tree helpers: the RFC's definitions, literally, for a verifier holding every leaf ----

function checkLeaves(leafHashes: readonly Uint8Array[]): void {
  if (!Array.isArray(leafHashes)) throw new TreeError('HASH_MALFORMED', 'the leaf hashes are not an array');
  leafHashes.forEach((h, i) => checkHash(h, `leaf hash ${i}`));
}

/** PATH(index, D[n]) of RFC 9162 §2.1.3.1 over all n leaf hashes. */
export function inclusionProofFromLeaves(index: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  checkLeaves(leafHashes);
  checkInclusionArgs(index, leafHashes.length);
  const path = (m: number, lo: number, hi: number): Buffer[] => {
    if (hi - lo <= 1) return [];
    const k = splitPoint(hi - lo);
    return m < k
      ? [...path(m, lo, lo + k), rangeRoot(leafHashes, lo + k, hi)]
      : [...path(m - k, lo + k, hi), rangeRoot(leafHashes, lo, lo + k)];
  };
  return path(index, 0, leafHashes.length);
}

/** PROOF(size1, D[n]) of RFC 9162 §2.1.4.1 over all n leaf hashes; empty for size1 = 0 or n. */
export function consistencyProofFromLeaves(size1: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  checkLeaves(leafHashes);
  checkConsistencyArgs(size1, leafHashes.length);
  if (size1 === 0) return [];
  const subproof = (m: number, lo: number, hi: number, whole: boolean): Buffer[] => {
    if (m === hi - lo) return whole ? [] : [rangeRoot(leafHashes, lo, hi)];
    const k = splitPoint(hi - lo);
    return m <= k
      ? [...subproof(m, lo, lo + k, whole), rangeRoot(leafHashes, lo + k, hi)]
      : [...subproof(m - k, lo + k, hi, false), rangeRoot(leafHashes, lo, lo + k)];
  };
  return subproof(size1, 0, leafHashes.length, true);
}
