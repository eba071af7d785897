// Fuzzing APDUs: the codec (parseResponse, decodeApdu ↔ encodeApdu, redaction) and whole
// MyNumberCard sessions over a transport whose answers are truncated, carry wrong status words,
// garbage, failures, or get stuck on one answer. Every operation must resolve or reject with a
// typed CardError, within the time budget.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeApdu, isCardError, parseResponse } from '@kakunin/card';
import { fuzzTarget } from './harness.js';
import { FuzzFailure, expectTyped, truncations, type OpenTarget } from './support.js';
import {
  INTERESTING_SW,
  OPERATIONS,
  apduTarget,
  cardSessionTarget,
  type Fault,
  type SessionInput,
} from './targets/card.js';

fuzzTarget(apduTarget);
fuzzTarget(cardSessionTarget);

const clean = (o: Partial<SessionInput> = {}): SessionInput => ({
  variant: 0,
  ops: ['tokenInfo'],
  faults: [],
  raw: false,
  reader: { extendedLength: 'auto', sfi: 'auto' },
  ...o,
});

/** The oracle's verdict on one session, or the failure it reported. */
async function verdict(session: OpenTarget, input: SessionInput): Promise<string> {
  try {
    return await session.check(input);
  } catch (e) {
    if (e instanceof FuzzFailure) return `${e.kind}: ${e.message.split('\n')[0]}`;
    throw e;
  }
}

describe('APDUs: exhaustive edge cases', () => {
  let session: OpenTarget;
  beforeAll(async () => {
    session = await cardSessionTarget.open();
  }, 300_000);
  afterAll(() => session?.close());

  it('every prefix of short and extended command APDUs, and of responses', () => {
    const long = Uint8Array.from([
      0x00,
      0xb0,
      0x00,
      0x00,
      0x00,
      0x01,
      0x2c,
      ...new Uint8Array(300).fill(0x41),
      0x01,
      0x00,
    ]);
    for (const apdu of [
      long,
      Uint8Array.from([0x00, 0xa4, 0x04, 0x0c, 0x0a, ...new Uint8Array(10), 0x00]),
      Uint8Array.from([0x80, 0x2a, 0x00, 0x80, 0x00, 0x00, 0x00]),
    ]) {
      for (const b of truncations(apdu)) {
        expectTyped(() => decodeApdu(b), isCardError, { input: b, parser: 'decodeApdu' });
        expectTyped(() => parseResponse(b), isCardError, { input: b, parser: 'parseResponse' });
      }
    }
  });

  it('every exchange of every operation answered truncated, or with each interesting status word', async () => {
    const faults: Fault[] = [
      { f: 'truncate', n: 0 },
      { f: 'truncate', n: 1 },
      { f: 'truncate', n: 2 },
      { f: 'mutate', plan: [{ op: 'truncate', at: 0x7fffffff }] },
      ...INTERESTING_SW.filter((sw) => sw >> 8 !== 0x6c).map((sw): Fault => ({ f: 'sw', sw, keepData: true })),
    ];
    const failures: string[] = [];
    for (const op of OPERATIONS) {
      for (let call = 0; call < 8; call++) {
        for (const fault of faults) {
          const v = await verdict(session, clean({ ops: [op], faults: [{ call, fault }] }));
          if (v !== 'typed' && v !== 'accepted') failures.push(v);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  // Findings (test/fuzz/FINDINGS.md): these assert the correct behaviour and fail until fixed.

  it('FINDING C1: a card that answers 6C xx to every command makes MyNumberCard loop forever (must end with a typed error)', async () => {
    expect(
      await verdict(session, clean({ ops: ['caAuth'], stuck: { from: 1, answer: Uint8Array.of(0x6c, 0x10) } })),
    ).toMatch(/^(typed|accepted)$/);
  }, 30_000);

  it('FINDING C2: a transport error during GET RESPONSE (after 61 xx) escapes untyped', async () => {
    const input = clean({
      ops: ['tokenInfo'],
      raw: true,
      faults: [
        { call: 1, fault: { f: 'sw', sw: 0x6110, keepData: false } },
        { call: 2, fault: { f: 'throw', what: 'error' } },
      ],
    });
    expect(await verdict(session, input)).toBe('typed');
  });

  it('FINDING C3: a transport that throws a non-Error value (undefined) makes MyNumberCard throw a TypeError', async () => {
    const input = clean({
      ops: ['tokenInfo'],
      raw: true,
      faults: [{ call: 0, fault: { f: 'throw', what: 'undefined' } }],
    });
    expect(await verdict(session, input)).toBe('typed');
  });
});
