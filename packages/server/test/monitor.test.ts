// The revocation monitor against the simulated J-LIS over HTTP (real OCSP responder, real OCSP
// client): good stays good, a move revokes the signing certificate → one event per watching RP and
// one webhook job, a stopped responder changes nothing (fail closed), expiry and ended
// relationships; plus the monitor's slot scheduling and the background jobs end to end. The table
// keeps CertID hashes and serials, never a certificate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OcspClient, TrustStore, httpOcspFetcher, ocspCertId, parseCertificate } from '@kakunin/jpki';
import { certificateStatus, startSimServices, startSimulatedJlis } from '@kakunin/sim';
import { openDatabase, type Database } from '../src/db/database.js';
import { ocspAnswers } from '../src/ocsp-answers.js';
import { findJobByDedupeKey, getJob, listJobs } from '../src/jobs/index.js';
import { Metrics } from '../src/metrics.js';
import {
  MONITOR_QUEUE,
  listEvents,
  listMonitored,
  monitorSlot,
  runRevocationMonitor,
  scheduleRevocationMonitor,
  startBackgroundJobs,
  watchCertificate,
  type MonitorPlatform,
} from '../src/monitor/index.js';
import { MasterKey } from '../src/master-key.js';
import { createRelyingParty, type RelyingParty } from '../src/relying-parties.js';
import { sandboxJlis, type SandboxJlis } from '../src/sandbox-mode.js';
import { JpkiVerifier } from '../src/verifier.js';
import { WEBHOOK_QUEUE } from '../src/webhooks/index.js';
import { ENGINES, openTestDatabase, type TestDatabase } from './support/databases.js';

let work: string;
let jlis: SandboxJlis;
/** Adults whose card signing certificate is valid: one per engine, so each starts from "good". */
let people: string[];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kakunin-monitor-'));
  jlis = sandboxJlis(await startSimulatedJlis({ dir: join(work, 'sim') }));
  const sb = jlis.sandbox;
  people = sb
    .people()
    .filter((p) => sb.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0)
    .filter((p) => certificateStatus(sb.currentCertificateRecord(p.id, 'sign'), new Date()) === 'valid')
    .map((p) => p.id);
}, 120_000);

