// `npm run bench:monitor`: revocation monitoring at platform scale, on PostgreSQL (not part of npm test).
//
// CRL mode: WATCHED synthetic watched certificates (generate_series, spread over the simulator's
// signing issuers and five RPs), a last-processed CRL of BASE entries, then a new CRL of the same
// issuer adding NEW entries of which MATCH are watched. The new CRL goes the production way: served
// over HTTP, fetched by the CrlRefresher (a crl-refresh job), stored, installed; the installation
// enqueues the crl-monitor job, which a Worker runs. Measured: from the install to the MATCH-th
// webhook job in the queue, the process's peak RSS, and the J-LIS lookups counted by the usage meter.
//
// OCSP mode: OCSP_WATCHED watched certificates re-checked one by one against the simulator's OCSP
// responder (in this process, fresh nonces, no pacing), the per-certificate figure extrapolated.
//
// Environment: MONITOR_WATCHED (default 1000000; the README figure is 10000000), MONITOR_BASE
// (1000000), MONITOR_NEW (10000), MONITOR_MATCH (1000), MONITOR_OCSP_WATCHED (10000; README 100000).

import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcspClient, TrustStore, httpOcspFetcher, ocspCertId } from '@kakunin/jpki';
import { httpCrlFetcher } from '@kakunin/jpki/http';
import { buildSyntheticCrl, crlIssuerOf, initSandbox, startSimServices, syntheticSerial } from '@kakunin/sim';
import { CrlRefresher, JpkiVerifier, UsageMeter, crlSource, openDatabase, type Database } from '@kakunin/server';
import {
  CRL_MONITOR_QUEUE,
  CrlMonitor,
  WEBHOOK_QUEUE,
  Worker,
  createPostgresDatabase,
  runRevocationMonitor,
} from '@kakunin/server/testing';
import { printTable } from './table.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const WATCHED = env('MONITOR_WATCHED', 1_000_000);
const BASE = env('MONITOR_BASE', 1_000_000);
const NEW = env('MONITOR_NEW', 10_000);
const MATCH = env('MONITOR_MATCH', 1_000);
const OCSP_WATCHED = env('MONITOR_OCSP_WATCHED', 10_000);
const RPS = 5;
const silent = process.env.MONITOR_DEBUG
  ? {
      info: (o: unknown, m?: string) => console.error(m, o),
      warn: (o: unknown, m?: string) => console.error(m, o),
      error: (o: unknown, m?: string) => console.error(m, o),
    }
  : { info: () => undefined, warn: () => undefined, error: (o: unknown, m?: string) => console.error(m, o) };
const fmt = (n: number): string => Math.round(n).toLocaleString('en');
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

const work = mkdtempSync(join(tmpdir(), 'kakunin-monitor-bench-'));
const sandbox = await initSandbox({ dir: join(work, 'sim'), seed: 'monitor-bench' });
const trustStore = TrustStore.jlis();
for (const root of sandbox.roots()) trustStore.add(root.der, { label: root.id, medium: root.medium });
const signRoots = sandbox.roots().filter((r) => r.kind === 'sign');
const issuerId = signRoots.find((r) => r.medium === 'card')!.id;
const anchor = trustStore.list().find((a) => a.label === issuerId)!.certificate.x509;

/** RPs (the first has a webhook) and subjects the synthetic rows point at. */
async function parties(db: Database): Promise<string[]> {
  const ids = Array.from({ length: RPS }, (_, i) => `rp_bench_${i}`);
  for (const [i, id] of ids.entries()) {
    await db.query(
      `INSERT INTO relying_parties (client_id, client_secret, name, redirect_uris, ceremonies, framework, purpose, webhook_url, webhook_secret)
       VALUES ($1, 'x', $2, '["http://127.0.0.1:9/cb"]', '["identity"]', 'other', 'bench', $3, 'x')`,
      [id, `Bench ${i}`, i === 0 ? 'http://127.0.0.1:9/hook' : null],
    );
  }
  await db.query(`INSERT INTO subjects (id) SELECT 'sub_' || i FROM generate_series(0, 999) i`);
  return ids;
}

