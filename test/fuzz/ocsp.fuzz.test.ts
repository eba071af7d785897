// Fuzzing OCSP response validation: validateOcspResponse of mutated responses (the simulator
// responder's, and re-signed ones so mutations reach statuses, CertIDs, nonces and times, CA-signed
// and delegated) and findOcspNonce. Every input must give a status or a typed JpkiError.

import { describe, it } from 'vitest';
import { findOcspNonce, isJpkiError, validateOcspResponse } from '@kakunin/jpki';
import { readTlv } from '@kakunin/jpki/der';
import { fuzzTarget } from './harness.js';
import { ocspSeeds } from './seeds.js';
import { bombs, expectTyped, lengthCorruptions, tlv, truncations } from './support.js';
import { ocspNonceTarget, ocspResignedTarget, ocspTarget } from './targets/jpki.js';

fuzzTarget(ocspTarget);
fuzzTarget(ocspResignedTarget);
fuzzTarget(ocspNonceTarget);

describe('OCSP: exhaustive edge cases', () => {
  it('every truncation of every simulator response and of every re-signed tbsResponseData', async () => {
    const s = await ocspSeeds();
    for (const seed of s.signed) {
      for (const b of truncations(seed.der)) {
        const bytes = Uint8Array.from(b);
        expectTyped(() => validateOcspResponse(bytes, seed.request, seed.issuer, { at: s.at }), isJpkiError, {
          input: bytes,
          parser: 'validateOcspResponse',
        });
      }
    }
    for (const tbs of s.tbs) {
      for (const b of truncations(tbs)) {
        const der = s.wrap(b);
        expectTyped(() => validateOcspResponse(der, s.request, s.issuer, { at: s.at }), isJpkiError, {
          input: der,
          parser: 'validateOcspResponse (re-signed)',
        });
      }
    }
  });

  it('every length field, corrupted every way', async () => {
    const s = await ocspSeeds();
    for (const seed of s.signed)
      for (const b of lengthCorruptions(seed.der))
        expectTyped(() => validateOcspResponse(b, seed.request, seed.issuer, { at: s.at }), isJpkiError, {
          input: b,
          parser: 'validateOcspResponse',
        });
    for (const tbs of s.tbs) {
      for (const b of lengthCorruptions(tbs)) {
        const der = s.wrap(b);
        expectTyped(() => validateOcspResponse(der, s.request, s.issuer, { at: s.at }), isJpkiError, {
          input: der,
          parser: 'validateOcspResponse (re-signed)',
        });
      }
    }
    for (const block of s.extensionBlocks)
      for (const b of [...truncations(block), ...lengthCorruptions(block)])
        expectTyped(() => findOcspNonce(b, readTlv(b, 0)), isJpkiError, { input: b, parser: 'findOcspNonce' });
  });

  it('nesting bombs as the response, as the responses list of a signed response, and as nonce extensions', async () => {
    const s = await ocspSeeds();
    for (const { name, bytes } of bombs()) {
      const input = (): string => name;
      expectTyped(() => validateOcspResponse(bytes, s.request, s.issuer, { at: s.at }), isJpkiError, {
        input,
        parser: 'validateOcspResponse',
      });
      expectTyped(() => findOcspNonce(bytes, readTlv(bytes, 0)), isJpkiError, { input, parser: 'findOcspNonce' });
      const der = s.wrap(
        tlv(0x30, tlv(0xa2, tlv(0x04, new Uint8Array(20))), tlv(0x18, Buffer.from('20240101000000Z')), bytes),
      );
      expectTyped(() => validateOcspResponse(der, s.request, s.issuer, { at: s.at }), isJpkiError, {
        input,
        parser: 'validateOcspResponse (re-signed)',
      });
      const ext = tlv(0xa1, tlv(0x30, bytes));
      expectTyped(() => findOcspNonce(ext, readTlv(ext, 0)), isJpkiError, { input, parser: 'findOcspNonce' });
    }
  });
});
