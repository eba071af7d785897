// Fuzzing CRL loading: CrlIndex.load of mutated CRLs (raw, and re-signed so the mutation reaches
// the entries and extensions), then lookups. Every input must load or throw a typed JpkiError.

import { describe, it } from 'vitest';
import { CrlIndex, isJpkiError } from '@kakunin/jpki';
import { fuzzTarget } from './harness.js';
import { crlSeeds } from './seeds.js';
import { bombs, expectTyped, lenientHeader, lengthCorruptions, tlv, truncations } from './support.js';
import { crlResignedTarget, crlTarget } from './targets/jpki.js';

fuzzTarget(crlTarget);
fuzzTarget(crlResignedTarget);

describe('CRLs: exhaustive edge cases', () => {
  it('every truncation of every seed CRL', async () => {
    const s = await crlSeeds();
    for (const seed of s.signed) {
      for (const b of truncations(seed.der)) {
        const bytes = Uint8Array.from(b);
        expectTyped(() => CrlIndex.load(bytes, { issuer: seed.issuer, at: s.at }), isJpkiError, {
          input: bytes,
          parser: 'CrlIndex.load',
        });
      }
    }
    // Truncated inside the signed part, then signed: entries and extensions cut anywhere.
    for (const tbs of s.tbs) {
      for (const b of truncations(tbs)) {
        const der = s.resign(b);
        expectTyped(() => CrlIndex.load(der, { issuer: s.issuer, at: s.at }), isJpkiError, {
          input: der,
          parser: 'CrlIndex.load (re-signed)',
        });
      }
    }
  });

  it('every length field, corrupted every way, in signed CRLs and re-signed TBSCertLists', async () => {
    const s = await crlSeeds();
    for (const seed of s.signed)
      for (const b of lengthCorruptions(seed.der))
        expectTyped(() => CrlIndex.load(b, { issuer: seed.issuer, at: s.at }), isJpkiError, {
          input: b,
          parser: 'CrlIndex.load',
        });
    for (const tbs of s.tbs) {
      for (const b of lengthCorruptions(tbs)) {
        const der = s.resign(b);
        expectTyped(() => CrlIndex.load(der, { issuer: s.issuer, at: s.at }), isJpkiError, {
          input: der,
          parser: 'CrlIndex.load (re-signed)',
        });
      }
    }
  });

  it('nesting bombs as the whole CRL and as revokedCertificates of a signed CRL', async () => {
    const s = await crlSeeds();
    // TBSCertList { version, alg, issuer, thisUpdate, nextUpdate, <extra> } signed by the issuer.
    const fields = headerFields(s.tbs[2]!);
    for (const { name, bytes } of bombs()) {
      expectTyped(() => CrlIndex.load(bytes, { issuer: s.issuer, at: s.at }), isJpkiError, {
        input: () => name,
        parser: 'CrlIndex.load',
      });
      const der = s.resign(tlv(0x30, fields, bytes));
      expectTyped(() => CrlIndex.load(der, { issuer: s.issuer, at: s.at }), isJpkiError, {
        input: () => `re-signed CRL with ${name} after its header`,
        parser: 'CrlIndex.load',
      });
    }
  });

  it('200,000 entry headers that lie about their length', async () => {
    const s = await crlSeeds();
    const liar = new Uint8Array(5 * 200_000);
    for (let i = 0; i < 200_000; i++) liar.set([0x30, 0x84, 0xff, 0xff, 0xff], i * 5);
    const der = s.resign(tlv(0x30, headerFields(s.tbs[2]!), tlv(0x30, liar)));
    expectTyped(() => CrlIndex.load(der, { issuer: s.issuer, at: s.at }), isJpkiError, {
      input: () => 'revokedCertificates of 200,000 × 30 84 FFFFFF',
      parser: 'CrlIndex.load',
    });
  });
});

/** The first five fields of a TBSCertList: version, signature, issuer, thisUpdate, nextUpdate. */
function headerFields(tbs: Uint8Array): Uint8Array {
  const outer = lenientHeader(tbs, 0, tbs.length)!;
  let end = outer.valueStart;
  for (let i = 0; i < 5; i++) end = lenientHeader(tbs, end, outer.end)!.end;
  return tbs.subarray(outer.valueStart, end);
}
