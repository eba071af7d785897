// `kakunin trust list`: the embedded J-LIS roots with their pins and expiry, plus sandbox roots
// (--trust DIR) and the pinned roots of a server configuration (--config FILE), marked by source.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JLIS_ROOTS } from '@kakunin/jpki';
import { SimCa } from '@kakunin/sim';
import { futureJlisRoot, type FutureRoot } from '../../../test/support/future-root.js';
import { kakunin } from './run.js';
import type { AnchorRow } from '../src/commands/trust.js';

const YEAR = 365.25 * 86_400_000;
const now = new Date();
let dir: string;
let future: FutureRoot;
let simDir: string;
let config: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kakunin-trust-list-'));
  future = await futureJlisRoot({
    notBefore: new Date(now.getTime() - YEAR),
    notAfter: new Date(now.getTime() + 9 * YEAR),
  });
  writeFileSync(join(dir, 'authca04.pem'), future.pem);
  config = join(dir, 'kakunin.json');
  writeFileSync(
    config,
    JSON.stringify({ mode: 'production', trustAnchors: [{ file: join(dir, 'authca04.pem'), sha256: future.sha256 }] }),
  );
  const sim = await SimCa.create([
    {
      id: 'sim-authca01',
      kind: 'auth',
      medium: 'card',
      generation: 1,
      notBefore: new Date(now.getTime() - YEAR),
      notAfter: new Date(now.getTime() + YEAR),
    },
  ]);
  simDir = join(dir, 'sim-roots');
  mkdirSync(simDir);
  writeFileSync(join(simDir, 'sim-authca01.pem'), sim.root('sim-authca01').pem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const list = (...args: string[]): AnchorRow[] => {
  const r = kakunin(['trust', 'list', '--json', ...args]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as AnchorRow[];
};

describe('kakunin trust list', () => {
  it('lists the six embedded J-LIS roots with serial, validity, SHA-256 and expiry', () => {
    const rows = list('--at', '2024-01-01');
    expect(rows.map((r) => r.label)).toEqual(['authca01', 'authca02', 'authca03', 'signca01', 'signca02', 'signca03']);
    for (const r of rows) {
      const root = JLIS_ROOTS.find((x) => x.label === r.label)!;
      expect(Object.keys(r).sort()).toEqual(
        [
          'environment',
          'expired',
          'kind',
          'label',
          'medium',
          'notAfter',
          'notBefore',
          'serial',
          'sha256',
          'source',
        ].sort(),
      );
      expect(r).toMatchObject({
        kind: root.kind,
        serial: root.serial,
        sha256: root.sha256,
        environment: 'production',
        source: 'embedded',
        expired: false,
      });
    }
    expect(rows.find((r) => r.label === 'authca02')).toMatchObject({
      notBefore: '2019-09-14T23:41:59.000Z',
      notAfter: '2029-09-14T14:59:59.000Z',
    });
    const later = list('--at', '2026-01-01');
    expect(later.filter((r) => r.expired).map((r) => r.label)).toEqual(['authca01', 'signca01']);
  });

  it('prints a readable table', () => {
    const r = kakunin(['trust', 'list', '--at', '2026-01-01']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^label\s+kind\s+medium\s+environment\s+source\s+serial\s+valid from\s+valid to\s+state\s+SHA-256$/m,
    );
    expect(r.stdout).toMatch(
      /^authca01\s+auth\s+unknown\s+production\s+embedded\s+01\s+2015-10-20\s+2025-10-19\s+EXPIRED\s+4DCFC4CA/m,
    );
    expect(r.stdout).toMatch(
      /^signca02\s+sign\s+unknown\s+production\s+embedded\s+0132C4AB\s+2019-09-14\s+2029-09-14\s+valid\s+79679C33/m,
    );
    expect(r.stdout).toMatch(/^6 trust anchors; expiry as of 2026-01-01T00:00:00.000Z/m);
  });

  it('adds sandbox roots from --trust DIR and pinned roots from --config FILE, marked by source', () => {
    const rows = list('--trust', simDir, '--config', config);
    expect(rows).toHaveLength(8);
    expect(rows.find((r) => r.label === 'sim-authca01')).toMatchObject({
      source: 'trust-dir',
      environment: 'simulator',
      kind: 'auth',
    });
    expect(rows.find((r) => r.label === 'authca04')).toMatchObject({
      source: 'config',
      environment: 'production',
      sha256: future.sha256,
      expired: false,
    });
  });

  it('reads KAKUNIN_CONFIG when --config is not given, and refuses a wrong pin naming the file and both fingerprints', () => {
    process.env.KAKUNIN_CONFIG = config;
    try {
      expect(list().find((r) => r.label === 'authca04')).toMatchObject({ source: 'config' });
    } finally {
      delete process.env.KAKUNIN_CONFIG;
    }
    const wrong = join(dir, 'wrong.json');
    const pin = 'CD'.repeat(32);
    writeFileSync(wrong, JSON.stringify({ trustAnchors: [{ file: join(dir, 'authca04.pem'), sha256: pin }] }));
    const r = kakunin(['trust', 'list', '--config', wrong]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('authca04.pem');
    expect(r.stderr).toContain(future.sha256);
    expect(r.stderr).toContain(pin);
    const noPin = join(dir, 'nopin.json');
    writeFileSync(noPin, JSON.stringify({ trustAnchors: [{ file: join(dir, 'authca04.pem') }] }));
    expect(kakunin(['trust', 'list', '--config', noPin]).stderr).toMatch(/has no "sha256"/);
  });
});
