// Fault: PostgreSQL restarts while the platform is under load. A real `kakunin serve --sandbox`
// process on a PRIVATE PostgreSQL cluster (support/private-postgres.ts; the machine's shared one is
// never touched) answers 200 pre-signed login responses, in bursts of 16, while the cluster is
// restarted twice: `pg_ctl restart -m fast` (connections terminated mid-transaction), then
// `pg_ctl stop -m fast`, 1.5 s down, `pg_ctl start` (requests land while it is down). Holders retry a
// failed post after 200 ms, as an app would (the nonce is only consumed by a committed outcome).
//
// Must hold: the server process survives; every attempt gets an answer within a timeout — 200, or a
// clean JSON error (5xx while the database is away; 409 CEREMONY_FINISHED only when an earlier
// attempt's commit landed but its answer was lost); every 200 has exactly one verified record;
// every ceremony is completed with exactly one verified record or not completed with none (no
// half-written outcome); no ceremony is verified twice; the records log verifies; /readyz says 503
// while the database is down and 200 after; a new OIDC login through the same process works after.

import { sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSandbox, type Sandbox } from '@kakunin/sim';
import {
  createCeremony,
  createRelyingParty,
  loadConfig,
  loadMasterKey,
  openDatabase,
  type Database,
} from '@kakunin/server';
import { storedLogVerifierKey, verifyLog } from '@kakunin/server/records';
import { serve, type ServeProcess } from '@kakunin/cli/testing';
import { authorizationRequest, Browser, holderLinkOf, signAsHolder } from '@kakunin/server/testing';
import { findPostgresBin, startPrivatePostgres, type PrivatePostgres } from './support/private-postgres.js';
import { copySharedSandbox } from './support/shared-sandbox.js';

const REDIRECT = 'http://127.0.0.1:9/cb';
const CEREMONIES = 200;
const CONCURRENCY = 16;
/** No single request may take longer than this (a hang). */
const ATTEMPT_TIMEOUT_MS = 15_000;
const RETRY_AFTER_MS = 200;
/** Responses go out CONCURRENCY at a time, one burst every BURST_MS (at most ~100/s). */
const BURST_MS = 160;
/** Fault 1 fires once this many ceremonies have completed. */
const FAULT_AFTER = 30;
/** Holders give up retrying after this long (the run then fails on the pending ceremonies). */
const RUN_DEADLINE_MS = 40_000;

let cluster: PrivatePostgres;
let databaseUrl: string;
let dataDir: string;
let server: ServeProcess;
let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
let db: Database;
let sandbox: Sandbox;
let rp: { clientId: string; clientSecret: string };

beforeAll(async () => {
  findPostgresBin(); // no PostgreSQL server binaries: fail here, with the reason, before anything starts
  dataDir = mkdtempSync(join(tmpdir(), 'kakunin-faults-serve-'));
  // `serve --sandbox` opens DATA_DIR/sim instead of creating one.
  [cluster] = await Promise.all([startPrivatePostgres(), copySharedSandbox(join(dataDir, 'sim'))]);
  databaseUrl = await cluster.createDatabase('kakunin_faults');
  server = await serve(['--data-dir', dataDir, '--database-url', databaseUrl]);
  server.child.once('exit', (code, signal) => (exited = { code, signal }));
  db = await openDatabase({ databaseUrl, migrate: false, poolSize: 4 });
  sandbox = openSandbox(join(dataDir, 'sim'));
  rp = await createRelyingParty(
    { db, masterKey: loadMasterKey({ mode: 'sandbox', dataDir }) },
    { name: 'Faults RP', redirectUris: [REDIRECT] },
  );
}, 120_000);

