// Published vectors. The 8 test leaves, the node hashes of their tree, the roots of sizes 0..8, the
// compact ranges (right edges) and the inclusion / consistency proofs are those of the
// transparency-dev/merkle repository (testonly/constants.go, proof/verify_test.go; the same vectors as
// certificate-transparency-go's merkle tests). The node lists are the facts of proof/proof_test.go
// there. The real Certificate Transparency proofs are Google's Argon 2020 log answers kept by
// golang.org/x/mod (sumdb/tlog/testdata/argon2020).

import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  buildConsistencyProof,
  buildInclusionProof,
  consistencyProofFromLeaves,
  consistencyProofNodes,
  decodeEdge,
  edgeNodes,
  edgeRoot,
  emptyEdge,
  emptyRoot,
  encodeEdge,
  inclusionProofFromLeaves,
  inclusionProofNodes,
  leafHash,
  nodeHash,
  rootFromNodes,
  rootOfLeaves,
  TreeError,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
} from '../src/index.js';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const b64 = (h: string): Buffer => Buffer.from(h, 'base64');
const toHex = (bs: readonly Uint8Array[]): string[] => bs.map((b) => Buffer.from(b).toString('hex'));

const INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
  hex,
);
const LEAVES = INPUTS.map((d) => leafHash(d));

// NodeHashes(): [level][index].
const NODES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

// RootHashes(), by tree size 0..8.
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

// CompactTrees(): the right edge of each size, as [level, index] into NODES.
const EDGES: [number, number][][] = [
  [],
  [[0, 0]],
  [[1, 0]],
  [
    [1, 0],
    [0, 2],
  ],
  [[2, 0]],
  [
    [2, 0],
    [0, 4],
  ],
  [
    [2, 0],
    [1, 2],
  ],
  [
    [2, 0],
    [1, 2],
    [0, 6],
  ],
  [[3, 0]],
];

