// The records as an RFC 9162 Merkle-tree log, on both engines: the sequencer (contiguous indices,
// signed checkpoints, one at a time, nothing left behind by a rolled-back or killed one), inclusion
// and consistency proofs checked as a relying party would (offline, with the verifier key only),
// tamper detection by verifyLog (each problem undone and verified clean again), `since` against a
// rewritten history, and the v1 hash chain migrated into the first leaves.
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkConsistency,
  checkInclusionBundle,
  ed25519Signer,
  leafHash,
  openCheckpoint,
  rootOfLeaves,
  signCheckpoint,
  verifierKey as tlogVerifierKey,
} from '@kakunin/tlog';
import { openDatabase, type Database, type Queryable } from '../src/db/database.js';
import { MIGRATIONS, migrate } from '../src/db/migrations.js';
import { InvalidRequest, NoSuchCheckpoint, NotFound, RecordNotIntegrated } from '../src/errors.js';
import { normaliseRow, RECORD_COLUMNS } from '../src/records/chain.js';
import {
  appendRecord,
  canonicalJson,
  consistencyProof,
  GENESIS_HASH,
  inclusionProof,
  integrate,
  latestCheckpoint,
  logBacklog,
  payloadHash,
  PURGE_EVENT,
  RECORD_HASH_VERSION,
  recordHash,
  rowEntryText,
  rowLeafHash,
  verifyLog,
  type AppendedRecord,
  type Integration,
  type LogIdentity,
  type LogProblem,
  type LogVerification,
  type RecordRow,
} from '../src/records/index.js';
import { ENGINES, openTestDatabase, type Engine, type TestDatabase } from './support/databases.js';
import { testLogIdentity } from './support/records.js';

type Sequencing = Parameters<typeof integrate>[0];

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

const append = (db: Queryable, i: number, rpClientId: string | null = 'rp_a'): Promise<AppendedRecord> =>
  appendRecord(db, {
    rpClientId,
    ceremonyId: `cer_${i}`,
    subjectId: `sub_${i % 5}`,
    framework: rpClientId ? 'jp_aml' : 'platform',
    outcome: rpClientId ? 'verified' : 'note',
    payload: { i, note: `record ${i}` },
  });

