import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import {
  JLIS_GENERATIONS,
  JLIS_ROOTS,
  TrustStore,
  UntrustedIssuer,
  Expired,
  parseCertificate,
  validate,
} from '../src/index.js';

const trustDir = fileURLToPath(new URL('../trust/', import.meta.url));

// Facts of spec §7.1 and shared/jpki-trust/README.md (validity, serials, DER sizes, SHA-256 fingerprints).
const EXPECTED = {
  'auth_ca_2015.pem': {
    kind: 'auth',
    label: 'authca01',
    serial: '01',
    size: 1316,
    notBefore: '2015-10-20T03:08:13.000Z',
    notAfter: '2025-10-19T14:59:59.000Z',
    sha256: '4DCFC4CA0AAF9FB2A3081B3F0C991C320B3ACC008667A341EEAEC5AF1D58CA7D',
  },
  'auth_ca_2019.pem': {
    kind: 'auth',
    label: 'authca02',
    serial: '0133C349',
    size: 1319,
    notBefore: '2019-09-14T23:41:59.000Z',
    notAfter: '2029-09-14T14:59:59.000Z',
    sha256: '0D98DE47FC11B7F67126874B7028B6026A803D2638D6EDFE53176953961FADE6',
  },
  'auth_ca_2023.pem': {
    kind: 'auth',
    label: 'authca03',
    serial: '06D18006',
    size: 1319,
    notBefore: '2023-07-16T01:01:04.000Z',
    notAfter: '2033-07-15T14:59:59.000Z',
    sha256: '64114F29620C24ED2631D46476A040E7EE740D956089C00B036A6A8118C322B5',
  },
  'sign_ca_2015.pem': {
    kind: 'sign',
    label: 'signca01',
    serial: '01',
    size: 1301,
    notBefore: '2015-10-20T02:40:28.000Z',
    notAfter: '2025-10-19T14:59:59.000Z',
    sha256: '19645405A1FE14377434BD55957628AC4038557C542403A2243F21C706FC9355',
  },
  'sign_ca_2019.pem': {
    kind: 'sign',
    label: 'signca02',
    serial: '0132C4AB',
    size: 1304,
    notBefore: '2019-09-14T23:41:56.000Z',
    notAfter: '2029-09-14T14:59:59.000Z',
    sha256: '79679C33E4CC9319440F1AD120A597FF1844E2EF217063ADB176966FD5E6FBEB',
  },
  'sign_ca_2023.pem': {
    kind: 'sign',
    label: 'signca03',
    serial: '067C6A21',
    size: 1304,
    notBefore: '2023-07-16T00:50:27.000Z',
    notAfter: '2033-07-15T14:59:59.000Z',
    sha256: 'D227F6CDE11D35C5252178F106F843D24651944975413B539FA2FB68DBFA365F',
  },
} as const;

