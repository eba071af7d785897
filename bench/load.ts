// `npm run load`: a bounded load run on 127.0.0.1. Real `kakunin serve --sandbox` processes on one
// fresh PostgreSQL database answer N holder responses, C at a time, over HTTP: each is a full
// verification (profile, chain, signature, OCSP at the simulated J-LIS, nonce, subject, record in one
// transaction). Ceremonies are opened and signed beforehand (the holders' cards), and the simulated
// J-LIS (its OCSP responder signs every nonce'd answer) runs as `kakunin sim serve` in a process of
// its own, as J-LIS would, so the figures are the platform's — on the same cores. Afterwards every
// success must have exactly one verified record and the hash chain must verify.
//
// Options: --ceremonies N (2000) --concurrency C (32) --kind login|identity --servers S (1)
// --sim-in-process (the simulator inside the server, as plain `kakunin serve --sandbox` runs it)
// --database-url URL (default: a new database on 127.0.0.1:5432, dropped afterwards)
// --profile DIR (write the servers' V8 CPU profiles there, for `node --cpu-prof` analysis)
// --no-reference (skip the references below).
//
// References measured in the same run, to read the figures against: PostgreSQL alone (pgbench, C
// clients) running a transaction of the ceremony's shape — consume a nonce, complete a ceremony,
// advance the one chain head and insert the record, commit — which bounds any design that keeps
// one hash chain extended inside each ceremony's transaction; the same without the chain head; and
// OpenSSL's RSA-2048 signing rate on one core (the simulated J-LIS signs one OCSP answer per ceremony).

import { spawn, type ChildProcess } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openSandbox } from '@kakunin/sim';
import { createCeremony, createRelyingParty, loadConfig, loadMasterKey, openDatabase, verifyChain } from '@kakunin/server';
import { printTable } from './table.js';

