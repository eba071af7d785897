// CRL-driven monitoring end to end in the sandbox, on PostgreSQL, with the real commands a user types:
// identity ceremonies → `kakunin sim event --person P move` in another process → the simulator
// publishes a new CRL, the platform fetches it at once (sandbox only), the CRL monitor finds the
// watched serial → the RP's signed webhook within 10 s, with no OCSP request from the monitor.
// Then the server is stopped, another resident moves, a new server starts on the same database:
// that event arrives, the first is not repeated. Last, `kakunin usage --month` shows the lookups by
// RP and purpose, and they match the requests the simulator served.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimServices } from '@kakunin/sim';
import { createRelyingParty, type RegisteredRelyingParty, type UsageReport } from '@kakunin/server';
import {
  createPostgresDatabase,
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from '@kakunin/server/testing';

const BIN = fileURLToPath(new URL('../bin/kakunin.js', import.meta.url));

/** The real `kakunin` bin, without blocking this process (the platform under test runs in it). */
function kakunin(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let pg: { url: string; drop: () => Promise<void> };
let receiver: Server;
const received: { serial: string; at: number }[] = [];

beforeAll(async () => {
  sim = await createTestSandbox();
  pg = await createPostgresDatabase();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const event = JSON.parse(body) as { type: string; data: { serial: string } };
      if (event.type === 'certificate.revoked') received.push({ serial: event.data.serial, at: Date.now() });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
}, 120_000);
afterAll(async () => {
  receiver?.close();
  await pg?.drop();
  sim?.remove();
});

async function waitFor(what: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (what()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('CRL-driven revocation monitoring in the sandbox (postgres)', () => {
  const served: SimServices['served'][] = [];
  let rp: RegisteredRelyingParty;
  let p: TestPlatform | undefined;
  // The restarted server must open the same secrets.
  const masterKey = randomBytes(32).toString('hex');
  const adminToken = randomBytes(24).toString('base64url');
  const start = async (): Promise<TestPlatform> => {
    // Monitor runs every second: in crl mode they must not ask OCSP anything.
    const platform = await startTestPlatform('postgres', sim.dir, {
      databaseUrl: pg.url,
      noJobs: false,
      config: { monitorIntervalSeconds: 1, masterKey, adminToken },
    });
    served.push(platform.server.sandbox!.services!.served);
    return platform;
  };
  afterAll(async () => p?.close());

  it('move → webhook within 10 s with no OCSP request from the monitor; a restart between two CRLs misses and repeats nothing; usage matches what the simulator served', async () => {
    p = await start();
    expect(p.server.platform.monitorMode).toBe('crl');
    rp = await createRelyingParty(p.server.platform, {
      name: 'Bank',
      redirectUris: ['http://127.0.0.1:9/callback'],
      webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    });
    const [a, b] = p.sandbox
      .people()
      .filter((x) => p!.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
      .slice(-3)
      .map((x) => x.id);
    for (const person of [a!, b!]) {
      const flow = await startFlow(p, rp.clientId, rp.clientSecret, { scope: 'openid identity' });
      expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person })).status).toBe(200);
      await finishFlow(p, flow);
    }
    const serialA = p.sandbox.currentCertificateRecord(a!, 'sign', 'card').serial;
    const serialB = p.sandbox.currentCertificateRecord(b!, 'sign', 'card').serial;
    const ocspBefore = served[0]!.ocsp;
    expect(ocspBefore).toBe(2); // one per identity ceremony

    const moved = Date.now();
    const event = await kakunin(['sim', 'event', '--person', a!, 'move', '--dir', sim.dir]);
    expect(event.code, event.stderr).toBe(0);
    await waitFor(() => received.length > 0, 10_000 - (Date.now() - moved));
    expect(received.map((r) => r.serial)).toEqual([serialA]);
    expect(received[0]!.at - moved).toBeLessThan(10_000);
    // Several monitor runs went by (every second): none sent an OCSP request.
    expect(served[0]!.ocsp).toBe(ocspBefore);

    // Stopped between two CRLs: B moves while no platform runs.
    await p.close();
    p = undefined;
    const second = await kakunin(['sim', 'event', '--person', b!, 'move', '--dir', sim.dir]);
    expect(second.code, second.stderr).toBe(0);
    p = await start();
    await waitFor(() => received.length > 1, 10_000);
    await new Promise((r) => setTimeout(r, 1500)); // room for a repeat, were there one
    expect(received.map((r) => r.serial)).toEqual([serialA, serialB]);
    const events = await p.server.platform.db.query<{ serial: string }>(
      `SELECT data->>'serial' AS serial FROM events WHERE type = 'certificate.revoked' ORDER BY created_at`,
    );
    expect(events.map((e) => e.serial)).toEqual([serialA, serialB]);
    expect(served[1]!.ocsp).toBe(0);
    await p.close();
    p = undefined;

    // The usage report: 2 OCSP requests for proofing by this RP, none for monitoring; the totals
    // are exactly what the simulator served (OCSP, CRL downloads, linkage calls).
    const month = new Date().toISOString().slice(0, 7);
    const usage = await kakunin(['usage', '--month', month, '--database-url', pg.url, '--json']);
    expect(usage.code, usage.stderr).toBe(0);
    const report = JSON.parse(usage.stdout) as UsageReport;
    const sum = (
      lookup: 'ocsp' | 'crl' | 'linkage',
      f: (r: UsageReport['byRp'][number]) => boolean = () => true,
    ): number => report.byRp.filter((r) => r.lookup === lookup && f(r)).reduce((n, r) => n + r.requests, 0);
    expect(sum('ocsp', (r) => r.rpClientId === rp.clientId && r.purpose === 'proofing')).toBe(2);
    expect(sum('ocsp', (r) => r.purpose === 'monitoring')).toBe(0);
    expect(sum('ocsp')).toBe(served.reduce((n, s) => n + s.ocsp, 0));
    expect(sum('crl')).toBe(served.reduce((n, s) => n + s.crl, 0));
    expect(sum('crl', (r) => r.purpose === 'crl-refresh' && r.rpClientId === null)).toBe(sum('crl'));
    expect(sum('linkage')).toBe(served.reduce((n, s) => n + s.linkage, 0));
    const text = await kakunin(['usage', '--month', month, '--database-url', pg.url]);
    expect(text.stdout).toContain(rp.clientId);
    expect(text.stdout).toMatch(/proofing\s+ocsp\s+2/);
  }, 180_000);
});
