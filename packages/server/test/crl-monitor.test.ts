// The CRL-driven revocation monitor (monitor/crl-monitor.ts) on both engines, with CRLs signed by a
// simulator root: each new entry of a watched serial becomes one event and one webhook job with the
// entry's reason and date; a restart (a new monitor with no memory) between two CRLs neither misses
// nor repeats one; a skipped CRL is covered by the next; a CRL older than the last processed one is
// refused and changes nothing; partitions (distribution points) are diffed separately.

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrlIndex, TrustStore, type X509Certificate } from '@kakunin/jpki';
import { buildCrl, crlIssuerOf, type CrlEntryInput, type Sandbox } from '@kakunin/sim';
import { MasterKey } from '../src/master-key.js';
import { Metrics } from '../src/metrics.js';
import { CrlMonitor } from '../src/monitor/crl-monitor.js';
import { watchCertificate } from '../src/monitor/watch.js';
import { createRelyingParty, type RelyingParty } from '../src/relying-parties.js';
import { WEBHOOK_QUEUE } from '../src/webhooks/index.js';
import { ENGINES, openTestDatabase, type TestDatabase } from './support/databases.js';
import { createTestSandbox } from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let sandbox: Sandbox;
let trustStore: TrustStore;
let issuerId: string;
let anchor: X509Certificate;

beforeAll(async () => {
  sim = await createTestSandbox();
  sandbox = sim.sandbox;
  trustStore = TrustStore.jlis();
  for (const root of sandbox.roots()) trustStore.add(root.der, { label: root.id, medium: root.medium });
  issuerId = sandbox.roots().find((r) => r.kind === 'sign' && r.medium === 'card')!.id;
  anchor = trustStore.list().find((a) => a.label === issuerId)!.certificate.x509;
}, 120_000);
afterAll(() => sim?.remove());

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
const T0 = Date.UTC(2026, 11, 1);
const at = (hours: number): Date => new Date(T0 + hours * 3600_000);

/** A CRL of the sign root listing these serials (revoked an hour before thisUpdate, reason affiliationChanged unless given). */
function crl(
  hours: number,
  serials: readonly (string | CrlEntryInput)[],
  o: { distributionPoint?: Uint8Array } = {},
): { issuer: string; index: CrlIndex; sha256: string; der: Buffer } {
  const entries = serials.map((s) =>
    typeof s === 'string' ? { serial: s, revokedAt: at(hours - 1), reason: 'affiliationChanged' as const } : s,
  );
  const der = buildCrl(crlIssuerOf(sandbox.ca.root(issuerId)), entries, { thisUpdate: at(hours), ...o });
  return {
    issuer: issuerId,
    index: CrlIndex.load(der, { issuer: anchor, at: at(hours) }),
    sha256: createHash('sha256').update(der).digest('hex'),
    der,
  };
}

