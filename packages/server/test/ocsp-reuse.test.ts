// The OCSP answer-reuse window per ceremony kind, end to end: ceremonies through the holder protocol
// against the simulated J-LIS in its own HTTP server, whose OCSP requests are counted. Login reuses
// a good answer within its window (marked `reused` in the result and the record); identity always
// asks; the window expires; a revocation event recorded by the monitor ends reuse at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ocspCertId } from '@kakunin/jpki';
import { startSimServices, type SimServices } from '@kakunin/sim';
import { createCeremony, getCeremony } from '../src/ceremonies.js';
import type { Ceremony } from '../src/ceremony-store.js';
import type { CeremonyKind } from '../src/ceremony-domain.js';
import { runRevocationMonitor, watchCertificate } from '../src/monitor/index.js';
import { ENGINES } from './support/databases.js';
import { createTestSandbox, holderRespond, startTestPlatform, type TestPlatform } from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let services: SimServices;
let ocspRequests = 0;

beforeAll(async () => {
  sim = await createTestSandbox();
  services = await startSimServices({
    sandbox: sim.sandbox,
    onRequest: (line) => void (line.startsWith('POST /ocsp') && ocspRequests++),
  });
}, 120_000);
afterAll(async () => {
  await services?.close();
  sim?.remove();
});

describe.each(ENGINES)('OCSP answer reuse (%s)', (engine) => {
  let p: TestPlatform;
  let rpClientId: string;
  let person: string;

  beforeAll(async () => {
    p = await startTestPlatform(engine, sim.dir, { config: { simServicesUrl: services.url } });
    expect(p.server.platform.config.ocspReuseSeconds).toEqual({ login: 300, identity: 0 });
    // Only the ceremonies need the RP (no OIDC client here).
    rpClientId = `rp_reuse_${engine}`;
    await p.server.platform.db.query(
      `INSERT INTO relying_parties (client_id, client_secret, name, redirect_uris, ceremonies, framework, purpose, webhook_secret) VALUES ($1, '-', 'Reuse RP', '[]', '["login","identity"]', 'jp_aml', '口座開設', '-')`,
      [rpClientId],
    );
    // One person per engine: each starts without kept answers.
    person = p.sandbox
      .people()
      .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)[
      ENGINES.indexOf(engine)
    ]!.id;
  }, 120_000);
  afterAll(async () => p?.close());

  /** One verified ceremony; returns it and how many OCSP requests it made. */
  const verify = async (kind: CeremonyKind): Promise<{ ceremony: Ceremony; asked: number }> => {
    const before = ocspRequests;
    const created = await createCeremony(p.server.platform, { kind, rpClientId });
    const answer = await holderRespond(p.sandbox, `${p.server.url}/holder/v1/ceremonies/${created.id}`, { person });
    expect(answer).toMatchObject({ status: 200, body: { state: 'completed' } });
    return { ceremony: await getCeremony(p.server.platform.db, created.id), asked: ocspRequests - before };
  };
  const recordRevocation = async (recordId: string): Promise<Record<string, unknown>> => {
    const [row] = await p.server.platform.db.query<{ payload: { revocation: Record<string, unknown> } }>(
      'SELECT payload FROM records WHERE id = $1',
      [recordId],
    );
    return row!.payload.revocation;
  };

  it('login: a second login within the window reuses the good answer — one OCSP request for two logins, marked reused', async () => {
    const first = await verify('login');
    const second = await verify('login');
    expect(first.asked + second.asked).toBe(1);
    expect(first.asked).toBe(1);
    expect(first.ceremony.result!.revocation.reused).toBeUndefined();
    expect(second.ceremony.result!.revocation).toMatchObject({
      source: 'ocsp',
      reused: true,
      checkedAt: first.ceremony.result!.revocation.checkedAt,
    });
    expect(await recordRevocation(first.ceremony.recordId!)).not.toHaveProperty('reused');
    expect(await recordRevocation(second.ceremony.recordId!)).toMatchObject({
      status: 'good',
      source: 'ocsp',
      reused: true,
    });
  });

  it('identity: every ceremony asks J-LIS afresh (window 0)', async () => {
    const first = await verify('identity');
    const second = await verify('identity');
    expect([first.asked, second.asked]).toEqual([1, 1]);
    expect(second.ceremony.result!.revocation.reused).toBeUndefined();
    expect(await recordRevocation(second.ceremony.recordId!)).not.toHaveProperty('reused');
  });

  it('the window expires: an answer older than 300 s is not reused', async () => {
    expect((await verify('login')).asked).toBe(0);
    await p.server.platform.db.query(`UPDATE ocsp_answers SET checked_at = checked_at - interval '301 seconds'`);
    const after = await verify('login');
    expect(after.asked).toBe(1);
    expect(after.ceremony.result!.revocation.reused).toBeUndefined();
    expect((await verify('login')).asked).toBe(0);
  });

  it('a revocation event recorded by the monitor ends the reuse of that certificate at once', async () => {
    const { ceremony } = await verify('login');
    expect(ceremony.result!.revocation.reused).toBe(true);
    const { issuerId, serial } = ceremony.result!.certificate;
    const verifier = p.server.platform.verifier;
    const anchor = verifier.options.trustStore.list().find((a) => a.label === issuerId)!.certificate.x509;
    const certId = ocspCertId(serial, anchor);
    const db = p.server.platform.db;
    await db.transaction((tx) =>
      watchCertificate(tx, {
        rpClientId,
        subjectId: ceremony.subjectId!,
        recordId: ceremony.recordId!,
        issuerId,
        serial,
        issuerNameHash: certId.nameHash,
        issuerKeyHash: certId.keyHash,
        notAfter: new Date(Date.now() + 86_400_000),
      }),
    );
    // The monitor learns of a revocation (here from a stub source; the simulator still says good).
    const report = await runRevocationMonitor({
      db,
      verifier: {
        recheck: async () => ({ status: 'revoked', reason: 'keyCompromise', source: 'ocsp', checkedAt: new Date() }),
      },
    });
    expect(report.revoked).toBeGreaterThanOrEqual(1);

    const next = await verify('login');
    expect(next.asked).toBe(1);
    expect(next.ceremony.result!.revocation.reused).toBeUndefined();
    // A certificate the monitor holds revoked gets no kept answer again.
    expect((await verify('login')).asked).toBe(1);
  });
});
