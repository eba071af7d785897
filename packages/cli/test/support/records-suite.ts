// `kakunin records …`, run as a user would: the real kakunin bin in a child process per command, on
// both engines (records-pglite.test.ts and records-postgres.test.ts run these, in parallel). The records are a Merkle-tree log (records/log.ts): verify recomputes it and checks
// the signed checkpoints, --save/--since keep and check an earlier checkpoint, check-proof checks
// offline what an RP saved from GET /records/v1/proof/…. The log's key is created here the way a
// server creates it (sealed under a master key the commands get as KAKUNIN_MASTER_KEY).
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedJlis } from '@kakunin/sim';
import { ed25519Signer, signCheckpoint, verifierKey } from '@kakunin/tlog';
import { startServer, loadConfig, openDatabase, type Database, MasterKey } from '@kakunin/server';
import {
  appendRecord,
  checkpointAt,
  consistencyProof,
  consistencyWire,
  inclusionProof,
  inclusionWire,
  integrate,
  logIdentity,
  type LogIdentity,
} from '@kakunin/server/records';
import { createPostgresDatabase, type Engine } from '@kakunin/server/testing';

const BIN = fileURLToPath(new URL('../../bin/kakunin.js', import.meta.url));
const CWD = fileURLToPath(new URL('../..', import.meta.url));
const ORIGIN = 'kakunin.test/records';
const MASTER_KEY = MasterKey.generate();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `kakunin records …` in a child process, by the real kakunin bin (which loads only the records
 * commands); the master key in its environment unless `masterKey: false`.
 */
function kakunin(args: string[], o: { masterKey?: false } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: '' };
  delete env.KAKUNIN_MASTER_KEY_FILE;
  if (o.masterKey === false) delete env.KAKUNIN_MASTER_KEY;
  else env.KAKUNIN_MASTER_KEY = MASTER_KEY.export();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: CWD, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Another log's key and signer under the same origin name: what a forger (or a mix-up) would have. */
function otherLog(): { key: string; signer: ReturnType<typeof ed25519Signer> } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { key: verifierKey(ORIGIN, publicKey), signer: ed25519Signer(ORIGIN, privateKey) };
}

/** What GET /records/v1/proof/inclusion answers (snake_case), from the library call on the database. */
const inclusionBundle = async (db: Database, o: { recordId: string; treeSize?: number }) =>
  inclusionWire(await inclusionProof(db, o));

/** What GET /records/v1/proof/consistency answers. */
const consistencyBundle = async (db: Database, o: { first: number; second?: number }) =>
  consistencyWire(await consistencyProof(db, o));

/** A platform note (no RP, no subject: never purged, never exported by RP). */
const note = (db: Database, n: number): Promise<unknown> =>
  appendRecord(db, {
    rpClientId: null,
    ceremonyId: null,
    subjectId: null,
    framework: 'platform',
    outcome: 'note',
    payload: { event: 'test_note', n },
  });

/** Runs SQL as an insider who can switch the append-only triggers off. */
const asInsider = (db: Database, sql: string): Promise<void> =>
  db.transaction(async (tx) => {
    await tx.exec(
      'ALTER TABLE records DISABLE TRIGGER records_append_only; ALTER TABLE log_nodes DISABLE TRIGGER log_nodes_append_only; ALTER TABLE log_checkpoints DISABLE TRIGGER log_checkpoints_append_only',
    );
    await tx.exec(sql);
    await tx.exec(
      'ALTER TABLE records ENABLE TRIGGER records_append_only; ALTER TABLE log_nodes ENABLE TRIGGER log_nodes_append_only; ALTER TABLE log_checkpoints ENABLE TRIGGER log_checkpoints_append_only',
    );
  });

