// `npm run load`: a bounded load run on 127.0.0.1. A real `kakunin serve --sandbox` process on a
// fresh PostgreSQL database answers N holder responses, C at a time, over HTTP: each is a full
// verification (profile, chain, signature, OCSP at the simulated J-LIS, nonce, subject, record in one
// transaction). Ceremonies are opened and signed beforehand (the holders' cards), so the figures are
// the platform's. Afterwards every success must have exactly one verified record and the hash chain
// must verify. Options: --ceremonies N (2000) --concurrency C (32) --kind login|identity
// --database-url URL (default: a new database on 127.0.0.1:5432, dropped afterwards).

import { spawn } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openSandbox } from '@kakunin/sim';
import { createCeremony, createRelyingParty, loadConfig, openDatabase, verifyChain } from '@kakunin/server';
import { printTable } from './table.js';

const { values } = parseArgs({
  options: {
    ceremonies: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    kind: { type: 'string', default: 'login' },
    'database-url': { type: 'string' },
  },
});
const N = Number(values.ceremonies);
const C = Number(values.concurrency);
const kind = values.kind === 'identity' ? 'identity' : 'login';
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

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const dataDir = mkdtempSync(join(tmpdir(), 'kakunin-load-'));
const database = await freshDatabase();
log(`starting kakunin serve on PostgreSQL (${database.url})…`);
const bin = new URL('../packages/cli/bin/kakunin.js', import.meta.url).pathname;
const server = spawn(process.execPath, [bin, 'serve', '--sandbox', '--port', '0', '--data-dir', dataDir, '--database-url', database.url, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KAKUNIN_MONITOR_INTERVAL_SECONDS: '0' } });
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: server.stdout! }).once('line', resolve);
  server.once('exit', (code) => reject(new Error(`kakunin serve exited with ${code}`)));
});

try {
  const db = await openDatabase({ databaseUrl: database.url, migrate: false });
  const config = loadConfig({ mode: 'sandbox', dataDir, ceremonyTtlSeconds: 3600 }, {});
  const sandbox = openSandbox(join(dataDir, 'sim'));
  const certKind = kind === 'login' ? 'auth' : 'sign';
  const people = sandbox.people().filter((p) => sandbox.certificates({ personId: p.id, kind: certKind, medium: 'card' }).length > 0);
  const holders = people.map((p) => ({ certificate: sandbox.certificateDer(sandbox.currentCertificateRecord(p.id, certKind, 'card').issuerId, sandbox.currentCertificateRecord(p.id, certKind, 'card').serial).toString('base64'), key: sandbox.privateKey(p.id, certKind, 'card') }));
  const rp = await createRelyingParty(db, { name: 'Load RP', redirectUris: ['http://127.0.0.1:9/cb'], framework: 'jp_aml' });

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
  const ok: string[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < prepared.length) {
        const job = prepared[next++]!;
        const t0 = performance.now();
        let status = 0;
        try {
          const res = await fetch(`${url}/holder/v1/ceremonies/${job.id}/response`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: job.body });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = -1;
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

  printTable(
    `Load: ${N} ${kind} ceremonies, ${C} concurrent, kakunin serve (1 process) + PostgreSQL on this machine (${(await import('node:os')).cpus().length} cores, Node ${process.version})`,
    ['measure', 'value'],
    [
      ['throughput (ceremonies/s)', (ok.length / seconds).toFixed(0)],
      ['p50 latency (ms)', percentile(latencies, 50).toFixed(1)],
      ['p99 latency (ms)', percentile(latencies, 99).toFixed(1)],
      ['max latency (ms)', (latencies.at(-1) ?? NaN).toFixed(1)],
      ['succeeded', String(ok.length)],
      ['errors', [...statuses].filter(([s]) => s !== 200).map(([s, n]) => `${n}×${s}`).join(', ') || '0'],
      ['lost (success without exactly one record)', String(lost)],
      ['records without a success', String(extra)],
      ['hash chain', chain.ok ? `intact (${chain.checked} records)` : `BROKEN: ${chain.problems.length} problems`],
      ['target', '≥ 1,000 ceremonies/s, p99 < 50 ms, 0 lost'],
    ],
  );
  if (lost > 0 || extra > 0 || !chain.ok) process.exitCode = 1;
} finally {
  server.kill('SIGINT');
  await new Promise((r) => server.once('exit', r));
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
}
