// `trustAnchors` in the configuration: a production root beyond the embedded J-LIS ones is trusted
// only by file AND SHA-256 pin; anything else refuses start before the database is touched.
import { sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RevocationChecker } from '@kakunin/jpki';
import { ConfigError, loadConfig } from '../src/config.js';
import { startServer } from '../src/app.js';
import { withConfiguredAnchors } from '../src/trust-anchors.js';
import { JpkiVerifier } from '../src/verifier.js';
import { futureJlisRoot, type FutureRoot } from '../../../test/support/future-root.js';

const YEAR = 365.25 * 86_400_000;
const now = new Date();
let dir: string;
let root: FutureRoot;
let file: string;

const PRODUCTION_ENV = {
  DATABASE_URL: 'postgres://127.0.0.1:1/none',
  KAKUNIN_OCSP_URL: 'http://127.0.0.1:1/ocsp',
  KAKUNIN_LINKAGE_URL: 'http://127.0.0.1:1',
  KAKUNIN_PUBLIC_URL: 'https://id.example.jp',
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kakunin-anchors-'));
  root = await futureJlisRoot({
    notBefore: new Date(now.getTime() - YEAR),
    notAfter: new Date(now.getTime() + 9 * YEAR),
  });
  file = join(dir, 'authca04.pem');
  writeFileSync(file, root.pem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good: RevocationChecker = { check: async () => ({ status: 'good', source: 'ocsp', checkedAt: new Date() }) };

describe('trustAnchors', () => {
  it('a pinned root from the config file is used for production verification, under its label', async () => {
    const config = join(dir, 'kakunin.json');
    writeFileSync(
      config,
      JSON.stringify({ trustAnchors: [{ file, sha256: root.sha256.toLowerCase().match(/../g)!.join(':') }] }),
    );
    const loaded = loadConfig({ mode: 'production' }, { ...PRODUCTION_ENV, KAKUNIN_CONFIG: config });
    const store = withConfiguredAnchors(loaded.trustAnchors);
    expect(store.list().find((a) => a.source === 'pinned')).toMatchObject({
      label: 'authca04',
      environment: 'production',
    });
    const verifier = new JpkiVerifier({ mode: 'production', trustStore: store, revocation: good });
    const toBeSigned = Buffer.from('challenge');
    const signature = sign('sha256', toBeSigned, root.endEntityKey);
    const v = await verifier.verify({ certificate: root.endEntity, signature, toBeSigned, kind: 'auth' });
    expect(v.issuerId).toBe('authca04');
    // Without the pinned root the same certificate names an unknown generation.
    const plain = new JpkiVerifier({
      mode: 'production',
      trustStore: withConfiguredAnchors(undefined),
      revocation: good,
    });
    await expect(
      plain.verify({ certificate: root.endEntity, signature, toBeSigned, kind: 'auth' }),
    ).rejects.toMatchObject({ code: 'UNKNOWN_ISSUER_GENERATION' });
  });

  it('a wrong pin refuses start, naming the file and both fingerprints', async () => {
    const wrong = 'AB'.repeat(32);
    const config = loadConfig({ mode: 'production', trustAnchors: [{ file, sha256: wrong }] }, PRODUCTION_ENV);
    // ConfigError and not a database error: the pins are checked before PostgreSQL is contacted.
    const refused = startServer(config, { noJobs: true });
    await expect(refused).rejects.toBeInstanceOf(ConfigError);
    await expect(refused).rejects.toThrow(
      new RegExp(`trustAnchors\\[0\\] \\(${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\).*${root.sha256}.*${wrong}`),
    );
  });

  it('a file without pin, an unreadable file or a malformed entry refuses start', () => {
    expect(() => withConfiguredAnchors([{ file }])).toThrow(ConfigError);
    expect(() => withConfiguredAnchors([{ file }])).toThrow(/trustAnchors\[0\] \(.*authca04\.pem\) has no "sha256"/);
    expect(() => withConfiguredAnchors([{ file: join(dir, 'missing.pem'), sha256: root.sha256 }])).toThrow(
      /trustAnchors\[0\]: cannot read .*missing\.pem \(ENOENT\)/,
    );
    expect(() => withConfiguredAnchors([{ file, sha256: 'abc' }])).toThrow(/not a SHA-256 fingerprint/);
    expect(() => withConfiguredAnchors([{ sha256: root.sha256 }])).toThrow(/needs "file"/);
    expect(() => withConfiguredAnchors({ file, sha256: root.sha256 })).toThrow(/must be a list/);
    expect(() => withConfiguredAnchors([{ file, sha256: root.sha256, pem: 'x' }])).toThrow(/unknown keys pem/);
  });
});