const { values } = parseArgs({
  options: {
    ceremonies: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    kind: { type: 'string', default: 'login' },
    servers: { type: 'string', default: '1' },
    'sim-in-process': { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    profile: { type: 'string' },
    'no-reference': { type: 'boolean', default: false },
  },
});
const N = Number(values.ceremonies);
const C = Number(values.concurrency);
const kind = values.kind === 'identity' ? 'identity' : 'login';
const S = Math.max(1, Number(values.servers));
const log = (line: string): void => void process.stderr.write(`load: ${line}\n`);

async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (values['database-url']) return { url: values['database-url'], drop: async () => undefined };
  const name = `kakunin_load_${Date.now()}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => {
      const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

// The holders' side costs as little as it can (kept-alive node:http, not fetch): it shares the cores.
const agent = new Agent({ keepAlive: true, maxSockets: 1024 });
/** Posts a response; answers the status, and for a failure the error code and message. */
const post = (url: string, body: string): Promise<{ status: number; error?: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 200) {
        res.resume();
        res.on('end', () => resolve({ status }));
        return;
      }
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let error = text.slice(0, 200);
        try {
          const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
          if (e?.code) error = `${e.code}: ${e.message ?? ''}`;
        } catch {
          // not JSON: keep the text
        }
        resolve({ status, error });
      });
    });
    req.on('error', reject);
    req.end(body);
  });

interface Reference {
  label: string;
  value: string;
  perSecond?: number;
}

/** pgbench with a script of the ceremony transaction's shape, on scratch tables of the load database. */
async function pgReference(url: string, clients: number, chain: boolean): Promise<Reference> {
  const label = chain ? 'PostgreSQL alone: ceremony-shaped transaction with the chain head (pgbench)' : 'PostgreSQL alone: the same without the chain head (pgbench)';
  const dir = mkdtempSync(join(tmpdir(), 'kakunin-load-ref-'));
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(`CREATE TABLE IF NOT EXISTS ref_nonces (id int PRIMARY KEY, used_at timestamptz);
      CREATE TABLE IF NOT EXISTS ref_ceremonies (id int PRIMARY KEY, state text, finished_at timestamptz);
      CREATE TABLE IF NOT EXISTS ref_head (id int PRIMARY KEY, seq bigint, hash text);
      CREATE TABLE IF NOT EXISTS ref_records (seq bigserial PRIMARY KEY, payload jsonb, hash text);
      INSERT INTO ref_nonces SELECT g, NULL FROM generate_series(1, 100000) g ON CONFLICT DO NOTHING;
      INSERT INTO ref_ceremonies SELECT g, 'pending', NULL FROM generate_series(1, 100000) g ON CONFLICT DO NOTHING;
      INSERT INTO ref_head VALUES (1, 0, repeat('0', 64)) ON CONFLICT DO NOTHING;`);
    const record = `'{"ceremony":"cer_x","outcome":"verified","rp":"Load RP","certificate":{"serial":"0123ABCD"}}'::jsonb`;
    const script = [
      '\\set n random(1, 100000)',
      'BEGIN;',
      'UPDATE ref_nonces SET used_at = now() WHERE id = :n;',
      "UPDATE ref_ceremonies SET state = 'completed', finished_at = now() WHERE id = :n;",
      chain
        ? `WITH head AS (UPDATE ref_head SET seq = seq + 1, hash = encode(sha256(convert_to(hash || seq::text, 'UTF8')), 'hex') WHERE id = 1 RETURNING seq, hash) INSERT INTO ref_records (seq, payload, hash) SELECT seq + 1000000000, ${record}, hash FROM head;`
        : `INSERT INTO ref_records (payload, hash) VALUES (${record}, 'x');`,
      'END;',
    ].join('\n');
    writeFileSync(join(dir, 'ceremony.sql'), `${script}\n`);
    const { hostname, port, username, pathname } = new URL(url);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('pgbench', ['-n', '-h', hostname, '-p', port || '5432', '-U', decodeURIComponent(username || 'postgres'), '-c', String(clients), '-j', '2', '-T', '8', '-f', join(dir, 'ceremony.sql'), pathname.slice(1)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench exited with ${code}: ${text.trim().split('\n').at(-1)}`))));
    });
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
    return { label, value: `${tps.toFixed(0)} tx/s, mean latency ${latency.toFixed(1)} ms`, perSecond: tps };
  } catch (e) {
    return { label, value: `not measured (${(e as Error).message})` };
  } finally {
    await db.query('DROP TABLE IF EXISTS ref_nonces, ref_ceremonies, ref_head, ref_records').catch(() => undefined);
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** OpenSSL's RSA-2048 signatures per second on one core (`openssl speed`). */
async function rsaReference(): Promise<Reference> {
  const label = 'OpenSSL RSA-2048 signatures/s, one core (the simulator signs one OCSP answer per ceremony)';
  const out = await new Promise<string>((resolve) => {
    const child = spawn('openssl', ['speed', '-seconds', '2', 'rsa2048'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', () => resolve(''));
    child.once('exit', () => resolve(text));
  });
  const m = /rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/.exec(out);
  return m ? { label, value: Number(m[1]).toFixed(0), perSecond: Number(m[1]) } : { label, value: 'not measured (openssl speed failed)' };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const dataDir = mkdtempSync(join(tmpdir(), 'kakunin-load-'));
const database = await freshDatabase();
const bin = new URL('../packages/cli/bin/kakunin.js', import.meta.url).pathname;
const children: ChildProcess[] = [];

/** Starts a kakunin command whose first line on stdout is its URL. */
async function startKakunin(args: string[], env: NodeJS.ProcessEnv = {}, quiet = false): Promise<string> {
  const child = spawn(process.execPath, [...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', values.profile] : []), bin, ...args], { stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'], env: { ...process.env, ...env } });
  children.push(child);
  return new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`kakunin ${args[0]} exited with ${code}`)));
  });
}

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(process.execPath, [bin, command, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`kakunin ${command} ${args.join(' ')} exited with ${code}`);
}

const serverEnv: NodeJS.ProcessEnv = { KAKUNIN_MONITOR_INTERVAL_SECONDS: '0' };
if (!values['sim-in-process']) {
  log('creating the simulated J-LIS and starting `kakunin sim serve` in its own process…');
  await run('sim', ['init', '--dir', join(dataDir, 'sim')]);
  // Its per-request log lines would only slow it down.
  serverEnv.KAKUNIN_SIM_SERVICES_URL = await startKakunin(['sim', 'serve', '--dir', join(dataDir, 'sim'), '--port', '0'], {}, true);
}
log(`starting ${S} kakunin serve process(es) on PostgreSQL (${database.url})…`);
const urls: string[] = [];
// One after the other: the first applies the migrations and creates the secrets.
for (let i = 0; i < S; i++) urls.push(await startKakunin(['serve', '--sandbox', '--port', '0', '--data-dir', dataDir, '--database-url', database.url, '--log-level', 'warn'], serverEnv));

