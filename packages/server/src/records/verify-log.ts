// `kakunin records verify`: recomputes the whole log from the rows and checks it against what is
// stored and signed. One pass in leaf order, memory bounded by a page: every row's leaf hash is
// recomputed from its columns (an edited column, payload or leaf hash shows), the indices must run
// 0, 1, 2 … without gap or repeat, every stored node must be the one the recomputed leaves give,
// every checkpoint's root the root of the recomputed tree at its size, and the latest checkpoint
// must carry a valid signature of the log's key. A checkpoint saved earlier (`since`) must be a
// prefix of today's tree: a log that was rewritten, truncated or forked is not. Rows of the v1 hash
// chain (before the log) are the first leaves and keep their own checks (row hash and links).

import { appendLeaves, edgeRoot, emptyEdge, openCheckpoint, type Checkpoint } from '@kakunin/tlog';
import type { Database, Queryable } from '../db/sql.js';
import {
  GENESIS_HASH,
  PURGE_EVENT,
  payloadHash,
  recordPages,
  rowLeafHash,
  v1RowHashIntact,
  type RecordRow,
} from './chain.js';
import { latestCheckpoint } from './log.js';

export type LogProblemCode =
  'payload' | 'leaf' | 'hash' | 'link' | 'purge' | 'index' | 'node' | 'checkpoint' | 'signature' | 'consistency';

export interface LogProblem {
  code: LogProblemCode;
  /** The leaf (or tree size, for a checkpoint problem) it concerns, when there is one. */
  leafIndex?: number;
  recordId?: string;
  reason: string;
}

export interface LogVerification {
  ok: boolean;
  /** Leaves checked (integrated rows). */
  checked: number;
  purged: number;
  /** Committed records the sequencer had not integrated when the pass read the leaves (their rows were checked too). */
  pending: number;
  treeSize: number;
  /** base64 root of the recomputed tree. */
  root: string;
  /** The latest signed checkpoint (keep it: pass it back as `since` to detect a rewritten log). */
  checkpoint: string | null;
  problems: LogProblem[];
}

export interface VerifyLogOptions {
  /** The log's verifier key (C2SP), against which the checkpoints' signatures are checked. */
  key: string;
  /** A signed checkpoint saved earlier: the log must still extend it. */
  since?: string;
  onProgress?: (checked: number) => void;
  /** Stop collecting problems after this many (default 1000); checking goes on. */
  maxProblems?: number;
  pageSize?: number;
}

/**
 * Verifies the whole log. Given a Database, it reads everything in one REPEATABLE READ, READ ONLY
 * transaction: the sequencer, ceremonies and purges that commit meanwhile are not seen half-way.
 */
export async function verifyLog(db: Queryable | Database, o: VerifyLogOptions): Promise<LogVerification> {
  if ('transaction' in db) {
    return db.transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      return verifyLogIn(tx, o);
    });
  }
  return verifyLogIn(db, o);
}

