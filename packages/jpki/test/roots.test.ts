import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JLIS_ROOTS, TrustStore, UntrustedIssuer, Expired, parseCertificate, validate } from '../src/index.js';

const trustDir = fileURLToPath(new URL('../trust/', import.meta.url));

// Facts of spec §7.1 (validity, serials, SHA-256 fingerprints measured from the real DER).
const EXPECTED = {
  'auth_ca_2015.pem': { kind: 'auth', label: 'authca01', serial: '01', size: 1316, notAfter: '2025-10-19T14:59:59.000Z' },
  'auth_ca_2023.pem': { kind: 'auth', label: 'authca03', serial: '06D18006', size: 1319, notAfter: '2033-07-15T14:59:59.000Z' },
  'sign_ca_2015.pem': { kind: 'sign', label: 'signca01', serial: '01', size: 1301, notAfter: '2025-10-19T14:59:59.000Z' },
  'sign_ca_2023.pem': { kind: 'sign', label: 'signca03', serial: '067C6A21', size: 1304, notAfter: '2033-07-15T14:59:59.000Z' },
} as const;

describe('the real J-LIS roots', () => {
  it('are embedded exactly as the files shipped in trust/', () => {
    const files = readdirSync(trustDir).filter((f) => f.endsWith('.pem')).sort();
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    const embedded = JLIS_ROOTS.map((r) => parseCertificate(r.pem).x509.fingerprintSha256).sort();
    const shipped = files.map((f) => parseCertificate(readFileSync(trustDir + f, 'utf8')).x509.fingerprintSha256).sort();
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
      const r = validate(c, { at: new Date('2024-06-01T00:00:00Z'), trustStore: store });
      expect(r.isAnchor).toBe(true);
      expect(r.generation).toBe(EXPECTED[file as keyof typeof EXPECTED].label);
      expect(() => validate(c, { at: new Date('2034-01-01T00:00:00Z'), trustStore: store })).toThrow(Expired);
    }
  });

  it('a self-signed CA outside the store is an UntrustedIssuer even with a J-LIS name', () => {
    const c = parseCertificate(readFileSync(trustDir + 'auth_ca_2023.pem', 'utf8'));
    expect(() => validate(c, { trustStore: new TrustStore() })).toThrow(UntrustedIssuer);
  });
});
