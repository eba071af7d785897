// `npm run load`: a bounded load run on 127.0.0.1 that prints, in one table, the figures of the
// load specification. Real `kakunin serve --sandbox` processes (S of them, one public URL, requests
// spread round robin) on one fresh PostgreSQL database, the simulated J-LIS in a process of its own
// (`kakunin sim serve`, as J-LIS would be), everything on the same cores:
//
// - the floor: PostgreSQL alone (pgbench, C clients, same server) running the least a verification
//   must write, in one round trip (load-floor.ts); beside it the old chain-head transaction;
// - the peak: holder responses per second, C at a time over ceremonies opened and signed beforehand
//   (each one a full verification: profile, chain, signature, revocation, nonce, subject, record),
//   and its ratio to the floor (load-holders.ts);
// - the latency at half the peak: an open loop at 50 % of the measured peak, fresh ceremonies, sent on
//   a schedule that does not wait for answers, latency from the scheduled time (no coordinated omission);
// - integration: commit → inclusion in a signed checkpoint of the records log (load-records.ts; "not
//   available" on a platform whose records are not a log yet), and afterwards: every success has
//   exactly one leaf, nothing else was recorded as verified, the log verifies (verifyLog);
// - the whole OIDC login per second (openid-client, authorize → ceremony → holder response → consent
//   → token → userinfo) beside the bare oidc-provider with a trivial login (load-oidc.ts,
//   load-bare-provider.ts).
//
// Options: --ceremonies N (2000: the peak's closed loop) --concurrency C (32) --kind login|identity
// (the profile of the holder figures: login uses the OCSP answer-reuse window, identity its own
// setting, 0 s by default) --servers S (1) --duration SECONDS (10: the open loop) --logins N (500 per
// provider) --no-oidc --sim-in-process (the simulator inside the server, as plain `kakunin serve
// --sandbox` runs it) --database-url URL (default: a new database on 127.0.0.1:5432, dropped
// afterwards) --profile DIR (the servers' V8 CPU profiles) --no-reference (skip the chain-head and
// OpenSSL references; the floor is always measured).
//
// Exit code 1 when a success has not exactly one record (or its leaf is never integrated), a record
// has no success, the log does not verify, or the run could not be completed.

import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULTS, createRelyingParty, loadConfig, loadMasterKey, openDatabase, type Database } from '@kakunin/server';
import { FLOOR_PAYLOAD_BYTES, measureFloor, rsaReference, type Reference } from './load-floor.js';
import { Origins } from './load-http.js';
import {
  closedLoop,
  loadHolders,
  openLoop,
  percentile,
  prepareCeremonies,
  type Kind,
  type Outcome,
} from './load-holders.js';
import {
  REDIRECT,
  bareTarget,
  kakuninTarget,
  loginSteps,
  loginSummary,
  runLogins,
  startBareProvider,
  type LoginOutcome,
} from './load-oidc.js';
import { installExitHandlers, log, shutdown, startPlatform, stopping } from './load-platform.js';
import { RECORDS_CHECK, checkRecords, measureIntegration } from './load-records.js';
import { printTable } from './table.js';

const { values } = parseArgs({
  options: {
    ceremonies: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    kind: { type: 'string', default: 'login' },
    servers: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    logins: { type: 'string', default: '500' },
    'no-oidc': { type: 'boolean', default: false },
    'sim-in-process': { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    profile: { type: 'string' },
    'no-reference': { type: 'boolean', default: false },
  },
});
const positive = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
};
const N = Math.round(positive('ceremonies', values.ceremonies));
const C = Math.round(positive('concurrency', values.concurrency));
const S = Math.round(positive('servers', values.servers));
const DURATION = positive('duration', values.duration);
const LOGINS = Math.round(positive('logins', values.logins));
if (values.kind !== 'login' && values.kind !== 'identity') throw new Error('--kind must be login or identity');
const kind: Kind = values.kind;
const FLOOR_SECONDS = 8;
const INTEGRATION_WAIT_SECONDS = 10;

