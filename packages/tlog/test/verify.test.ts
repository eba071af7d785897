// What a relying party runs offline: a saved inclusion bundle, and two checkpoints with a
// consistency proof, checked with the log's verifier key only.

import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves,
  buildConsistencyProof,
  buildInclusionProof,
  CheckpointError,
  checkConsistency,
  checkInclusionBundle,
  ed25519Signer,
  edgeRoot,
  emptyEdge,
  entryLeafHash,
  NoteError,
  ProofError,
  signCheckpoint,
  verifierKey,
  type InclusionBundle,
  type NodeId,
  type TreeEdge,
} from '../src/index.js';

const ORIGIN = 'kakunin.example/records';
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const KEY = verifierKey(ORIGIN, publicKey);
const signer = ed25519Signer(ORIGIN, privateKey);

// A small log: 13 entries, a checkpoint signed at every size.
const entries = Array.from({ length: 13 }, (_, i) => `{"record":${i},"name":"確認 ${i}"}`);
const leaves = entries.map(entryLeafHash);
const stored = new Map<string, Buffer>();
const checkpoints: string[] = [];
let edge: TreeEdge = emptyEdge();
checkpoints.push(signCheckpoint({ origin: ORIGIN, size: 0, root: edgeRoot(edge), extensions: [] }, signer));
for (const leaf of leaves) {
  const r = appendLeaves(edge, [leaf]);
  r.nodes.forEach((n) => stored.set(`${n.level}/${n.index}`, n.hash));
  edge = r.edge;
  checkpoints.push(signCheckpoint({ origin: ORIGIN, size: edge.size, root: edgeRoot(edge), extensions: [] }, signer));
}
const lookup = (id: NodeId): Buffer => (id.level === 0 ? leaves[id.index]! : stored.get(`${id.level}/${id.index}`)!);
const b64 = (hs: Buffer[]): string[] => hs.map((h) => h.toString('base64'));

function bundle(index: number, size: number): InclusionBundle {
  return {
    entry: entries[index]!,
    leafIndex: index,
    treeSize: size,
    proof: b64(buildInclusionProof(index, size, lookup)),
    checkpoint: checkpoints[size]!,
  };
}

const failure = (f: () => unknown): { type: string; code: string; message: string } => {
  try {
    f();
  } catch (e) {
    if (e instanceof ProofError || e instanceof NoteError || e instanceof CheckpointError)
      return { type: e.constructor.name, code: e.code, message: e.message };
    throw e;
  }
  throw new Error('did not throw');
};

describe('checkInclusionBundle', () => {
  it('accepts every entry of every checkpoint', () => {
    for (let size = 1; size <= 13; size++) {
      for (let i = 0; i < size; i++) {
        const r = checkInclusionBundle(bundle(i, size), KEY, { origin: ORIGIN });
        expect(r.ok).toBe(true);
        expect(r.checkpoint.size).toBe(size);
        expect(r.leafHash).toEqual(leaves[i]);
      }
    }
  });

  it('survives a JSON round trip (what the RP saves)', () => {
    const saved = JSON.parse(JSON.stringify(bundle(5, 11))) as InclusionBundle;
    expect(checkInclusionBundle(saved, KEY).checkpoint.origin).toBe(ORIGIN);
  });

  it('refuses an altered entry, index, proof or size (PROOF_INVALID)', () => {
    const b = bundle(5, 11);
    const other = bundle(6, 11);
    for (const bad of [
      { entry: entries[5]!.replace('5', '6') },
      { entry: `${entries[5]} ` },
      { leafIndex: 4 },
      { leafIndex: 6 },
      { leafIndex: 11 },
      { proof: other.proof },
      { proof: b.proof.slice(0, -1) },
      { proof: [...b.proof, b.proof[0]!] },
      { proof: [...b.proof].reverse() },
      { proof: [Buffer.alloc(32).toString('base64'), ...b.proof.slice(1)] },
      { treeSize: 12 },
      { treeSize: 12, checkpoint: checkpoints[12]! }, // the proof of another size
    ]) {
      expect(
        failure(() => checkInclusionBundle({ ...b, ...bad }, KEY)),
        JSON.stringify(bad),
      ).toMatchObject({ type: 'ProofError', code: 'PROOF_INVALID' });
    }
  });

  it('says why in the message', () => {
    expect(failure(() => checkInclusionBundle({ ...bundle(5, 11), treeSize: 12 }, KEY)).message).toMatch(
      /size 12.*size 11/,
    );
    expect(failure(() => checkInclusionBundle({ ...bundle(5, 11), entry: 'x' }, KEY)).message).toMatch(
      /does not lead to the root/,
    );
  });

  it('refuses a malformed bundle (PROOF_MALFORMED) without crashing', () => {
    const b = bundle(5, 11);
    for (const bad of [
      { proof: ['not base64!'] },
      { proof: [b.proof[0]!.slice(0, -4)] },
      { proof: [b.proof[0]!.replace('=', '')] },
      { proof: 'x' },
      { proof: [42] },
      { proof: Array.from({ length: 65 }, () => b.proof[0]) },
      { leafIndex: -1 },
      { leafIndex: 1.5 },
      { leafIndex: '5' },
      { treeSize: NaN },
      { entry: 7 },
      { entry: '\ud800' },
      { checkpoint: 42 },
    ]) {
      expect(
        failure(() => checkInclusionBundle({ ...b, ...bad } as unknown as InclusionBundle, KEY)),
        JSON.stringify(bad),
      ).toMatchObject({ type: 'ProofError', code: 'PROOF_MALFORMED' });
    }
    expect(failure(() => checkInclusionBundle(null as unknown as InclusionBundle, KEY)).code).toBe('PROOF_MALFORMED');
  });

  it('refuses a checkpoint of another key, of another origin, altered or malformed', () => {
    const b = bundle(5, 11);
    const other = generateKeyPairSync('ed25519');
    expect(failure(() => checkInclusionBundle(b, verifierKey(ORIGIN, other.publicKey))).code).toBe('NOTE_UNVERIFIED');
    expect(failure(() => checkInclusionBundle(b, KEY, { origin: 'other.example/log' })).code).toBe(
      'CHECKPOINT_ORIGIN_MISMATCH',
    );
    expect(
      failure(() => checkInclusionBundle({ ...b, checkpoint: b.checkpoint.replace('\n11\n', '\n12\n') }, KEY)).code,
    ).toBe('NOTE_UNVERIFIED');
    expect(failure(() => checkInclusionBundle({ ...b, checkpoint: 'junk' }, KEY)).code).toBe('NOTE_MALFORMED');
    expect(failure(() => checkInclusionBundle(b, 'junk')).code).toBe('KEY_MALFORMED');
    // A log signing a forged root for the same size is caught by the proof, not the signature.
    const forged = signCheckpoint({ origin: ORIGIN, size: 11, root: leaves[0]!, extensions: [] }, signer);
    expect(failure(() => checkInclusionBundle({ ...b, checkpoint: forged }, KEY)).code).toBe('PROOF_INVALID');
  });
});