async function verifyLogIn(db: Queryable, o: VerifyLogOptions): Promise<LogVerification> {
  const problems: LogProblem[] = [];
  let problemCount = 0;
  const max = o.maxProblems ?? 1000;
  const problem = (p: LogProblem): void => {
    problemCount++;
    if (problems.length < max) problems.push(p);
  };

  const latest = await latestCheckpoint(db);
  let signedLatest: Checkpoint | undefined;
  if (latest) {
    // Its origin, for the earlier checkpoint; a bad signature is reported with every checkpoint's below.
    try {
      signedLatest = openCheckpoint(latest.note, o.key);
    } catch {
      signedLatest = undefined;
    }
  }
  let since: Checkpoint | undefined;
  if (o.since !== undefined) {
    try {
      since = openCheckpoint(o.since, o.key, signedLatest?.origin);
    } catch (e) {
      problem({
        code: 'signature',
        reason: `the earlier checkpoint does not verify with the log's key: ${(e as Error).message}`,
      });
    }
  }

  // Checkpoints in size order, compared as the recomputed tree reaches each size. Only those up to
  // the latest read above: one the sequencer commits during the pass may sign leaves read after it.
  const checkpoints = checkpointStream(db, latest?.treeSize ?? -1, o.key, problem);
  let nextCheckpoint = await checkpoints.next();

  let edge = emptyEdge();
  let sinceRoot: Buffer | undefined = since?.size === 0 ? edgeRoot(emptyEdge()) : undefined;
  let checked = 0;
  let purged = 0;
  let lastV1: { hash: string; index: number } | null = null;
  let lastIndex = -1;
  const repeated = new Set<number>();
  let seenV2 = false;
  const awaitingNote = new Map<string, number>(); // purged id -> leaf index
  const checkRow = (row: RecordRow, index: number | undefined): Buffer => {
    const where = { ...(index !== undefined ? { leafIndex: index } : {}), recordId: row.id };
    const recomputed = rowLeafHash(row);
    if (!recomputed.equals(row.leaf_hash))
      problem({
        ...where,
        code: 'leaf',
        reason:
          'the leaf hash does not match the row: a fixed column (id, created_at, rp, ceremony, subject, framework, outcome, payload_hash) or the leaf hash was edited',
      });
    if (row.purged_at === null) {
      if (row.payload === null)
        problem({ ...where, code: 'payload', reason: 'payload is missing but the record was never purged' });
      else if (payloadHash(row.payload) !== row.payload_hash)
        problem({ ...where, code: 'payload', reason: 'payload was edited: its hash does not match payload_hash' });
    } else {
      purged++;
      if (row.payload !== null)
        problem({ ...where, code: 'purge', reason: 'record is marked purged but still has a payload' });
      awaitingNote.set(row.id, index ?? -1);
    }
    if (row.outcome === 'note' && row.payload?.event === PURGE_EVENT && Array.isArray(row.payload.records)) {
      for (const id of row.payload.records) if (typeof id === 'string') awaitingNote.delete(id);
    }
    return recomputed;
  };

  const pageSize = o.pageSize ?? 1000;
  for await (const page of recordPages(db, 'leaf_index IS NOT NULL', [], pageSize, 'leaf_index')) {
    const leaves: Buffer[] = [];
    for (const row of page) {
      const index = Number(row.leaf_index);
      // Each gap or repeat once (the tree is rebuilt from the rows in this order regardless).
      if (index === lastIndex) {
        repeated.add(index);
        problem({ leafIndex: index, recordId: row.id, code: 'index', reason: `leaf index ${index} appears twice` });
      } else if (index !== lastIndex + 1) {
        problem({
          leafIndex: lastIndex + 1,
          recordId: row.id,
          code: 'index',
          reason:
            lastIndex < 0
              ? `the leaf indices start at ${index}, not 0: leaves were deleted or re-indexed`
              : `leaf indices jump from ${lastIndex} to ${index}: leaves were deleted or re-indexed`,
        });
      }
      lastIndex = index;
      if (row.entry_version === 1) {
        if (seenV2)
          problem({
            leafIndex: index,
            recordId: row.id,
            code: 'index',
            reason: 'a v1 chain row comes after log entries: leaves were reordered',
          });
        const expectedPrev = lastV1?.hash ?? GENESIS_HASH;
        if (row.prev_hash !== expectedPrev)
          problem({
            leafIndex: index,
            recordId: row.id,
            code: 'link',
            reason: lastV1
              ? `prev_hash does not match the hash of the previous v1 record (leaf ${lastV1.index}): a record between them was deleted, inserted or moved`
              : 'the first v1 record does not link to the genesis hash: earlier records were deleted',
          });
        if (!v1RowHashIntact(row)) {
          problem({
            leafIndex: index,
            recordId: row.id,
            code: 'hash',
            reason: 'the v1 row hash does not match the row: a fixed column was edited',
          });
        }
        lastV1 = { hash: row.hash ?? '', index };
      } else seenV2 = true;
      leaves.push(checkRow(row, index));
    }
    // Append in runs that end where a root is needed: at a checkpoint's size, at the earlier checkpoint's.
    let start = 0;
    while (start < leaves.length) {
      const end = edge.size + leaves.length - start;
      const stops = [
        nextCheckpoint.done ? end : nextCheckpoint.value.size,
        since && !sinceRoot ? since.size : end,
      ].filter((n) => n > edge.size && n <= end);
      const upTo = (stops.length ? Math.min(...stops) : end) - edge.size;
      const appended = appendLeaves(edge, leaves.slice(start, start + upTo));
      await compareNodes(db, appended.nodes, problem);
      edge = appended.edge;
      start += upTo;
      if (since && edge.size === since.size) sinceRoot = edgeRoot(edge);
      nextCheckpoint = await passCheckpoints(checkpoints, nextCheckpoint, edge.size, () => edgeRoot(edge), problem);
    }
    checked += page.length;
    o.onProgress?.(checked);
  }
  if (edge.size === 0)
    nextCheckpoint = await passCheckpoints(checkpoints, nextCheckpoint, 0, () => edgeRoot(edge), problem);
  // Checkpoints beyond the rows: leaves were deleted from the end.
  while (!nextCheckpoint.done) {
    problem({
      code: 'checkpoint',
      leafIndex: nextCheckpoint.value.size,
      reason: `a checkpoint of size ${nextCheckpoint.value.size} was signed, but only ${edge.size} leaves are left: the newest leaves were deleted`,
    });
    nextCheckpoint = await checkpoints.next();
  }
  // Each of these in one statement, against the rows of the same snapshot: leaves, nodes and a
  // checkpoint the sequencer commits meanwhile (together) are not mistaken for extra ones.
  const [extra] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM log_nodes WHERE idx * (1::bigint << level) + (1::bigint << level) > GREATEST($1::bigint, (SELECT coalesce(max(leaf_index) + 1, 0) FROM records))`,
    [edge.size],
  );
  if ((extra?.n ?? 0) > 0)
    problem({ code: 'node', reason: `${extra!.n} stored node(s) cover leaves the tree does not have` });
  if (latest && edge.size < latest.treeSize)
    problem({
      code: 'checkpoint',
      leafIndex: latest.treeSize,
      reason: `the latest checkpoint has ${latest.treeSize} leaves, the rows ${edge.size}`,
    });
  // The sequencer commits a leaf's index with the checkpoint that signs it: leaves beyond every checkpoint were not signed.
  const [signed] = await db.query<{ leaves: string; signed: string | null }>(
    'SELECT (SELECT coalesce(max(leaf_index) + 1, 0) FROM records)::text AS leaves, (SELECT max(tree_size) FROM log_checkpoints)::text AS signed',
  );
  const signedSize = signed?.signed === null || signed?.signed === undefined ? 0 : Number(signed.signed);
  if (Number(signed?.leaves ?? 0) > signedSize) {
    problem({
      code: 'checkpoint',
      leafIndex: signedSize,
      reason: `leaves up to index ${Number(signed!.leaves) - 1} were integrated, but the latest checkpoint signs ${signedSize}: a checkpoint was deleted, or leaves were re-indexed beyond it`,
    });
  }
  // Rows sharing a leaf index across a page boundary are not seen by the pass (keyset paging): find them all.
  const shared = await db.query<{ leaf_index: string; n: number }>(
    'SELECT r.leaf_index::text AS leaf_index, count(*)::int AS n FROM records r WHERE r.leaf_index IS NOT NULL GROUP BY r.leaf_index HAVING count(*) > 1 ORDER BY r.leaf_index LIMIT 1000',
  );
  for (const r of shared) {
    if (!repeated.has(Number(r.leaf_index)))
      problem({
        leafIndex: Number(r.leaf_index),
        code: 'index',
        reason: `leaf index ${r.leaf_index} is held by ${r.n} rows: a row was inserted or re-indexed into the tree`,
      });
  }

  // Rows not in the tree yet, and those integrated since the pass read its last leaf (say a purge's
  // note): checked as rows, so that a purge committed meanwhile does not look like a blanked payload.
  let pending = 0;
  for await (const page of recordPages(db, 'leaf_index IS NULL OR leaf_index > $1::bigint', [lastIndex])) {
    for (const row of page) checkRow(row, undefined);
    pending += page.length;
  }
  for (const [id, index] of awaitingNote)
    problem({
      ...(index >= 0 ? { leafIndex: index } : {}),
      recordId: id,
      code: 'purge',
      reason: 'payload was blanked outside a retention purge (no retention_purge note names this record)',
    });

  const root = edgeRoot(edge);
  if (since) {
    if (since.size > edge.size)
      problem({
        code: 'consistency',
        leafIndex: since.size,
        reason: `the earlier checkpoint has ${since.size} leaves, the log now ${edge.size}: leaves were deleted`,
      });
    else if (!sinceRoot?.equals(since.root))
      problem({
        code: 'consistency',
        leafIndex: since.size,
        reason: `the log is not an extension of the earlier checkpoint (size ${since.size}): its first ${since.size} leaves now give another root`,
      });
  }
  problems.sort((a, b) => (a.leafIndex ?? -1) - (b.leafIndex ?? -1));
  return {
    ok: problemCount === 0,
    checked,
    purged,
    pending,
    treeSize: edge.size,
    root: root.toString('base64'),
    checkpoint: latest?.note ?? null,
    problems,
  };
}

interface StoredCheckpoint {
  size: number;
  root: Buffer;
}

/**
 * Stored checkpoints in size order, a page at a time; each one's signed note must verify with the
 * log's key and say the size and root of its row (an RP may be handed any of them with a proof).
 */
async function* checkpointStream(
  db: Queryable,
  upTo: number,
  key: string,
  problem: (p: LogProblem) => void,
): AsyncGenerator<StoredCheckpoint> {
  let after = -1;
  for (;;) {
    const rows = await db.query<{ tree_size: string; root_hash: Buffer; note: string }>(
      'SELECT c.tree_size::text AS tree_size, c.root_hash, c.note FROM log_checkpoints c WHERE c.tree_size > $1 AND c.tree_size <= $2 ORDER BY c.tree_size LIMIT 1000',
      [after, upTo],
    );
    for (const r of rows) {
      const size = Number(r.tree_size);
      const root = Buffer.from(r.root_hash);
      try {
        const signed = openCheckpoint(r.note, key);
        if (signed.size !== size || !signed.root.equals(root))
          problem({
            code: 'checkpoint',
            leafIndex: size,
            reason: `the signed note of the checkpoint of size ${size} names size ${signed.size} and another root than its row`,
          });
      } catch (e) {
        problem({
          code: 'signature',
          leafIndex: size,
          reason: `the checkpoint of size ${size} does not verify with the log's key: ${(e as Error).message}`,
        });
      }
      yield { size, root };
    }
    if (rows.length < 1000) return;
    after = Number(rows[rows.length - 1]!.tree_size);
  }
}

