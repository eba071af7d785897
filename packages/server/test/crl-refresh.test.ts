// CRL sources kept fresh by the refresher, against the simulator's CRL endpoint over HTTP with an
// injectable clock (the simulator issues its CRLs at the same clock, so moving it forward makes it
// publish newer ones): refresh ahead of nextUpdate without a restart, the last good CRL kept until
// nextUpdate + grace and then failing closed with the reason, recovery, refusal of forged and older
// CRLs, and two platforms on one PostgreSQL database fetching each due CRL once.

import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  RevocationPolicy,
  TrustStore,
  assertNotRevoked,
  isJpkiError,
  parseX509,
  type X509Certificate,
} from '@kakunin/jpki';
import { buildCrl, crlIssuerOf, startSimServices, startSimulatedJlis, type SimServices } from '@kakunin/sim';
import { startServer, type RunningPlatform } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { CrlRefresher, crlSource, type CrlInstalled } from '../src/crl/index.js';
import {
  createPostgresDatabase,
  ENGINES,
  openTestDatabase,
  type Engine,
  type TestDatabase,
} from './support/databases.js';
import { Browser, createTestSandbox } from './support/platform.js';

const HOUR = 3600_000;
const SETTINGS = { refreshAheadSeconds: 3600, graceSeconds: 3600, retrySeconds: 300 };

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let now = Date.now();
const clock = (): Date => new Date(now);
let services: SimServices | undefined;
let simPort = 0;
/** GET /crl/… requests the simulator answered, by path. */
const fetches = new Map<string, number>();
let trustStore: TrustStore;
let people: string[];

async function startSim(): Promise<void> {
  services = await startSimServices({
    sandbox: sim.sandbox,
    port: simPort,
    clock,
    onRequest: (line) => {
      const m = /^GET (\/crl\/\S+) 200/.exec(line);
      if (m) fetches.set(m[1]!, (fetches.get(m[1]!) ?? 0) + 1);
    },
  });
  simPort = Number(new URL(services.url).port);
}

async function stopSim(): Promise<void> {
  await services?.close();
  services = undefined;
}

beforeAll(async () => {
  sim = await createTestSandbox();
  trustStore = TrustStore.jlis();
  for (const root of sim.sandbox.roots()) trustStore.add(root.der, { label: root.id, medium: root.medium });
  people = sim.sandbox
    .people()
    .filter((p) => sim.sandbox.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0)
    .map((p) => p.id);
  await startSim();
}, 120_000);
afterAll(async () => {
  await stopSim();
  sim?.remove();
});

/** A person's current signing certificate and its issuing root. */
function signingCertificate(personId: string): { cert: X509Certificate; issuer: X509Certificate; issuerId: string } {
  const record = sim.sandbox.currentCertificateRecord(personId, 'sign');
  return {
    cert: parseX509(sim.sandbox.certificateDer(record.issuerId, record.serial)),
    issuer: parseX509(sim.sandbox.ca.root(record.issuerId).der),
    issuerId: record.issuerId,
  };
}

const crlUrl = (issuerId: string): string => `http://127.0.0.1:${simPort}/crl/${issuerId}.crl`;

function refresher(db: TestDatabase, url: string, issuerId: string): CrlRefresher {
  return new CrlRefresher({
    db: db.db,
    trustStore,
    sources: [crlSource({ url, issuer: issuerId })],
    settings: SETTINGS,
    clock,
  });
}

/** What a verification asks when OCSP is out of the picture: the CRL alone. */
const checkCrl = (
  r: CrlRefresher,
  cert: X509Certificate,
  issuer: X509Certificate,
): ReturnType<typeof assertNotRevoked> =>
  assertNotRevoked(new RevocationPolicy({ mode: 'crl', crl: r.checker }), cert, issuer, clock());

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isJpkiError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a failure');
}