afterAll(async () => {
  await server?.stop(true);
  await db?.close().catch(() => undefined);
  await cluster?.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Attempt {
  ceremonyId: string;
  status: number | 'network-error';
  /** error.code of a JSON error body, state of a success, or what was wrong with the answer. */
  code: string;
  ms: number;
  startedAt: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function post(url: string, ceremonyId: string, body: string): Promise<Attempt> {
  const startedAt = Date.now();
  const done = (status: Attempt['status'], code: string): Attempt => ({
    ceremonyId,
    status,
    code,
    ms: Date.now() - startedAt,
    startedAt,
  });
  let res: Response;
  try {
    res = await fetch(`${url}/holder/v1/ceremonies/${ceremonyId}/response`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
  } catch (e) {
    return done('network-error', `${(e as Error).name}: ${(e as Error).message}`);
  }
  const text = await res.text().catch((e: unknown) => `<body lost: ${(e as Error).message}>`);
  let json: { state?: string; ceremony_id?: string; error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return done(res.status, `not JSON: ${text.slice(0, 80)}`);
  }
  if (res.status === 200)
    return done(
      200,
      json?.state === 'completed' && json.ceremony_id === ceremonyId
        ? 'completed'
        : `unexpected body ${text.slice(0, 80)}`,
    );
  const clean = typeof json?.error?.code === 'string' && typeof json.error.message === 'string';
  return done(res.status, clean ? String(json!.error!.code) : `no error object: ${text.slice(0, 80)}`);
}

/** The holder side of a fresh OIDC login through the server, end to end (ceremony created by the server). */
async function loginThroughServer(person: string): Promise<string> {
  const { config, verifier, state, url } = await authorizationRequest(server.url, rp.clientId, rp.clientSecret, {
    redirectUri: REDIRECT,
  });
  const browser = new Browser();
  const page = await browser.go(url.toString(), server.url);
  const id = holderLinkOf(page.body).split('/').pop()!;
  const view = (await (await fetch(`${server.url}/holder/v1/ceremonies/${id}`)).json()) as {
    certificate: 'auth' | 'sign';
    nonce: string;
    to_be_signed: string;
  };
  const answer = await post(server.url, id, JSON.stringify(await signAsHolder(sandbox, view, { person })));
  expect(answer).toMatchObject({ status: 200, code: 'completed' });
  const uid = /\/interaction\/([^/?]+)/.exec(page.url)![1]!;
  const consent = await browser.go(`${server.url}/interaction/${uid}/continue`, server.url);
  const consentUid = /\/interaction\/([^/?]+)/.exec(consent.url)![1]!;
  const landed = await browser.go(`${server.url}/interaction/${consentUid}/consent`, server.url, {
    method: 'POST',
    form: {},
  });
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.url), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  });
  return tokens.claims()!.sub;
}

describe('PostgreSQL restarts during a load run', () => {
  it('no finished record is lost, nothing is half-written, failed requests fail cleanly, the process survives and serves again', async () => {
    // Open and sign the ceremonies beforehand (the holders' cards), as bench/load.ts does.
    const config = loadConfig({ mode: 'sandbox', dataDir, ceremonyTtlSeconds: 3600 }, {});
    const holders = sandbox
      .people()
      .filter((p) => sandbox.certificates({ personId: p.id, kind: 'auth', medium: 'card' }).length > 0)
      .map((p) => {
        const rec = sandbox.currentCertificateRecord(p.id, 'auth', 'card');
        return {
          id: p.id,
          certificate: sandbox.certificateDer(rec.issuerId, rec.serial).toString('base64'),
          key: sandbox.privateKey(p.id, 'auth', 'card') as KeyObject,
        };
      });
    expect(holders.length).toBeGreaterThan(0);
    const jobs: { id: string; body: string }[] = [];
    for (let i = 0; i < CEREMONIES; i++) {
      const c = await createCeremony({ db, config }, { kind: 'login', rpClientId: rp.clientId });
      const h = holders[i % holders.length]!;
      jobs.push({
        id: c.id,
        body: JSON.stringify({
          nonce: c.nonce,
          certificate: h.certificate,
          signature: sign('sha256', c.toBeSigned, h.key).toString('base64'),
        }),
      });
    }
    const ids = jobs.map((j) => j.id);

    // The load run. Responses go out in bursts of CONCURRENCY every BURST_MS (so that the run lasts
    // through both faults however fast the machine is), retried after RETRY_AFTER_MS while they fail.
    // Fault 1 fires once FAULT_AFTER ceremonies have completed; the middle third of the responses is
    // held until it is over, the last third until fault 2 has the database down.
    const attempts: Attempt[] = [];
    const succeeded = new Set<string>();
    const faults: { what: string; from: number; to: number }[] = [];
    const readyWhileDown: number[] = [];
    let faultError: unknown;
    let fault1Over!: () => void;
    let databaseDown!: () => void;
    const afterFault1 = new Promise<void>((r) => (fault1Over = r));
    const whileDown = new Promise<void>((r) => (databaseDown = r));
    let faulting: Promise<void> | undefined;
    const fire = (): void => {
      faulting ??= (async () => {
        try {
          let from = Date.now();
          await cluster.restart();
          faults.push({ what: 'pg_ctl restart -m fast', from, to: Date.now() });
          fault1Over();
          await sleep(300);
          from = Date.now();
          await cluster.stop();
          databaseDown();
          readyWhileDown.push(
            (await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS) })).status,
          );
          await sleep(1_500);
          await cluster.start();
          faults.push({ what: 'pg_ctl stop -m fast; 1.5 s down; pg_ctl start', from, to: Date.now() });
        } catch (e) {
          faultError = e;
        } finally {
          fault1Over();
          databaseDown();
        }
      })();
    };
    const runStart = Date.now();
    const deadline = runStart + RUN_DEADLINE_MS;
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < jobs.length) {
          const i = next++;
          const job = jobs[i]!;
          await sleep(runStart + Math.floor(i / CONCURRENCY) * BURST_MS - Date.now());
          if (i >= CEREMONIES / 3) {
            fire(); // in case FAULT_AFTER successes never came
            await (i >= (2 * CEREMONIES) / 3 ? whileDown : afterFault1);
          }
          while (exited === undefined && Date.now() < deadline) {
            const a = await post(server.url, job.id, job.body);
            attempts.push(a);
            if (a.status === 200) {
              succeeded.add(job.id);
              if (succeeded.size >= FAULT_AFTER) fire();
              break;
            }
            // A 409 after an earlier failed attempt: that attempt's commit landed, its answer was lost.
            if (a.status === 409) break;
            if (a.status !== 'network-error' && a.status < 500) break; // not retriable: an assertion below reports it
            await sleep(RETRY_AFTER_MS);
          }
        }
      }),
    );
    await faulting;
    const failed = attempts.filter((a) => a.status !== 200);
    const kinds = new Map<string, number>();
    for (const a of failed) kinds.set(`${a.status} ${a.code}`, (kinds.get(`${a.status} ${a.code}`) ?? 0) + 1);
    const during = faults.map((f) => failed.filter((a) => a.startedAt >= f.from && a.startedAt <= f.to).length);
    const summary = `${attempts.length} attempts in ${Date.now() - runStart} ms, ${succeeded.size} answered 200, failures: ${JSON.stringify([...kinds])}; faults: ${JSON.stringify(faults)}, failed attempts started during each: ${JSON.stringify(during)}`;

    if (process.env.KAKUNIN_FAULTS_VERBOSE) {
      const errors = new Map<string, number>();
      for (const line of server.stderr().split('\n')) {
        const m = /"err":\{"type":"[^"]*","message":"([^"]*)"/.exec(line);
        if (m) errors.set(m[1]!, (errors.get(m[1]!) ?? 0) + 1);
      }
      console.log(`${summary}\nserver-side errors: ${JSON.stringify([...errors])}`);
    }

    // The server process survived both restarts.
    expect(
      exited,
      `kakunin serve died during the restarts (${summary})\n${server.stderr().slice(-3000)}`,
    ).toBeUndefined();
    // Both faults happened during the run and were felt by it.
    expect(faultError).toBeUndefined();
    expect(
      faults.map((f) => f.what),
      summary,
    ).toHaveLength(2);
    expect(during[1], summary).toBeGreaterThan(0);
    expect(readyWhileDown).toEqual([503]);

    // Every attempt was answered in time, with a success or a clean JSON error.
    expect(
      attempts.filter((a) => a.status === 'network-error'),
      summary,
    ).toEqual([]);
    expect(
      attempts.filter((a) => a.ms >= ATTEMPT_TIMEOUT_MS),
      summary,
    ).toEqual([]);
    expect(
      attempts.filter((a) => a.status === 200 && a.code !== 'completed'),
      summary,
    ).toEqual([]);
    expect(
      failed.filter(
        (a) =>
          !(typeof a.status === 'number' && a.status >= 500 && /^[A-Z_]+$/.test(a.code)) &&
          !(a.status === 409 && a.code === 'CEREMONY_FINISHED'),
      ),
      summary,
    ).toEqual([]);

    // The database, ceremony by ceremony: outcome and records agree.
    const rows = await db.query<{
      id: string;
      state: string;
      record_id: string | null;
      verified: number;
      rejected: number;
      verified_id: string | null;
    }>(
      `SELECT c.id, c.state, c.record_id,
              count(r.*) FILTER (WHERE r.outcome = 'verified')::int AS verified,
              count(r.*) FILTER (WHERE r.outcome = 'rejected')::int AS rejected,
              min(r.id) FILTER (WHERE r.outcome = 'verified') AS verified_id
       FROM ceremonies c LEFT JOIN records r ON r.ceremony_id = c.id WHERE c.rp_client_id = $1 GROUP BY c.id, c.state, c.record_id`,
      [rp.clientId],
    );
    expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const id of succeeded)
      expect(byId.get(id), `ceremony ${id} answered 200`).toMatchObject({ state: 'completed', verified: 1 });
    const halfWritten = rows.filter((r) =>
      r.state === 'completed' ? r.verified !== 1 || r.record_id !== r.verified_id : r.verified !== 0,
    );
    expect(halfWritten, summary).toEqual([]);
    expect(rows.filter((r) => r.rejected > 0)).toEqual([]);
    // 409s only on a retry, where the earlier failed attempt did complete the ceremony.
    for (const a of failed.filter((x) => x.status === 409)) {
      expect(
        attempts.some((b) => b.ceremonyId === a.ceremonyId && b.startedAt < a.startedAt && b.status !== 200),
        `409 on the first attempt for ${a.ceremonyId}`,
      ).toBe(true);
      expect(byId.get(a.ceremonyId)?.state).toBe('completed');
    }
    // With retries every holder got through once the database was back.
    expect(
      rows.filter((r) => r.state !== 'completed').map((r) => `${r.id} ${r.state}`),
      summary,
    ).toEqual([]);
    const [total] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM records WHERE outcome = 'verified'");
    expect(total!.n).toBe(CEREMONIES);

    // The log: every record is a leaf (integrated by the server's sequencer, or still pending) and it all verifies.
    const key = await storedLogVerifierKey(db, loadMasterKey({ mode: 'sandbox', dataDir }));
    const log = await verifyLog(db, { key: key! });
    expect(log.ok, JSON.stringify(log.problems.slice(0, 5))).toBe(true);
    expect(log.checked + log.pending).toBe(CEREMONIES);

    // The same process serves again: ready, and a new OIDC login runs end to end.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(await loginThroughServer(holders[0]!.id)).toBeTruthy();
    expect(exited).toBeUndefined();
  }, 90_000);
});