afterAll(async () => {
  await jlis?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function counter(m: Metrics, status: string): Promise<number> {
  return (await m.monitorChecks.get()).values.find((v) => v.labels.status === status)?.value ?? 0;
}

const anchorOf = (label: string) =>
  jlis.verifier.options.trustStore.list().find((a) => a.label === label)!.certificate.x509;

/** A verifier like the sandbox one, but asking an OCSP responder at `url`. */
function verifierAt(url: string): JpkiVerifier {
  const trustStore = TrustStore.jlis();
  for (const root of jlis.sandbox.roots()) trustStore.add(root.der, { label: root.id, medium: root.medium });
  return new JpkiVerifier({
    mode: 'sandbox',
    trustStore,
    revocation: new OcspClient({ url: `${url}/ocsp`, fetcher: httpOcspFetcher(2000) }),
  });
}

describe.each(ENGINES)('revocation monitor (%s)', (engine) => {
  let t: TestDatabase;
  let db: Database;
  let withHook: RelyingParty;
  let noHook: RelyingParty;
  let personId: string;
  const subjectId = `sub_monitor_${engine}`;

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    db = t.db;
    personId = people[ENGINES.indexOf(engine)]!;
    withHook = await createRelyingParty(
      { db, masterKey: MasterKey.generate() },
      { name: 'Bank', redirectUris: ['http://127.0.0.1:9/cb'], webhookUrl: 'http://127.0.0.1:9/hook' },
    );
    noHook = await createRelyingParty(
      { db, masterKey: MasterKey.generate() },
      { name: 'Shop', redirectUris: ['http://127.0.0.1:9/cb'] },
    );
    await db.query('INSERT INTO subjects (id) VALUES ($1)', [subjectId]);
  });
  afterAll(async () => {
    await t?.close();
  });

  const watchCurrent = async (
    rp: RelyingParty,
    recordId: string,
  ): Promise<{ id: string; created: boolean; serial: string; issuerId: string }> => {
    const rec = jlis.sandbox.currentCertificateRecord(personId, 'sign');
    const certId = ocspCertId(rec.serial, anchorOf(rec.issuerId));
    const w = await db.transaction((tx) =>
      watchCertificate(tx, {
        rpClientId: rp.clientId,
        subjectId,
        recordId,
        issuerId: rec.issuerId,
        serial: rec.serial,
        issuerNameHash: certId.nameHash,
        issuerKeyHash: certId.keyHash,
        notAfter: new Date(rec.notAfter),
      }),
    );
    return { ...w, serial: rec.serial, issuerId: rec.issuerId };
  };

  it('the table keeps CertID hashes, serial and notAfter: no column holds the certificate or any part of it', async () => {
    const { id } = await watchCurrent(noHook, 'rec_0');
    const der = jlis.sandbox.currentCertificate(personId, 'sign');
    const columns = (
      await db.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'monitored_certificates' ORDER BY ordinal_position`,
      )
    ).map((c) => c.column_name);
    expect(columns).not.toContain('certificate');
    expect(columns).toEqual(
      expect.arrayContaining(['issuer_id', 'serial', 'issuer_name_hash', 'issuer_key_hash', 'not_after']),
    );
    // A dump of every column: none of the certificate's bytes (its key, its signature, its subject with the basic 4 info).
    const x = parseCertificate(der).x509;
    const dump = JSON.stringify(await db.query('SELECT * FROM monitored_certificates'), (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
    );
    for (const part of [der, x.publicKey.pkcs1, x.signature, x.subject.der])
      expect(dump).not.toContain(Buffer.from(part).toString('hex'));
    const person = jlis.sandbox.person(personId);
    for (const pii of [person.name, person.address, person.birthDate]) expect(dump).not.toContain(pii);
    await db.query('DELETE FROM monitored_certificates WHERE id = $1', [id]);
  });

  it('watching is idempotent per RP and certificate', async () => {
    const a = await watchCurrent(withHook, 'rec_1');
    const b = await watchCurrent(noHook, 'rec_2');
    const again = await watchCurrent(withHook, 'rec_3');
    expect(a.created).toBe(true);
    expect(b.created).toBe(true);
    expect(again).toMatchObject({ id: a.id, created: false });
    const rows = await listMonitored(db, {});
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => r.id === a.id)).toMatchObject({
      rpClientId: withHook.clientId,
      recordId: 'rec_3',
      status: 'good',
      serial: a.serial,
      issuerId: a.issuerId,
      lastCheckedAt: null,
    });
    expect(await listMonitored(db, { rpClientId: noHook.clientId })).toHaveLength(1);
  });

  it('the OCSP responder says good → the certificates stay good, nothing is written', async () => {
    const metrics = new Metrics();
    const now = new Date();
    const report = await runRevocationMonitor({ db, verifier: jlis.verifier, metrics, log: silent }, { now });
    expect(report).toMatchObject({
      checked: 2,
      good: 2,
      revoked: 0,
      unavailable: 0,
      errors: 0,
      expired: 0,
      events: [],
    });
    expect(await counter(metrics, 'good')).toBe(2);
    const rows = await listMonitored(db, { status: 'good' });
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.lastCheckedAt?.getTime() === now.getTime())).toBe(true);
    expect(await listEvents(db, { limit: 10 })).toEqual([]);
    expect((await metrics.revocationAgeSeconds.get()).values.find((v) => v.labels.source === 'ocsp')).toBeDefined();
  });

  it('after a move the monitor marks the signing certificate revoked: one event per RP, one webhook job, once', async () => {
    const before = jlis.sandbox.currentCertificateRecord(personId, 'sign');
    const person = jlis.sandbox.person(personId);
    const move = await jlis.sandbox.applyEvent(personId, 'move');
    expect(move.revoked.some((r) => r.serial === before.serial && r.reason === 'affiliationChanged')).toBe(true);

    // Good OCSP answers kept for reuse: this certificate's, another certificate of the same subject's, a stranger's.
    const answers = ocspAnswers(db);
    const kept = { status: 'good' as const, source: 'ocsp' as const, checkedAt: new Date() };
    await db.query(
      `INSERT INTO subject_certificates (issuer_id, serial, kind, medium, subject_id) VALUES ('sim-authca01', 'AA01', 'auth', 'card', $1)`,
      [subjectId],
    );
    await answers.remember(before.issuerId, before.serial, kept);
    await answers.remember('sim-authca01', 'AA01', kept);
    await answers.remember('sim-authca01', 'BB02', kept);
    expect(await answers.find(before.issuerId, before.serial, new Date(), 300)).toBeDefined();

    const metrics = new Metrics();
    const now = new Date();
    const report = await runRevocationMonitor({ db, verifier: jlis.verifier, metrics, log: silent }, { now });
    expect(report).toMatchObject({ checked: 2, good: 0, revoked: 2, unavailable: 0 });
    // The event's transaction ended their reuse (in every process: they are rows), and a late writer cannot bring one back.
    expect(await answers.find(before.issuerId, before.serial, new Date(), 300)).toBeUndefined();
    expect(await answers.find('sim-authca01', 'AA01', new Date(), 300)).toBeUndefined();
    expect(await answers.find('sim-authca01', 'BB02', new Date(), 300)).toBeDefined();
    await answers.remember(before.issuerId, before.serial, { ...kept, checkedAt: new Date() });
    expect(await answers.find(before.issuerId, before.serial, new Date(), 300)).toBeUndefined();
    expect(report.events).toHaveLength(2);
    expect(await counter(metrics, 'revoked')).toBe(2);

    const rows = await listMonitored(db, {});
    expect(rows.map((r) => r.status)).toEqual(['revoked', 'revoked']);
    expect(rows[0]).toMatchObject({ revocationReason: 'affiliationChanged', lastCheckedAt: now });
    expect(rows[0]!.revokedAt).toBeInstanceOf(Date);

    const events = await listEvents(db, { limit: 10 });
    expect(events).toHaveLength(2);
    const bank = events.find((e) => e.rpClientId === withHook.clientId)!;
    expect(bank).toMatchObject({ type: 'certificate.revoked', subjectId, recordId: 'rec_3' });
    expect(bank.data).toEqual({
      issuer_id: before.issuerId,
      serial: before.serial,
      reason: 'affiliationChanged',
      revoked_at: rows[0]!.revokedAt!.toISOString(),
      source: 'ocsp',
      record_id: 'rec_3',
    });
    // Identifiers, reason and times only: none of the basic 4 information.
    const stored = JSON.stringify(events);
    for (const pii of [person.name, person.address, person.trueAddress, person.birthDate])
      expect(stored).not.toContain(pii);

    // The RP with a webhook URL gets one delivery job; the other none.
    const jobs = await listJobs(db, { queue: WEBHOOK_QUEUE });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.payload).toEqual({ event_id: bank.id, rp_client_id: withHook.clientId });
    expect(await listEvents(db, { rpClientId: noHook.clientId, limit: 10 })).toHaveLength(1);

    // Running again changes nothing.
    const again = await runRevocationMonitor({ db, verifier: jlis.verifier, log: silent }, { now: new Date() });
    expect(again).toMatchObject({ checked: 0, revoked: 0, events: [] });
    expect(await listEvents(db, { limit: 10 })).toHaveLength(2);
    expect(await listJobs(db, { queue: WEBHOOK_QUEUE })).toHaveLength(1);
  });

  it('a stopped OCSP responder: RevocationUnavailable, the status stays good, nothing written, the run stops early', async () => {
    // The holder verified again with the re-issued certificate.
    const fresh = await watchCurrent(withHook, 'rec_4');
    expect(fresh.created).toBe(true);
    const stopped = await startSimServices({ sandbox: jlis.sandbox });
    const verifier = verifierAt(stopped.url);
    await stopped.close();

    const metrics = new Metrics();
    const warnings: string[] = [];
    const log = {
      ...silent,
      warn: (_o: object, msg?: string) => void warnings.push(msg ?? ''),
      error: (_o: object, msg?: string) => void warnings.push(msg ?? ''),
    };
    const report = await runRevocationMonitor(
      { db, verifier, metrics, log },
      { now: new Date(), maxConsecutiveUnavailable: 1 },
    );
    expect(report).toMatchObject({ checked: 1, good: 0, revoked: 0, unavailable: 1, aborted: 'source-unavailable' });
    expect(await counter(metrics, 'unavailable')).toBe(1);
    expect(warnings.some((w) => /unavailable/.test(w))).toBe(true);
    const row = (await listMonitored(db, {})).find((r) => r.id === fresh.id)!;
    expect(row).toMatchObject({ status: 'good', lastCheckedAt: null, revokedAt: null });
    expect(await listEvents(db, { limit: 10 })).toHaveLength(2);

    // The responder is back: the next run checks it.
    const next = await runRevocationMonitor({ db, verifier: jlis.verifier, log: silent }, { now: new Date() });
    expect(next).toMatchObject({ checked: 1, good: 1 });
  });

  it('an expired certificate becomes expired with an event and no webhook, without asking the responder', async () => {
    const past = new Date(Date.now() - 86_400_000);
    await db.query(
      `INSERT INTO monitored_certificates (rp_client_id, subject_id, record_id, issuer_id, serial, issuer_name_hash, issuer_key_hash, not_after) VALUES ($1, $2, 'rec_old', 'sim-signca01', '0A0B0C0D', $3, $3, $4)`,
      [withHook.clientId, subjectId, Buffer.alloc(20), past],
    );
    const platform: MonitorPlatform = {
      db,
      verifier: {
        recheck: () => {
          throw new Error('must not be asked');
        },
      },
      log: silent,
    };
    // Only the expired row is due: the others are revoked, or good but checked by a stub that must not run…
    await db.query(`UPDATE monitored_certificates SET status = 'ended' WHERE status = 'good' AND serial <> '0A0B0C0D'`);
    const report = await runRevocationMonitor(platform, { now: new Date() });
    expect(report).toMatchObject({ expired: 1, checked: 0 });
    const [event] = await listEvents(db, { type: 'certificate.expired', limit: 10 });
    expect(event).toMatchObject({
      rpClientId: withHook.clientId,
      recordId: 'rec_old',
      data: { issuer_id: 'sim-signca01', serial: '0A0B0C0D', not_after: past.toISOString(), record_id: 'rec_old' },
    });
    expect(await listJobs(db, { queue: WEBHOOK_QUEUE })).toHaveLength(1); // still only the revocation's
    expect((await listMonitored(db, { status: 'expired' })).map((r) => r.serial)).toEqual(['0A0B0C0D']);
  });

  it('an ended relationship stops the watch; verifying again resumes it', async () => {
    const rec = jlis.sandbox.currentCertificateRecord(personId, 'sign');
    await db.query(`UPDATE monitored_certificates SET status = 'good' WHERE serial = $1`, [rec.serial]);
    await db.query('INSERT INTO relationships (rp_client_id, subject_id, ended_at) VALUES ($1, $2, $3)', [
      withHook.clientId,
      subjectId,
      new Date(Date.now() - 1000),
    ]);
    const report = await runRevocationMonitor({ db, verifier: jlis.verifier, log: silent }, { now: new Date() });
    expect(report).toMatchObject({ ended: 1, checked: 0 });
    expect((await listMonitored(db, { status: 'ended' })).map((r) => r.serial)).toContain(rec.serial);

    await db.query('UPDATE relationships SET ended_at = NULL WHERE rp_client_id = $1', [withHook.clientId]);
    const w = await watchCurrent(withHook, 'rec_5');
    expect(w.created).toBe(false);
    expect((await listMonitored(db, { status: 'good' })).map((r) => r.serial)).toEqual([rec.serial]);
  });

  it('the monitor is scheduled once per time slot, whichever process asks', async () => {
    const interval = 300;
    const now = new Date('2030-01-01T00:07:00Z');
    const other = engine === 'postgres' ? await openDatabase({ databaseUrl: t.url!, migrate: false }) : db;
    try {
      const results = await Promise.all([
        scheduleRevocationMonitor(db, { intervalSeconds: interval, now }),
        scheduleRevocationMonitor(other, { intervalSeconds: interval, now: new Date(now.getTime() + 60_000) }),
        scheduleRevocationMonitor(other, { intervalSeconds: interval, now: new Date(now.getTime() + 170_000) }),
      ]);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(results[0]!.runAt.toISOString()).toBe('2030-01-01T00:05:00.000Z');
      const nextSlot = await scheduleRevocationMonitor(other, {
        intervalSeconds: interval,
        now: new Date('2030-01-01T00:10:00Z'),
      });
      expect(nextSlot.created).toBe(true);
      expect(monitorSlot(interval, now).dedupeKey).toBe(results[0]!.dedupeKey);
      expect(await findJobByDedupeKey(db, results[0]!.dedupeKey)).toMatchObject({ queue: MONITOR_QUEUE });
    } finally {
      if (other !== db) await other.close();
      await db.query(`DELETE FROM jobs WHERE queue = $1`, [MONITOR_QUEUE]);
    }
  });

  it('startBackgroundJobs: the scheduled monitor run happens on the worker, stop() returns', async () => {
    await db.query(`UPDATE monitored_certificates SET status = 'good' WHERE status = 'ended'`);
    await db.query('DELETE FROM relationships');
    const metrics = new Metrics();
    const jobs = startBackgroundJobs({
      db,
      verifier: jlis.verifier,
      metrics,
      log: silent,
      config: { monitorIntervalSeconds: 3600 },
      pollMs: 20,
    });
    try {
      const key = monitorSlot(3600, new Date()).dedupeKey;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const job = await findJobByDedupeKey(db, key);
        if (job?.doneAt) {
          expect(job.failedAt).toBeNull();
          break;
        }
        if (Date.now() > deadline) throw new Error('the scheduled monitor run did not finish');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await counter(metrics, 'good')).toBeGreaterThanOrEqual(1);
      const manual = await jobs.runMonitorNow();
      for (let i = 0; i < 400 && !(await getJob(db, manual.id))?.doneAt; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await getJob(db, manual.id))?.doneAt).not.toBeNull();
    } finally {
      await jobs.stop();
    }
  });
});
