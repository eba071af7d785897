import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { kakunin } from './run.js';

const trust = (f: string): string => fileURLToPath(new URL(`../../jpki/trust/${f}`, import.meta.url));

const ROOTS = [
  ['auth_ca_2015.pem', 'auth', 'authca01'],
  ['auth_ca_2019.pem', 'auth', 'authca02'],
  ['auth_ca_2023.pem', 'auth', 'authca03'],
  ['sign_ca_2015.pem', 'sign', 'signca01'],
  ['sign_ca_2019.pem', 'sign', 'signca02'],
  ['sign_ca_2023.pem', 'sign', 'signca03'],
] as const;

describe('kakunin cert on the real J-LIS roots', () => {
  for (const [file, kind, generation] of ROOTS) {
    it(`inspect ${file} shows kind ${kind} and generation ${generation}`, () => {
      const text = kakunin(['cert', 'inspect', trust(file)]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`^kind:\\s+${kind} `, 'm'));
      expect(text.stdout).toMatch(new RegExp(`^generation:\\s+${generation} `, 'm'));
      const json = JSON.parse(kakunin(['cert', 'inspect', trust(file), '--json']).stdout);
      expect(json).toMatchObject({
        kind,
        isCA: true,
        environment: 'production',
        issuerGeneration: { label: generation },
      });
    });

    it(`verify ${file} names ${generation} and succeeds while the root is valid`, () => {
      const r = kakunin(['cert', 'verify', trust(file), '--at', '2024-06-01', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        valid: true,
        kind,
        generation,
        isAnchor: true,
        environment: 'production',
      });
    });
  }

  it('verify of an expired root exits non-zero with EXPIRED', () => {
    const r = kakunin(['cert', 'verify', trust('auth_ca_2015.pem'), '--at', '2026-01-01']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Expired \(EXPIRED\)/);
  });

  it('bad input gives a clear message and a usage exit code, not a crash', () => {
    const missing = kakunin(['cert', 'verify', '/nonexistent.der']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read \/nonexistent.der: ENOENT/);
    const badDate = kakunin(['cert', 'verify', trust('auth_ca_2023.pem'), '--at', 'someday']);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toMatch(/--at: "someday" is not a date/);
    const badMode = kakunin(['cert', 'verify', trust('auth_ca_2023.pem'), '--mode', 'lenient']);
    expect(badMode.code).toBe(2);
  });
});
