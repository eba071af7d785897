// Fuzzing the DER reader and certificate parsing: parseCertificate / parseX509, readTlv /
// readSingle / DerCursor and the primitive decoders, and validate() on mutated certificates.
// Every input must give a certificate (or a validation result) or a typed JpkiError.

import { describe, expect, it } from 'vitest';
import { isJpkiError, parseCertificate } from '@kakunin/jpki';
import { DerCursor, readSingle, readTlv } from '@kakunin/jpki/der';
import { fuzzTarget } from './harness.js';
import { certificateSeeds, smallPki } from './seeds.js';
import { bombs, expectTyped, lengthCorruptions, truncations } from './support.js';
import { derTarget, validateTarget, walkDer, x509Target } from './targets/jpki.js';

fuzzTarget(derTarget);
fuzzTarget(x509Target);
fuzzTarget(validateTarget);

describe('certificates: exhaustive edge cases', () => {
  it('every truncation of every seed certificate (simulator, J-LIS roots)', async () => {
    const { all } = await certificateSeeds();
    let n = 0;
    for (const cert of all) {
      for (const b of truncations(cert)) {
        const bytes = Uint8Array.from(b);
        expectTyped(() => parseCertificate(bytes), isJpkiError, { input: bytes, parser: 'parseCertificate' });
        expectTyped(() => walkDer(bytes), isJpkiError, { input: bytes, parser: 'DER walk' });
        n++;
      }
    }
    expect(n).toBeGreaterThan(10_000);
  });

  it('every length field of every seed certificate, corrupted every way (indefinite, huge, long form, off by one …)', async () => {
    const { all } = await certificateSeeds();
    const pki = await smallPki();
    for (const cert of all) {
      for (const b of lengthCorruptions(cert))
        expectTyped(() => parseCertificate(b), isJpkiError, { input: b, parser: 'parseCertificate' });
    }
    // Inside a re-signed TBSCertificate the outer structure stays valid.
    for (const tbs of pki.tbs) {
      for (const b of lengthCorruptions(tbs)) {
        const der = pki.resign(b);
        expectTyped(() => parseCertificate(der), isJpkiError, { input: der, parser: 'parseCertificate (re-signed)' });
      }
    }
  });

  it('nesting bombs (100,000 levels) neither overflow the stack nor hang', () => {
    for (const { name, bytes } of bombs()) {
      const input = () => `${name}: ${bytes.length} bytes`;
      expectTyped(() => parseCertificate(bytes), isJpkiError, { input, parser: 'parseCertificate' });
      expectTyped(() => readSingle(bytes), isJpkiError, { input, parser: 'readSingle' });
      expectTyped(() => walkDer(bytes), isJpkiError, { input, parser: 'DER walk' });
      expectTyped(
        () => {
          // Descend as deep as the data goes, one cursor per level.
          let t = readTlv(bytes, 0);
          for (let depth = 0; depth < 200_000; depth++) {
            const c = DerCursor.of(bytes, t);
            if (c.done) break;
            t = c.next();
          }
        },
        isJpkiError,
        { input, parser: 'DerCursor descent' },
      );
    }
  });
});
