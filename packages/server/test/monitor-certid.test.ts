// Migration 8 on a database whose monitor still kept certificates: the CertID hashes are computed
// from the stored DER, the DER is deleted with its column; and the monitor's re-check from what it
// keeps refuses an anchor that is not the CA the kept CertID names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TrustStore,
  UntrustedIssuer,
  ocspCertId,
  parseCertificate,
  type RevocationChecker,
  type X509Certificate,
} from '@kakunin/jpki';
import { SimCa } from '@kakunin/sim';
import { openDatabase } from '../src/db/database.js';
import { MIGRATIONS, migrate } from '../src/db/migrations.js';
import { JpkiVerifier } from '../src/verifier.js';
import { ENGINES, createPostgresDatabase } from './support/databases.js';

const YEAR = 365.25 * 86_400_000;
let ca: SimCa;
let root: X509Certificate;
let der: Buffer;
let serial: string;

beforeAll(async () => {
  const now = Date.now();
  ca = await SimCa.create([
    {
      id: 'm-signca01',
      kind: 'sign',
      medium: 'card',
      generation: 1,
      notBefore: new Date(now - YEAR),
      notAfter: new Date(now + 9 * YEAR),
    },
  ]);
  root = parseCertificate(ca.root('m-signca01').der).x509;
  const issued = await ca.issueSign(
    { name: '𠮷田　太郎', sex: '1', birthDate: '1980-02-17', address: '大阪府大阪市北区曾根﨑２－５－１８' },
    { issuerId: 'm-signca01' },
  );
  der = Buffer.from(issued.der);
  serial = parseCertificate(der).serial;
}, 60_000);

describe.each(ENGINES)('migration 8: the monitor keeps CertIDs, not certificates (%s)', (engine) => {
  let pg: { url: string; drop: () => Promise<void> } | undefined;
  afterAll(async () => pg?.drop());

  it('backfills the CertID hashes from the stored DER and drops the DER', async () => {
    pg = engine === 'postgres' ? await createPostgresDatabase() : undefined;
    const db = await openDatabase(
      pg ? { databaseUrl: pg.url, migrate: false } : { dataDir: 'memory://', migrate: false },
    );
    try {
      await migrate(
        db,
        MIGRATIONS.filter((m) => m.id < 8),
      );
      await db.query(
        `INSERT INTO relying_parties (client_id, client_secret, name, redirect_uris, ceremonies, framework, purpose, webhook_secret) VALUES ('rp_1', 's', 'Bank', '[]', '["identity"]', 'other', 'p', 'w')`,
      );
      await db.query(`INSERT INTO subjects (id) VALUES ('sub_1')`);
      const notAfter = new Date(Date.now() + YEAR);
      await db.query(
        `INSERT INTO monitored_certificates (rp_client_id, subject_id, record_id, issuer_id, serial, certificate, not_after) VALUES ('rp_1', 'sub_1', 'rec_1', 'm-signca01', $1, $2, $3)`,
        [serial, der, notAfter],
      );

      await migrate(db);
      const columns = (
        await db.query<{ column_name: string }>(
          `SELECT column_name FROM information_schema.columns WHERE table_name = 'monitored_certificates'`,
        )
      ).map((c) => c.column_name);
      expect(columns).not.toContain('certificate');
      const [row] = await db.query<Record<string, unknown>>('SELECT * FROM monitored_certificates');
      const certId = ocspCertId(serial, root);
      expect(Buffer.from(row!.issuer_name_hash as Uint8Array).equals(certId.nameHash)).toBe(true);
      expect(Buffer.from(row!.issuer_key_hash as Uint8Array).equals(certId.keyHash)).toBe(true);
      expect(row).toMatchObject({ issuer_id: 'm-signca01', serial, record_id: 'rec_1', status: 'good' });
      expect(new Date(row!.not_after as Date).getTime()).toBe(notAfter.getTime());
      const dump = JSON.stringify(row, (_k, v: unknown) =>
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v,
      );
      expect(dump).not.toContain(Buffer.from(parseCertificate(der).x509.publicKey.pkcs1).toString('hex'));
      expect(
        (await db.query<{ id: number }>('SELECT id FROM schema_migrations ORDER BY id')).map((r) => Number(r.id)),
      ).toContain(8);
    } finally {
      await db.close();
    }
  }, 60_000);
});

describe('re-check from a kept CertID', () => {
  const never: RevocationChecker = { check: () => Promise.reject(new Error('must not be asked')) };
  const store = (): TrustStore => {
    const s = new TrustStore();
    s.add(ca.root('m-signca01').der, { label: 'm-signca01' });
    return s;
  };

  it('refuses a label no anchor has, and an anchor whose name or key hash differs from the kept CertID', async () => {
    const verifier = new JpkiVerifier({ mode: 'sandbox', trustStore: store(), revocation: never });
    const certId = ocspCertId(serial, root);
    const watched = { issuerId: 'm-signca01', serial, issuerNameHash: certId.nameHash, issuerKeyHash: certId.keyHash };
    await expect(verifier.recheck({ ...watched, issuerId: 'gone' })).rejects.toThrow(UntrustedIssuer);
    await expect(verifier.recheck({ ...watched, issuerKeyHash: Buffer.alloc(20) })).rejects.toThrow(
      /kept CertID hashes differ/,
    );
    await expect(verifier.recheck({ ...watched, issuerNameHash: Buffer.alloc(20) })).rejects.toThrow(
      /kept CertID hashes differ/,
    );
  });

  it('asks the revocation source with the serial and the anchor only (no certificate bytes)', async () => {
    const asked: unknown[] = [];
    const source: RevocationChecker = {
      check: async (certificate, issuer, at) => {
        asked.push({ certificate, issuer: issuer.serial });
        return { status: 'good', source: 'ocsp', checkedAt: at };
      },
    };
    const verifier = new JpkiVerifier({ mode: 'sandbox', trustStore: store(), revocation: source });
    const certId = ocspCertId(serial, root);
    const status = await verifier.recheck({
      issuerId: 'm-signca01',
      serial,
      issuerNameHash: certId.nameHash,
      issuerKeyHash: certId.keyHash,
    });
    expect(status.status).toBe('good');
    expect(asked).toEqual([{ certificate: { serial, ocspUrls: [], crlDistributionPoints: [] }, issuer: root.serial }]);
  });
});