// verify_test.go inclusionProofs: {leaf (1-based), size, proof}.
const INCLUSION: { leaf: number; size: number; proof: string[] }[] = [
  { leaf: 1, size: 1, proof: [] },
  {
    leaf: 1,
    size: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    leaf: 6,
    size: 8,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    leaf: 2,
    size: 5,
    proof: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];

// verify_test.go consistencyProofs.
const CONSISTENCY: { size1: number; size2: number; proof: string[] }[] = [
  { size1: 1, size2: 1, proof: [] },
  {
    size1: 1,
    size2: 8,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    size1: 6,
    size2: 8,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    size1: 2,
    size2: 5,
    proof: [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
  {
    size1: 6,
    size2: 7,
    proof: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

/** The stored-node lookup of a tree built with appendLeaves (level 0: the leaf hashes). */
function storedTree(leaves: readonly Buffer[]): (id: NodeId) => Buffer {
  const { nodes } = appendLeaves(emptyEdge(), leaves);
  const stored = new Map(nodes.map((n) => [`${n.level}/${n.index}`, n.hash]));
  return (id) => {
    const h = id.level === 0 ? leaves[id.index] : stored.get(`${id.level}/${id.index}`);
    if (!h) throw new Error(`missing node ${id.level}/${id.index}`);
    return h;
  };
}

describe('RFC 9162 hashing', () => {
  it('hashes leaves and nodes with the 0x00 / 0x01 prefixes', () => {
    expect(toHex(LEAVES)).toEqual(NODES[0]);
    expect(nodeHash(LEAVES[0]!, LEAVES[1]!).toString('hex')).toBe(NODES[1]![0]);
    expect(emptyRoot().toString('hex')).toBe(ROOTS[0]);
  });

  it('gives the published roots of sizes 0..8', () => {
    for (let n = 0; n <= 8; n++) expect(rootOfLeaves(LEAVES.slice(0, n)).toString('hex'), `size ${n}`).toBe(ROOTS[n]);
  });

  it('refuses leaf hashes of the wrong size', () => {
    expect(() => rootOfLeaves([Buffer.alloc(31)])).toThrow(TreeError);
  });
});

describe('right edge', () => {
  it('matches the published compact ranges, nodes and roots, appending one leaf at a time', () => {
    let edge = emptyEdge();
    const seen = new Map<string, string>();
    for (let n = 0; n <= 8; n++) {
      expect(toHex(edge.hashes), `edge of size ${n}`).toEqual(EDGES[n]!.map(([l, i]) => NODES[l]![i]));
      expect(edgeRoot(edge).toString('hex')).toBe(ROOTS[n]);
      expect(edgeNodes(n).map((id) => [id.level, id.index])).toEqual(EDGES[n]);
      if (n === 8) break;
      const r = appendLeaves(edge, [LEAVES[n]!]);
      for (const node of r.nodes) seen.set(`${node.level}/${node.index}`, node.hash.toString('hex'));
      edge = r.edge;
    }
    // Every full node of level ≥ 1 was returned once, with the published hash.
    const want = new Map(NODES.slice(1).flatMap((level, l) => level.map((h, i) => [`${l + 1}/${i}`, h] as const)));
    expect(seen).toEqual(want);
  });

  it('encodes and decodes', () => {
    const { edge } = appendLeaves(emptyEdge(), LEAVES.slice(0, 7));
    const bytes = encodeEdge(edge);
    expect(bytes.length).toBe(3 * 32);
    expect(decodeEdge(7, bytes)).toEqual(edge);
    expect(() => decodeEdge(6, bytes)).toThrow(TreeError);
    expect(() => decodeEdge(7, bytes.subarray(1))).toThrow(TreeError);
    expect(() => decodeEdge(-1, Buffer.alloc(0))).toThrow(TreeError);
    expect(() => decodeEdge(0.5, Buffer.alloc(0))).toThrow(TreeError);
    expect(decodeEdge(0, Buffer.alloc(0))).toEqual(emptyEdge());
  });

  it('refuses an edge whose hashes do not match its size', () => {
    expect(() => appendLeaves({ size: 3, hashes: [LEAVES[0]!] }, [LEAVES[1]!])).toThrow(TreeError);
    expect(() => edgeRoot({ size: 1, hashes: [Buffer.alloc(5)] })).toThrow(TreeError);
    expect(() => appendLeaves(emptyEdge(), [Buffer.alloc(33)])).toThrow(TreeError);
  });

  it('computes the root at any size from stored nodes', () => {
    const lookup = storedTree(LEAVES);
    for (let n = 0; n <= 8; n++) expect(rootFromNodes(n, lookup).toString('hex')).toBe(ROOTS[n]);
  });
});

describe('inclusion proofs (published vectors)', () => {
  const lookup = storedTree(LEAVES);
  for (const v of INCLUSION) {
    const index = v.leaf - 1;
    it(`leaf ${index} in a tree of size ${v.size}`, () => {
      const leaves = LEAVES.slice(0, v.size);
      expect(toHex(inclusionProofFromLeaves(index, leaves))).toEqual(v.proof);
      expect(toHex(buildInclusionProof(index, v.size, lookup))).toEqual(v.proof);
      const proof = v.proof.map(hex);
      const root = hex(ROOTS[v.size]!);
      expect(verifyInclusion({ leafHash: LEAVES[index]!, index, size: v.size, proof, root })).toBe(true);
      // The probes of verify_test.go's corruptInclusionProof.
      const probes = [
        { index: index - 1 },
        { index: index + 1 },
        { index: index ^ 2 },
        { size: v.size * 2 },
        { size: Math.floor(v.size / 2) },
        { leafHash: Buffer.from('WrongLeaf') },
        { root: emptyRoot() },
        { root: hex('abacaba000000000000000000000000000000000000000000060061e00123456') },
        { proof: [...proof, Buffer.alloc(0)] },
        { proof: [...proof, root] },
        { proof: [Buffer.alloc(0), ...proof] },
        { proof: [root, ...proof] },
        ...proof.map((_, i) => ({
          proof: proof.map((p, j) => (j === i ? Buffer.from(p.map((b, k) => (k === 0 ? b ^ 8 : b))) : p)),
        })),
        ...(proof.length > 0 ? [{ proof: proof.slice(0, -1) }] : []),
      ];
      for (const probe of probes) {
        const o = { leafHash: LEAVES[index]!, index, size: v.size, proof, root, ...probe };
        if (o.index < 0) continue;
        expect(verifyInclusion(o), JSON.stringify(Object.keys(probe))).toBe(false);
      }
    });
  }

  it('needs the nodes of proof_test.go (as sets: the order is ours)', () => {
    const ids = (list: [number, number][]): string[] => list.map(([l, i]) => `${l}/${i}`).sort();
    const got = (index: number, size: number): string[] =>
      inclusionProofNodes(index, size)
        .map((n) => `${n.level}/${n.index}`)
        .sort();
    expect(got(0, 1)).toEqual([]);
    expect(got(0, 2)).toEqual(ids([[0, 1]]));
    expect(got(1, 3)).toEqual(
      ids([
        [0, 0],
        [0, 2],
      ]),
    );
    expect(got(0, 7)).toEqual(
      ids([
        [0, 1],
        [1, 1],
        [0, 6],
        [1, 2],
      ]),
    );
    expect(got(2, 7)).toEqual(
      ids([
        [0, 3],
        [1, 0],
        [0, 6],
        [1, 2],
      ]),
    );
    expect(got(4, 7)).toEqual(
      ids([
        [0, 5],
        [0, 6],
        [2, 0],
      ]),
    );
    expect(got(6, 7)).toEqual(
      ids([
        [1, 2],
        [2, 0],
      ]),
    );
    expect(got(3, 5)).toEqual(
      ids([
        [0, 2],
        [1, 0],
        [0, 4],
      ]),
    );
    expect(got(10, 15)).toEqual(
      ids([
        [0, 11],
        [1, 4],
        [0, 14],
        [1, 6],
        [3, 0],
      ]),
    );
    expect(got(24, 31)).toEqual(
      ids([
        [0, 25],
        [1, 13],
        [0, 30],
        [1, 14],
        [3, 2],
        [4, 0],
      ]),
    );
    expect(got(81, 95)).toEqual(
      ids([
        [0, 80],
        [1, 41],
        [2, 21],
        [0, 94],
        [1, 46],
        [2, 22],
        [4, 4],
        [6, 0],
      ]),
    );
  });

  it('refuses an index outside the tree', () => {
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 0],
      [8, 7],
      [-1, 4],
      [0.5, 4],
    ] as const) {
      expect(() => inclusionProofNodes(index, size)).toThrow(TreeError);
      expect(() => inclusionProofFromLeaves(index, LEAVES.slice(0, size))).toThrow(TreeError);
    }
    expect(() => inclusionProofNodes(0, Number.MAX_SAFE_INTEGER + 1)).toThrow(TreeError);
    expect(() => inclusionProofNodes(0, Number.NaN)).toThrow(TreeError);
  });

  it('verifies nothing for an empty tree or an index past the end', () => {
    const some = hex('abacaba000000000000000000000000000000000000000000060061e00123456');
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
    ]) {
      expect(verifyInclusion({ leafHash: some, index: index!, size: size!, proof: [], root: emptyRoot() })).toBe(false);
      expect(verifyInclusion({ leafHash: some, index: index!, size: size!, proof: [], root: some })).toBe(false);
    }
    // Size 1: the root is the leaf hash and the proof is empty.
    expect(verifyInclusion({ leafHash: some, index: 0, size: 1, proof: [], root: some })).toBe(true);
    expect(verifyInclusion({ leafHash: some, index: 0, size: 1, proof: [], root: Buffer.alloc(0) })).toBe(false);
  });
});

