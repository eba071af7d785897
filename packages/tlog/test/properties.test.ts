// Property tests: proofs built from stored nodes (appendLeaves' nodes + the leaf hashes, as the
// server stores them) equal the RFC's whole-tree definitions, verify, and stop verifying under any
// tampering; appends in batches equal appends one by one; hostile input never crashes a verifier.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  buildConsistencyProof,
  buildInclusionProof,
  consistencyProofFromLeaves,
  consistencyProofNodes,
  edgeRoot,
  emptyEdge,
  inclusionProofFromLeaves,
  inclusionProofNodes,
  leafHash,
  nodeHash,
  ProofError,
  rootFromNodes,
  rootOfLeaves,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
  type TreeEdge,
} from '../src/index.js';

const MAX = 300;

interface Tree {
  leaves: Buffer[];
  lookup: (id: NodeId) => Buffer;
  /** Every node fetched through lookup, for checking what the …ProofNodes functions announce. */
  fetched: string[];
  /** roots[n]: the root of the first n leaves, n = 0..leaves.length. */
  roots: Buffer[];
}

function tree(n: number, seed: number): Tree {
  const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${seed}/${i}`)));
  const stored = new Map<string, Buffer>();
  const roots: Buffer[] = [];
  let edge: TreeEdge = emptyEdge();
  roots.push(edgeRoot(edge));
  for (const leaf of leaves) {
    const r = appendLeaves(edge, [leaf]);
    for (const node of r.nodes) stored.set(`${node.level}/${node.index}`, node.hash);
    edge = r.edge;
    roots.push(edgeRoot(edge));
  }
  const fetched: string[] = [];
  const lookup = (id: NodeId): Buffer => {
    const key = `${id.level}/${id.index}`;
    const h = id.level === 0 ? leaves[id.index] : stored.get(key);
    if (!h) throw new Error(`missing node ${key}`);
    fetched.push(key);
    return h;
  };
  return { leaves, lookup, fetched, roots };
}

const flip = (proof: readonly Buffer[], i: number, bit: number): Buffer[] =>
  proof.map((p, j) => {
    if (j !== i) return p;
    const q = Buffer.from(p);
    q[bit >> 3]! ^= 1 << (bit & 7);
    return q;
  });

const hex = (hs: readonly Buffer[]): string[] => hs.map((h) => h.toString('hex'));
const key = (ids: readonly NodeId[]): string[] => ids.map((n) => `${n.level}/${n.index}`);
const other = leafHash(Buffer.from('not in the tree'));

describe('inclusion proofs', () => {
  function check(n: number, seed: number): void {
    const t = tree(n + 1, seed);
    const leaves = t.leaves.slice(0, n);
    const root = t.roots[n]!;
    // Failures are collected and asserted once: an expect() per probe is most of the run time.
    const failures: string[] = [];
    for (let i = 0; i < n; i++) {
      t.fetched.length = 0;
      const proof = buildInclusionProof(i, n, t.lookup);
      const announced = key(inclusionProofNodes(i, n));
      if (t.fetched.join() !== announced.join() || new Set(announced).size !== announced.length)
        failures.push(`leaf ${i} of ${n}: nodes`);
      if (hex(proof).join() !== hex(inclusionProofFromLeaves(i, leaves)).join())
        failures.push(`leaf ${i} of ${n}: not PATH`);
      const ok = { leafHash: leaves[i]!, index: i, size: n, proof, root };
      if (!verifyInclusion(ok)) failures.push(`leaf ${i} of ${n}: does not verify`);
      const bad = [
        ...proof.map((_, j) => ({ proof: flip(proof, j, (i * 31 + j * 7) % 256) })),
        { leafHash: other },
        { root: t.roots[n + 1]! },
        { index: i + 1 },
        ...(i > 0 ? [{ index: i - 1 }] : []),
        { size: n + 1, root: t.roots[n + 1]! },
        ...(n - 1 > i ? [{ size: n - 1, root: t.roots[n - 1]! }] : []),
        { proof: [...proof, other] },
        { proof: [...proof, root] },
        { proof: [other, ...proof] },
        ...(proof.length > 0 ? [{ proof: proof.slice(0, -1) }, { proof: proof.slice(1) }] : []),
        ...(proof.length > 1 ? [{ proof: [...proof].reverse() }] : []),
      ];
      for (const b of bad)
        if (verifyInclusion({ ...ok, ...b }))
          failures.push(`leaf ${i} of ${n}: verifies with ${JSON.stringify(Object.keys(b))}`);
    }
    expect(failures).toEqual([]);
  }

  it('from stored nodes equal PATH over all leaves, verify, and fail when tampered with: every size to 64', () => {
    for (let n = 1; n <= 64; n++) check(n, n);
  });

  it('… and random sizes to 300', () => {
    fc.assert(fc.property(fc.integer({ min: 65, max: MAX }), fc.nat(), check), { numRuns: 10 });
  });
});

describe('consistency proofs', () => {
  function check(n2: number, seed: number): void {
    const t = tree(n2 + 1, seed);
    const leaves = t.leaves.slice(0, n2);
    const r = t.roots;
    const failures: string[] = [];
    for (let n1 = 0; n1 <= n2; n1++) {
      t.fetched.length = 0;
      const proof = buildConsistencyProof(n1, n2, t.lookup);
      const announced = key(consistencyProofNodes(n1, n2));
      if (t.fetched.join() !== announced.join() || new Set(announced).size !== announced.length)
        failures.push(`${n1} → ${n2}: nodes`);
      if (hex(proof).join() !== hex(consistencyProofFromLeaves(n1, leaves)).join())
        failures.push(`${n1} → ${n2}: not PROOF`);
      const ok = { size1: n1, size2: n2, proof, root1: r[n1]!, root2: r[n2]! };
      if (!verifyConsistency(ok)) failures.push(`${n1} → ${n2}: does not verify`);
      if (n1 === 0 || n1 === n2) {
        if (proof.length > 0) failures.push(`${n1} → ${n2}: not empty`);
        if (verifyConsistency({ ...ok, proof: [other] })) failures.push(`${n1} → ${n2}: verifies with a hash too many`);
        if (n1 === n2 && verifyConsistency({ ...ok, root2: other }))
          failures.push(`${n1} → ${n2}: verifies with another root`);
        continue;
      }
      const bad = [
        ...proof.map((_, j) => ({ proof: flip(proof, j, (n1 * 29 + j * 11) % 256) })),
        { proof: [] },
        { proof: proof.slice(0, -1) },
        { proof: proof.slice(1) },
        { proof: [...proof, other] },
        { proof: [...proof, r[n2]!] },
        { proof: [other, ...proof] },
        { proof: [r[n1]!, ...proof] },
        { size1: n1 - 1, root1: r[n1 - 1]! },
        { size1: n1 + 1, root1: r[n1 + 1]! },
        { size2: n2 + 1, root2: r[n2 + 1]! },
        ...(n2 - 1 >= n1 ? [{ size2: n2 - 1, root2: r[n2 - 1]! }] : []),
        { root1: other },
        { root2: other },
        { root1: r[n2]!, root2: r[n1]! },
        { size1: n2, size2: n1 },
      ];
      for (const b of bad)
        if (verifyConsistency({ ...ok, ...b }))
          failures.push(`${n1} → ${n2}: verifies with ${JSON.stringify(Object.keys(b))}`);
    }
    expect(failures).toEqual([]);
  }

  it('from stored nodes equal PROOF over all leaves, verify, and fail when tampered with: every size1 ≤ size2 ≤ 64', () => {
    for (let n = 1; n <= 64; n++) check(n, n);
  });

  it('… and every size1 ≤ size2 for random size2 to 300', () => {
    fc.assert(fc.property(fc.integer({ min: 65, max: MAX }), fc.nat(), check), { numRuns: 10 });
  });
});

describe('appendLeaves', () => {
  it('in batches of random sizes gives the edge, root and nodes of one-by-one appends and of the RFC', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 20 }), fc.nat(), (batches, seed) => {
        const total = Math.min(
          MAX,
          batches.reduce((a, b) => a + b, 0),
        );
        const t = tree(total, seed);
        const oneByOne = new Map<string, string>();
        let single: TreeEdge = emptyEdge();
        for (const leaf of t.leaves) {
          const r = appendLeaves(single, [leaf]);
          r.nodes.forEach((x) => oneByOne.set(`${x.level}/${x.index}`, x.hash.toString('hex')));
          single = r.edge;
        }
        const batched = new Map<string, string>();
        let edge: TreeEdge = emptyEdge();
        let at = 0;
        for (const size of [...batches, total]) {
          const chunk = t.leaves.slice(at, Math.min(total, at + size));
          at += chunk.length;
          const before = edge.hashes.map((h) => Buffer.from(h));
          const r = appendLeaves(edge, chunk);
          expect(edge.hashes).toEqual(before); // the input edge is untouched
          for (const x of r.nodes) {
            expect(batched.has(`${x.level}/${x.index}`)).toBe(false); // each node is new exactly once
            expect(x.level).toBeGreaterThanOrEqual(1);
            batched.set(`${x.level}/${x.index}`, x.hash.toString('hex'));
          }
          edge = r.edge;
        }
        expect(edge).toEqual(single);
        expect(batched).toEqual(oneByOne);
        expect(edgeRoot(edge)).toEqual(rootOfLeaves(t.leaves));
        // Exactly the full nodes of level ≥ 1 inside [0, total), each the MTH of its leaves.
        const want = new Map<string, string>();
        for (let level = 1; 2 ** level <= total; level++) {
          for (let i = 0; (i + 1) * 2 ** level <= total; i++) {
            want.set(
              `${level}/${i}`,
              rootOfLeaves(t.leaves.slice(i * 2 ** level, (i + 1) * 2 ** level)).toString('hex'),
            );
          }
        }
        expect(batched).toEqual(want);
      }),
      { numRuns: 60 },
    );
  });
});

describe('trees up to 2^53 leaves', () => {
  // A tree whose leaves are all equal: a full node's hash depends on its level only, so proofs of
  // any size can be built and checked with a few hashes.
  const level = [leafHash(Buffer.from('same'))];
  for (let l = 1; l <= 53; l++) level.push(nodeHash(level[l - 1]!, level[l - 1]!));
  const lookup = (id: NodeId): Buffer => level[id.level]!;
  const big = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1 });

  it('builds and verifies inclusion proofs with exact arithmetic', () => {
    fc.assert(
      fc.property(big, fc.nat(), (size, k) => {
        const index = k % size;
        const proof = buildInclusionProof(index, size, lookup);
        const root = rootFromNodes(size, lookup);
        expect(proof.length).toBeLessThanOrEqual(53);
        expect(verifyInclusion({ leafHash: level[0]!, index, size, proof, root })).toBe(true);
        expect(
          verifyInclusion({ leafHash: level[0]!, index, size: size + 1, proof, root: rootFromNodes(size + 1, lookup) }),
        ).toBe(false);
        if (proof.length > 0)
          expect(
            verifyInclusion({ leafHash: level[0]!, index, size, proof: flip(proof, k % proof.length, k % 256), root }),
          ).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('builds and verifies consistency proofs with exact arithmetic', () => {
    fc.assert(
      fc.property(big, big, (a, b) => {
        const [size1, size2] = a <= b ? [a, b] : [b, a];
        const proof = buildConsistencyProof(size1, size2, lookup);
        const root1 = rootFromNodes(size1, lookup);
        const root2 = rootFromNodes(size2, lookup);
        expect(proof.length).toBeLessThanOrEqual(2 * 53);
        expect(verifyConsistency({ size1, size2, proof, root1, root2 })).toBe(true);
        if (size1 < size2) {
          expect(
            verifyConsistency({ size1, size2: size2 + 1, proof, root1, root2: rootFromNodes(size2 + 1, lookup) }),
          ).toBe(false);
          expect(verifyConsistency({ size1, size2, proof: flip(proof, a % proof.length, b % 256), root1, root2 })).toBe(
            false,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('hostile input to the verifiers', () => {
  const number = fc.oneof(
    fc.integer({ min: -5, max: 600 }),
    fc.maxSafeNat(),
    fc.double(),
    fc.constantFrom(Number.MAX_SAFE_INTEGER + 1, -0, Infinity, NaN),
  );
  const bytes = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }));
  const ok = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

  it('return a boolean, or throw ProofError only for sizes that are not whole numbers', () => {
    fc.assert(
      fc.property(number, number, fc.array(bytes, { maxLength: 200 }), bytes, bytes, (x, y, proof, h1, h2) => {
        for (const run of [
          () => verifyInclusion({ leafHash: h1, index: x, size: y, proof, root: h2 }),
          () => verifyConsistency({ size1: x, size2: y, proof, root1: h1, root2: h2 }),
        ]) {
          if (ok(x) && ok(y)) expect(typeof run()).toBe('boolean');
          else expect(run).toThrow(ProofError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('throw ProofError for a proof that is not an array', () => {
    const h = Buffer.alloc(32);
    expect(() =>
      verifyInclusion({ leafHash: h, index: 0, size: 1, proof: 'x' as unknown as Buffer[], root: h }),
    ).toThrow(ProofError);
    expect(() =>
      verifyConsistency({ size1: 1, size2: 2, proof: null as unknown as Buffer[], root1: h, root2: h }),
    ).toThrow(ProofError);
  });
});
