// The records as an RFC 9162 Merkle-tree log. A ceremony's transaction inserts its record with the
// leaf hash of its entry (records/chain.ts) and nothing else: no row is touched by every ceremony,
// so ceremonies commit in parallel. The sequencer — one at a time across all processes, under a
// transaction-scoped advisory lock — takes the committed leaves not yet in the tree in arrival
// (seq) order, gives them the next contiguous indices, stores the full subtree nodes they complete
// and a checkpoint signed with the log's Ed25519 key (C2SP signed-note), all in one transaction: a
// sequencer killed half-way leaves nothing behind, and the next one (in any process) starts over.

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  appendLeaves,
  decodeEdge,
  leafHash,
  edgeRoot,
  emptyEdge,
  encodeEdge,
  ed25519Signer,
  signCheckpoint,
  verifierKey,
  type NoteSigner,
  type TreeEdge,
} from '@kakunin/tlog';
import type { Queryable } from '../db/sql.js';
import type { MasterKey } from '../master-key.js';
import { sharedSecret } from '../secrets.js';
import { canonicalJson, entryText, guardPayload, newRecordId, payloadHash, type RecordOutcome } from './chain.js';

export interface AppendRecordInput {
  rpClientId: string | null;
  ceremonyId: string | null;
  subjectId: string | null;
  framework: string;
  outcome: RecordOutcome;
  payload: Record<string, unknown>;
  at?: Date;
  /** Chosen beforehand (newRecordId) when rows written earlier in the transaction name it. */
  id?: string;
}

export interface AppendedRecord {
  id: string;
  seq: string;
  /** The leaf hash of its entry, hex (the leaf index comes later, from the sequencer). */
  leafHash: string;
  createdAt: Date;
  /** How many My Number look-alikes the guard masked in the payload (0 normally). */
  masked: number;
}

/** A record ready to insert: what the INSERT of `appendRecord` (or a ceremony's one statement) writes. */
export interface PreparedRecord {
  id: string;
  createdAt: Date;
  rpClientId: string | null;
  ceremonyId: string | null;
  subjectId: string | null;
  framework: string;
  outcome: RecordOutcome;
  /** Canonical JSON of the guarded payload. */
  payload: string;
  payloadHash: string;
  leafHash: Buffer;
  masked: number;
}

export function prepareRecord(input: AppendRecordInput): PreparedRecord {
  if (!input.framework) throw new TypeError('appendRecord: framework is required');
  if (!['verified', 'rejected', 'note'].includes(input.outcome))
    throw new TypeError(`appendRecord: unknown outcome ${String(input.outcome)}`);
  if (input.at && Number.isNaN(input.at.getTime())) throw new TypeError('appendRecord: invalid at');
  const { payload, masked } = guardPayload(input.payload);
  const hashOfPayload = payloadHash(payload);
  const createdAt = new Date((input.at ?? new Date()).getTime());
  const id = input.id ?? newRecordId();
  const entry = entryText({
    id,
    createdAt,
    rpClientId: input.rpClientId,
    ceremonyId: input.ceremonyId,
    subjectId: input.subjectId,
    framework: input.framework,
    outcome: input.outcome,
    payloadHash: hashOfPayload,
  });
  return {
    id,
    createdAt,
    rpClientId: input.rpClientId,
    ceremonyId: input.ceremonyId,
    subjectId: input.subjectId,
    framework: input.framework,
    outcome: input.outcome,
    payload: canonicalJson(payload),
    payloadHash: hashOfPayload,
    leafHash: leafHash(Buffer.from(entry, 'utf8')),
    masked,
  };
}

/** The columns and values of a prepared record, for an INSERT whose parameters start at `$first`. */
export function recordInsert(r: PreparedRecord, first: number): { columns: string; values: string; params: unknown[] } {
  const params = [
    r.id,
    r.createdAt,
    r.rpClientId,
    r.ceremonyId,
    r.subjectId,
    r.framework,
    r.outcome,
    r.payload,
    r.payloadHash,
    r.leafHash,
  ];
  const casts = ['', '::timestamptz', '', '', '', '', '', '::jsonb', '', '::bytea'];
  return {
    columns:
      'id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, leaf_hash',
    values: params.map((_, i) => `$${first + i}${casts[i]}`).join(', '),
    params,
  };
}