/** Every row, in seq order, as the verifier reads it. */
async function allRows(db: Queryable, where = 'TRUE', params: string[] = []): Promise<RecordRow[]> {
  return (await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE ${where} ORDER BY seq`, params)).map(
    normaliseRow,
  );
}

/** The integrated rows in leaf order. */
async function leafRows(db: Queryable): Promise<RecordRow[]> {
  return (
    await db.query<RecordRow>(`SELECT ${RECORD_COLUMNS} FROM records WHERE leaf_index IS NOT NULL ORDER BY leaf_index`)
  ).map(normaliseRow);
}

const rowAt = async (db: Queryable, index: number): Promise<RecordRow> =>
  (await allRows(db, 'leaf_index = $1', [String(index)]))[0]!;

async function checkpointSizes(db: Queryable): Promise<number[]> {
  return (
    await db.query<{ tree_size: string }>(
      'SELECT c.tree_size::text AS tree_size FROM log_checkpoints c ORDER BY c.tree_size',
    )
  ).map((r) => Number(r.tree_size));
}

/** Every committed row is a leaf, with the indices 0 … n-1 exactly once each. */
async function expectAllIntegrated(db: Queryable): Promise<number> {
  const indices = (
    await db.query<{ leaf_index: string | null }>(
      'SELECT r.leaf_index::text AS leaf_index FROM records r ORDER BY r.leaf_index',
    )
  ).map((r) => r.leaf_index);
  expect(indices).not.toContain(null);
  expect(indices.map(Number)).toEqual(indices.map((_, i) => i));
  return indices.length;
}

const TRIGGERS: [string, string][] = [
  ['records', 'records_append_only'],
  ['log_nodes', 'log_nodes_append_only'],
  ['log_checkpoints', 'log_checkpoints_append_only'],
];

/** What an insider with table rights can do: switch the append-only triggers off around `fn`. */
async function asInsider(db: Database, fn: (tx: Queryable) => Promise<unknown>): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [table, trigger] of TRIGGERS) await tx.exec(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
    await fn(tx);
    for (const [table, trigger] of TRIGGERS) await tx.exec(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
  });
}

const verify = (
  db: Queryable,
  identity: LogIdentity,
  o: { since?: string; pageSize?: number } = {},
): Promise<LogVerification> => verifyLog(db, { key: identity.verifierKey, ...o });

/**
 * Tampers (as an insider), returns what verifyLog finds, then undoes the tampering and checks the
 * log verifies clean again.
 */
async function detect(
  db: Database,
  identity: LogIdentity,
  what: string,
  tamper: (tx: Queryable) => Promise<unknown>,
  undo: (tx: Queryable) => Promise<unknown>,
  o: { pageSize?: number } = {},
): Promise<LogProblem[]> {
  await asInsider(db, tamper);
  let result: LogVerification;
  try {
    result = await verify(db, identity, o);
  } finally {
    await asInsider(db, undo);
  }
  expect(result.ok, `${what}: detected`).toBe(false);
  expect(result.problems.length, `${what}: detected`).toBeGreaterThan(0);
  const again = await verify(db, identity, o);
  expect(again.problems, `${what}: undone`).toEqual([]);
  expect(again.ok, `${what}: undone`).toBe(true);
  return result.problems;
}

const only = (problems: LogProblem[], code: LogProblem['code']): LogProblem[] =>
  problems.filter((p) => p.code === code);
const codes = (problems: LogProblem[]): string[] => [...new Set(problems.map((p) => p.code))].sort();
const indicesOf = (problems: LogProblem[]): number[] => problems.map((p) => p.leafIndex ?? -1).sort((a, b) => a - b);

/** The first leaf of every stored (full) node above the leaves that covers `index` in a tree of `size`. */
function coveringNodes(index: number, size: number): number[] {
  const out: number[] = [];
  for (let width = 2; width <= size; width *= 2) {
    const start = Math.floor(index / width) * width;
    if (start + width <= size) out.push(start);
  }
  return out.sort((a, b) => a - b);
}

/** A sequencer that stops right after it took the lock, until `release()`. */
function pausedAfterLock(db: Sequencing): { db: Sequencing; locked: Promise<void>; release: () => void } {
  let locked!: () => void;
  let release!: () => void;
  const lockedP = new Promise<void>((r) => (locked = r));
  const gate = new Promise<void>((r) => (release = r));
  return {
    locked: lockedP,
    release: () => release(),
    db: {
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
        db.transaction((tx) =>
          fn({
            exec: (sql) => tx.exec(sql),
            query: async <R>(sql: string, params?: Parameters<Queryable['query']>[1]) => {
              const rows = await tx.query<R>(sql, params);
              if (sql.includes('pg_try_advisory_xact_lock') && (rows[0] as { locked?: boolean } | undefined)?.locked) {
                locked();
                await gate;
              }
              return rows;
            },
          }),
        ),
    },
  };
}

/** A second pool on the same PostgreSQL database (another server process, as far as locks go). */
const secondPool = (t: TestDatabase): Promise<Database | undefined> =>
  t.url ? openDatabase({ databaseUrl: t.url, migrate: false, poolSize: 5 }) : Promise.resolve(undefined);

describe.each(ENGINES)('records log on %s', (engine: Engine) => {
  // One database per engine (a PGlite takes seconds to create): each part starts from an empty log.
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase(engine);
    db = t.db;
  });
  afterAll(async () => t?.close());
  /** Empties the log (its key stays) and returns its identity. */
  const emptyLog = async (): Promise<LogIdentity> => {
    await db.exec('TRUNCATE records, log_nodes, log_checkpoints RESTART IDENTITY');
    return testLogIdentity(db);
  };

  describe('the sequencer', () => {
    let identity: LogIdentity;
    beforeAll(async () => {
      identity = await emptyLog();
    });

    it('signs the empty tree once, then integrates appended leaves in seq order under a checkpoint of their root', async () => {
      const empty = await integrate(db, identity);
      expect(empty).toMatchObject({ integrated: 0, treeSize: 0 });
      expect(empty.busy).toBeUndefined();
      const emptyCheckpoint = openCheckpoint((await latestCheckpoint(db))!.note, identity.verifierKey, identity.origin);
      expect(emptyCheckpoint.size).toBe(0);
      expect(emptyCheckpoint.root.equals(rootOfLeaves([]))).toBe(true);
      expect(await integrate(db, identity)).toMatchObject({ integrated: 0, treeSize: 0 });
      expect(await checkpointSizes(db)).toEqual([0]);

      const appended: AppendedRecord[] = [];
      for (let i = 0; i < 10; i++) appended.push(await append(db, i, i % 3 === 2 ? null : 'rp_a'));
      const before = await allRows(db);
      expect(before.map((r) => r.leaf_index)).toEqual(before.map(() => null));
      expect((await logBacklog(db)).pending).toBe(10);

      const done = await integrate(db, identity);
      expect(done).toMatchObject({ integrated: 10, treeSize: 10 });
      expect(done.delays).toHaveLength(10);
      for (const d of done.delays) expect(d).toBeGreaterThanOrEqual(0);
      expect((await logBacklog(db)).pending).toBe(0);

      const rows = await allRows(db);
      expect(rows.map((r) => r.id)).toEqual(appended.map((a) => a.id));
      expect(rows.map((r) => Number(r.leaf_index))).toEqual(rows.map((_, i) => i));
      for (const [i, r] of rows.entries()) {
        expect(r.entry_version).toBe(2);
        expect(r.integrated_at).toBeInstanceOf(Date);
        expect(r.leaf_hash.toString('hex')).toBe(appended[i]!.leafHash);
        expect(rowLeafHash(r).equals(r.leaf_hash)).toBe(true);
      }
      const latest = (await latestCheckpoint(db))!;
      const signed = openCheckpoint(latest.note, identity.verifierKey, identity.origin);
      expect(signed.size).toBe(10);
      expect(signed.root.equals(rootOfLeaves(rows.map(rowLeafHash)))).toBe(true);
      expect(latest.root.equals(signed.root)).toBe(true);
      // Another key does not verify it.
      expect(() =>
        openCheckpoint(latest.note, tlogVerifierKey(identity.origin, generateKeyPairSync('ed25519').publicKey)),
      ).toThrow(expect.objectContaining({ code: 'NOTE_UNVERIFIED' }) as Error);

      // Nothing new: nothing written.
      expect(await integrate(db, identity)).toMatchObject({ integrated: 0, treeSize: 10, delays: [] });
      expect(await checkpointSizes(db)).toEqual([0, 10]);
      expect(await verify(db, identity)).toMatchObject({
        ok: true,
        checked: 10,
        pending: 0,
        treeSize: 10,
        problems: [],
      });
    });

    it('leaves no leaf for an append that rolled back', async () => {
      const ids: string[] = [];
      await expect(
        db.transaction(async (tx) => {
          for (let i = 0; i < 3; i++) ids.push((await append(tx, 100 + i)).id);
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      expect(ids).toHaveLength(3);
      expect(await allRows(db, 'id = ANY($1::text[])', [`{${ids.join(',')}}`])).toEqual([]);
      expect(await integrate(db, identity)).toMatchObject({ integrated: 0, treeSize: 10 });
      await append(db, 103);
      // The burnt seq values leave no gap in the indices.
      expect(await integrate(db, identity)).toMatchObject({ integrated: 1, treeSize: 11 });
      expect(await expectAllIntegrated(db)).toBe(11);
      expect(await verify(db, identity)).toMatchObject({ ok: true, checked: 11, problems: [] });
    });

    it('integrates 40 concurrent appenders (two pools) exactly once, while sequencing goes on', async () => {
      const second = await secondPool(t);
      const before = await expectAllIntegrated(db);
      const results: Integration[] = [];
      let appending = true;
      try {
        const sequencer = (async () => {
          while (appending) {
            results.push(await integrate(second ?? db, identity));
            await sleep(3);
          }
        })();
        const jobs: Promise<AppendedRecord>[] = [];
        for (let i = 0; i < 40; i++) {
          jobs.push(
            (i % 2 === 0 || !second ? db : second).transaction(async (tx) => {
              await tx.query('SELECT 1');
              const r = await append(tx, 200 + i, i % 2 ? 'rp_a' : 'rp_b');
              await tx.query('SELECT 1');
              return r;
            }),
          );
        }
        const appended = await Promise.all(jobs);
        appending = false;
        await sequencer;
        results.push(await integrate(db, identity));
        const total = await expectAllIntegrated(db);
        expect(total).toBe(before + 40);
        expect(results.reduce((n, r) => n + r.integrated, 0)).toBe(40);
        // Each integration extended the tree by what it integrated.
        const grown = results.filter((r) => r.integrated > 0);
        for (const [i, r] of grown.entries())
          expect(r.treeSize).toBe((grown[i - 1]?.treeSize ?? before) + r.integrated);
        const rows = await allRows(db, 'id = ANY($1::text[])', [`{${appended.map((a) => a.id).join(',')}}`]);
        expect(rows).toHaveLength(40);
        expect(new Set(rows.map((r) => r.leaf_index)).size).toBe(40);
        for (const r of rows) expect(Number(r.leaf_index)).toBeGreaterThanOrEqual(before);
      } finally {
        appending = false;
        await second?.close();
      }
      expect(await verify(db, identity)).toMatchObject({ ok: true, checked: before + 40, pending: 0, problems: [] });
    });

    it('lets one sequencer at a time integrate: the other reports busy, and nothing is doubled or skipped', async () => {
      const second = await secondPool(t);
      try {
        const before = await expectAllIntegrated(db);
        for (let i = 0; i < 15; i++) await append(db, 300 + i);
        if (second) {
          // Deterministic: the first holds the lock while the second (another pool) tries.
          const paused = pausedAfterLock(db);
          const first = integrate(paused.db, identity);
          await paused.locked;
          const other = await integrate(second, identity);
          expect(other).toMatchObject({ integrated: 0, busy: true });
          paused.release();
          expect(await first).toMatchObject({ integrated: 15, treeSize: before + 15 });
        } else {
          // PGlite runs one transaction at a time: the calls queue, one integrates everything.
          const both = await Promise.all([integrate(db, identity), integrate(db, identity)]);
          expect(both.map((r) => r.integrated).sort((a, b) => a - b)).toEqual([0, 15]);
        }
        expect(await expectAllIntegrated(db)).toBe(before + 15);

        // Free races, round after round: whoever gets the lock integrates everything committed.
        let busy = 0;
        for (let round = 0; round < 6; round++) {
          for (let i = 0; i < 8; i++) await append(i % 2 && second ? second : db, 400 + round * 10 + i);
          const results = await Promise.all([
            integrate(db, identity),
            integrate(second ?? db, identity),
            integrate(db, identity),
            integrate(second ?? db, identity),
          ]);
          for (const r of results) if (r.busy) expect(r.integrated).toBe(0);
          busy += results.filter((r) => r.busy).length;
          expect(results.reduce((n, r) => n + r.integrated, 0)).toBe(8);
          expect(await logBacklog(db)).toMatchObject({ pending: 0 });
        }
        if (engine === 'pglite') expect(busy).toBe(0);
        const total = await expectAllIntegrated(db);
        expect(total).toBe(before + 15 + 48);
        const sizes = await checkpointSizes(db);
        expect(sizes[sizes.length - 1]).toBe(total);
        expect(await verify(db, identity)).toMatchObject({ ok: true, checked: total, problems: [] });
      } finally {
        await second?.close();
      }
    });

    // A backend to terminate: PostgreSQL only (PGlite is one in-process connection).
    if (engine === 'postgres') {
      it('loses nothing when a sequencer is killed mid-transaction', async () => {
        const before = await expectAllIntegrated(db);
        for (let i = 0; i < 7; i++) await append(db, 500 + i);
        const raw = new pg.Client({ connectionString: t.url });
        raw.on('error', () => undefined);
        await raw.connect();
        try {
          const [{ pid }] = (await raw.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
            { pid: number },
          ];
          await raw.query('BEGIN');
          await raw.query('SELECT pg_advisory_xact_lock(7418542)');
          // Half of a sequencer's work: indices given, a node written, no checkpoint yet.
          const indexed = await raw.query(
            `UPDATE records r SET leaf_index = v.idx, integrated_at = now()
               FROM (SELECT seq, $1::bigint + row_number() OVER (ORDER BY seq) - 1 AS idx FROM records WHERE leaf_index IS NULL) v
              WHERE r.seq = v.seq`,
            [before],
          );
          expect(indexed.rowCount).toBe(7);
          await raw.query("INSERT INTO log_nodes (level, idx, hash) VALUES (1, 999999, '\\x00')");

          // Meanwhile: the platform's sequencer is told the lock is taken; ceremonies still append.
          expect(await integrate(db, identity)).toMatchObject({ integrated: 0, busy: true });
          for (let i = 0; i < 3; i++) await append(db, 510 + i);
          expect(await integrate(db, identity)).toMatchObject({ busy: true });

          const [killed] = await db.query<{ killed: boolean }>('SELECT pg_terminate_backend($1, 10000) AS killed', [
            pid,
          ]);
          expect(killed?.killed).toBe(true);
        } finally {
          await raw.end().catch(() => undefined);
        }
        let next = await integrate(db, identity);
        for (let i = 0; next.busy && i < 50; i++) {
          await sleep(100);
          next = await integrate(db, identity);
        }
        expect(next).toMatchObject({ integrated: 10, treeSize: before + 10 });
        expect(await expectAllIntegrated(db)).toBe(before + 10);
        expect(await db.query('SELECT 1 FROM log_nodes WHERE idx = 999999')).toEqual([]);
        expect(await verify(db, identity)).toMatchObject({ ok: true, checked: before + 10, problems: [] });
      });
    }

    it('verifies a live log: leaves, nodes and checkpoints committed during the pass are no problem', async () => {
      const second = await secondPool(t);
      const busyDb = second ?? db;
      let grown = 0;
      // The sequencer integrates two more leaves before every query the verification makes.
      const live: Queryable = {
        exec: (sql) => db.exec(sql),
        query: async (sql, params) => {
          for (let i = 0; i < 2; i++) await append(busyDb, 600 + grown++);
          await integrate(busyDb, identity);
          return db.query(sql, params);
        },
      };
      try {
        for (const pageSize of [1000, 40]) {
          const before = grown;
          const during = await verifyLog(live, { key: identity.verifierKey, pageSize });
          expect(during.problems, `page size ${pageSize}`).toEqual([]);
          expect(grown - before).toBeGreaterThan(4);
        }
      } finally {
        await second?.close();
      }
      expect(await verify(db, identity)).toMatchObject({ ok: true, pending: 0, problems: [] });
    });
    it('verifies a live log while the sequencer integrates a retention purge’s note at any point of the pass', async () => {
      const second = await secondPool(t);
      const other = second ?? db;
      for (let i = 0; i < 20; i++) await append(db, 800 + i);
      await integrate(db, identity);
      try {
        let queries = 0;
        await verifyLog(
          { exec: (sql) => db.exec(sql), query: (sql, params) => (queries++, db.query(sql, params)) },
          { key: identity.verifierKey },
        );
        const victims = (await leafRows(db)).filter((r) => r.purged_at === null);
        expect(victims.length).toBeGreaterThan(queries + 2);
        // Before the first query, before the second, … and after the last.
        for (let k = 0; k <= queries + 1; k++) {
          // A purge as retention does it: the payload blanked and a note naming it, in one transaction.
          await other.transaction(async (tx) => {
            await tx.query('UPDATE records SET payload = NULL, purged_at = now() WHERE id = $1', [victims[k]!.id]);
            await appendRecord(tx, {
              rpClientId: null,
              ceremonyId: null,
              subjectId: null,
              framework: 'platform',
              outcome: 'note',
              payload: { event: PURGE_EVENT, count: 1, records: [victims[k]!.id] },
            });
          });
          let n = 0;
          const live: Queryable = {
            exec: (sql) => db.exec(sql),
            query: async (sql, params) => {
              if (n++ === k) expect(await integrate(other, identity)).toMatchObject({ integrated: 1 });
              return db.query(sql, params);
            },
          };
          const during = await verifyLog(live, { key: identity.verifierKey });
          expect(during.problems, `note integrated before query ${k}`).toEqual([]);
          await integrate(db, identity);
        }
      } finally {
        await second?.close();
      }
      expect(await verify(db, identity)).toMatchObject({ ok: true, pending: 0, problems: [] });
    });
  });

  describe('proofs', () => {
    let identity: LogIdentity;
    const SIZES = [1, 3, 4, 8, 13, 16, 17, 32, 37];
    beforeAll(async () => {
      identity = await emptyLog();
      await integrate(db, identity); // the empty tree's checkpoint
      let n = 0;
      for (const size of SIZES) {
        for (; n < size; n++) await append(db, n, ['rp_a', 'rp_b', null][n % 3]!);
        expect(await integrate(db, identity)).toMatchObject({ integrated: expect.any(Number), treeSize: size });
      }
    });

    it('proves every leaf, by record id and by leaf index, in the latest and in every earlier checkpointed tree', async () => {
      expect(await checkpointSizes(db)).toEqual([0, ...SIZES]);
      const rows = await leafRows(db);
      expect(rows).toHaveLength(37);
      for (const [i, row] of rows.entries()) {
        const bundle = await inclusionProof(db, { recordId: row.id });
        expect(bundle).toMatchObject({
          recordId: row.id,
          rpClientId: row.rp_client_id,
          leafIndex: i,
          treeSize: 37,
          entry: rowEntryText(row),
          leafHash: row.leaf_hash.toString('hex'),
        });
        const checked = checkInclusionBundle(bundle, identity.verifierKey, { origin: identity.origin });
        expect(checked.checkpoint.size).toBe(37);
        expect(checked.leafHash.equals(row.leaf_hash)).toBe(true);
        expect(await inclusionProof(db, { leafIndex: i })).toEqual(bundle);
        // The RP that owns it gets the same answer.
        if (row.rp_client_id)
          expect(await inclusionProof(db, { recordId: row.id, rpClientId: row.rp_client_id })).toEqual(bundle);
      }
      // Earlier trees: every leaf of two of them, the first, a middle and the last leaf of the others.
      for (const size of SIZES) {
        const leaves = size === 13 || size === 16 ? [...Array(size).keys()] : [...new Set([0, size >> 1, size - 1])];
        for (const i of leaves) {
          const bundle = await inclusionProof(db, { leafIndex: i, treeSize: size });
          expect(bundle).toMatchObject({ recordId: rows[i]!.id, leafIndex: i, treeSize: size });
          expect(checkInclusionBundle(bundle, identity.verifierKey, { origin: identity.origin }).checkpoint.size).toBe(
            size,
          );
          if (i === size - 1)
            expect(await inclusionProof(db, { recordId: rows[i]!.id, treeSize: size })).toEqual(bundle);
        }
        if (size < 37)
          await expect(inclusionProof(db, { leafIndex: size, treeSize: size })).rejects.toBeInstanceOf(InvalidRequest);
      }
    });

    it('gives bundles that fail offline once altered, or checked with another key or origin', async () => {
      const bundle = await inclusionProof(db, { leafIndex: 11 });
      const other = await inclusionProof(db, { leafIndex: 12 });
      const tries = [
        { ...bundle, entry: other.entry },
        { ...bundle, leafIndex: 12 },
        { ...bundle, proof: bundle.proof.map((p, i) => (i === 1 ? other.proof[0]! : p)) },
        { ...bundle, proof: bundle.proof.slice(1) },
        { ...bundle, checkpoint: (await inclusionProof(db, { leafIndex: 11, treeSize: 32 })).checkpoint },
      ];
      for (const b of tries) expect(() => checkInclusionBundle(b, identity.verifierKey)).toThrow();
      const { privateKey } = generateKeyPairSync('ed25519');
      const strangerKey = tlogVerifierKey(identity.origin, privateKey);
      expect(() => checkInclusionBundle(bundle, strangerKey)).toThrow(
        expect.objectContaining({ code: 'NOTE_UNVERIFIED' }) as Error,
      );
      expect(() => checkInclusionBundle(bundle, identity.verifierKey, { origin: 'another.example/records' })).toThrow(
        expect.objectContaining({ code: 'CHECKPOINT_ORIGIN_MISMATCH' }) as Error,
      );
    });

    it('refuses another RP, unknown records, records not integrated yet and sizes without a checkpoint', async () => {
      const rows = await leafRows(db);
      const ofB = rows.find((r) => r.rp_client_id === 'rp_b')!;
      const platform = rows.find((r) => r.rp_client_id === null)!;
      await expect(inclusionProof(db, { recordId: ofB.id, rpClientId: 'rp_a' })).rejects.toBeInstanceOf(NotFound);
      await expect(inclusionProof(db, { leafIndex: Number(ofB.leaf_index), rpClientId: 'rp_a' })).rejects.toMatchObject(
        { code: 'NOT_FOUND' },
      );
      await expect(inclusionProof(db, { recordId: platform.id, rpClientId: 'rp_a' })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(inclusionProof(db, { recordId: 'rec_nothing' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(inclusionProof(db, { leafIndex: 37 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(inclusionProof(db, {})).rejects.toBeInstanceOf(InvalidRequest);
      await expect(inclusionProof(db, { recordId: ofB.id, leafIndex: 1 })).rejects.toBeInstanceOf(InvalidRequest);
      await expect(inclusionProof(db, { leafIndex: -1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });

      for (const size of [2, 5, 36, 38, 1000]) {
        await expect(inclusionProof(db, { leafIndex: 0, treeSize: size })).rejects.toBeInstanceOf(NoSuchCheckpoint);
        await expect(inclusionProof(db, { leafIndex: 0, treeSize: size })).rejects.toMatchObject({
          code: 'NO_SUCH_CHECKPOINT',
        });
        await expect(consistencyProof(db, { first: size, second: size > 37 ? undefined : 37 })).rejects.toMatchObject({
          code: size > 37 ? 'INVALID_REQUEST' : 'NO_SUCH_CHECKPOINT',
        });
        await expect(consistencyProof(db, { first: 0, second: size })).rejects.toMatchObject({
          code: 'NO_SUCH_CHECKPOINT',
        });
      }

      const pending = await append(db, 99, 'rp_a');
      try {
        await expect(inclusionProof(db, { recordId: pending.id })).rejects.toBeInstanceOf(RecordNotIntegrated);
        await expect(inclusionProof(db, { recordId: pending.id, rpClientId: 'rp_a' })).rejects.toMatchObject({
          code: 'RECORD_NOT_INTEGRATED',
        });
        // Its RP is told nothing about another RP's pending record either.
        await expect(inclusionProof(db, { recordId: pending.id, rpClientId: 'rp_b' })).rejects.toMatchObject({
          code: 'NOT_FOUND',
        });
      } finally {
        await integrate(db, identity);
      }
      const bundle = await inclusionProof(db, { recordId: pending.id, rpClientId: 'rp_a' });
      expect(bundle).toMatchObject({ leafIndex: 37, treeSize: 38 });
      expect(checkInclusionBundle(bundle, identity.verifierKey).ok).toBe(true);
      // Integrated after the checkpoint asked for: not in that tree.
      await expect(inclusionProof(db, { recordId: pending.id, treeSize: 37 })).rejects.toBeInstanceOf(InvalidRequest);
    });

    it('proves consistency between every pair of checkpointed sizes', async () => {
      const sizes = await checkpointSizes(db);
      const latest = sizes[sizes.length - 1]!;
      expect(sizes.length).toBeGreaterThanOrEqual(10);
      for (const [a, first] of sizes.entries()) {
        for (const second of sizes.slice(a)) {
          const proof = await consistencyProof(db, { first, second });
          expect(proof).toMatchObject({ first, second });
          const checked = checkConsistency({
            older: proof.firstCheckpoint,
            newer: proof.secondCheckpoint,
            proof: proof.proof,
            key: identity.verifierKey,
            origin: identity.origin,
          });
          expect([checked.older.size, checked.newer.size]).toEqual([first, second]);
          if (first > 0 && first < second && proof.proof.length > 0) {
            const altered = [...proof.proof];
            altered[0] = randomBytes(32).toString('base64');
            expect(() =>
              checkConsistency({
                older: proof.firstCheckpoint,
                newer: proof.secondCheckpoint,
                proof: altered,
                key: identity.verifierKey,
              }),
            ).toThrow(expect.objectContaining({ code: 'PROOF_INVALID' }) as Error);
          }
        }
        const toLatest = await consistencyProof(db, { first });
        expect(toLatest.second).toBe(latest);
        expect(
          checkConsistency({
            older: toLatest.firstCheckpoint,
            newer: toLatest.secondCheckpoint,
            proof: toLatest.proof,
            key: identity.verifierKey,
          }).ok,
        ).toBe(true);
      }
      await expect(consistencyProof(db, { first: 13, second: 8 })).rejects.toBeInstanceOf(InvalidRequest);
    });
  });

  describe('tampering and since', () => {
    let identity: LogIdentity;
    const N = 21;
    const SIZES = [5, 12, 21];
    beforeAll(async () => {
      identity = await emptyLog();
      let n = 0;
      for (const size of SIZES) {
        for (; n < size; n++) await append(db, n, n % 4 === 3 ? null : 'rp_a');
        await integrate(db, identity);
      }
      expect(await checkpointSizes(db)).toEqual(SIZES);
      expect(await verify(db, identity)).toMatchObject({ ok: true, checked: N, problems: [] });
    });

    it('detects an edited payload', async () => {
      const row = await rowAt(db, 7);
      const problems = await detect(
        db,
        identity,
        'edited payload',
        (tx) =>
          tx.query("UPDATE records SET payload = jsonb_set(payload, '{note}', '\"edited\"') WHERE leaf_index = 7"),
        (tx) => tx.query('UPDATE records SET payload = $1::jsonb WHERE leaf_index = 7', [canonicalJson(row.payload)]),
      );
      expect(problems).toEqual([expect.objectContaining({ code: 'payload', leafIndex: 7, recordId: row.id })]);
    });

    it('detects a payload blanked outside a retention purge', async () => {
      const row = await rowAt(db, 6);
      const problems = await detect(
        db,
        identity,
        'blanked payload',
        (tx) => tx.query('UPDATE records SET payload = NULL, purged_at = now() WHERE leaf_index = 6'),
        (tx) =>
          tx.query('UPDATE records SET payload = $1::jsonb, purged_at = NULL WHERE leaf_index = 6', [
            canonicalJson(row.payload),
          ]),
      );
      expect(problems).toEqual([expect.objectContaining({ code: 'purge', leafIndex: 6, recordId: row.id })]);
    });

    it('detects an edited fixed column: its leaf, the nodes above it and the checkpoints after it', async () => {
      for (const [column, value] of [
        ['subject_id', 'sub_other'],
        ['created_at', '2001-01-01T00:00:00Z'],
        ['outcome', 'rejected'],
        ['rp_client_id', null],
        ['payload_hash', '0'.repeat(64)],
      ] as const) {
        const row = await rowAt(db, 9);
        const original = {
          subject_id: row.subject_id,
          created_at: row.created_at,
          outcome: row.outcome,
          rp_client_id: row.rp_client_id,
          payload_hash: row.payload_hash,
        }[column];
        const problems = await detect(
          db,
          identity,
          `${column} edited`,
          (tx) => tx.query(`UPDATE records SET ${column} = $1 WHERE leaf_index = 9`, [value]),
          (tx) => tx.query(`UPDATE records SET ${column} = $1 WHERE leaf_index = 9`, [original]),
        );
        expect(codes(problems), column).toEqual(
          column === 'payload_hash' ? ['checkpoint', 'leaf', 'node', 'payload'] : ['checkpoint', 'leaf', 'node'],
        );
        expect(only(problems, 'leaf')).toEqual([expect.objectContaining({ leafIndex: 9, recordId: row.id })]);
        expect(indicesOf(only(problems, 'node'))).toEqual(coveringNodes(9, N));
        expect(indicesOf(only(problems, 'checkpoint'))).toEqual(SIZES.filter((s) => s > 9));
      }
    });

    it('detects an edited leaf hash, which also breaks its neighbour’s proof', async () => {
      const row = await rowAt(db, 4);
      const neighbour = await inclusionProof(db, { leafIndex: 5 });
      const problems = await detect(
        db,
        identity,
        'edited leaf hash',
        async (tx) => {
          await tx.query('UPDATE records SET leaf_hash = $1 WHERE leaf_index = 4', [sha256('forged')]);
          // The proof served meanwhile carries the edited hash and fails offline.
          const served = await inclusionProof(tx, { leafIndex: 5 });
          expect(served.proof).not.toEqual(neighbour.proof);
          expect(() => checkInclusionBundle(served, identity.verifierKey)).toThrow(
            expect.objectContaining({ code: 'PROOF_INVALID' }) as Error,
          );
        },
        (tx) => tx.query('UPDATE records SET leaf_hash = $1 WHERE leaf_index = 4', [row.leaf_hash]),
      );
      expect(problems).toEqual([expect.objectContaining({ code: 'leaf', leafIndex: 4, recordId: row.id })]);
      expect(checkInclusionBundle(await inclusionProof(db, { leafIndex: 5 }), identity.verifierKey).ok).toBe(true);
    });

    it('detects an edited row whose leaf hash was recomputed to match: by the nodes and checkpoints', async () => {
      const row = await rowAt(db, 9);
      const forged = rowLeafHash({ ...row, subject_id: 'sub_other' });
      const problems = await detect(
        db,
        identity,
        'rehashed row',
        async (tx) => {
          await tx.query("UPDATE records SET subject_id = 'sub_other', leaf_hash = $1 WHERE leaf_index = 9", [forged]);
          const served = await inclusionProof(tx, { recordId: row.id });
          expect(() => checkInclusionBundle(served, identity.verifierKey)).toThrow(
            expect.objectContaining({ code: 'PROOF_INVALID' }) as Error,
          );
        },
        (tx) =>
          tx.query('UPDATE records SET subject_id = $1, leaf_hash = $2 WHERE leaf_index = 9', [
            row.subject_id,
            row.leaf_hash,
          ]),
      );
      expect(codes(problems)).toEqual(['checkpoint', 'node']);
      expect(indicesOf(only(problems, 'node'))).toEqual(coveringNodes(9, N));
      expect(indicesOf(only(problems, 'checkpoint'))).toEqual(SIZES.filter((s) => s > 9));
    });

    it('detects a gap in the leaf indices', async () => {
      const problems = await detect(
        db,
        identity,
        'gap',
        (tx) => tx.query('UPDATE records SET leaf_index = 1000 WHERE leaf_index = 10'),
        (tx) => tx.query('UPDATE records SET leaf_index = 10 WHERE leaf_index = 1000'),
      );
      // Once where it is missing, once where it went.
      expect(only(problems, 'index')).toEqual([
        expect.objectContaining({ leafIndex: 10, reason: expect.stringMatching(/jump from 9 to 11/) }),
        expect.objectContaining({
          leafIndex: N,
          reason: expect.stringMatching(new RegExp(`jump from ${N - 1} to 1000`)),
        }),
      ]);
      expect(codes(problems)).toEqual(['checkpoint', 'index', 'node']);
      expect([...new Set(indicesOf(only(problems, 'checkpoint')))]).toEqual(SIZES.filter((s) => s > 10));
    });

    it('detects a repeated leaf index (an insider who dropped the unique constraint), also across a page boundary', async () => {
      for (const [index, pageSize] of [
        [10, undefined],
        [10, 10],
        [10, 5],
        [5, 5],
      ] as const) {
        const problems = await detect(
          db,
          identity,
          `leaf ${index} repeated, page size ${pageSize}`,
          async (tx) => {
            await tx.exec('ALTER TABLE records DROP CONSTRAINT records_leaf_index_key');
            await tx.query('UPDATE records SET leaf_index = $1 - 1 WHERE leaf_index = $1', [index]);
          },
          async (tx) => {
            await tx.query(
              'UPDATE records SET leaf_index = $1 WHERE seq = (SELECT max(seq) FROM records WHERE leaf_index = $1 - 1)',
              [index],
            );
            await tx.exec('ALTER TABLE records ADD CONSTRAINT records_leaf_index_key UNIQUE (leaf_index)');
          },
          { pageSize },
        );
        // The repeated index, and the one now missing after it.
        const repeated = only(problems, 'index');
        expect(indicesOf(repeated), `page size ${pageSize}`).toEqual([index - 1, index]);
        expect(repeated[0]!.reason).toMatch(new RegExp(`leaf index ${index - 1} (appears twice|is held by 2 rows)`));
        expect(repeated[1]!.reason).toMatch(new RegExp(`jump from ${index - 1} to ${index + 1}`));
      }
    });

    it('detects a forged row slipped into the tree under an index already taken, wherever the page boundary falls', async () => {
      const row = await rowAt(db, 4);
      const forged = {
        ...row,
        id: 'rec_forged',
        subject_id: 'sub_forged',
        created_at: new Date(row.created_at.getTime() - 1000),
      };
      for (const pageSize of [undefined, 5, 4]) {
        const problems = await detect(
          db,
          identity,
          `forged row at leaf 4, page size ${pageSize}`,
          async (tx) => {
            await tx.exec('ALTER TABLE records DROP CONSTRAINT records_leaf_index_key');
            await tx.query(
              `INSERT INTO records (id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, entry_version, leaf_hash, leaf_index, integrated_at)
               SELECT $1, $2, rp_client_id, ceremony_id, $3, framework, outcome, payload, payload_hash, entry_version, $4, leaf_index, integrated_at FROM records WHERE id = $5`,
              [forged.id, forged.created_at, forged.subject_id, rowLeafHash(forged), row.id],
            );
          },
          async (tx) => {
            await tx.query('DELETE FROM records WHERE id = $1', [forged.id]);
            await tx.exec('ALTER TABLE records ADD CONSTRAINT records_leaf_index_key UNIQUE (leaf_index)');
          },
          { pageSize },
        );
        expect(only(problems, 'index'), `page size ${pageSize}`).toContainEqual(
          expect.objectContaining({ leafIndex: 4 }),
        );
      }
    });

    it('detects leaves swapped (reordered): by the nodes and checkpoints', async () => {
      const swap = async (tx: Queryable): Promise<void> => {
        await tx.query('UPDATE records SET leaf_index = -1 WHERE leaf_index = 3');
        await tx.query('UPDATE records SET leaf_index = 3 WHERE leaf_index = 8');
        await tx.query('UPDATE records SET leaf_index = 8 WHERE leaf_index = -1');
      };
      const problems = await detect(db, identity, 'swapped leaves', swap, swap);
      expect(codes(problems)).toEqual(['checkpoint', 'node']);
      expect(indicesOf(only(problems, 'checkpoint'))).toEqual(SIZES);
      // Every stored node over exactly one of the two leaves differs; the node over both is the same set… but not the same order.
      const covering = [...new Set([...coveringNodes(3, N), ...coveringNodes(8, N)].map(String))].map(Number);
      for (const p of only(problems, 'node')) expect(covering).toContain(p.leafIndex);
      expect(only(problems, 'node').length).toBeGreaterThanOrEqual(4);
    });

    it('detects a row deleted in the middle', async () => {
      const problems = await detect(
        db,
        identity,
        'deleted middle row',
        async (tx) => {
          await tx.exec('CREATE TABLE deleted_rows AS SELECT * FROM records WHERE leaf_index = 10');
          await tx.exec('DELETE FROM records WHERE leaf_index = 10');
        },
        async (tx) => {
          await tx.exec('INSERT INTO records SELECT * FROM deleted_rows');
          await tx.exec('DROP TABLE deleted_rows');
        },
      );
      expect(only(problems, 'index')).toEqual([
        expect.objectContaining({ leafIndex: 10, reason: expect.stringMatching(/jump from 9 to 11/) }),
      ]);
      expect(only(problems, 'leaf')).toEqual([]);
      expect(only(problems, 'checkpoint').length).toBeGreaterThan(0);
    });

    it('detects the newest rows deleted', async () => {
      const problems = await detect(
        db,
        identity,
        'deleted newest rows',
        async (tx) => {
          await tx.exec('CREATE TABLE deleted_rows AS SELECT * FROM records WHERE leaf_index >= 18');
          await tx.exec('DELETE FROM records WHERE leaf_index >= 18');
        },
        async (tx) => {
          await tx.exec('INSERT INTO records SELECT * FROM deleted_rows');
          await tx.exec('DROP TABLE deleted_rows');
        },
      );
      expect(problems).toContainEqual(
        expect.objectContaining({
          code: 'checkpoint',
          leafIndex: N,
          reason: expect.stringMatching(/newest leaves were deleted/),
        }),
      );
      expect(codes(problems)).toEqual(['checkpoint', 'node']);
      expect(only(problems, 'node')).toEqual([
        expect.objectContaining({ reason: expect.stringMatching(/cover leaves the tree does not have/) }),
      ]);
    });

    it('detects an edited, a deleted and an extra stored node', async () => {
      const [node] = await db.query<{ hash: Buffer }>('SELECT hash FROM log_nodes WHERE level = 2 AND idx = 1');
      expect(node).toBeDefined();
      const edited = await detect(
        db,
        identity,
        'edited node',
        (tx) => tx.query('UPDATE log_nodes SET hash = $1 WHERE level = 2 AND idx = 1', [sha256('forged node')]),
        (tx) => tx.query('UPDATE log_nodes SET hash = $1 WHERE level = 2 AND idx = 1', [Buffer.from(node!.hash)]),
      );
      expect(edited).toEqual([
        expect.objectContaining({ code: 'node', leafIndex: 4, reason: expect.stringMatching(/2\/1 .*differs/) }),
      ]);

      const [top] = await db.query<{ hash: Buffer }>('SELECT hash FROM log_nodes WHERE level = 3 AND idx = 1');
      const deleted = await detect(
        db,
        identity,
        'deleted node',
        (tx) => tx.query('DELETE FROM log_nodes WHERE level = 3 AND idx = 1'),
        (tx) => tx.query('INSERT INTO log_nodes (level, idx, hash) VALUES (3, 1, $1)', [Buffer.from(top!.hash)]),
      );
      expect(deleted).toEqual([
        expect.objectContaining({ code: 'node', leafIndex: 8, reason: expect.stringMatching(/3\/1 .*missing/) }),
      ]);

      for (const [level, idx] of [
        [1, 10],
        [2, 5],
        [5, 0],
        [9, 0],
      ]) {
        const extra = await detect(
          db,
          identity,
          `extra node ${level}/${idx}`,
          (tx) =>
            tx.query('INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, $3)', [level!, idx!, sha256('bogus')]),
          (tx) => tx.query('DELETE FROM log_nodes WHERE level = $1 AND idx = $2', [level!, idx!]),
        );
        expect(extra, `${level}/${idx}`).toEqual([expect.objectContaining({ code: 'node' })]);
      }
    });

    it('detects an edited checkpoint root or note, and a checkpoint signed by another key', async () => {
      const latest = (await latestCheckpoint(db))!;
      const [middle] = await db.query<{ root_hash: Buffer; note: string }>(
        'SELECT root_hash, note FROM log_checkpoints WHERE tree_size = 12',
      );
      const forgedRoot = sha256('forged root');

      const middleRoot = await detect(
        db,
        identity,
        'middle checkpoint root',
        (tx) => tx.query('UPDATE log_checkpoints SET root_hash = $1 WHERE tree_size = 12', [forgedRoot]),
        (tx) =>
          tx.query('UPDATE log_checkpoints SET root_hash = $1 WHERE tree_size = 12', [Buffer.from(middle!.root_hash)]),
      );
      // The row's root is not the tree's, and not the one its own signed note names.
      expect(new Set(codes(middleRoot))).toEqual(new Set(['checkpoint']));
      for (const p of middleRoot) expect(p.leafIndex).toBe(12);

      const latestRoot = await detect(
        db,
        identity,
        'latest checkpoint root',
        (tx) => tx.query('UPDATE log_checkpoints SET root_hash = $1 WHERE tree_size = $2', [forgedRoot, N]),
        (tx) => tx.query('UPDATE log_checkpoints SET root_hash = $1 WHERE tree_size = $2', [latest.root, N]),
      );
      expect(codes(latestRoot)).toEqual(['checkpoint']);
      for (const p of latestRoot) expect(p.leafIndex).toBe(N);

      // The note's root line replaced, the signature kept: it no longer verifies.
      const editedNote = latest.note.replace(latest.root.toString('base64'), forgedRoot.toString('base64'));
      expect(editedNote).not.toBe(latest.note);
      const note = await detect(
        db,
        identity,
        'latest note edited',
        (tx) => tx.query('UPDATE log_checkpoints SET note = $1 WHERE tree_size = $2', [editedNote, N]),
        (tx) => tx.query('UPDATE log_checkpoints SET note = $1 WHERE tree_size = $2', [latest.note, N]),
      );
      expect(note).toEqual([expect.objectContaining({ code: 'signature', leafIndex: N })]);

      // A note and root re-signed by an insider with a key of their own, same origin.
      const { privateKey } = generateKeyPairSync('ed25519');
      const stranger = ed25519Signer(identity.origin, privateKey);
      for (const root of [latest.root, forgedRoot]) {
        const resigned = signCheckpoint({ origin: identity.origin, size: N, root, extensions: [] }, stranger);
        const other = await detect(
          db,
          identity,
          `re-signed by another key, ${root === forgedRoot ? 'another' : 'the true'} root`,
          (tx) =>
            tx.query('UPDATE log_checkpoints SET note = $1, root_hash = $2 WHERE tree_size = $3', [resigned, root, N]),
          (tx) =>
            tx.query('UPDATE log_checkpoints SET note = $1, root_hash = $2 WHERE tree_size = $3', [
              latest.note,
              latest.root,
              N,
            ]),
        );
        expect(other).toContainEqual(expect.objectContaining({ code: 'signature', leafIndex: N }));
        expect(codes(other)).toEqual(root === forgedRoot ? ['checkpoint', 'signature'] : ['signature']);
      }

      // The latest checkpoint row removed: the newest leaves are signed by no checkpoint.
      const edge = await db.query<{ edge: Buffer }>('SELECT edge FROM log_checkpoints WHERE tree_size = $1', [N]);
      const gone = await detect(
        db,
        identity,
        'latest checkpoint deleted',
        (tx) => tx.query('DELETE FROM log_checkpoints WHERE tree_size = $1', [N]),
        (tx) =>
          tx.query(
            'INSERT INTO log_checkpoints (tree_size, root_hash, note, edge, created_at) VALUES ($1, $2, $3, $4, $5)',
            [N, latest.root, latest.note, Buffer.from(edge[0]!.edge), latest.createdAt],
          ),
      );
      expect(gone).toEqual([expect.objectContaining({ code: 'checkpoint', leafIndex: 12 })]);
    });

    it('checks the log against a checkpoint saved earlier (since)', async () => {
      const saved = (await latestCheckpoint(db))!.note;
      const savedSize = openCheckpoint(saved, identity.verifierKey).size;
      for (let i = 0; i < 6; i++) await append(db, 700 + i);
      await integrate(db, identity);
      const now = await verify(db, identity, { since: saved });
      expect(now).toMatchObject({ ok: true, treeSize: savedSize + 6, problems: [] });
      const earliest = (await inclusionProof(db, { leafIndex: 0, treeSize: 5 })).checkpoint;
      expect(await verify(db, identity, { since: earliest })).toMatchObject({ ok: true, problems: [] });
      expect(await verify(db, identity, { since: now.checkpoint! })).toMatchObject({ ok: true, problems: [] });
      const emptyTree = signCheckpoint(
        { origin: identity.origin, size: 0, root: rootOfLeaves([]), extensions: [] },
        identity.signer,
      );
      expect(await verify(db, identity, { since: emptyTree })).toMatchObject({ ok: true, problems: [] });

      // Signed by the log's own key, but over other leaves: not a prefix of this log.
      const fork = signCheckpoint(
        { origin: identity.origin, size: savedSize, root: randomBytes(32), extensions: [] },
        identity.signer,
      );
      expect((await verify(db, identity, { since: fork })).problems).toEqual([
        expect.objectContaining({ code: 'consistency', leafIndex: savedSize }),
      ]);
      const forkedEmpty = signCheckpoint(
        { origin: identity.origin, size: 0, root: randomBytes(32), extensions: [] },
        identity.signer,
      );
      expect((await verify(db, identity, { since: forkedEmpty })).problems).toEqual([
        expect.objectContaining({ code: 'consistency', leafIndex: 0 }),
      ]);
      // Larger than the log: leaves were deleted since.
      const future = signCheckpoint(
        { origin: identity.origin, size: savedSize + 100, root: randomBytes(32), extensions: [] },
        identity.signer,
      );
      expect((await verify(db, identity, { since: future })).problems).toEqual([
        expect.objectContaining({ code: 'consistency', leafIndex: savedSize + 100 }),
      ]);
      // Another key (same origin, the true root): not this log's checkpoint.
      const { privateKey } = generateKeyPairSync('ed25519');
      const strangers = signCheckpoint(
        openCheckpoint(saved, identity.verifierKey),
        ed25519Signer(identity.origin, privateKey),
      );
      expect((await verify(db, identity, { since: strangers })).problems).toEqual([
        expect.objectContaining({ code: 'signature' }),
      ]);
      expect((await verify(db, identity, { since: 'not a note' })).problems).toEqual([
        expect.objectContaining({ code: 'signature' }),
      ]);
    });

    it('detects a history rewritten and re-signed with the log key only with since', async () => {
      const saved = (await latestCheckpoint(db))!.note;
      const savedSize = openCheckpoint(saved, identity.verifierKey).size;
      const target = await rowAt(db, 2);
      // An insider with the log key edits an early row, recomputes its leaf hash, throws the tree away
      // and lets the sequencer rebuild and re-sign it.
      await asInsider(db, async (tx) => {
        await tx.query("UPDATE records SET subject_id = 'sub_rewritten', leaf_hash = $1 WHERE id = $2", [
          rowLeafHash({ ...target, subject_id: 'sub_rewritten' }),
          target.id,
        ]);
        await tx.exec('UPDATE records SET leaf_index = NULL, integrated_at = NULL');
        await tx.exec('DELETE FROM log_nodes');
        await tx.exec('DELETE FROM log_checkpoints');
      });
      expect(await integrate(db, identity)).toMatchObject({ integrated: savedSize, treeSize: savedSize });
      expect(await verify(db, identity)).toMatchObject({ ok: true, problems: [] });
      const result = await verify(db, identity, { since: saved });
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([expect.objectContaining({ code: 'consistency', leafIndex: savedSize })]);
    });
  });

  describe('the v1 hash chain migrated into the log', () => {
    let identity: LogIdentity;
    const v1: RecordRow[] = [];
    const V1 = 6;
    const PURGED = 2;

    beforeAll(async () => {
      // The database as it was before the log: the schema of migrations 1–10 only (last part: nothing else uses it after).
      await db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.id <= 10),
      );
      expect(
        await db.query(
          "SELECT 1 FROM information_schema.columns WHERE table_name = 'records' AND column_name = 'leaf_hash'",
        ),
      ).toEqual([]);

      // Rows as the v1 appendRecord wrote them: seq from record_chain_head, each hash over the previous.
      const base = Date.parse('2025-06-01T00:00:00.123Z');
      let prev = GENESIS_HASH;
      const write = async (
        seq: number,
        rp: string | null,
        outcome: string,
        payload: Record<string, unknown>,
      ): Promise<void> => {
        const cols = {
          id: `rec_v1_${seq}`,
          seq: String(seq),
          createdAt: new Date(base + seq * 60_000),
          rpClientId: rp,
          ceremonyId: rp ? `cer_v1_${seq}` : null,
          subjectId: rp ? `sub_${seq}` : null,
          framework: rp ? 'jp_aml' : 'platform',
          outcome,
          payloadHash: payloadHash(payload),
        };
        const hash = recordHash(prev, cols);
        await db.query(
          `INSERT INTO records (seq, id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)`,
          [
            cols.seq,
            cols.id,
            cols.createdAt,
            rp,
            cols.ceremonyId,
            cols.subjectId,
            cols.framework,
            outcome,
            canonicalJson(payload),
            cols.payloadHash,
            prev,
            hash,
          ],
        );
        await db.query('UPDATE record_chain_head SET seq = $1, prev_hash = $2, hash = $3 WHERE id = 1', [
          cols.seq,
          prev,
          hash,
        ]);
        prev = hash;
      };
      for (let seq = 1; seq < V1; seq++)
        await write(seq, seq % 2 ? 'rp_a' : 'rp_b', 'verified', { i: seq, 氏名: '山田 太郎' });
      // A retention purge as v1 did it: the payload blanked (the v1 trigger allows that only), then a note.
      await db.query('UPDATE records SET payload = NULL, purged_at = $1 WHERE seq = $2', [
        new Date(base + 3_600_000),
        PURGED,
      ]);
      await write(V1, null, 'note', {
        event: PURGE_EVENT,
        retentionEvaluatedAt: new Date(base).toISOString(),
        count: 1,
        byFramework: { jp_aml: 1 },
        records: [`rec_v1_${PURGED}`],
      });

      await migrate(db);
      identity = await testLogIdentity(db);
      v1.push(...(await allRows(db)));
    });

    it('gives the v1 rows their leaf hash over the v1 entry, integrates them first, then the new entries', async () => {
      expect(v1).toHaveLength(V1);
      for (const r of v1) {
        expect(r.entry_version).toBe(1);
        expect(r.leaf_index).toBeNull();
        expect(rowEntryText(r).startsWith(`["${RECORD_HASH_VERSION}","${r.prev_hash}","${r.id}","${r.seq}",`)).toBe(
          true,
        );
        expect(r.leaf_hash.equals(leafHash(Buffer.from(rowEntryText(r), 'utf8')))).toBe(true);
      }
      expect(v1[PURGED - 1]).toMatchObject({ payload: null });
      expect(v1[PURGED - 1]!.purged_at).toBeInstanceOf(Date);

      expect(await integrate(db, identity)).toMatchObject({ integrated: V1, treeSize: V1 });
      const fresh: AppendedRecord[] = [];
      for (let i = 0; i < 5; i++) fresh.push(await append(db, i, 'rp_a'));
      expect(new Set(fresh.map((f) => f.seq)).size).toBe(5);
      for (const f of fresh) expect(Number(f.seq)).toBeGreaterThan(V1);
      expect(await integrate(db, identity)).toMatchObject({ integrated: 5, treeSize: V1 + 5 });

      const rows = await leafRows(db);
      expect(rows.map((r) => r.entry_version)).toEqual([...v1.map(() => 1), ...fresh.map(() => 2)]);
      expect(rows.map((r) => r.id)).toEqual([...v1.map((r) => r.id), ...fresh.map((f) => f.id)]);
      const signed = openCheckpoint((await latestCheckpoint(db))!.note, identity.verifierKey);
      expect(signed.root.equals(rootOfLeaves(rows.map(rowLeafHash)))).toBe(true);
      expect(await verify(db, identity)).toMatchObject({ ok: true, checked: V1 + 5, purged: 1, problems: [] });
    });

    it('proves a v1 record offline over its v1 entry', async () => {
      for (const r of v1) {
        const bundle = await inclusionProof(db, { recordId: r.id });
        expect(bundle.entry).toBe(rowEntryText(r));
        expect(JSON.parse(bundle.entry)).toEqual([
          RECORD_HASH_VERSION,
          r.prev_hash,
          r.id,
          r.seq,
          r.created_at.toISOString(),
          r.rp_client_id,
          r.ceremony_id,
          r.subject_id,
          r.framework,
          r.outcome,
          r.payload_hash,
        ]);
        expect(checkInclusionBundle(bundle, identity.verifierKey, { origin: identity.origin }).ok).toBe(true);
      }
    });

    it('still detects tampering with the v1 rows: links, row hashes and leaves', async () => {
      const third = v1[2]!;
      const link = await detect(
        db,
        identity,
        'v1 prev_hash',
        (tx) => tx.query('UPDATE records SET prev_hash = $1 WHERE id = $2', [sha256('x').toString('hex'), third.id]),
        (tx) => tx.query('UPDATE records SET prev_hash = $1 WHERE id = $2', [third.prev_hash, third.id]),
      );
      expect(codes(link)).toEqual(['checkpoint', 'hash', 'leaf', 'link', 'node']);
      for (const code of ['link', 'hash', 'leaf'] as const)
        expect(only(link, code)).toEqual([expect.objectContaining({ leafIndex: 2, recordId: third.id })]);

      const second = v1[1]!;
      const column = await detect(
        db,
        identity,
        'v1 column',
        (tx) => tx.query("UPDATE records SET framework = 'jp_mpiupa' WHERE id = $1", [second.id]),
        (tx) => tx.query('UPDATE records SET framework = $1 WHERE id = $2', [second.framework, second.id]),
      );
      expect(codes(column)).toEqual(['checkpoint', 'hash', 'leaf', 'node']);
      for (const code of ['hash', 'leaf'] as const)
        expect(only(column, code)).toEqual([expect.objectContaining({ leafIndex: 1 })]);

      // Re-hashed by the insider (row hash and leaf hash): the next row's link gives it away.
      const edited = { ...second, framework: 'jp_mpiupa' };
      const rehashed = recordHash(edited.prev_hash!, {
        id: edited.id,
        seq: edited.seq,
        createdAt: edited.created_at,
        rpClientId: edited.rp_client_id,
        ceremonyId: edited.ceremony_id,
        subjectId: edited.subject_id,
        framework: edited.framework,
        outcome: edited.outcome,
        payloadHash: edited.payload_hash,
      });
      const relinked = await detect(
        db,
        identity,
        'v1 rehashed',
        (tx) =>
          tx.query("UPDATE records SET framework = 'jp_mpiupa', hash = $1, leaf_hash = $2 WHERE id = $3", [
            rehashed,
            rowLeafHash(edited),
            second.id,
          ]),
        (tx) =>
          tx.query('UPDATE records SET framework = $1, hash = $2, leaf_hash = $3 WHERE id = $4', [
            second.framework,
            second.hash,
            second.leaf_hash,
            second.id,
          ]),
      );
      expect(codes(relinked)).toEqual(['checkpoint', 'link', 'node']);
      expect(only(relinked, 'link')).toEqual([expect.objectContaining({ leafIndex: 2 })]);

      // A purged v1 row with its payload back (or the note that names it gone) is a problem too.
      const note = v1[V1 - 1]!;
      const orphan = await detect(
        db,
        identity,
        'purge note edited',
        (tx) => tx.query("UPDATE records SET payload = jsonb_set(payload, '{records}', '[]') WHERE id = $1", [note.id]),
        (tx) =>
          tx.query('UPDATE records SET payload = $1::jsonb WHERE id = $2', [canonicalJson(note.payload), note.id]),
      );
      expect(orphan).toContainEqual(expect.objectContaining({ code: 'purge', leafIndex: PURGED - 1 }));
      expect(orphan).toContainEqual(expect.objectContaining({ code: 'payload', leafIndex: V1 - 1 }));

      // A v1 row moved after a log entry (the purge note and the first v2 entry swapped).
      const swap = async (tx: Queryable): Promise<void> => {
        await tx.query('UPDATE records SET leaf_index = -1 WHERE leaf_index = $1', [V1 - 1]);
        await tx.query('UPDATE records SET leaf_index = $1 WHERE leaf_index = $2', [V1 - 1, V1]);
        await tx.query('UPDATE records SET leaf_index = $1 WHERE leaf_index = -1', [V1]);
      };
      const moved = await detect(db, identity, 'v1 row moved after a log entry', swap, swap);
      expect(only(moved, 'index')).toEqual([
        expect.objectContaining({
          leafIndex: V1,
          recordId: note.id,
          reason: expect.stringMatching(/v1 chain row comes after log entries/),
        }),
      ]);
    });
  });
});