const fmt = (n: number, digits = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '—';
const pct = (a: number, b: number | undefined): string => (b ? `${fmt((100 * a) / b)} %` : '—');
const meets = (ok: boolean | undefined): string => (ok === undefined ? '' : ok ? ' — met' : ' — NOT met');
const failuresOf = (label: string, failures: Map<string, number>): void => {
  for (const [error, n] of failures) log(`${label}: ${n}× ${error}`);
};
const errorCount = (o: { failures: Map<string, number> }): number =>
  [...o.failures.values()].reduce((a, b) => a + b, 0);

const cpuNotes: string[] = [];
/** Runs a load phase and logs its result and how much of a core the clients (this process) used. */
async function phase<T>(label: string, run: () => Promise<T>, summary: (r: T) => string): Promise<T> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await run();
  const cpu = process.cpuUsage(cpu0);
  const share = `${fmt((cpu.user + cpu.system) / 10 / (performance.now() - t0))} % of a core`;
  cpuNotes.push(`${label} ${share}`);
  log(`${label}: ${summary(r)} (the clients used ${share})`);
  return r;
}

installExitHandlers();
const started = performance.now();
let db: Database | undefined;
try {
  const platform = await startPlatform({
    servers: S,
    simInProcess: values['sim-in-process'],
    ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}),
    ...(values.profile ? { profileDir: values.profile } : {}),
  });
  db = await openDatabase({ databaseUrl: platform.databaseUrl, migrate: false });
  const config = loadConfig({ mode: 'sandbox', dataDir: platform.dataDir, ceremonyTtlSeconds: 3600 }, {});
  // The servers' own OCSP answer-reuse windows (their environment, their configuration file).
  let reuse = DEFAULTS.ocspReuseSeconds;
  try {
    reuse = loadConfig(
      { mode: 'sandbox', dataDir: platform.dataDir },
      { ...process.env, ...platform.env },
    ).ocspReuseSeconds;
  } catch {
    // the servers started, so their configuration is valid: keep the defaults for the label
  }
  const profileOf = (k: Kind): string =>
    reuse[k] > 0
      ? `${k}: OCSP answer reuse on, ${reuse[k]} s`
      : `${k}: OCSP answer reuse off (0 s${k === 'identity' ? ', its own setting' : ''})`;
  // Records written from here on are this run's (the database may be an existing one).
  const since = new Date(Date.now() - 1000);
  const masterKey = loadMasterKey(config);
  const rp = await createRelyingParty(
    { db, masterKey },
    { name: 'Load RP', redirectUris: [REDIRECT], framework: 'jp_aml' },
  );
  const holders = loadHolders(platform.simDir, kind);
  const succeeded = new Set<string>();
  const keep = (o: Outcome): Outcome => {
    for (const id of o.ok) succeeded.add(id);
    return o;
  };

  // The peak: a warm-up (JIT, connection pools, the first OCSP answers), then N responses, C at a time.
  const warmup = Math.min(200, Math.ceil(N / 10));
  log(`opening and signing ${warmup} + ${N} ${kind} ceremonies (${holders.length} residents)…`);
  const prepared = await prepareCeremonies({ db, config, rpClientId: rp.clientId, holders, kind }, warmup + N);
  log(`peak: ${warmup} warm-up responses, then ${N} responses, ${C} at a time, over ${S} server(s)…`);
  const warm = keep(await closedLoop(prepared.slice(0, warmup), platform.urls, C));
  failuresOf('warm-up', warm.failures);
  const peak = keep(
    await phase(
      'peak',
      () => closedLoop(prepared.slice(warmup), platform.urls, C),
      (o) => `${fmt(o.ok.length / o.seconds)} responses/s`,
    ),
  );
  failuresOf('peak', peak.failures);
  const peakRate = peak.ok.length / peak.seconds;
  if (!(peakRate > 0)) throw new Error('no holder response succeeded at the peak (the errors are above)');

  // Half the peak, open loop, fresh ceremonies.
  const rate = peakRate / 2;
  const count = Math.max(1, Math.round(rate * DURATION));
  log(`open loop: opening and signing ${count} ceremonies, then sending them at ${fmt(rate)}/s for ${DURATION} s…`);
  const fresh = await prepareCeremonies({ db, config, rpClientId: rp.clientId, holders, kind }, count);
  const open = keep(
    await phase(
      'open loop',
      () => openLoop(fresh, platform.urls, rate),
      (o) => `p50 ${fmt(percentile(o.latencies, 50), 1)} ms, p99 ${fmt(percentile(o.latencies, 99), 1)} ms`,
    ),
  );
  failuresOf('open loop', open.failures);

  // The whole OIDC login, the platform and the bare provider, the same client and concurrency.
  let logins: { kakunin: LoginOutcome; bare: LoginOutcome } | undefined;
  if (!values['no-oidc']) {
    const loginWarmup = Math.min(50, Math.ceil(LOGINS / 10));
    const target = kakuninTarget({
      origins: new Origins(platform.publicUrl, platform.urls),
      clientId: rp.clientId,
      clientSecret: rp.clientSecret,
      holders: kind === 'login' ? holders : loadHolders(platform.simDir, 'login'),
    });
    const kakunin = await phase('Kakunin logins', () => runLogins(target, LOGINS, C, loginWarmup), loginSummary);
    for (const id of target.ceremonies ?? []) succeeded.add(id);
    failuresOf('Kakunin logins', kakunin.failures);
    log(`Kakunin login, mean per step: ${loginSteps(kakunin)}`);
    log('starting the bare oidc-provider in its own process…');
    const bareUrl = await startBareProvider(rp.clientId, rp.clientSecret);
    const bare = await phase(
      'bare provider logins',
      () =>
        runLogins(
          bareTarget({ url: bareUrl, clientId: rp.clientId, clientSecret: rp.clientSecret }),
          LOGINS,
          C,
          loginWarmup,
        ),
      loginSummary,
    );
    failuresOf('bare provider logins', bare.failures);
    log(`bare provider login, mean per step: ${loginSteps(bare)}`);
    logins = { kakunin, bare };
  }

  log(`waiting for the records to be integrated (up to ${INTEGRATION_WAIT_SECONDS} s) and checking them…`);
  const integration = await measureIntegration(db, since, INTEGRATION_WAIT_SECONDS);
  const records = await checkRecords(db, masterKey, succeeded, since);
  const notIntegrated = integration.available ? integration.notIntegrated : 0;
  const lost = records.lost + notIntegrated;
  await db.close();
  db = undefined;

  log(
    `floor: pgbench, ${C} clients, ${FLOOR_SECONDS} s${values['no-reference'] ? '' : ', then the chain-head reference and OpenSSL'}…`,
  );
  const { floor, chainHead } = await measureFloor(platform.databaseUrl, C, FLOOR_SECONDS, !values['no-reference']);
  const references: Reference[] = [];
  if (chainHead) references.push(chainHead);
  if (!values['no-reference']) references.push(await rsaReference());

  const holderProfile = profileOf(kind);
  const loginProfile = profileOf('login');
  const ratio = floor.perSecond ? peakRate / floor.perSecond : undefined;
  const openP99 = percentile(open.latencies, 99);
  const rows: string[][] = [
    [floor.label, '—', floor.value, '(the floor)'],
    [
      `peak: holder responses/s (closed loop, ${C} concurrent, ${fmt(N)} after ${warmup} warm-up)`,
      holderProfile,
      `${fmt(peakRate)}/s = ${pct(peakRate, floor.perSecond)} of the floor`,
      `≥ 50 % of the floor${meets(ratio === undefined ? undefined : ratio >= 0.5)}`,
    ],
    [
      '  latency at the peak (closed loop): p50 / p99',
      holderProfile,
      `${fmt(percentile(peak.latencies, 50), 1)} / ${fmt(percentile(peak.latencies, 99), 1)} ms`,
      '(for reading only)',
    ],
    [
      `latency at half the peak (open loop, ${fmt(rate)}/s for ${DURATION} s): p50 / p99`,
      holderProfile,
      `${fmt(percentile(open.latencies, 50), 1)} / ${fmt(openP99, 1)} ms (max ${fmt(open.latencies.at(-1) ?? NaN, 1)}, ≤ ${open.maxInFlight} in flight)`,
      `p99 < 50 ms${meets(openP99 < 50)}`,
    ],
    integration.available
      ? [
          `integration: commit → in a signed checkpoint, p50 / p99 (${fmt(integration.records)} records)`,
          'all of the run',
          `${fmt(integration.p50, 1)} / ${fmt(integration.p99, 1)} ms (max ${fmt(integration.max, 1)})`,
          `p99 < 1 s${meets(integration.p99 < 1000 && integration.notIntegrated === 0)}`,
        ]
      : [
          'integration: commit → in a signed checkpoint, p50 / p99',
          'all of the run',
          'not available (records are not a log yet)',
          'p99 < 1 s',
        ],
    [
      'holder responses: succeeded / failed',
      'all of the run',
      `${fmt(succeeded.size)} / ${fmt(errorCount(warm) + errorCount(peak) + errorCount(open))}${logins ? ' (+ failed logins below)' : ''}`,
      '',
    ],
    [
      'lost: success without exactly one leaf (or never integrated)',
      'all of the run',
      `${lost}${notIntegrated ? ` (${notIntegrated} not integrated after ${INTEGRATION_WAIT_SECONDS} s)` : ''}`,
      `0${meets(lost === 0)}`,
    ],
    [
      'extra: verified record without a success',
      'all of the run',
      String(records.extra),
      `0${meets(records.extra === 0)}`,
    ],
    [
      `records check: ${RECORDS_CHECK}`,
      'all of the run',
      records.check.ok
        ? `verifies (${fmt(records.check.checked)} leaves${records.check.pending ? `, ${records.check.pending} not yet integrated` : ''})`
        : `FAILS: ${records.check.note ?? `${records.check.problems} problems`}`,
      `verifies${meets(records.check.ok)}`,
    ],
  ];
  if (logins) {
    const k = logins.kakunin;
    const b = logins.bare;
    const kRate = k.ok / k.seconds;
    const bRate = b.ok / b.seconds;
    rows.push(
      [
        `OIDC logins/s, Kakunin (${fmt(LOGINS)}, ${C} concurrent)`,
        loginProfile,
        `${loginSummary(k)}${errorCount(k) ? `, ${errorCount(k)} failed` : ''}`,
        '',
      ],
      [
        'OIDC logins/s, bare oidc-provider, trivial login (same client and flow)',
        'no ceremony',
        `${loginSummary(b)}${errorCount(b) ? `, ${errorCount(b)} failed` : ''}`,
        '',
      ],
      [
        'OIDC logins/s: Kakunin / bare oidc-provider',
        loginProfile,
        pct(kRate, bRate),
        `≥ 50 %${meets(bRate > 0 ? kRate / bRate >= 0.5 : undefined)}`,
      ],
    );
  }
  for (const r of references)
    rows.push([
      r.label,
      '—',
      r.perSecond && r === chainHead ? `${r.value} (the peak: ${pct(peakRate, r.perSecond)} of it)` : r.value,
      '',
    ]);

  printTable(
    `Load: ${S} kakunin serve process(es) on one PostgreSQL + ${values['sim-in-process'] ? 'the simulated J-LIS inside the server' : 'the simulated J-LIS in its own process'}, ${C} concurrent, all on this machine (${cpus().length} cores, Node ${process.version}); ${((performance.now() - started) / 1000).toFixed(0)} s`,
    ['figure', 'profile', 'value', 'target'],
    rows,
  );
  console.log(
    [
      '',
      `- floor: one statement (data-modifying CTE) per transaction: consume a nonce, complete a ceremony, insert a records-like row (${FLOOR_PAYLOAD_BYTES}-byte jsonb payload, 32-byte leaf hash, the records indexes); no row touched by every transaction.`,
      '- old design: BEGIN; the nonce; the ceremony; advance the one chain head and insert the record; COMMIT — every transaction updates the same row.',
      `- profiles: login = the OCSP answer-reuse window for logins (KAKUNIN_OCSP_REUSE_LOGIN_SECONDS, ${reuse.login} s here: a resident's second login within it asks J-LIS nothing); identity = identity proofing's own setting (KAKUNIN_OCSP_REUSE_IDENTITY_SECONDS, ${reuse.identity} s here). The holder figures use --kind ${kind}; OIDC logins are always logins.`,
      '- open loop: each response is sent at its scheduled time whatever is still in flight; its latency counts from that time.',
      '- OIDC: openid-client (discovery once; per login PKCE, state, code grant with client_secret_basic, ID token validation, userinfo) and a cookie-keeping browser; the bare provider is oidc-provider 9.13 from packages/server with in-memory storage and a login form answered by one POST.',
      `- the load clients run in this process, on the same cores (figures are the platform's and the clients' together): ${cpuNotes.join('; ')}.`,
    ].join('\n'),
  );
  if (lost > 0 || records.extra > 0 || !records.check.ok) process.exitCode = 1;
} catch (e) {
  if (!stopping()) log(`failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
} finally {
  await db?.close().catch(() => undefined);
  await shutdown();
}
// Kept-alive client connections (node:http, fetch) would keep the process waiting for them.
process.exit(process.exitCode ?? 0);