describe.each(ENGINES)('CRL refresher on %s', (engine: Engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await openTestDatabase(engine);
  }, 60_000);
  afterEach(async () => db?.close());

  it('replaces a CRL nearing its nextUpdate without a restart, and the newer CRL carries a new revocation', async () => {
    const person = people.shift()!;
    const { cert, issuer, issuerId } = signingCertificate(person);
    const r = refresher(db, crlUrl(issuerId), issuerId);
    const installs: CrlInstalled[] = [];
    r.onInstalled((e) => installs.push(e));
    try {
      expect(await r.runDue()).toBe(1);
      const [first] = r.status();
      expect(first).toMatchObject({ state: 'fresh', issuer: issuerId, ready: true, lastError: null });
      expect((await checkCrl(r, cert, issuer)).status).toBe('good');
      // Nothing is due before nextUpdate − refreshAhead: no fetch.
      now += HOUR;
      expect(await r.runDue()).toBe(0);

      await sim.sandbox.applyEvent(person, 'move'); // revokes the signing certificate
      now += 22.5 * HOUR; // 23.5 h after the first fetch: within the hour before nextUpdate
      expect(await r.runDue()).toBe(1);
      const [second] = r.status();
      expect(second!.thisUpdate!.getTime()).toBeGreaterThan(first!.thisUpdate!.getTime());
      expect(installs).toHaveLength(2);
      expect(installs[1]!.previous?.info.thisUpdate).toEqual(first!.thisUpdate);
      expect(installs[1]!.index.lookup(cert.serial)?.reason).toBe('affiliationChanged');
      // Past the first CRL's nextUpdate + grace, the new one answers.
      now += 2 * HOUR;
      expect(await failure(checkCrl(r, cert, issuer))).toMatchObject({ code: 'REVOKED' });
    } finally {
      await r.stop();
    }
  });

  it('with the source down, keeps the last good CRL until nextUpdate + grace, then fails closed with the reason, and recovers', async () => {
    const { cert, issuer, issuerId } = signingCertificate(people.shift()!);
    const url = crlUrl(issuerId);
    const r = refresher(db, url, issuerId);
    try {
      await r.runDue();
      const nextUpdate = r.status()[0]!.nextUpdate!;
      await stopSim();
      now = nextUpdate.getTime() - 0.5 * HOUR;
      expect(await r.runDue()).toBe(1); // the attempt, which fails
      expect(r.status()[0]).toMatchObject({
        state: 'fresh',
        ready: true,
        lastError: expect.stringMatching(/ECONNREFUSED/),
      });
      expect((await checkCrl(r, cert, issuer)).status).toBe('good');

      now = nextUpdate.getTime() + 0.5 * HOUR; // past nextUpdate, within the grace
      expect(await r.runDue()).toBe(1); // retried, fails again
      expect(r.status()[0]).toMatchObject({ state: 'grace', ready: true });
      expect((await checkCrl(r, cert, issuer)).status).toBe('good');

      now = nextUpdate.getTime() + HOUR + 1000; // the grace is over
      await r.runDue();
      expect(r.status()[0]).toMatchObject({ state: 'expired', ready: false });
      const closed = await failure(checkCrl(r, cert, issuer));
      expect(closed.code).toBe('REVOCATION_UNAVAILABLE');
      const expiredAt = new Date(nextUpdate.getTime() + HOUR).toISOString();
      expect(closed.message).toContain(
        `the CRL of ${issuerId} expired at ${expiredAt} (nextUpdate ${nextUpdate.toISOString()} + 3600 s grace); the last refresh from URL ${url} failed at `,
      );
      expect(closed.message).toMatch(/ECONNREFUSED/);

      await startSim();
      now += SETTINGS.retrySeconds * 1000;
      expect(await r.runDue()).toBe(1);
      expect(r.status()[0]).toMatchObject({ state: 'fresh', ready: true, lastError: null });
      expect((await checkCrl(r, cert, issuer)).status).toBe('good');
    } finally {
      if (!services) await startSim();
      await r.stop();
    }
  });

  it('refuses a CRL signed by another key, or older than the one in use, and keeps the current one', async () => {
    const { cert, issuer, issuerId } = signingCertificate(people[0]!);
    const root = sim.sandbox.ca.root(issuerId);
    const other = sim.sandbox.roots().find((x) => x.id !== issuerId)!;
    let body: Buffer = Buffer.alloc(0);
    const server: Server = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(body),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const r = refresher(db, `http://127.0.0.1:${(server.address() as AddressInfo).port}/${issuerId}.crl`, issuerId);
    try {
      const good = new Date(Math.floor(now / 1000) * 1000);
      body = buildCrl(crlIssuerOf(root), [], { thisUpdate: good });
      await r.runDue();
      expect(r.status()[0]).toMatchObject({ state: 'fresh', thisUpdate: good });

      // Due (an hour before nextUpdate); the source now serves a forgery: same issuer name and key id, another root's key.
      now = good.getTime() + 23 * HOUR;
      body = buildCrl(
        { ...crlIssuerOf(root), privateKey: sim.sandbox.ca.root(other.id).privateKey },
        [{ serial: cert.serial, revokedAt: clock(), reason: 'keyCompromise' }],
        { thisUpdate: clock() },
      );
      expect(await r.runDue()).toBe(1);
      expect(r.status()[0]).toMatchObject({
        state: 'fresh',
        thisUpdate: good,
        lastError: expect.stringMatching(/refused a CRL not verified by its trust anchor .*signature does not verify/),
      });
      expect((await checkCrl(r, cert, issuer)).status).toBe('good');

      // Properly signed, but older than the one in use (a replay of yesterday's CRL).
      now += SETTINGS.retrySeconds * 1000;
      body = buildCrl(crlIssuerOf(root), [], { thisUpdate: new Date(good.getTime() - HOUR) });
      expect(await r.runDue()).toBe(1);
      expect(r.status()[0]).toMatchObject({
        thisUpdate: good,
        lastError: expect.stringMatching(/refused a CRL older than the one in use/),
      });
    } finally {
      await r.stop();
      server.close();
    }
  });
});