/**
 * Appends one record: a single INSERT of its row and leaf hash. Inside a transaction it commits (or
 * not) with everything else the transaction writes; the sequencer integrates it once committed.
 */
export async function appendRecord(tx: Queryable, input: AppendRecordInput): Promise<AppendedRecord> {
  const r = prepareRecord(input);
  const ins = recordInsert(r, 1);
  const [row] = await tx.query<{ seq: string }>(
    `INSERT INTO records (${ins.columns}) VALUES (${ins.values}) RETURNING seq::text AS seq`,
    ins.params as never[],
  );
  return {
    id: r.id,
    seq: String(row!.seq),
    leafHash: r.leafHash.toString('hex'),
    createdAt: r.createdAt,
    masked: r.masked,
  };
}

// ---- the log's key and origin ---------------------------------------------------------------

/** The log's identity: its origin line, its signer and the verifier key RPs check checkpoints with. */
export interface LogIdentity {
  origin: string;
  signer: NoteSigner;
  /** C2SP verifier key: `<origin>+<key id>+<base64 key>`. */
  verifierKey: string;
  publicKey: KeyObject;
}

const LOG_KEY = 'records.log-key';

/**
 * The log's Ed25519 key and origin, created by the first process (sealed under the master key) and
 * the same for every process and restart after it: checkpoints signed years apart verify with one
 * key. The origin is fixed at creation (`origin`, e.g. "kakunin.example.jp/records").
 */
