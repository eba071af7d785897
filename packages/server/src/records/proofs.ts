// Proofs from the stored tree: which full nodes a proof needs (the tlog package says), one query
// for them (leaves from records, higher levels from log_nodes), then the proof. A proof is always
// for a tree size with a signed checkpoint, which goes into the bundle: with the log's public key a
// relying party can check the bundle offline, years later (`kakunin records check-proof`).

import {
  buildConsistencyProof,
  buildInclusionProof,
  consistencyProofNodes,
  inclusionProofNodes,
  type InclusionBundle,
  type NodeId,
} from '@kakunin/tlog';
import type { Queryable } from '../db/sql.js';
import { InvalidRequest, NoSuchCheckpoint, NotFound, RecordNotIntegrated } from '../errors.js';
import { RECORD_COLUMNS, normaliseRow, rowEntryText, type RecordRow } from './chain.js';
import { latestCheckpoint } from './log.js';

/** Fetches the hashes of the given full nodes in one round trip; throws if any is missing. */
async function nodeLookup(db: Queryable, nodes: readonly NodeId[]): Promise<(n: NodeId) => Uint8Array> {
  const found = new Map<string, Buffer>();
  if (nodes.length > 0) {
    const rows = await db.query<{ level: number; idx: string; hash: Buffer }>(
      `WITH want AS (SELECT * FROM json_to_recordset($1::json) AS w(level smallint, idx bigint))
       SELECT 0 AS level, r.leaf_index::text AS idx, r.leaf_hash AS hash FROM records r JOIN want w ON w.level = 0 AND r.leaf_index = w.idx
       UNION ALL
       SELECT n.level, n.idx::text, n.hash FROM log_nodes n JOIN want w ON w.level = n.level AND w.idx = n.idx WHERE w.level > 0`,
      [JSON.stringify(nodes.map((n) => ({ level: n.level, idx: n.index })))],
    );
    for (const r of rows) found.set(`${Number(r.level)}/${r.idx}`, Buffer.from(r.hash));
  }
  return (n) => {
    const hash = found.get(`${n.level}/${n.index}`);
    if (!hash) throw new Error(`the log is missing node ${n.level}/${n.index}: run \`kakunin records verify\``);
    return hash;
  };
}

/** The signed checkpoint of a tree size (the latest when absent). */
export async function checkpointAt(
  db: Queryable,
  size?: number,
): Promise<{ treeSize: number; note: string; createdAt: Date }> {
  const latest = await latestCheckpoint(db);
  if (!latest) throw new NoSuchCheckpoint(size ?? 0, 0);
  if (size === undefined || size === latest.treeSize)
    return { treeSize: latest.treeSize, note: latest.note, createdAt: latest.createdAt };
  const [row] = await db.query<{ note: string; created_at: Date }>(
    'SELECT note, created_at FROM log_checkpoints WHERE tree_size = $1',
    [size],
  );
  if (!row) throw new NoSuchCheckpoint(size, latest.treeSize);
  return { treeSize: size, note: row.note, createdAt: new Date(row.created_at) };
}

const checkSize = (n: number | undefined, what: string): void => {
  if (n !== undefined && (!Number.isSafeInteger(n) || n < 0))
    throw new InvalidRequest(`${what} must be a whole number ≥ 0`);
};

export interface InclusionAnswer extends InclusionBundle {
  recordId: string;
  rpClientId: string | null;
  leafHash: string;
}

/**
 * The inclusion proof of one record (by id or leaf index) in the tree of `treeSize` (default: the
 * latest checkpoint). `rpClientId`: answer only for that RP's records (an RP asking for another's
 * record is told it does not exist).
 */
export async function inclusionProof(
  db: Queryable,
  o: { recordId?: string; leafIndex?: number; treeSize?: number; rpClientId?: string },
): Promise<InclusionAnswer> {
  checkSize(o.leafIndex, 'leaf_index');
  checkSize(o.treeSize, 'tree_size');
  if ((o.recordId === undefined) === (o.leafIndex === undefined))
    throw new InvalidRequest('name the record by record_id or by leaf_index (one of them)');
  const [raw] =
    o.recordId !== undefined
      ? await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE id = $1`, [o.recordId])
      : await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE leaf_index = $1`, [o.leafIndex!]);
  const what = o.recordId !== undefined ? `record ${o.recordId}` : `leaf ${o.leafIndex}`;
  if (!raw || (o.rpClientId !== undefined && raw.rp_client_id !== o.rpClientId))
    throw new NotFound(`no ${what}${o.rpClientId !== undefined ? ' of this relying party' : ''}`);
  const row = normaliseRow(raw);
  const checkpoint = await checkpointAt(db, o.treeSize);
  if (row.leaf_index === null || Number(row.leaf_index) >= checkpoint.treeSize) {
    if (o.treeSize !== undefined && row.leaf_index !== null)
      throw new InvalidRequest(`${what} is leaf ${row.leaf_index}, not in the tree of size ${o.treeSize}`);
    throw new RecordNotIntegrated(row.id);
  }
  const index = Number(row.leaf_index);
  const lookup = await nodeLookup(db, inclusionProofNodes(index, checkpoint.treeSize));
  return {
    recordId: row.id,
    rpClientId: row.rp_client_id,
    entry: rowEntryText(row),
    leafHash: row.leaf_hash.toString('hex'),
    leafIndex: index,
    treeSize: checkpoint.treeSize,
    proof: buildInclusionProof(index, checkpoint.treeSize, lookup).map((h) => h.toString('base64')),
    checkpoint: checkpoint.note,
  };
}

export interface ConsistencyAnswer {
  first: number;
  second: number;
  proof: string[];
  firstCheckpoint: string;
  secondCheckpoint: string;
}

/** The consistency proof between two checkpointed tree sizes (second: default the latest). */
export async function consistencyProof(
  db: Queryable,
  o: { first: number; second?: number },
): Promise<ConsistencyAnswer> {
  checkSize(o.first, 'first');
  checkSize(o.second, 'second');
  const second = await checkpointAt(db, o.second);
  if (o.first > second.treeSize)
    throw new InvalidRequest(`first (${o.first}) is larger than second (${second.treeSize})`);
  const first = await checkpointAt(db, o.first);
  const lookup = await nodeLookup(db, consistencyProofNodes(o.first, second.treeSize));
  return {
    first: o.first,
    second: second.treeSize,
    proof: buildConsistencyProof(o.first, second.treeSize, lookup).map((h) => h.toString('base64')),
    firstCheckpoint: first.note,
    secondCheckpoint: second.note,
  };
}

/** An inclusion answer as GET /records/v1/proof/inclusion sends it (snake_case JSON, what RPs save). */
export function inclusionWire(a: InclusionAnswer) {
  return {
    record_id: a.recordId,
    rp_client_id: a.rpClientId,
    entry: a.entry,
    leaf_hash: a.leafHash,
    leaf_index: a.leafIndex,
    tree_size: a.treeSize,
    proof: a.proof,
    checkpoint: a.checkpoint,
  };
}

/** A consistency answer as GET /records/v1/proof/consistency sends it. */
export function consistencyWire(a: ConsistencyAnswer) {
  return {
    first: a.first,
    second: a.second,
    proof: a.proof,
    first_checkpoint: a.firstCheckpoint,
    second_checkpoint: a.secondCheckpoint,
  };
}