describe('the real J-LIS roots', () => {
  it('are embedded exactly as the files shipped in trust/', () => {
    const files = readdirSync(trustDir)
      .filter((f) => f.endsWith('.pem'))
      .sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    const embedded = JLIS_ROOTS.map((r) => parseCertificate(r.pem).x509.fingerprintSha256).sort();
    const shipped = files
      .map((f) => parseCertificate(readFileSync(trustDir + f, 'utf8')).x509.fingerprintSha256)
      .sort();
    expect(embedded).toEqual(shipped);
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(`${file}: ${want.label} parses with the right kind, generation and profile`, () => {
      const c = parseCertificate(readFileSync(trustDir + file, 'utf8'));
      expect(c.kind).toBe(want.kind);
      expect(c.isCA).toBe(true);
      expect(c.environment).toBe('production');
      expect(c.serial).toBe(want.serial);
      expect(c.issuerGeneration.label).toBe(want.label);
      expect(c.x509.der.length).toBe(want.size);
      expect(c.notBefore.toISOString()).toBe(want.notBefore);
      expect(c.notAfter.toISOString()).toBe(want.notAfter);
      expect(c.x509.keyUsage).toMatchObject({ keyCertSign: true, cRLSign: true, digitalSignature: false });
      expect(c.x509.extensions.map((e) => [e.oid, e.critical])).toEqual([
        ['2.5.29.15', true],
        ['2.5.29.17', false],
        ['2.5.29.19', true],
        ['2.5.29.31', false],
        ['2.5.29.14', false],
      ]);
      expect(c.x509.publicKey).toMatchObject({ modulusBits: 2048, exponent: 65537 });
    });
  }

  it('validate as trust anchors while valid, and report Expired after notAfter', () => {
    const store = TrustStore.jlis();
    for (const file of Object.keys(EXPECTED)) {
      const c = parseCertificate(readFileSync(trustDir + file, 'utf8'));
      const r = validate(c, { at: new Date('2024-06-01T00:00:00Z'), trustStore: store, acceptAnchor: true });
      expect(r.isAnchor).toBe(true);
      expect(r.generation).toBe(EXPECTED[file as keyof typeof EXPECTED].label);
      expect(() =>
        validate(c, { at: new Date('2034-01-01T00:00:00Z'), trustStore: store, acceptAnchor: true }),
      ).toThrow(Expired);
    }
  });

  for (const [file, want] of Object.entries(EXPECTED)) {
    it(`${file}: the file, its embedded copy and its pin agree (${want.label} ${want.sha256.slice(0, 8)}…)`, () => {
      const fromFile = parseCertificate(readFileSync(trustDir + file, 'utf8')).x509;
      const root = JLIS_ROOTS.find((r) => r.label === want.label);
      expect(root, `${want.label} is embedded`).toBeDefined();
      expect(fromFile.fingerprintSha256).toBe(want.sha256);
      expect(root!.sha256).toBe(want.sha256);
      expect(parseCertificate(root!.pem).x509.der.equals(fromFile.der)).toBe(true);
      expect({ kind: root!.kind, serial: root!.serial }).toEqual({ kind: want.kind, serial: want.serial });
    });
  }

  it('all six load as embedded production anchors, and JLIS_GENERATIONS names each one', () => {
    const anchors = TrustStore.jlis().list();
    expect(anchors.map((a) => a.label).sort()).toEqual(
      Object.values(EXPECTED)
        .map((e) => e.label)
        .sort(),
    );
    expect(anchors.every((a) => a.source === 'embedded' && a.environment === 'production')).toBe(true);
    expect(JLIS_GENERATIONS.map((g) => [g.label, g.serial, g.sha256]).sort()).toEqual(
      Object.values(EXPECTED)
        .map((e) => [e.label, e.serial, e.sha256])
        .sort(),
    );
  });

  it('the store refuses an embedded root whose DER does not hash to its pin', async () => {
    vi.resetModules();
    vi.doMock('../src/jlis-roots.js', () => ({
      JLIS_ROOTS: JLIS_ROOTS.map((r) =>
        r.label === 'authca02' ? { ...r, sha256: EXPECTED['auth_ca_2023.pem'].sha256 } : r,
      ),
    }));
    try {
      const fresh = await import('../src/index.js');
      expect(() => fresh.TrustStore.jlis()).toThrow(fresh.PinMismatch);
      expect(() => fresh.TrustStore.jlis()).toThrow(/authca02: its SHA-256 is 0D98DE47.*pinned as 64114F29/);
    } finally {
      vi.doUnmock('../src/jlis-roots.js');
      vi.resetModules();
    }
  });

  it('a self-signed CA outside the store is an UntrustedIssuer even with a J-LIS name', () => {
    const c = parseCertificate(readFileSync(trustDir + 'auth_ca_2023.pem', 'utf8'));
    expect(() => validate(c, { trustStore: new TrustStore() })).toThrow(UntrustedIssuer);
  });
});