/** `count` good rows with serials outside the synthetic CRL's range (0x10000000 + i), spread over RPs and signing issuers. */
async function insertWatched(
  db: Database,
  rps: string[],
  issuers: string[],
  count: number,
  hashes: { name: Buffer; key: Buffer },
): Promise<void> {
  const chunk = 1_000_000;
  for (let from = 0; from < count; from += chunk) {
    const to = Math.min(count, from + chunk) - 1;
    await db.query(
      `INSERT INTO monitored_certificates (rp_client_id, subject_id, record_id, issuer_id, serial, issuer_name_hash, issuer_key_hash, not_after)
       SELECT ($1::jsonb ->> (i % ${RPS})::int), 'sub_' || (i % 1000), 'rec_' || i, ($2::jsonb ->> ((i / ${RPS}) % ${issuers.length})::int), upper(to_hex(268435456 + i)), $3, $4, now() + interval '3 years'
       FROM generate_series($5::bigint, $6::bigint) i`,
      [JSON.stringify(rps), JSON.stringify(issuers), hashes.name, hashes.key, from, to],
    );
    log(`${fmt(to + 1)} watched rows`);
  }
}

async function crlMode(): Promise<string[][]> {
  const pg = await createPostgresDatabase('kakunin_bench');
  const db = await openDatabase({ databaseUrl: pg.url });
  try {
    const rps = await parties(db);
    // Bulk load without the secondary indexes, then build them (as a restore would).
    await db.exec(
      'DROP INDEX monitored_certificates_status; DROP INDEX monitored_certificates_issuer_serial; ALTER TABLE monitored_certificates DROP CONSTRAINT monitored_certificates_rp_client_id_issuer_id_serial_key',
    );
    const loadStart = performance.now();
    await insertWatched(
      db,
      rps,
      signRoots.map((r) => r.id),
      WATCHED - MATCH,
      { name: Buffer.alloc(20), key: Buffer.alloc(20) },
    );
    // The watched ones among the new CRL entries: every (NEW / MATCH)-th, all of the first RP (which has a webhook).
    const step = Math.floor(NEW / MATCH);
    const matching = Array.from({ length: MATCH }, (_, k) => syntheticSerial(BASE + k * step));
    await db.query(
      `INSERT INTO monitored_certificates (rp_client_id, subject_id, record_id, issuer_id, serial, issuer_name_hash, issuer_key_hash, not_after)
       SELECT $1, 'sub_0', 'rec_m' || s, $2, s, $3, $3, now() + interval '3 years' FROM jsonb_array_elements_text($4::jsonb) s`,
      [rps[0]!, issuerId, Buffer.alloc(20), JSON.stringify(matching)],
    );
    await db.exec(`SET maintenance_work_mem = '1GB'`);
    await db.exec('ALTER TABLE monitored_certificates ADD UNIQUE (rp_client_id, issuer_id, serial)');
    await db.exec('CREATE INDEX monitored_certificates_status ON monitored_certificates (status, id)');
    await db.exec('CREATE INDEX monitored_certificates_issuer_serial ON monitored_certificates (issuer_id, serial)');
    await db.exec('VACUUM ANALYZE monitored_certificates');
    log(`${fmt(WATCHED)} watched rows loaded and indexed in ${secs(performance.now() - loadStart)}`);

    // The last processed CRL of the issuer: BASE entries.
    const signer = crlIssuerOf(sandbox.ca.root(issuerId));
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 3600_000);
    const base = buildSyntheticCrl(signer, BASE, { thisUpdate: t0 });
    await db.query(
      `INSERT INTO crl_monitor_state (scope, issuer, crl_number, this_update, sha256, der, entries, processed_at) VALUES ($1, $1, NULL, $2, $3, $4, $5, now())`,
      [issuerId, t0, createHash('sha256').update(base).digest('hex'), base, BASE],
    );
    // The new CRL: the same entries plus NEW more, served over HTTP like J-LIS would.
    const fresh = buildSyntheticCrl(signer, BASE + NEW, { thisUpdate: new Date(t0.getTime() + 3000_000) });
    const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(fresh));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/${issuerId}.crl`;

    const usage = new UsageMeter(db);
    const settings = { refreshAheadSeconds: 3600, graceSeconds: 3600, retrySeconds: 300 };
    const refresher = new CrlRefresher({
      db,
      trustStore,
      sources: [crlSource({ url, issuer: issuerId })],
      settings,
      fetcher: usage.crlFetcher(httpCrlFetcher()),
      log: silent,
    });
    const monitor = new CrlMonitor({ db, trustStore, log: silent });
    const worker = new Worker({
      db,
      log: silent,
      pollMs: 50,
      queues: { [CRL_MONITOR_QUEUE]: monitor.queue(refresher) },
    });
    let installedAt = 0;
    refresher.onInstalled(() => (installedAt = performance.now()));
    monitor.follow(refresher, () => worker.wake());
    worker.start();
    const fetchStart = performance.now();
    await refresher.runDue(); // fetch, verify, store, install
    const fetched = performance.now();
    let lastAt = 0;
    for (;;) {
      const [{ n }] = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE queue = $1', [
        WEBHOOK_QUEUE,
      ])) as [{ n: number }];
      if (n >= MATCH) {
        lastAt = performance.now();
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await worker.stop();
    await refresher.stop();
    await usage.stop();
    http.close();
    const [{ events }] = (await db.query<{ events: number }>(
      `SELECT count(*)::int AS events FROM events WHERE type = 'certificate.revoked'`,
    )) as [{ events: number }];
    const lookups = await db.query<{ lookup: string; purpose: string; requests: string }>(
      'SELECT lookup, purpose, requests FROM jlis_usage',
    );
    const rss = process.resourceUsage().maxRSS / 1024;
    return [
      ['watched certificates', fmt(WATCHED)],
      ['last processed CRL / new CRL entries', `${fmt(BASE)} / ${fmt(BASE + NEW)} (+${fmt(NEW)})`],
      ['fetch + verify + store + install of the new CRL', secs(fetched - fetchStart)],
      [`install → ${fmt(MATCH)}th webhook job enqueued`, secs(lastAt - installedAt)],
      ['revocation events written', fmt(events)],
      ['peak RSS of the process (incl. building both synthetic CRLs)', `${fmt(rss)} MB`],
      [
        'J-LIS lookups for the run',
        `${lookups.map((l) => `${l.lookup}/${l.purpose} ${l.requests}`).join(', ') || '0'} — 0 per watched certificate`,
      ],
    ];
  } finally {
    await db.close();
    await pg.drop();
  }
}

async function ocspMode(): Promise<string[][]> {
  const pg = await createPostgresDatabase('kakunin_bench');
  const db = await openDatabase({ databaseUrl: pg.url });
  const services = await startSimServices({ sandbox });
  try {
    const rps = await parties(db);
    const certId = ocspCertId('01', anchor);
    // Every row under the card signing issuer with its real CertID hashes, so each re-check is a real OCSP exchange.
    await insertWatched(db, rps, [issuerId], OCSP_WATCHED, { name: certId.nameHash, key: certId.keyHash });
    const usage = new UsageMeter(db);
    const verifier = new JpkiVerifier({
      mode: 'sandbox',
      trustStore,
      revocation: new OcspClient({ url: `${services.url}/ocsp`, fetcher: usage.ocspFetcher(httpOcspFetcher(5000)) }),
    });
    const started = performance.now();
    const report = await runRevocationMonitor({ db, verifier, log: silent }, { mode: 'ocsp', batchSize: 500 });
    const ms = performance.now() - started;
    await usage.stop();
    const [{ requests }] = (await db.query<{ requests: string }>(
      `SELECT coalesce(sum(requests), 0) AS requests FROM jlis_usage WHERE lookup = 'ocsp' AND purpose = 'monitoring'`,
    )) as [{ requests: string }];
    const perSecond = report.checked / (ms / 1000);
    return [
      ['watched certificates', fmt(OCSP_WATCHED)],
      ['one monitor run (every row re-checked, no pacing)', secs(ms)],
      ['re-checks per second', fmt(perSecond)],
      ['J-LIS lookups for the run (OCSP, monitoring)', fmt(Number(requests))],
      [
        'extrapolated to 10,000,000: one run',
        `${(10_000_000 / perSecond / 3600).toFixed(1)} h, 10,000,000 J-LIS requests`,
      ],
      [
        'extrapolated to 10,000,000: per day',
        `240,000,000 J-LIS requests with hourly runs; a run lasting ${(10_000_000 / perSecond / 3600).toFixed(1)} h, back to back: ${fmt((24 * 3600 * perSecond) / 1e6)} million`,
      ],
      ['at the default pace (monitorOcspPerSecond 50)', `${(10_000_000 / 50 / 3600).toFixed(1)} h per run`],
    ];
  } finally {
    await services.close();
    await db.close();
    await pg.drop();
  }
}

try {
  console.log(
    `kakunin monitor at scale — node ${process.version}, PostgreSQL; MONITOR_WATCHED=${WATCHED} MONITOR_BASE=${BASE} MONITOR_NEW=${NEW} MONITOR_MATCH=${MATCH} MONITOR_OCSP_WATCHED=${OCSP_WATCHED}`,
  );
  printTable('CRL-driven monitoring (monitorMode crl)', ['measure', 'value'], await crlMode());
  printTable('Per-certificate OCSP monitoring (monitorMode ocsp)', ['measure', 'value'], await ocspMode());
} finally {
  rmSync(work, { recursive: true, force: true });
}
