// Fuzzing the card layer's BER-TLV reader and the card-info files: readTlv / readTlvs /
// tlvTotalLength, parseBasicInfoEf (EF 0002), parseIntegrityEf (EF 0003), parseCvc (EF 0004) and
// the integrity checks on what they return. Every input must parse or throw a typed CardError.

import { describe, it } from 'vitest';
import {
  isCardError,
  parseBasicInfoEf,
  parseCvc,
  parseIntegrityEf,
  readTlv,
  readTlvs,
  tlvTotalLength,
} from '@kakunin/card';
import { fuzzTarget } from './harness.js';
import { cardSeeds } from './seeds.js';
import { bombs, expectTyped, lengthCorruptions, truncations } from './support.js';
import { cardInfoTarget, cardTlvTarget, cvcTarget } from './targets/card.js';

fuzzTarget(cardTlvTarget);
fuzzTarget(cardInfoTarget);
fuzzTarget(cvcTarget);

const PARSERS = {
  parseBasicInfoEf,
  parseIntegrityEf,
  parseCvc,
  readTlv: (b: Uint8Array) => readTlv(b),
  readTlvs: (b: Uint8Array) => readTlvs(b),
  tlvTotalLength,
} as const;

function allParsers(b: Uint8Array, input: () => string): void {
  for (const [name, parse] of Object.entries(PARSERS))
    expectTyped(() => parse(b), isCardError, { input, parser: name });
}

describe('card files: exhaustive edge cases', () => {
  it('every truncation and every corrupted length of EF 0002, EF 0003, EF 0004 and EF 0005', async () => {
    const s = await cardSeeds();
    for (const file of [s.basicInfo, s.integrity, s.cvc, s.apBasicInfo]) {
      for (const b of [...truncations(file), ...lengthCorruptions(file)]) {
        const bytes = Uint8Array.from(b);
        allParsers(bytes, () => `hex:${Buffer.from(bytes).toString('hex')}`);
      }
    }
  });

  it('nesting bombs (FF20, 7F21 and SEQUENCE, 100,000 levels)', () => {
    for (const { name, bytes } of bombs()) allParsers(bytes, () => name);
  });
});