/** Usage errors and offline proof files: no database engine involved. */
export function recordsUsageTests(): void {
  describe('kakunin records: usage', () => {
    it('bad options exit 2 and a missing database exits 1, before any database work', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kakunin-records-'));
      try {
        const keyFile = join(dir, 'key.txt');
        writeFileSync(keyFile, 'not a key\n');
        const [format, from, future, anchor, badKey, badKeyFile, checkKey, noKey, none] = await Promise.all([
          kakunin(['records', 'export', '--format', 'xml', '--data-dir', dir]),
          kakunin(['records', 'export', '--from', 'yesterday', '--data-dir', dir]),
          kakunin(['records', 'purge', '--now', '2999-01-01', '--data-dir', dir]),
          kakunin(['records', 'verify', '--anchor', '3:00', '--data-dir', dir]), // the v1 chain's option is gone
          kakunin(['records', 'verify', '--key', 'kakunin.test/records', '--data-dir', dir]),
          kakunin(['records', 'verify', '--key', keyFile, '--data-dir', dir]),
          kakunin(['records', 'check-proof', join(dir, 'proof.json'), '--key', 'x+y+z']),
          kakunin(['records', 'check-proof', join(dir, 'proof.json')]),
          kakunin(['records', 'verify', '--data-dir', dir]),
        ]);
        expect([
          format.code,
          from.code,
          future.code,
          anchor.code,
          badKey.code,
          badKeyFile.code,
          checkKey.code,
          noKey.code,
        ]).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
        expect(format.stderr).toMatch(/--format must be one of csv, json/);
        expect(future.stderr).toMatch(/only with --dry-run/);
        expect(anchor.stderr).toMatch(/unknown option '--anchor'/);
        for (const r of [badKey, badKeyFile, checkKey])
          expect(r.stderr).toMatch(
            /^kakunin: --key is not a log verifier key \(<origin>\+<key id>\+<base64 key>, as GET \/records\/v1\/key answers\): /,
          );
        expect(noKey.stderr).toMatch(/required option '--key <key>' not specified/);
        expect(none.code).toBe(1);
        expect(none.stderr).toMatch(/no Kakunin database in/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('check-proof: a file that is not a proof, or is missing, exits 1', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kakunin-records-'));
      try {
        const { key } = otherLog();
        writeFileSync(join(dir, 'junk.json'), 'this is not JSON');
        const [junk, missing] = await Promise.all([
          kakunin(['records', 'check-proof', join(dir, 'junk.json'), '--key', key]),
          kakunin(['records', 'check-proof', join(dir, 'nope.json'), '--key', key]),
        ]);
        expect([junk.code, missing.code]).toEqual([1, 1]);
        expect(junk.stderr).toMatch(/junk\.json is not a proof \(JSON from \/records\/v1\/proof\/…\)/);
        expect(missing.stderr).toMatch(/cannot read proof .*nope\.json: ENOENT/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** Every records command on one engine's database. */
export function recordsTests(engine: Engine): void {
  describe(`kakunin records on ${engine}`, { timeout: 180_000 }, () => {
    let work: string;
    let target: string[]; // --data-dir or --database-url arguments
    let dropPostgres: (() => Promise<void>) | undefined;
    let url: string | undefined;
    let identity: LogIdentity;
    let keyFile: string;
    /** The records of the fixture, by their seq. */
    const ids: Record<string, string> = {};

    /** Opens the database in this process (PGlite: only while no command runs), runs fn, closes it. */
    async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
      const db = await openDatabase(url ? { databaseUrl: url } : { dataDir: join(work, 'db') });
      try {
        return await fn(db);
      } finally {
        await db.close();
      }
    }

    /** The sequencer's step, as a server runs it every 200 ms. */
    const sequence = (): Promise<number> => withDb(async (db) => (await integrate(db, identity)).treeSize);
    /** The latest signed checkpoint, saved to a file (as `verify --save` or GET /records/v1/checkpoint would). */
    const saveCheckpoint = (name: string): Promise<string> =>
      withDb(async (db) => file(name, (await checkpointAt(db)).note));
    const file = (name: string, content: string): string => {
      const path = join(work, 'files', name);
      writeFileSync(path, content);
      return path;
    };

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'kakunin-records-'));
      mkdirSync(join(work, 'files'));
      if (engine === 'postgres') {
        const pg = await createPostgresDatabase();
        url = pg.url;
        dropPostgres = pg.drop;
        target = ['--database-url', url];
      } else target = ['--data-dir', work];
      await withDb(async (db) => {
        await db.query(
          `INSERT INTO relying_parties (client_id, client_secret, name, redirect_uris, ceremonies, framework, purpose, webhook_secret)
         VALUES ('rp_bank', 's', 'Bank', '[]', '["identity"]', 'jp_aml', 'KYC', 'w'), ('rp_city', 's', 'City', '[]', '["login"]', 'jp_municipal', '住民確認', 'w')`,
        );
        await db.query("INSERT INTO subjects (id) VALUES ('sub_1'), ('sub_2')");
        const old = new Date(Date.now() - 3 * 365 * 86_400_000);
        await appendRecord(db, {
          rpClientId: 'rp_bank',
          ceremonyId: 'c1',
          subjectId: 'sub_1',
          framework: 'jp_aml',
          outcome: 'verified',
          payload: { purpose: 'KYC', n: 1 },
        });
        await appendRecord(db, {
          rpClientId: 'rp_city',
          ceremonyId: 'c2',
          subjectId: 'sub_2',
          framework: 'jp_municipal',
          outcome: 'verified',
          payload: { purpose: '=cmd|calc', n: 2 },
          at: old,
        });
        await appendRecord(db, {
          rpClientId: 'rp_bank',
          ceremonyId: 'c3',
          subjectId: null,
          framework: 'jp_aml',
          outcome: 'rejected',
          payload: { n: 3 },
        });
        for (const r of await db.query<{ seq: string; id: string }>('SELECT seq::text AS seq, id FROM records'))
          ids[r.seq] = r.id;
        // As the first server start would: the log's key, sealed under the master key, then a sequencer step.
        identity = await logIdentity(db, MASTER_KEY, ORIGIN);
        expect((await integrate(db, identity)).treeSize).toBe(3);
      });
      keyFile = file('log.key', `${identity.verifierKey}\n`); // as GET /records/v1/key answers
    });

    afterAll(async () => {
      await dropPostgres?.();
      rmSync(work, { recursive: true, force: true });
    });

    it('verify: the OK line with tree size and root; --json; records the sequencer has not reached yet are checked and counted', async () => {
      const ok = await kakunin(['records', 'verify', ...target]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/^OK: 3 records, log intact: tree size 3, root [A-Za-z0-9+/]{43}= \(0 purged\)\n$/);
      const json = await kakunin(['records', 'verify', '--json', ...target]);
      expect(json.code, json.stderr).toBe(0);
      const result = JSON.parse(json.stdout) as { checkpoint: string; root: string };
      expect(result).toMatchObject({ ok: true, checked: 3, purged: 0, pending: 0, treeSize: 3, problems: [] });
      expect(ok.stdout).toContain(`root ${result.root} `);
      expect(result.checkpoint.startsWith(`${ORIGIN}\n3\n${result.root}\n\n\u2014 ${ORIGIN} `)).toBe(true);

      await withDb((db) => note(db, 4));
      const pending = await kakunin(['records', 'verify', ...target]);
      expect(pending.code, pending.stderr).toBe(0);
      expect(pending.stdout).toMatch(
        /^OK: 3 records, log intact: tree size 3, root \S+ \(0 purged\); 1 newer record\(s\) not in a checkpoint yet \(checked too\)\n$/,
      );
      expect(await sequence()).toBe(4);
    });

    it('verify --save, then --since: the log extends the saved checkpoint, also after it grew', async () => {
      const saved = join(work, 'files', 'checkpoints', 'size-4.txt');
      const save = await kakunin(['records', 'verify', '--save', saved, ...target]);
      expect(save.code, save.stderr).toBe(0);
      expect(save.stdout).toMatch(/^OK: 4 records, log intact: tree size 4, /);
      expect(save.stderr).toContain(`kakunin: saved the latest checkpoint to ${saved}`);
      expect(readFileSync(saved, 'utf8')).toBe(await withDb(async (db) => (await checkpointAt(db)).note));

      for (const n of [5, 6]) {
        await withDb((db) => note(db, n));
        expect(await sequence()).toBe(n);
      }
      const grown = await kakunin(['records', 'verify', '--since', saved, ...target]);
      expect(grown.code, grown.stderr).toBe(0);
      expect(grown.stdout).toMatch(
        /^OK: 6 records, log intact: tree size 6, root \S+ \(0 purged\), extends the earlier checkpoint\n$/,
      );
    });

    // Engine-independent (a key, a checkpoint, an offline proof): on PostgreSQL only, where a command starts fastest.
    if (engine === 'postgres') {
      it('verify --since: a checkpoint the log does not extend (a fork, a truncation) or that the key did not sign exits 1', async () => {
        // A fork: a checkpoint of size 4 signed with the log's own key, over another root.
        const fork = file(
          'fork.txt',
          signCheckpoint({ origin: ORIGIN, size: 4, root: randomBytes(32), extensions: [] }, identity.signer),
        );
        const forked = await kakunin(['records', 'verify', '--since', fork, ...target]);
        expect(forked.code).toBe(1);
        expect(forked.stdout).toBe(
          'tree size 4: the log is not an extension of the earlier checkpoint (size 4): its first 4 leaves now give another root (consistency)\n',
        );
        expect(forked.stderr).toMatch(/kakunin: FAILED: 6 records checked, 1 problem\(s\)/);

        // A checkpoint that only another key signed.
        const forged = file(
          'forged.txt',
          signCheckpoint({ origin: ORIGIN, size: 6, root: randomBytes(32), extensions: [] }, otherLog().signer),
        );
        const unsigned = await kakunin(['records', 'verify', '--since', forged, ...target]);
        expect(unsigned.code).toBe(1);
        expect(unsigned.stdout).toMatch(
          /^log: the earlier checkpoint does not verify with the log's key: .* \(signature\)\n$/,
        );

        // A truncation by an insider: the newest leaf, its nodes and checkpoint gone. The log on its own
        // still verifies (it is a smaller, consistent log); only a checkpoint kept elsewhere shows it.
        const saved = await saveCheckpoint('size-6.txt');
        await withDb((db) =>
          asInsider(
            db,
            `CREATE TABLE stash_records AS SELECT * FROM records WHERE leaf_index = 5;
           CREATE TABLE stash_nodes AS SELECT * FROM log_nodes WHERE (idx + 1) * (1::bigint << level) > 5;
           CREATE TABLE stash_checkpoints AS SELECT * FROM log_checkpoints WHERE tree_size > 5;
           DELETE FROM records WHERE leaf_index = 5;
           DELETE FROM log_nodes WHERE (idx + 1) * (1::bigint << level) > 5;
           DELETE FROM log_checkpoints WHERE tree_size > 5;`,
          ),
        );
        try {
          const alone = await kakunin(['records', 'verify', ...target]);
          expect(alone.code, alone.stdout + alone.stderr).toBe(0);
          expect(alone.stdout).toMatch(/^OK: 5 records, log intact: tree size 5, /);
          const truncated = await kakunin(['records', 'verify', '--since', saved, ...target]);
          expect(truncated.code).toBe(1);
          expect(truncated.stdout).toBe(
            'tree size 6: the earlier checkpoint has 6 leaves, the log now 5: leaves were deleted (consistency)\n',
          );
        } finally {
          await withDb((db) =>
            asInsider(
              db,
              `INSERT INTO records SELECT * FROM stash_records; INSERT INTO log_nodes SELECT * FROM stash_nodes; INSERT INTO log_checkpoints SELECT * FROM stash_checkpoints;
             DROP TABLE stash_records; DROP TABLE stash_nodes; DROP TABLE stash_checkpoints;`,
            ),
          );
        }
      });
    }

    // Engine-independent (a key, a checkpoint, an offline proof): on PostgreSQL only, where a command starts fastest.
    if (engine === 'postgres') {
      it("verify --key: the log's key needs no master key; another log's key fails on the signature", async () => {
        // No master key in the environment, nor in the data directory (PostgreSQL: give one without it).
        const noMasterKey = url ? ['--data-dir', work] : [];
        const withKey = await kakunin(
          [
            'records',
            'verify',
            '--since',
            join(work, 'files', 'size-6.txt'),
            '--key',
            keyFile,
            ...target,
            ...noMasterKey,
          ],
          { masterKey: false },
        );
        expect(withKey.code, withKey.stderr).toBe(0);
        expect(withKey.stdout).toMatch(
          /^OK: 6 records, log intact: tree size 6, root \S+ \(0 purged\), extends the earlier checkpoint\n$/,
        );
        const noMaster = await kakunin(['records', 'verify', ...target, ...noMasterKey], { masterKey: false });
        expect(noMaster.code).toBe(1);
        expect(noMaster.stderr).toMatch(/cannot open the platform secrets without a master key/);
        const other = await kakunin(['records', 'verify', '--key', otherLog().key, ...target]);
        expect(other.code).toBe(1);
        // Every signed checkpoint fails (the latest, of size 6, among them), and nothing else.
        const lines = other.stdout.trimEnd().split('\n');
        for (const line of lines)
          expect(line).toMatch(/^tree size \d+: .*does not verify with the log's key: .* \(signature\)$/);
        expect(lines.some((line) => line.startsWith('tree size 6: '))).toBe(true);
      });
    }

    it('verify: an insider edit of a payload, of a fixed column or of the order exits 1 with a line naming the leaf and the problem', async () => {
      const edit = (sql: string): Promise<void> => withDb((db) => asInsider(db, sql));
      await edit(`UPDATE records SET payload = '{"purpose":"KYC","n":99}' WHERE seq = 1`);
      try {
        const bad = await kakunin(['records', 'verify', ...target]);
        expect(bad.code).toBe(1);
        expect(bad.stdout).toBe(
          `leaf 0 ${ids['1']}: payload was edited: its hash does not match payload_hash (payload)\n`,
        );
        expect(bad.stderr).toMatch(/kakunin: FAILED: 6 records checked, 1 problem\(s\)/);
      } finally {
        await edit(`UPDATE records SET payload = '{"purpose":"KYC","n":1}' WHERE seq = 1`);
      }
      // A fixed column: the leaf hash no longer matches, and so neither do the nodes and roots above it.
      await edit(`UPDATE records SET outcome = 'verified' WHERE seq = 3`);
      try {
        const bad = await kakunin(['records', 'verify', ...target]);
        expect(bad.code).toBe(1);
        const lines = bad.stdout.trimEnd().split('\n');
        expect(lines).toContain(
          `leaf 2 ${ids['3']}: the leaf hash does not match the row: a fixed column (id, created_at, rp, ceremony, subject, framework, outcome, payload_hash) or the leaf hash was edited (leaf)`,
        );
        expect(lines).toContain(
          'leaf 2: the stored node 1/1 (leaves 2–3) differs from the one its leaves give: a node or a leaf under it was edited, or leaves were reordered (node)',
        );
        expect(lines).toContain(
          'tree size 3: the checkpoint of size 3 signed a root the rows no longer give: a row, an index or the order of leaves before it changed (checkpoint)',
        );
      } finally {
        await edit(`UPDATE records SET outcome = 'rejected' WHERE seq = 3`);
      }
      // Two leaves swapped: each row is intact, the order is not.
      const swap =
        'UPDATE records SET leaf_index = -1 WHERE leaf_index = 3; UPDATE records SET leaf_index = 3 WHERE leaf_index = 4; UPDATE records SET leaf_index = 4 WHERE leaf_index = -1';
      await edit(swap);
      try {
        const swapped = await kakunin(['records', 'verify', ...target]);
        expect(swapped.code).toBe(1);
        expect(swapped.stdout).toMatch(
          /^leaf 2: the stored node 1\/1 \(leaves 2–3\) differs from the one its leaves give: .* \(node\)$/m,
        );
        expect(swapped.stdout).toMatch(
          /^tree size 4: the checkpoint of size 4 signed a root the rows no longer give: .* \(checkpoint\)$/m,
        );
        expect(swapped.stdout).not.toMatch(/\((leaf|payload)\)$/m);
      } finally {
        await edit(swap);
      }
    });

    // Engine-independent (a key, a checkpoint, an offline proof): on PostgreSQL only, where a command starts fastest.
    if (engine === 'postgres') {
      it("check-proof: an RP's saved inclusion proof holds offline with the log's key; an altered entry, proof or checkpoint does not", async () => {
        const { bundle, earlier, latest } = await withDb(async (db) => ({
          bundle: await inclusionBundle(db, { recordId: ids['3']! }),
          earlier: await inclusionBundle(db, { recordId: ids['3']!, treeSize: 3 }),
          latest: (await checkpointAt(db)).note,
        }));
        expect(bundle).toMatchObject({ record_id: ids['3'], rp_client_id: 'rp_bank', leaf_index: 2, tree_size: 6 });
        const proof = file('proof.json', JSON.stringify(bundle));
        const proofAt3 = file('proof-3.json', JSON.stringify(earlier));
        const checkpointFile = file('latest.txt', latest);

        const entry = JSON.parse(bundle.entry as string) as unknown[];
        const proofHashes = bundle.proof as string[];
        const flipped = Buffer.from(proofHashes[0]!, 'base64');
        flipped[0]! ^= 1;
        const altered: [string, Record<string, unknown>, RegExp][] = [
          [
            'entry',
            { ...bundle, entry: JSON.stringify(entry.map((v) => (v === 'rejected' ? 'verified' : v))) },
            /: the inclusion proof of leaf 2 does not lead to the root of the checkpoint of kakunin\.test\/records at size 6: the entry, index or proof was altered, or the entry is not in this log \(PROOF_INVALID\)$/,
          ],
          [
            'proof',
            { ...bundle, proof: [flipped.toString('base64'), ...proofHashes.slice(1)] },
            /: the inclusion proof of leaf 2 does not lead to the root .* \(PROOF_INVALID\)$/,
          ],
          [
            'tree-size',
            { ...bundle, tree_size: 3 },
            /: the proof is for a tree of size 3, the checkpoint is of size 6 \(PROOF_INVALID\)$/,
          ],
          [
            'checkpoint',
            { ...bundle, checkpoint: (bundle.checkpoint as string).replace('\n6\n', '\n7\n') },
            /\(NOTE_UNVERIFIED\)$/,
          ],
        ];
        const [ok, json, atThree, withCheckpoint, otherKey, otherOrigin, wrongCheckpoint, ...runs] = await Promise.all([
          kakunin(['records', 'check-proof', proof, '--key', keyFile]),
          kakunin(['records', 'check-proof', proof, '--key', identity.verifierKey, '--json']),
          kakunin(['records', 'check-proof', proofAt3, '--key', keyFile]),
          kakunin(['records', 'check-proof', proof, '--key', keyFile, '--checkpoint', checkpointFile]),
          // The right proof, checked with another log's key, another origin, or another size's checkpoint.
          kakunin(['records', 'check-proof', proof, '--key', otherLog().key]),
          kakunin(['records', 'check-proof', proof, '--key', keyFile, '--origin', 'evil.example/records']),
          kakunin(['records', 'check-proof', proofAt3, '--key', keyFile, '--checkpoint', checkpointFile]),
          ...altered.map(([name, b]) =>
            kakunin(['records', 'check-proof', file(`altered-${name}.json`, JSON.stringify(b)), '--key', keyFile]),
          ),
        ]);
        expect(ok.code, ok.stderr).toBe(0);
        expect(ok.stdout).toBe(`OK: record ${ids['3']} is leaf 2 of the tree of size 6 signed by ${ORIGIN}\n`);
        expect(JSON.parse(json.stdout)).toEqual({
          ok: true,
          kind: 'inclusion',
          recordId: ids['3'],
          leafIndex: 2,
          treeSize: 6,
          origin: ORIGIN,
          leafHash: bundle.leaf_hash,
        });
        expect(atThree.stdout).toBe(`OK: record ${ids['3']} is leaf 2 of the tree of size 3 signed by ${ORIGIN}\n`);
        expect(withCheckpoint.code, withCheckpoint.stderr).toBe(0);

        expect([otherKey.code, otherOrigin.code, wrongCheckpoint.code]).toEqual([1, 1, 1]);
        expect(otherKey.stderr).toMatch(/^kakunin: the proof does not hold: .*\(NOTE_UNVERIFIED\)\n$/);
        expect(otherOrigin.stderr).toBe(
          'kakunin: the proof does not hold: the checkpoint is of log "kakunin.test/records", not "evil.example/records" (CHECKPOINT_ORIGIN_MISMATCH)\n',
        );
        expect(wrongCheckpoint.stderr).toBe(
          'kakunin: the proof does not hold: the proof is for a tree of size 3, the checkpoint is of size 6 (PROOF_INVALID)\n',
        );
        for (const [i, [name, , message]] of altered.entries()) {
          expect(runs[i]!.code, name).toBe(1);
          expect(runs[i]!.stdout, name).toBe('');
          expect(runs[i]!.stderr.trim(), name).toMatch(/^kakunin: the proof does not hold: /);
          expect(runs[i]!.stderr.trim(), name).toMatch(message);
        }
      });
    }

    // Engine-independent (a key, a checkpoint, an offline proof): on PostgreSQL only, where a command starts fastest.
    if (engine === 'postgres') {
      it('check-proof: a consistency proof between two checkpoints holds; a forged one does not', async () => {
        const [three, four] = await withDb(async (db) => [
          await consistencyBundle(db, { first: 3 }),
          await consistencyBundle(db, { first: 4, second: 5 }),
        ]);
        expect(three).toMatchObject({ first: 3, second: 6 });
        const hashes = three.proof as string[];
        expect(hashes).toHaveLength(4);
        // A fork signed with the log's own key: a tree of size 6 that does not extend the tree of size 3.
        const fork = signCheckpoint(
          { origin: ORIGIN, size: 6, root: randomBytes(32), extensions: [] },
          identity.signer,
        );
        const forged: [string, Record<string, unknown>, RegExp][] = [
          [
            'fork',
            { ...three, second_checkpoint: fork },
            /: the tree of size 6 is not an extension of the tree of size 3: the proof does not verify \(the log forked, or the proof was altered\) \(PROOF_INVALID\)$/,
          ],
          [
            'proof',
            { ...three, proof: [...hashes].reverse() },
            /: the tree of size 6 is not an extension of the tree of size 3.*\(PROOF_INVALID\)$/,
          ],
          [
            'other-key',
            {
              ...three,
              first_checkpoint: signCheckpoint(
                { origin: ORIGIN, size: 3, root: randomBytes(32), extensions: [] },
                otherLog().signer,
              ),
            },
            /\(NOTE_UNVERIFIED\)$/,
          ],
        ];
        const [ok, ok45, json, ...runs] = await Promise.all([
          kakunin(['records', 'check-proof', file('consistency-3.json', JSON.stringify(three)), '--key', keyFile]),
          kakunin(['records', 'check-proof', file('consistency-4.json', JSON.stringify(four)), '--key', keyFile]),
          kakunin(['records', 'check-proof', join(work, 'files', 'consistency-3.json'), '--key', keyFile, '--json']),
          ...forged.map(([name, b]) =>
            kakunin(['records', 'check-proof', file(`forged-${name}.json`, JSON.stringify(b)), '--key', keyFile]),
          ),
        ]);
        expect([ok.code, ok45.code, json.code]).toEqual([0, 0, 0]);
        expect(ok.stdout).toBe(
          `OK: the tree of size 6 extends the tree of size 3 (both checkpoints signed by ${ORIGIN})\n`,
        );
        expect(ok45.stdout).toBe(
          `OK: the tree of size 5 extends the tree of size 4 (both checkpoints signed by ${ORIGIN})\n`,
        );
        expect(JSON.parse(json.stdout)).toEqual({ ok: true, kind: 'consistency', first: 3, second: 6, origin: ORIGIN });
        for (const [i, [name, , message]] of forged.entries()) {
          expect(runs[i]!.code, name).toBe(1);
          expect(runs[i]!.stderr.trim(), name).toMatch(/^kakunin: the proof does not hold: /);
          expect(runs[i]!.stderr.trim(), name).toMatch(message);
        }
      });
    }

    it('export: CSV to a file (formulas neutralised), JSON to standard output, filters', async () => {
      const file = join(work, 'out', 'records.csv');
      const csv = await kakunin(['records', 'export', '--format', 'csv', '--out', file, ...target]);
      expect(csv.code, csv.stderr).toBe(0);
      const lines = readFileSync(file, 'utf8').split('\r\n');
      expect(lines[0]).toMatch(/^seq,id,created_at,rp_client_id,/);
      expect(lines.filter(Boolean)).toHaveLength(7); // the header, 3 records, 3 notes
      expect(lines[2]).toContain(",'=cmd|calc,");

      const json = await kakunin(['records', 'export', '--format', 'json', '--rp', 'rp_bank', ...target]);
      expect(json.code, json.stderr).toBe(0);
      expect((JSON.parse(json.stdout) as { seq: string }[]).map((r) => r.seq)).toEqual(['1', '3']);
      const dated = await kakunin([
        'records',
        'export',
        '--format',
        'json',
        '--outcome',
        'verified',
        '--from',
        new Date(Date.now() - 86_400_000).toISOString(),
        ...target,
      ]);
      expect((JSON.parse(dated.stdout) as { seq: string }[]).map((r) => r.seq)).toEqual(['1']);
    });

    it('end-relationship, then purge: dry run, the purge, and the log still verifies, before and after the sequencer', async () => {
      const saved = await saveCheckpoint('before-purge.txt');
      const ended = await kakunin([
        'records',
        'end-relationship',
        '--rp',
        'rp_city',
        '--subject',
        'sub_2',
        '--at',
        new Date(Date.now() - 2 * 365 * 86_400_000).toISOString(),
        ...target,
      ]);
      expect(ended.code, ended.stderr).toBe(0);
      expect(ended.stdout).toMatch(
        /^relationship rp_city \/ sub_2 ended at \S+ \(note rec_\S+ appended\); jp_municipal records kept until \S+Z\n$/,
      );
      const unknown = await kakunin([
        'records',
        'end-relationship',
        '--rp',
        'rp_city',
        '--subject',
        'nobody',
        ...target,
      ]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no subject nobody/);

      const dry = await kakunin(['records', 'purge', '--dry-run', ...target]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toMatch(/^dry run: 1 records past retention .*\(jp_municipal 1\); nothing changed/);
      const purge = await kakunin(['records', 'purge', '--json', ...target]);
      expect(purge.code, purge.stderr).toBe(0);
      expect(JSON.parse(purge.stdout)).toMatchObject({ dryRun: false, purged: 1, byFramework: { jp_municipal: 1 } });

      // The purged record keeps its leaf (its leaf hash covers the payload's hash, not the payload).
      const before = await kakunin(['records', 'verify', '--since', saved, ...target]);
      expect(before.code, before.stdout + before.stderr).toBe(0);
      expect(before.stdout).toMatch(
        /^OK: 6 records, log intact: tree size 6, root \S+ \(1 purged\), extends the earlier checkpoint; 2 newer record\(s\) not in a checkpoint yet \(checked too\)\n$/,
      );
      expect(await sequence()).toBe(8);
      const after = await kakunin(['records', 'verify', '--since', saved, ...target]);
      expect(after.code, after.stdout + after.stderr).toBe(0);
      expect(after.stdout).toMatch(
        /^OK: 8 records, log intact: tree size 8, root \S+ \(1 purged\), extends the earlier checkpoint\n$/,
      );
      const purged = await withDb((db) => inclusionBundle(db, { recordId: ids['2']! }));
      const check = await kakunin([
        'records',
        'check-proof',
        file('purged.json', JSON.stringify(purged)),
        '--key',
        keyFile,
      ]);
      expect(check.stdout).toBe(`OK: record ${ids['2']} is leaf 1 of the tree of size 8 signed by ${ORIGIN}\n`);
    });

    // Only the embedded database has a holder process; PostgreSQL is shared by design.
    if (engine === 'pglite') {
      it('through a running server that holds the embedded database: verify --since, and --key checked here', async () => {
        const config = loadConfig(
          { mode: 'sandbox', port: 0, dataDir: work, logLevel: 'silent', masterKey: MASTER_KEY.export() },
          {},
        );
        const server = await startServer(config, {
          simulatedJlis: startSimulatedJlis,
          noJobs: true,
          simDir: join(work, 'sim'),
        });
        try {
          const ok = await kakunin([
            'records',
            'verify',
            '--since',
            join(work, 'files', 'before-purge.txt'),
            '--key',
            keyFile,
            ...target,
          ]);
          expect(ok.code, ok.stdout + ok.stderr).toBe(0);
          expect(ok.stdout).toMatch(
            /^OK: 8 records, log intact: tree size 8, root \S+ \(1 purged\), extends the earlier checkpoint\n$/,
          );
          // The server verifies with its own key; the key given must have signed what it verified.
          const other = await kakunin(['records', 'verify', '--key', otherLog().key, ...target]);
          expect(other.code, other.stdout + other.stderr).toBe(1);
          expect(other.stdout).toMatch(
            /^tree size 8: the latest checkpoint, of size 8, does not verify with the log's key: .* \(signature\)\n$/,
          );
        } finally {
          await server.close();
        }
      }, 120_000);

      it('a server holding the embedded database that does not answer is a clear error (exit 1)', async () => {
        const lock = join(work, 'db.lock');
        writeFileSync(lock, JSON.stringify({ pid: process.pid })); // this test process: alive, and not the child
        writeFileSync(
          join(work, 'server.json'),
          JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:18080', adminToken: 't' }),
        );
        try {
          const busy = await kakunin(['records', 'verify', ...target]);
          expect(busy.code).toBe(1);
          expect(busy.stderr).toMatch(/held by the Kakunin server at http:\/\/127\.0\.0\.1:18080 .*does not answer/);
        } finally {
          rmSync(lock, { force: true });
          rmSync(join(work, 'server.json'), { force: true });
        }
      });
    }
  });
}