describe('two platforms on one PostgreSQL database', () => {
  const platforms: RunningPlatform[] = [];
  let dataDir: string | undefined;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const pg = await createPostgresDatabase();
    drop = pg.drop;
    // One data directory (its secrets), as processes of one deployment share their configuration.
    dataDir = mkdtempSync(join(tmpdir(), 'kakunin-crl-'));
    fetches.clear(); // the platforms fetch as they start
    for (let i = 0; i < 2; i++) {
      const config = loadConfig(
        {
          mode: 'sandbox',
          port: 0,
          dataDir,
          logLevel: 'silent',
          agentUrl: '',
          databaseUrl: pg.url,
          simServicesUrl: `http://127.0.0.1:${simPort}`,
        },
        {},
      );
      platforms.push(
        await startServer(config, {
          simulatedJlis: startSimulatedJlis,
          simDir: sim.dir,
          noJobs: false,
          crlClock: clock,
        }),
      );
    }
  }, 120_000);
  afterAll(async () => {
    for (const p of platforms) await p.close();
    await drop?.();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** Until every platform has every source's CRL issued at or after `since` installed. */
  async function installedSince(since: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      await Promise.all(platforms.map((p) => p.platform.crl!.sync()));
      if (
        platforms.every((p) =>
          p.platform.crl!.status().every((s) => s.thisUpdate && s.thisUpdate.getTime() >= since - 1000),
        )
      )
        return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the CRLs were not installed in time');
  }

  it('fetch each due CRL once between them, and report them in /readyz, /metrics and the admin console', async () => {
    const roots = sim.sandbox.roots().map((r) => r.id);
    const paths = roots.map((id) => `/crl/${id}.crl`);
    await installedSince(now);
    expect(Object.fromEntries(paths.map((p) => [p, fetches.get(p)]))).toEqual(
      Object.fromEntries(paths.map((p) => [p, 1])),
    );

    now += 23.5 * HOUR;
    await installedSince(now);
    expect(Object.fromEntries(paths.map((p) => [p, fetches.get(p)]))).toEqual(
      Object.fromEntries(paths.map((p) => [p, 2])),
    );

    const [a, b] = platforms as [RunningPlatform, RunningPlatform];
    const ready = (await (await fetch(`${a.url}/readyz`)).json()) as {
      ready: boolean;
      crls: { source: string; issuer: string; state: string }[];
    };
    expect(ready.ready).toBe(true);
    expect(ready.crls.map((c) => c.issuer).sort()).toEqual([...roots].sort());
    expect(ready.crls.every((c) => c.state === 'fresh')).toBe(true);

    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toContain(
      `kakunin_crl_age_seconds{source="http://127.0.0.1:${simPort}/crl/${roots[0]}.crl",issuer="${roots[0]}"}`,
    );
    expect(metrics).toMatch(/kakunin_crl_next_update_seconds\{[^}]+\} 8[0-9]{4}/);
    expect(metrics).toMatch(/kakunin_crl_usable\{[^}]+\} 1/);
    expect(metrics).toMatch(/kakunin_crl_last_refresh_success_timestamp_seconds\{/);

    const admin = new Browser();
    await admin.request(`${a.url}/admin/login`, { method: 'POST', form: { token: a.adminToken } });
    const page = await admin.go(`${a.url}/admin/crl?lang=en`, a.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Revocation sources');
    expect(page.body).toContain(`/crl/${roots[0]}.crl`);
    const ja = await admin.go(`${a.url}/admin/crl`, a.url);
    expect(ja.body).toContain('失効リストの取得元');

    // The source goes away and the grace runs out: not ready, with the reason.
    await stopSim();
    try {
      now += 26 * HOUR;
      const down = await fetch(`${a.url}/readyz`);
      expect(down.status).toBe(503);
      expect(((await down.json()) as { reason: string }).reason).toMatch(
        /^CRL http:\/\/127\.0\.0\.1:\d+\/crl\/\S+\.crl expired at /,
      );
    } finally {
      await startSim();
    }
  });
});