try {
  const db = await openDatabase({ databaseUrl: database.url, migrate: false });
  const config = loadConfig({ mode: 'sandbox', dataDir, ceremonyTtlSeconds: 3600 }, {});
  const sandbox = openSandbox(join(dataDir, 'sim'));
  const certKind = kind === 'login' ? 'auth' : 'sign';
  const people = sandbox.people().filter((p) => sandbox.certificates({ personId: p.id, kind: certKind, medium: 'card' }).length > 0);
  const holders = people.map((p) => ({ certificate: sandbox.certificateDer(sandbox.currentCertificateRecord(p.id, certKind, 'card').issuerId, sandbox.currentCertificateRecord(p.id, certKind, 'card').serial).toString('base64'), key: sandbox.privateKey(p.id, certKind, 'card') }));
  const rp = await createRelyingParty({ db, masterKey: loadMasterKey(config) }, { name: 'Load RP', redirectUris: ['http://127.0.0.1:9/cb'], framework: 'jp_aml' });

  log(`opening and signing ${N} ${kind} ceremonies (${holders.length} residents)…`);
  const prepared: { id: string; body: string }[] = [];
  for (let i = 0; i < N; i++) {
    const c = await createCeremony({ db, config }, { kind, rpClientId: rp.clientId });
    const h = holders[i % holders.length]!;
    // What the card does: PKCS#1 v1.5 over DigestInfo(SHA-256(to_be_signed)).
    const signature = sign('sha256', c.toBeSigned, h.key).toString('base64');
    prepared.push({ id: c.id, body: JSON.stringify({ nonce: c.nonce, certificate: h.certificate, signature }) });
  }

  log(`posting ${N} responses, ${C} at a time…`);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const failures = new Map<string, number>();
  const ok: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < prepared.length) {
        const n = next++;
        const job = prepared[n]!;
        const url = urls[n % urls.length]!;
        const t0 = performance.now();
        let status = 0;
        try {
          const answer = await post(`${url}/holder/v1/ceremonies/${job.id}/response`, job.body);
          status = answer.status;
          if (answer.error) failures.set(answer.error, (failures.get(answer.error) ?? 0) + 1);
        } catch (e) {
          status = -1;
          failures.set(`connection: ${(e as Error).message}`, (failures.get(`connection: ${(e as Error).message}`) ?? 0) + 1);
        }
        latencies.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) ok.push(job.id);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);

  // Every success has exactly one verified record; nothing else was recorded as verified.
  const rows = await db.query<{ ceremony_id: string; n: number }>("SELECT ceremony_id, count(*)::int AS n FROM records WHERE outcome = 'verified' GROUP BY ceremony_id");
  const verified = new Map(rows.map((r) => [r.ceremony_id, r.n]));
  const lost = ok.filter((id) => verified.get(id) !== 1).length;
  const extra = [...verified.keys()].filter((id) => !ok.includes(id)).length;
  const chain = await verifyChain(db);
  await db.close();
  const throughput = ok.length / seconds;

  // The references run after the load, on the same machine and database server.
  const references: Reference[] = [];
  if (!values['no-reference']) {
    log('measuring the references (PostgreSQL alone with pgbench, OpenSSL)…');
    references.push(await pgReference(database.url, C, true), await pgReference(database.url, C, false), await rsaReference());
  }

  printTable(
    `Load: ${N} ${kind} ceremonies, ${C} concurrent, ${S} kakunin serve process(es) + ${values['sim-in-process'] ? 'the simulated J-LIS inside the server' : 'the simulated J-LIS in its own process'} + PostgreSQL, all on this machine (${(await import('node:os')).cpus().length} cores, Node ${process.version})`,
    ['measure', 'value'],
    [
      ['throughput (ceremonies/s)', throughput.toFixed(0)],
      ['p50 latency (ms)', percentile(latencies, 50).toFixed(1)],
      ['p99 latency (ms)', percentile(latencies, 99).toFixed(1)],
      ['max latency (ms)', (latencies.at(-1) ?? NaN).toFixed(1)],
      ['succeeded', String(ok.length)],
      ['errors', [...statuses].filter(([s]) => s !== 200).map(([s, n]) => `${n}×${s}`).join(', ') || '0'],
      ['lost (success without exactly one record)', String(lost)],
      ['records without a success', String(extra)],
      ['hash chain', chain.ok ? `intact (${chain.checked} records)` : `BROKEN: ${chain.problems.length} problems`],
      ['target', '≥ 1,000 ceremonies/s, p99 < 50 ms, 0 lost'],
      ...references.map((r) => [`reference — ${r.label}`, r.perSecond && !r.label.startsWith('OpenSSL') ? `${r.value} (Kakunin: ${((100 * throughput) / r.perSecond).toFixed(0)} % of it)` : r.value]),
    ],
  );
  for (const [error, n] of failures) log(`${n}× ${error}`);
  if (lost > 0 || extra > 0 || !chain.ok) process.exitCode = 1;
} finally {
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => { c.once('exit', r); c.kill('SIGINT'); }) : undefined)));
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