/** Moves past every checkpoint up to `size`, comparing the one at exactly `size` with the tree's root. */
async function passCheckpoints(
  stream: AsyncGenerator<StoredCheckpoint>,
  current: IteratorResult<StoredCheckpoint>,
  size: number,
  root: () => Buffer,
  problem: (p: LogProblem) => void,
): Promise<IteratorResult<StoredCheckpoint>> {
  let c = current;
  while (!c.done && c.value.size <= size) {
    if (c.value.size === size && !c.value.root.equals(root())) {
      problem({
        code: 'checkpoint',
        leafIndex: size,
        reason: `the checkpoint of size ${size} signed a root the rows no longer give: a row, an index or the order of leaves before it changed`,
      });
    }
    c = await stream.next();
  }
  return c;
}

/** Compares newly completed nodes with the stored ones, in one query. */
async function compareNodes(
  db: Queryable,
  nodes: readonly { level: number; index: number; hash: Buffer }[],
  problem: (p: LogProblem) => void,
): Promise<void> {
  if (nodes.length === 0) return;
  const rows = await db.query<{ level: number; idx: string; hash: Buffer | null }>(
    `SELECT w.level, w.idx::text AS idx, n.hash FROM json_to_recordset($1::json) AS w(level smallint, idx bigint) LEFT JOIN log_nodes n ON n.level = w.level AND n.idx = w.idx`,
    [JSON.stringify(nodes.map((n) => ({ level: n.level, idx: n.index })))],
  );
  const stored = new Map(
    rows.map((r) => [`${Number(r.level)}/${r.idx}`, r.hash === null ? null : Buffer.from(r.hash)]),
  );
  for (const n of nodes) {
    const s = stored.get(`${n.level}/${n.index}`);
    const leafIndex = n.index * 2 ** n.level;
    if (!s)
      problem({
        code: 'node',
        leafIndex,
        reason: `the stored node ${n.level}/${n.index} (leaves ${leafIndex}–${leafIndex + 2 ** n.level - 1}) is missing`,
      });
    else if (!s.equals(n.hash))
      problem({
        code: 'node',
        leafIndex,
        reason: `the stored node ${n.level}/${n.index} (leaves ${leafIndex}–${leafIndex + 2 ** n.level - 1}) differs from the one its leaves give: a node or a leaf under it was edited, or leaves were reordered`,
      });
  }
}