export async function logIdentity(db: Queryable, key: MasterKey, origin: string): Promise<LogIdentity> {
  const stored = await sharedSecret(db, key, LOG_KEY, () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { origin, pkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64') };
  });
  const privateKey = createPrivateKey({ key: Buffer.from(stored.pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return {
    origin: stored.origin,
    signer: ed25519Signer(stored.origin, privateKey),
    verifierKey: verifierKey(stored.origin, publicKey),
    publicKey,
  };
}

/** The log's verifier key when a server has created the log key (read-only: never creates it). */
export async function storedLogVerifierKey(db: Queryable, key: MasterKey): Promise<string | undefined> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM kv_secrets WHERE name = $1', [LOG_KEY]);
  if (!row?.n) return undefined;
  return (await logIdentity(db, key, 'unused')).verifierKey;
}

/** The default origin: the public URL without its scheme, plus /records (C2SP: a schema-less URL). */
export const defaultLogOrigin = (publicUrl: string): string => {
  const u = new URL(publicUrl);
  return `${u.host}${u.pathname.replace(/\/+$/, '')}/records`;
};

// ---- the sequencer --------------------------------------------------------------------------

/** Any value, as long as no other advisory lock of the platform uses it. */
const SEQUENCER_LOCK = 7418542;
/** Leaves per integration transaction: bounds its size after a long outage. */
const MAX_BATCH = 20_000;

export interface Integration {
  /** Leaves integrated by this call (0: nothing new, or another process holds the sequencer). */
  integrated: number;
  treeSize: number;
  /** Seconds from each integrated record's creation to the commit of its checkpoint. */
  delays: number[];
  /** Another process was sequencing: nothing was done here. */
  busy?: true;
}

export interface LatestCheckpoint {
  treeSize: number;
  root: Buffer;
  note: string;
  edge: TreeEdge;
  createdAt: Date;
}

export async function latestCheckpoint(db: Queryable): Promise<LatestCheckpoint | undefined> {
  const [row] = await db.query<{ tree_size: string; root_hash: Buffer; note: string; edge: Buffer; created_at: Date }>(
    'SELECT c.tree_size::text AS tree_size, c.root_hash, c.note, c.edge, c.created_at FROM log_checkpoints c ORDER BY c.tree_size DESC LIMIT 1',
  );
  if (!row) return undefined;
  const size = Number(row.tree_size);
  return {
    treeSize: size,
    root: Buffer.from(row.root_hash),
    note: row.note,
    edge: decodeEdge(size, Buffer.from(row.edge)),
    createdAt: new Date(row.created_at),
  };
}

/**
 * Integrates the committed leaves not yet in the tree (up to MAX_BATCH), in one transaction: indices,
 * new nodes, signed checkpoint. With an empty log it writes the checkpoint of the empty tree once.
 */
export async function integrate(
  db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> },
  identity: LogIdentity,
  now: () => Date = () => new Date(),
): Promise<Integration> {
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(${SEQUENCER_LOCK}) AS locked`);
    if (!lock?.locked) return { integrated: 0, treeSize: -1, delays: [], busy: true as const };
    const latest = await latestCheckpoint(tx);
    const rows = await tx.query<{ seq: string; leaf_hash: Buffer; created_at: Date }>(
      `SELECT r.seq::text AS seq, r.leaf_hash, r.created_at FROM records r WHERE r.leaf_index IS NULL ORDER BY r.seq LIMIT ${MAX_BATCH}`,
    );
    if (rows.length === 0 && latest) return { integrated: 0, treeSize: latest.treeSize, delays: [] };
    const edge = latest?.edge ?? emptyEdge();
    const { edge: next, nodes } = appendLeaves(
      edge,
      rows.map((r) => Buffer.from(r.leaf_hash)),
    );
    const at = now();
    if (rows.length > 0) {
      const indexed = rows.map((r, i) => ({ seq: r.seq, idx: edge.size + i }));
      const updated = await tx.query<{ n: number }>(
        `WITH v AS (SELECT * FROM json_to_recordset($1::json) AS v(seq bigint, idx bigint)),
              u AS (UPDATE records r SET leaf_index = v.idx, integrated_at = $2 FROM v WHERE r.seq = v.seq AND r.leaf_index IS NULL RETURNING 1)
         SELECT count(*)::int AS n FROM u`,
        [JSON.stringify(indexed), at],
      );
      // A row that changed under us (it cannot, with the lock held) must not leave a hole in the tree.
      if (updated[0]?.n !== rows.length)
        throw new Error(`log sequencer: indexed ${updated[0]?.n ?? 0} of ${rows.length} leaves; nothing committed`);
      if (nodes.length > 0) {
        await tx.query(
          `INSERT INTO log_nodes (level, idx, hash)
           SELECT v.level, v.idx, decode(v.hash, 'hex') FROM json_to_recordset($1::json) AS v(level smallint, idx bigint, hash text)`,
          [JSON.stringify(nodes.map((n) => ({ level: n.level, idx: n.index, hash: n.hash.toString('hex') })))],
        );
      }
    }
    const root = edgeRoot(next);
    const note = signCheckpoint({ origin: identity.origin, size: next.size, root, extensions: [] }, identity.signer);
    await tx.query(
      'INSERT INTO log_checkpoints (tree_size, root_hash, note, edge, created_at) VALUES ($1, $2, $3, $4, $5)',
      [next.size, root, note, encodeEdge(next), at],
    );
    return {
      integrated: rows.length,
      treeSize: next.size,
      delays: rows.map((r) => (at.getTime() - new Date(r.created_at).getTime()) / 1000),
    };
  });
}

/** How many committed records wait for the sequencer, and how long the oldest has waited. */
export async function logBacklog(db: Queryable, now = new Date()): Promise<{ pending: number; oldestSeconds: number }> {
  const [row] = await db.query<{ pending: number; oldest: Date | null }>(
    'SELECT count(*)::int AS pending, min(created_at) AS oldest FROM records WHERE leaf_index IS NULL',
  );
  return {
    pending: row?.pending ?? 0,
    oldestSeconds: row?.oldest ? Math.max(0, (now.getTime() - new Date(row.oldest).getTime()) / 1000) : 0,
  };
}

export interface SequencerOptions {
  db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> };
  identity: LogIdentity;
  /** Pause between integrations (default 200 ms: a leaf waits ≤ this plus one integration). */
  intervalMs?: number;
  onIntegrated?: (i: Integration) => void;
  onError?: (e: unknown) => void;
}

/**
 * Runs `integrate` every `intervalMs` in this process. Every server process runs one; the advisory
 * lock lets one integrate at a time, and any of them takes over when the one that did stops.
 */
export class LogSequencer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly o: SequencerOptions;

  constructor(o: SequencerOptions) {
    this.o = o;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Integrates now (and waits for a run in progress first); for tests and shutdown. */
  async flush(): Promise<Integration> {
    await this.running;
    return integrate(this.o.db, this.o.identity);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.o.intervalMs ?? 200);
      });
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      // A full batch means more are waiting: go on at once.
      for (;;) {
        const result = await integrate(this.o.db, this.o.identity);
        if (result.integrated > 0) this.o.onIntegrated?.(result);
        if (result.integrated < MAX_BATCH || this.stopped) return;
      }
    } catch (e) {
      this.o.onError?.(e);
    }
  }
}
