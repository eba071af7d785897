// `kakunin records …`, run as a user would: a child process per command, on both engines. Until
// main.ts registers the command, a tiny program mounts registerRecordsCommands on a fresh Command
// and maps errors to exit codes the way main() does.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../server/src/db/database.js';
import { appendRecord } from '../../server/src/records/index.js';
import { createPostgresDatabase, ENGINES } from '../../server/test/support/databases.js';

const COMMANDS = new URL('../src/commands/records.ts', import.meta.url).href;
const OUTPUT = new URL('../src/output.ts', import.meta.url).href;
const PROGRAM = `
import { Command, CommanderError } from 'commander';
const { registerRecordsCommands } = await import(${JSON.stringify(COMMANDS)});
const { CliError, EXIT } = await import(${JSON.stringify(OUTPUT)});
const program = new Command('kakunin').exitOverride();
registerRecordsCommands(program);
try {
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  else if (e instanceof CliError) {
    process.stderr.write('kakunin: ' + e.message + '\\n');
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write('kakunin: unexpected error: ' + (e?.stack ?? String(e)) + '\\n');
    process.exitCode = EXIT.internal;
  }
}
`;
const CWD = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kakunin(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROGRAM, '--', ...args], {
      cwd: CWD,
      env: { ...process.env, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('kakunin records: usage', () => {
  it('bad options exit 2 and a missing database exits 1, before any database work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kakunin-records-'));
    try {
      const [format, from, future, anchor, none] = await Promise.all([
        kakunin(['records', 'export', '--format', 'xml', '--data-dir', dir]),
        kakunin(['records', 'export', '--from', 'yesterday', '--data-dir', dir]),
        kakunin(['records', 'purge', '--now', '2999-01-01', '--data-dir', dir]),
        kakunin(['records', 'verify', '--anchor', 'head', '--data-dir', dir]),
        kakunin(['records', 'verify', '--data-dir', dir]),
      ]);
      expect([format.code, from.code, future.code, anchor.code]).toEqual([2, 2, 2, 2]);
      expect(format.stderr).toMatch(/--format must be one of csv, json/);
      expect(future.stderr).toMatch(/only with --dry-run/);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/no Kakunin database in/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(ENGINES)('kakunin records on %s', (engine) => {
  let work: string;
  let target: string[]; // --data-dir or --database-url arguments
  let dropPostgres: (() => Promise<void>) | undefined;
  let url: string | undefined;

  /** Opens the database in this process (PGlite: only while no command runs), runs fn, closes it. */
  async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const db = await openDatabase(url ? { databaseUrl: url } : { dataDir: join(work, 'db') });
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kakunin-records-'));
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
      await appendRecord(db, { rpClientId: 'rp_bank', ceremonyId: 'c1', subjectId: 'sub_1', framework: 'jp_aml', outcome: 'verified', payload: { purpose: 'KYC', n: 1 } });
      await appendRecord(db, { rpClientId: 'rp_city', ceremonyId: 'c2', subjectId: 'sub_2', framework: 'jp_municipal', outcome: 'verified', payload: { purpose: '=cmd|calc', n: 2 }, at: old });
      await appendRecord(db, { rpClientId: 'rp_bank', ceremonyId: 'c3', subjectId: null, framework: 'jp_aml', outcome: 'rejected', payload: { n: 3 } });
    });
  });

  afterAll(async () => {
    await dropPostgres?.();
    rmSync(work, { recursive: true, force: true });
  });

  it('verify: OK line with the head; --json prints the result; a tampered payload names the row and exits 1', async () => {
    const ok = await kakunin(['records', 'verify', ...target]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: 3 records, chain intact \(0 purged\)\nhead: 3:[0-9a-f]{64}\n$/);
    const head = /head: (\S+)/.exec(ok.stdout)![1]!;
    const json = await kakunin(['records', 'verify', '--json', '--anchor', head, ...target]);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, checked: 3, purged: 0, problems: [] });

    await withDb((db) =>
      db.transaction(async (tx) => {
        await tx.exec('ALTER TABLE records DISABLE TRIGGER records_append_only');
        await tx.query(`UPDATE records SET payload = '{"purpose":"KYC","n":99}' WHERE seq = 1`);
        await tx.exec('ALTER TABLE records ENABLE TRIGGER records_append_only');
      }),
    );
    const bad = await kakunin(['records', 'verify', ...target]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^seq 1 rec_\S+: payload was edited/);
    await withDb((db) =>
      db.transaction(async (tx) => {
        await tx.exec('ALTER TABLE records DISABLE TRIGGER records_append_only');
        await tx.query(`UPDATE records SET payload = '{"purpose":"KYC","n":1}' WHERE seq = 1`);
        await tx.exec('ALTER TABLE records ENABLE TRIGGER records_append_only');
      }),
    );
  });

  it('export: CSV to a file (formulas neutralised), JSON to standard output, filters', async () => {
    const file = join(work, 'out', 'records.csv');
    const csv = await kakunin(['records', 'export', '--format', 'csv', '--out', file, ...target]);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = readFileSync(file, 'utf8').split('\r\n');
    expect(lines[0]).toMatch(/^seq,id,created_at,rp_client_id,/);
    expect(lines.filter(Boolean)).toHaveLength(4);
    expect(lines[2]).toContain(",'=cmd|calc,");

    const json = await kakunin(['records', 'export', '--format', 'json', '--rp', 'rp_bank', ...target]);
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { seq: string }[]).map((r) => r.seq)).toEqual(['1', '3']);
    const dated = await kakunin(['records', 'export', '--format', 'json', '--outcome', 'verified', '--from', new Date(Date.now() - 86_400_000).toISOString(), ...target]);
    expect((JSON.parse(dated.stdout) as { seq: string }[]).map((r) => r.seq)).toEqual(['1']);
  });

  it('end-relationship, then purge: dry run, the purge, and the chain still verifies', async () => {
    const ended = await kakunin(['records', 'end-relationship', '--rp', 'rp_city', '--subject', 'sub_2', '--at', new Date(Date.now() - 2 * 365 * 86_400_000).toISOString(), ...target]);
    expect(ended.code, ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(/^relationship rp_city \/ sub_2 ended at \S+ \(note rec_\S+ appended\); jp_municipal records kept until \S+Z\n$/);
    const unknown = await kakunin(['records', 'end-relationship', '--rp', 'rp_city', '--subject', 'nobody', ...target]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no subject nobody/);

    const dry = await kakunin(['records', 'purge', '--dry-run', ...target]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^dry run: 1 records past retention .*\(jp_municipal 1\); nothing changed/);
    const purge = await kakunin(['records', 'purge', '--json', ...target]);
    expect(purge.code, purge.stderr).toBe(0);
    expect(JSON.parse(purge.stdout)).toMatchObject({ dryRun: false, purged: 1, byFramework: { jp_municipal: 1 } });

    const ok = await kakunin(['records', 'verify', ...target]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^OK: 5 records, chain intact \(1 purged\)/);
  });

  // Only the embedded database has a holder process; PostgreSQL is shared by design.
  if (engine === 'pglite') it('a server holding the embedded database that does not answer is a clear error (exit 1)', async () => {
    const lock = join(work, 'db.lock');
    writeFileSync(lock, JSON.stringify({ pid: process.pid })); // this test process: alive, and not the child
    writeFileSync(join(work, 'server.json'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:18080', adminToken: 't' }));
    try {
      const busy = await kakunin(['records', 'verify', ...target]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/held by the Kakunin server at http:\/\/127\.0\.0\.1:18080 .*does not answer/);
    } finally {
      rmSync(lock, { force: true });
      rmSync(join(work, 'server.json'), { force: true });
    }
  });
});