describe('consistency proofs (published vectors)', () => {
  const lookup = storedTree(LEAVES);
  for (const v of CONSISTENCY) {
    it(`from size ${v.size1} to ${v.size2}`, () => {
      expect(toHex(consistencyProofFromLeaves(v.size1, LEAVES.slice(0, v.size2)))).toEqual(v.proof);
      expect(toHex(buildConsistencyProof(v.size1, v.size2, lookup))).toEqual(v.proof);
      const proof = v.proof.map(hex);
      const root1 = hex(ROOTS[v.size1]!);
      const root2 = hex(ROOTS[v.size2]!);
      expect(verifyConsistency({ size1: v.size1, size2: v.size2, proof, root1, root2 })).toBe(true);
      if (proof.length === 0) return;
      // The probes of verify_test.go's corruptConsistencyProof.
      const probes = [
        { size1: v.size1 - 1 },
        { size1: v.size1 + 1 },
        { size1: v.size1 ^ 2 },
        { size2: v.size2 * 2 },
        { size2: Math.floor(v.size2 / 2) },
        { root1: Buffer.from('WrongRoot') },
        { root2: Buffer.from('WrongRoot') },
        { root1: root2, root2: root1 },
        { proof: [] },
        { proof: [...proof, Buffer.alloc(0)] },
        { proof: [...proof, root1] },
        { proof: [...proof, root2] },
        { proof: [Buffer.alloc(0), ...proof] },
        { proof: [root1, ...proof] },
        { proof: [root2, ...proof] },
        { proof: [proof[0]!, ...proof] },
        { proof: proof.slice(0, -1) },
        ...proof.map((_, i) => ({
          proof: proof.map((p, j) => (j === i ? Buffer.from(p.map((b, k) => (k === 0 ? b ^ 16 : b))) : p)),
        })),
      ];
      for (const probe of probes) {
        expect(
          verifyConsistency({ size1: v.size1, size2: v.size2, proof, root1, root2, ...probe }),
          JSON.stringify(Object.keys(probe)),
        ).toBe(false);
      }
    });
  }

  it('handles the trivial cases as verify_test.go does, and the empty tree as MTH({})', () => {
    const r1 = Buffer.alloc(32, 1);
    const r2 = Buffer.alloc(32, 2);
    const empty = emptyRoot();
    const c = (size1: number, size2: number, root1: Buffer, root2: Buffer, proof: Buffer[] = []): boolean =>
      verifyConsistency({ size1, size2, proof, root1, root2 });
    expect(c(0, 0, empty, empty)).toBe(true);
    expect(c(0, 1, empty, r2)).toBe(true);
    expect(c(1, 1, r2, r2)).toBe(true);
    expect(c(0, 0, r1, r2)).toBe(false);
    expect(c(1, 1, r1, r2)).toBe(false);
    expect(c(1, 0, r1, r2)).toBe(false);
    expect(c(2, 1, r1, r2)).toBe(false);
    expect(c(1, 2, r1, r2)).toBe(false);
    expect(c(0, 0, empty, empty, [empty])).toBe(false);
    expect(c(0, 1, empty, empty, [empty])).toBe(false);
    expect(c(1, 1, empty, empty, [empty])).toBe(false);
    // Stricter than verify_test.go: a "size 0" tree whose root is not MTH({}) is no empty tree.
    expect(c(0, 1, r1, r2)).toBe(false);
  });

  it('needs the nodes of proof_test.go (as sets)', () => {
    const ids = (list: [number, number][]): string[] => list.map(([l, i]) => `${l}/${i}`).sort();
    const got = (size1: number, size2: number): string[] =>
      consistencyProofNodes(size1, size2)
        .map((n) => `${n.level}/${n.index}`)
        .sort();
    expect(got(1, 2)).toEqual(ids([[0, 1]]));
    expect(got(1, 6)).toEqual(
      ids([
        [0, 1],
        [1, 1],
        [1, 2],
      ]),
    );
    expect(got(2, 8)).toEqual(
      ids([
        [1, 1],
        [2, 1],
      ]),
    );
    expect(got(3, 7)).toEqual(
      ids([
        [0, 2],
        [0, 3],
        [1, 0],
        [0, 6],
        [1, 2],
      ]),
    );
    expect(got(4, 7)).toEqual(
      ids([
        [0, 6],
        [1, 2],
      ]),
    );
    expect(got(5, 7)).toEqual(
      ids([
        [0, 4],
        [0, 5],
        [0, 6],
        [2, 0],
      ]),
    );
    expect(got(7, 8)).toEqual(
      ids([
        [0, 6],
        [0, 7],
        [1, 2],
        [2, 0],
      ]),
    );
    expect(got(10, 15)).toEqual(
      ids([
        [1, 4],
        [1, 5],
        [0, 14],
        [1, 6],
        [3, 0],
      ]),
    );
    expect(got(24, 31)).toEqual(
      ids([
        [3, 2],
        [0, 30],
        [1, 14],
        [2, 6],
        [4, 0],
      ]),
    );
    expect(got(81, 95)).toEqual(
      ids([
        [0, 80],
        [0, 81],
        [1, 41],
        [2, 21],
        [0, 94],
        [1, 46],
        [2, 22],
        [4, 4],
        [6, 0],
      ]),
    );
    for (const n of [0, 1, 2, 3, 4, 5, 7, 8]) expect(got(n, n)).toEqual([]);
    expect(got(0, 5)).toEqual([]);
    expect(() => consistencyProofNodes(5, 0)).toThrow(TreeError);
    expect(() => consistencyProofNodes(9, 8)).toThrow(TreeError);
    expect(() => consistencyProofNodes(-1, 8)).toThrow(TreeError);
  });
});