describe('checkConsistency', () => {
  it('accepts every pair of checkpoints of the log', () => {
    for (let s2 = 0; s2 <= 13; s2++) {
      for (let s1 = 0; s1 <= s2; s1++) {
        const r = checkConsistency({
          older: checkpoints[s1]!,
          newer: checkpoints[s2]!,
          proof: b64(buildConsistencyProof(s1, s2, lookup)),
          key: KEY,
          origin: ORIGIN,
        });
        expect([r.ok, r.older.size, r.newer.size]).toEqual([true, s1, s2]);
      }
    }
  });

  it('refuses a fork, swapped checkpoints and altered proofs (PROOF_INVALID)', () => {
    const proof = b64(buildConsistencyProof(5, 11, lookup));
    // A fork: a tree of 11 whose leaf 2 differs, signed by the same key.
    const forkLeaves = leaves.slice(0, 11).map((l, i) => (i === 2 ? entryLeafHash('rewritten') : l));
    const forkEdge = appendLeaves(emptyEdge(), forkLeaves).edge;
    const fork = signCheckpoint({ origin: ORIGIN, size: 11, root: edgeRoot(forkEdge), extensions: [] }, signer);
    for (const bad of [
      { newer: fork },
      { older: checkpoints[11]!, newer: checkpoints[5]! },
      { older: checkpoints[6]! },
      { newer: checkpoints[12]! },
      { proof: proof.slice(1) },
      { proof: [] },
      { proof: [...proof, proof[0]!] },
    ]) {
      expect(
        failure(() => checkConsistency({ older: checkpoints[5]!, newer: checkpoints[11]!, proof, key: KEY, ...bad })),
        Object.keys(bad).join(),
      ).toMatchObject({ type: 'ProofError', code: 'PROOF_INVALID' });
    }
    expect(failure(() => checkConsistency({ older: checkpoints[5]!, newer: fork, proof, key: KEY })).message).toMatch(
      /not an extension/,
    );
  });

  it('refuses checkpoints of two logs signed by one key', () => {
    const elsewhere = signCheckpoint(
      { origin: 'kakunin.example/other', size: 11, root: edgeRoot(edge), extensions: [] },
      ed25519Signer(ORIGIN, privateKey),
    );
    expect(
      failure(() =>
        checkConsistency({
          older: checkpoints[5]!,
          newer: elsewhere,
          proof: b64(buildConsistencyProof(5, 11, lookup)),
          key: KEY,
        }),
      ).code,
    ).toBe('PROOF_INVALID');
    expect(
      failure(() => checkConsistency({ older: checkpoints[5]!, newer: elsewhere, proof: [], key: KEY, origin: ORIGIN }))
        .code,
    ).toBe('CHECKPOINT_ORIGIN_MISMATCH');
  });

  it('refuses a malformed proof or checkpoint', () => {
    const base = {
      older: checkpoints[5]!,
      newer: checkpoints[11]!,
      proof: b64(buildConsistencyProof(5, 11, lookup)),
      key: KEY,
    };
    expect(failure(() => checkConsistency({ ...base, proof: ['%%%'] })).code).toBe('PROOF_MALFORMED');
    expect(failure(() => checkConsistency({ ...base, proof: 'x' as unknown as string[] })).code).toBe(
      'PROOF_MALFORMED',
    );
    expect(failure(() => checkConsistency({ ...base, older: 7 as unknown as string })).code).toBe('PROOF_MALFORMED');
    expect(failure(() => checkConsistency({ ...base, newer: 'junk' })).code).toBe('NOTE_MALFORMED');
  });
});