describe.each(ENGINES)('CRL monitor (%s)', (engine) => {
  let t: TestDatabase;
  let rp: RelyingParty;
  let quiet: RelyingParty;
  const metrics = new Metrics();
  const monitor = (): CrlMonitor => new CrlMonitor({ db: t.db, trustStore, metrics, log: silent });

  const watch = async (serial: string, who: RelyingParty = rp): Promise<string> => {
    const w = await t.db.transaction((tx) =>
      watchCertificate(tx, {
        rpClientId: who.clientId,
        subjectId: 'sub_crl',
        recordId: `rec_${serial}`,
        issuerId,
        serial,
        issuerNameHash: Buffer.alloc(20),
        issuerKeyHash: Buffer.alloc(20),
        notAfter: at(24 * 365),
      }),
    );
    return w.id;
  };
  const events = async (): Promise<
    { serial: string; reason: string; revoked_at: string; source: string; rp: string }[]
  > =>
    (
      await t.db.query<{ data: Record<string, string>; rp_client_id: string }>(
        `SELECT data, rp_client_id FROM events WHERE type = 'certificate.revoked' ORDER BY created_at, id`,
      )
    ).map((e) => ({
      serial: e.data.serial!,
      reason: e.data.reason!,
      revoked_at: e.data.revoked_at!,
      source: e.data.source!,
      rp: e.rp_client_id,
    }));
  const webhookJobs = async (): Promise<number> =>
    Number(
      (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE queue = $1', [WEBHOOK_QUEUE]))[0]!.n,
    );
  const refused = async (): Promise<number> =>
    (await metrics.crlMonitor.get()).values
      .filter((v) => v.labels.outcome === 'refused')
      .reduce((a, v) => a + v.value, 0);

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    const masterKey = MasterKey.generate();
    rp = await createRelyingParty(
      { db: t.db, masterKey },
      { name: 'Bank', redirectUris: ['http://127.0.0.1:9/cb'], webhookUrl: 'http://127.0.0.1:9/hook' },
    );
    quiet = await createRelyingParty(
      { db: t.db, masterKey },
      { name: 'Shop', redirectUris: ['http://127.0.0.1:9/cb'] },
    );
    await t.db.query(`INSERT INTO subjects (id) VALUES ('sub_crl')`);
  }, 60_000);
  afterAll(async () => t?.close());

  it('new entries of watched serials → one event each (reason, date from the entry) and one webhook job per RP with a webhook; restarts and skipped CRLs neither miss nor repeat', async () => {
    await watch('1A2B3C01');
    await watch('1A2B3C02');
    await watch('1A2B3C02', quiet); // two RPs rely on the same certificate: one event each, a webhook only where there is one
    await watch('009A2B3C03'); // a serial with its top bit set: the certificate's text says 009A…, the CRL index 9A…
    await watch('1A2B3C04');
    await watch('1A2B3C05');

    // The first CRL of a scope: every entry is new.
    const first = await monitor().process(crl(0, ['0F000001', '1A2B3C01']), at(0));
    expect(first).toMatchObject({ outcome: 'processed', added: 2, matched: 1 });
    expect(await events()).toEqual([
      {
        serial: '1A2B3C01',
        reason: 'affiliationChanged',
        revoked_at: at(-1).toISOString(),
        source: 'crl',
        rp: rp.clientId,
      },
    ]);

    // A restart: a new monitor, nothing in memory. Only the entries new since the last processed CRL count.
    const second = crl(24, [
      '0F000001',
      '1A2B3C01',
      { serial: '1A2B3C02', revokedAt: at(20), reason: 'keyCompromise' },
      { serial: '009A2B3C03', revokedAt: at(21), reason: 'cessationOfOperation' },
    ]);
    expect(await monitor().process(second, at(24))).toMatchObject({ outcome: 'processed', added: 2, matched: 3 });
    // The same CRL again (another process's job, a retried one): nothing.
    expect(await monitor().process(second, at(24))).toMatchObject({ outcome: 'already-processed', matched: 0 });
    const after2 = await events();
    expect(after2.map((e) => `${e.serial} ${e.reason} ${e.rp === rp.clientId ? 'rp' : 'quiet'}`).sort()).toEqual([
      '009A2B3C03 cessationOfOperation rp',
      '1A2B3C01 affiliationChanged rp',
      '1A2B3C02 keyCompromise quiet',
      '1A2B3C02 keyCompromise rp',
    ]);
    expect(after2.find((e) => e.serial === '1A2B3C02')!.revoked_at).toBe(at(20).toISOString());
    expect(await webhookJobs()).toBe(3);

    // CRL 3 is never processed (skipped); CRL 4 still carries its entry, diffed against CRL 2.
    const all = ['0F000001', '1A2B3C01', '1A2B3C02', '009A2B3C03'];
    crl(48, [...all, '1A2B3C04']);
    expect(await monitor().process(crl(72, [...all, '1A2B3C04', '1A2B3C05', '0F000002']), at(72))).toMatchObject({
      outcome: 'processed',
      added: 3,
      matched: 2,
    });
    expect(
      (await events())
        .map((e) => e.serial)
        .filter((s) => s === '1A2B3C04' || s === '1A2B3C05')
        .sort(),
    ).toEqual(['1A2B3C04', '1A2B3C05']);
    expect(await events()).toHaveLength(6);
    expect(await webhookJobs()).toBe(5);
    const rows = await t.db.query<{ serial: string; status: string; revocation_reason: string }>(
      `SELECT serial, status, revocation_reason FROM monitored_certificates WHERE rp_client_id = $1 ORDER BY serial`,
      [rp.clientId],
    );
    expect(rows.every((r) => r.status === 'revoked')).toBe(true);
  });

  it('a CRL older than the last processed one is refused (metric) and changes nothing', async () => {
    await watch('1A2B3C06');
    const state = await t.db.query('SELECT scope, sha256, this_update, crl_number FROM crl_monitor_state');
    const before = { events: (await events()).length, jobs: await webhookJobs(), refused: await refused() };
    // Lists a watched serial, and is signed by the right root: but its thisUpdate is before CRL 4's.
    const older = crl(60, ['0F000001', '1A2B3C06']);
    expect(await monitor().process(older, at(80))).toMatchObject({ outcome: 'refused', matched: 0 });
    expect(await refused()).toBe(before.refused + 1);
    expect(await t.db.query('SELECT scope, sha256, this_update, crl_number FROM crl_monitor_state')).toEqual(state);
    expect((await events()).length).toBe(before.events);
    expect(await webhookJobs()).toBe(before.jobs);
    expect(
      (await t.db.query<{ status: string }>(`SELECT status FROM monitored_certificates WHERE serial = '1A2B3C06'`))[0]!
        .status,
    ).toBe('good');
  });

  it('a partitioned CRL (issuingDistributionPoint) is diffed against its own partition', async () => {
    await watch('1A2B3C07');
    const root = sandbox.ca.root(issuerId);
    const { nameDer } = crlIssuerOf(root);
    // Any DN will do as the partition's name: the root's own name stands in for a municipality's.
    const partition = await monitor().process(crl(96, ['1A2B3C07'], { distributionPoint: nameDer }), at(96));
    expect(partition.scope).toBe(`${issuerId}|${anchor.subject.text}`);
    // Its predecessor is "none" (not the issuer's full CRL): its one entry is new and matches.
    expect(partition).toMatchObject({ outcome: 'processed', added: 1, matched: 1 });
    const scopes = (await t.db.query<{ scope: string }>('SELECT scope FROM crl_monitor_state ORDER BY scope')).map(
      (r) => r.scope,
    );
    expect(scopes).toEqual([issuerId, `${issuerId}|${anchor.subject.text}`]);
  });
});