describe('a real Certificate Transparency log (Google Argon 2020)', () => {
  // get-sth, get-entries?start=10000&end=10000, get-proof-by-hash and get-sth-consistency?first=3654490,
  // as kept in golang.org/x/mod sumdb/tlog/testdata/argon2020.
  const size = 961984013;
  const root = b64('dwlueapdd7LaOEnX2W2Wp9v2XE+KzejHRQGHwEx0oaM=');
  const leafInput = b64(
    'AAAAAAFelPhqUwAAAAViMIIFXjCCBEagAwIBAgIRAOodHzZdqWIFzYyl/SovhCMwDQYJKoZIhvcNAQELBQAwgZAxCzAJBgNVBAYTAkdCMRswGQYDVQQIExJHcmVhdGVyIE1hbmNoZXN0ZXIxEDAOBgNVBAcTB1NhbGZvcmQxGjAYBgNVBAoTEUNPTU9ETyBDQSBMaW1pdGVkMTYwNAYDVQQDEy1DT01PRE8gUlNBIERvbWFpbiBWYWxpZGF0aW9uIFNlY3VyZSBTZXJ2ZXIgQ0EwHhcNMTcwMjE1MDAwMDAwWhcNMjAwNDE2MjM1OTU5WjBfMSEwHwYDVQQLExhEb21haW4gQ29udHJvbCBWYWxpZGF0ZWQxHTAbBgNVBAsTFFBvc2l0aXZlU1NMIFdpbGRjYXJkMRswGQYDVQQDDBIqLmxhbmRsb3Jkcy5jb20uYXUwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCtPBKKHj4zdrGlCjgTHzb5gx9JCs97DwvBz60f14gDufF2haWbOxyJ0a3opAMsZnOr8HkARVCwxdqG/PTfACcb0QM7FOlzvxGqxataTYiChwvkkif8F9GlJw69HuHgzhusPf1Ytfk3ps1PRC14MkyrS4kwPrk/Le4XdkqRpRw62wG4V6IkbzsNMEOl1H8EgUbfyapdOcVxHjIzvBVy56fBRKG05Fr5wNq3Acak5kYZdNsLhhmlrqAfAjiombW3hb3V5blJdRC0BDdYHv2+zKey6LqJ1FDoXo6IzbzPpC+aifZy47YX+/N1U64Qn5xlDg7mOP8JXfkNJHbU1TJZHif5AgMBAAGjggHhMIIB3TAfBgNVHSMEGDAWgBSQr2o6lFoL2JDqElZz30O0Oija5zAdBgNVHQ4EFgQUNQSLjkoz01I+iuuoC5lgEp0anhcwDgYDVR0PAQH/BAQDAgWgMAwGA1UdEwEB/wQCMAAwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsGAQUFBwMCME8GA1UdIARIMEYwOgYLKwYBBAGyMQECAgcwKzApBggrBgEFBQcCARYdaHR0cHM6Ly9zZWN1cmUuY29tb2RvLmNvbS9DUFMwCAYGZ4EMAQIBMFQGA1UdHwRNMEswSaBHoEWGQ2h0dHA6Ly9jcmwuY29tb2RvY2EuY29tL0NPTU9ET1JTQURvbWFpblZhbGlkYXRpb25TZWN1cmVTZXJ2ZXJDQS5jcmwwgYUGCCsGAQUFBwEBBHkwdzBPBggrBgEFBQcwAoZDaHR0cDovL2NydC5jb21vZG9jYS5jb20vQ09NT0RPUlNBRG9tYWluVmFsaWRhdGlvblNlY3VyZVNlcnZlckNBLmNydDAkBggrBgEFBQcwAYYYaHR0cDovL29jc3AuY29tb2RvY2EuY29tMC8GA1UdEQQoMCaCEioubGFuZGxvcmRzLmNvbS5hdYIQbGFuZGxvcmRzLmNvbS5hdTANBgkqhkiG9w0BAQsFAAOCAQEACyHqxUzrexToY7tOv4+kyGPP2D27P1tQpyzeAl1bPObiMhNK2b9vvBLDWAaqm8c0YL1h+DBdLoWzf3xFsIkTCVCjWJTNSNlcYtgRk6or1s7jWsfXzWqsnPjPPmTIOCw7EfH7Yme3oxPs3UUsmShAgPwNohAtL9GqlqMiKM6v1WU3NHt01jEoNP23LRa6KeNK6AH6WHJykzL223IlhgXjHTeuQj6lR+TNrQXJuhwTXYe+20rrpPQxc1Pn7AqnvfWgmicRQ7gdIcr4V6+ecTvLfNOaJ0ZYe5G5giuAAdTm7F57pk04f4gyZNYKrj88mvbkoriN8b6jcWExtrYO6bm2TwAA',
  );
  const auditPath = [
    'T46AmJsuOM/gFiGlUp+IJJebp+1Z5qratFNW7U0JyOQ=',
    '9Jj1Feodn42uRYEfffkV4HF/EIPFQ5Zo9IwkxbQ2uhk=',
    'D53/1oCNebF4J59HHgioovKZxrmrKcVuCVhy3Izg8Ck=',
    'wSFDgGSrsXRPA+1c8WHoAFCsWeUv8NDyP/Q/SgsyVyY=',
    '516/RcwsgdwdzHn18v1dJHqBkgFUbNhmCIWOGjsMJaE=',
    'naTFY2ajLFgrgs5XUl+zJYZnnlJksLGsA1VYwpLfqbY=',
    'mKBRJo6qao+0Kdh/rhGkZUbHUAxMhrtrclrTpIbNjIg=',
    'Co4ueOFE7lpifLio94irxxsv1wFMMaK3tPu2ZQkHlro=',
    'yRgy800K6JMYCC05sWfqF2kvCg2riT/pVM+nEa6V5+0=',
    'n2O38XJZC8/Wpbwi9HhgVizlUyeUHVZvYyQB1607MRc=',
    'go3tAjuNfNSCj87y2Rg1xOroDknGN1eaf3cgvzObf7Q=',
    '8D0Mj3/J7ySSnFb0afIHYXv6rlOhECnsebY6XKi1IR8=',
    '6rcez46ZU8M5vPiWVMAUfJfAOV0pPP/mch/lYzZhj/M=',
    '2rtIeXrPvSdUyHc5maIgSAVB2BzaKaupWxSAiVayDE4=',
    'nniW/IMFQPN5xw8UsHFn7CRStYbm1gLu7NNa6kkRqJQ=',
    'mRPPi7sQS22MduIEyvcNzCNFqIt6kLwYPkNKrVtIcu8=',
    'JvTivzESNS9wHI8aph5a7uieVmtS/p9PciMZ5D6GyOo=',
    'UTyQd+Ym0wY4zG+qK806bBORwi1CSVvFQ/KknnqoZj8=',
    'hXODrqN+ff+U6zPqRQ+ZQKs6im1fPcxIerDSfNwflhE=',
    'II6GE+WY/DrpZzfHztLwkR46o37zVkNLCyPYlf68zA0=',
    'd609kWWcNBllbA8Jb/ad4XAVVGnScLRmtP8FYyr+Dck=',
    'rikBsP0G0gioXRpBFED2CzQdSLrGPvRd0bEcbEZw1rI=',
    'GXIElfmnRuWfbA4z7ubV/UwlpSRUbUeec7oL5HDDnh0=',
    'pR0SH/NYP6s9+8azWwaeUXA4Ze/3WCIgMfh5YW6wvcE=',
    'f3GuAKYVrF8RBg3s15jvA/YvV9oAliWtzP/imwPhQVA=',
    'WHn8zDxlVgkV+lSlmzaOdfSBrTHoRr5nT3d76q0KKWE=',
    'f2uV2ZxVgULzLPKuZcowRY3ZY7fRlX59iDBjV1R8kNQ=',
    'NzQVjJsvQwbi7WStMr9oFkh9VbHfK7LB6o7WwAqwNTs=',
    'C0LttBeYHZHgL+032JIcJC3CTBIyza/hsbmJUgJfmDI=',
    'nixU5CWTFVDlF4BGdcU6kA7WSYurEpe9jRWc+F/7sOc=',
  ].map(b64);
  const oldSize = 3654490;
  const oldRoot = b64('AuIZ5V6sDUj1vn3Y1K85oOaQ7y+FJJKtyRTl1edIKBQ=');
  const consistency = [
    '80Sfbj6UQEdVSZCSIgh9NMPj3vCBzcc1A48B2crJSWg=',
    'FZcrgAHUk6nNPviJZq8kEK6jCG1d18pJOFE45ZDc1TQ=',
    'Q67reWXmPBo1UfmwBap4Xi9PMPfFdUSSw3WGlRZdG7k=',
    'eJ7CyhR4PxzBxDIsWgrVYW1eFUb9ndgf46tFmiqVrxA=',
    'QrDwp062Grm5WY8KdrhFsBuuNjGzRox2Jb8PmVL5OYw=',
    'XM4YMjMEdLH/XJam/ZWyaP14k3cmsOtnPsOWQ54lW1s=',
    'SGiBh+jOTGccXU48ZzgQ88lRcBmtB4wz4oSDndv2QTg=',
    'WAS6txqNLYKGL1GdBdpqmV42TTfn6cJsuDsqLXuTCNI=',
    'QFmRS0rirUA7ZN3lxFjDncV+E1OCrn3NUB4RCp+5fzc=',
    'Hdbp7It2XBNZmNDBpCN/KPd7vfVqxgzwOosqVIaEA9E=',
    'mxvHL0ZiblBdD7j7pIa1jlfB0gSqfJ6oX0UGo7L0VsU=',
    'q5hjyvoW6TL/PThgcitpDcSTrnKX2p1+aqscqH2euRA=',
    'jTOWDqt3IHj2NVFeezyBz2ofpru+ztEywqKUAfFclKI=',
    'GIRn0w3HqJdvU9j1WVD//eR6lk2AaTVjyzjsJNP8U88=',
    'x52GJvxG81fnQBrgOTbll1A5tz95/LXK0Ag1NhB0r1I=',
    '6/0OqrcTgc3o5dD5PymmoC96lB9yLPFuTHVvLy8fSGk=',
    'Gf+iKLfcXO5l4JEFmsZvSdG5q1uEeWPfYLrds6pmjz0=',
    'DGuaco+McyM3AfRSF6qX7RwSetwe2ieYJmxw5e9rVx0=',
    '2tQJ9V32hnYp+fdpP6TcjmgJmLeNVOMKM0Ml1kk4cNU=',
    '3PapK+IkyJr8I9yAErAmzuZezzLMzsg+PfeRCgNW8NQ=',
    's6xiYeejb+wtqHA+URJZ2I/SCPyIW8coP6aB00FJbMY=',
    'z9lSpmdTcr5M5ZzKlc4EPh3SrSypKFdk6JUF/UccaZU=',
    'GXIElfmnRuWfbA4z7ubV/UwlpSRUbUeec7oL5HDDnh0=',
    'pR0SH/NYP6s9+8azWwaeUXA4Ze/3WCIgMfh5YW6wvcE=',
    'f3GuAKYVrF8RBg3s15jvA/YvV9oAliWtzP/imwPhQVA=',
    'WHn8zDxlVgkV+lSlmzaOdfSBrTHoRr5nT3d76q0KKWE=',
    'f2uV2ZxVgULzLPKuZcowRY3ZY7fRlX59iDBjV1R8kNQ=',
    'NzQVjJsvQwbi7WStMr9oFkh9VbHfK7LB6o7WwAqwNTs=',
    'C0LttBeYHZHgL+032JIcJC3CTBIyza/hsbmJUgJfmDI=',
    'nixU5CWTFVDlF4BGdcU6kA7WSYurEpe9jRWc+F/7sOc=',
  ].map(b64);

  it('verifies the inclusion of entry 10000 in the tree of 961,984,013 entries', () => {
    const leaf = leafHash(leafInput);
    expect(verifyInclusion({ leafHash: leaf, index: 10000, size, proof: auditPath, root })).toBe(true);
    expect(verifyInclusion({ leafHash: leaf, index: 10001, size, proof: auditPath, root })).toBe(false);
    expect(verifyInclusion({ leafHash: leaf, index: 10000, size, proof: auditPath.slice(0, -1), root })).toBe(false);
    // Our node plan for this proof has one element per audit-path hash.
    expect(inclusionProofNodes(10000, size).length).toBeGreaterThanOrEqual(auditPath.length);
  });

  it('verifies the consistency of the tree of 3,654,490 entries with it', () => {
    expect(verifyConsistency({ size1: oldSize, size2: size, proof: consistency, root1: oldRoot, root2: root })).toBe(
      true,
    );
    expect(
      verifyConsistency({ size1: oldSize + 1, size2: size, proof: consistency, root1: oldRoot, root2: root }),
    ).toBe(false);
    expect(
      verifyConsistency({ size1: oldSize, size2: size, proof: consistency.slice(1), root1: oldRoot, root2: root }),
    ).toBe(false);
  });
});