describe('CRL configuration', () => {
  it('reads crlSources from the config file form or KAKUNIN_CRL_SOURCES, and refuses bad entries', () => {
    const base = {
      DATABASE_URL: 'postgres://x/y',
      KAKUNIN_LINKAGE_URL: 'http://l',
      KAKUNIN_PUBLIC_URL: 'https://id.example.jp',
    };
    const c = loadConfig(
      { mode: 'production' },
      {
        ...base,
        KAKUNIN_CRL_SOURCES: 'authca03=http://crl.example.jp/authca03.crl, /etc/kakunin/x.crl',
        KAKUNIN_CRL_GRACE_SECONDS: '600',
      },
    );
    expect(c.crlSources).toEqual([
      { url: 'http://crl.example.jp/authca03.crl', issuer: 'authca03' },
      { file: '/etc/kakunin/x.crl' },
    ]);
    expect(c.crlGraceSeconds).toBe(600);
    expect(
      loadConfig({ mode: 'sandbox', crlSources: [{ file: 'rel.crl', issuer: 'signca03' }] }, {}).crlSources,
    ).toEqual([{ file: join(process.cwd(), 'rel.crl'), issuer: 'signca03' }]);
    expect(
      loadConfig({ mode: 'sandbox' }, { KAKUNIN_CRL_SOURCES: '[{"url":"https://crl.example.jp/a.crl"}]' }).crlSources,
    ).toEqual([{ url: 'https://crl.example.jp/a.crl' }]);
    expect(() => loadConfig({ mode: 'sandbox', crlSources: [{ url: 'http://a/x.crl', file: '/x' }] }, {})).toThrow(
      /crlSources\[0\] needs exactly one of "url" or "file"/,
    );
    expect(() => loadConfig({ mode: 'sandbox', crlSources: [{ url: 'ftp://a/x.crl' }] }, {})).toThrow(
      /crlSources\[0\]\.url must be an http\(s\) URL/,
    );
    expect(() => loadConfig({ mode: 'sandbox' }, { KAKUNIN_CRL_SOURCES: '[{"url":' })).toThrow(
      /crlSources is not valid JSON/,
    );
    expect(() => loadConfig({ mode: 'sandbox' }, { KAKUNIN_CRL_RETRY_SECONDS: '0' })).toThrow(
      /crlRetrySeconds must be at least 1/,
    );
  });
});
