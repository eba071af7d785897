// Adversarial catalogue — the card layer (A53–A59): @kakunin/card driven over a transport that answers
// crafted APDU responses (a hostile reader, relay or card emulator). Each refusal is a typed
// CardError; nothing a card says is trusted to be well-formed.

import { describe, expect, it } from 'vitest';
import { sha256DigestInfo } from '@kakunin/jpki';
import {
  InProcessTransport,
  IntegrityCheckFailed,
  MyNumberCard,
  NotAMyNumberCard,
  TruncatedResponse,
  isCardError,
  myNumberCheckDigit,
  parseBasicInfoEf,
  type ApduExchange,
} from '@kakunin/card';
import { title } from './catalogue.js';
import { expectTyped } from './support/expect.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const OK = '9000';

/** A card double answering each command (upper-case hex) with hex; logs every exchange it sees. */
function fake(answer: (cmd: string) => string): { card: MyNumberCard; log: ApduExchange[]; commands: string[] } {
  const commands: string[] = [];
  const transport = new InProcessTransport({
    transmit: (a) => {
      const cmd = hex(a);
      commands.push(cmd);
      return Uint8Array.from(Buffer.from(answer(cmd), 'hex'));
    },
  });
  const log: ApduExchange[] = [];
  transport.onApdu((e) => log.push(e));
  return { card: new MyNumberCard(transport), log, commands };
}

const challenge = sha256DigestInfo(Buffer.from('nonce'));

describe('card layer', () => {
  it(title('A53'), async () => {
    // One byte where at least the two status bytes are due, at the first command and mid-operation.
    await expectTyped(() => fake(() => '90').card.tokenKind(), TruncatedResponse, 'TRUNCATED_RESPONSE');
    await expectTyped(() => fake(() => '').card.readAuthCertificate(), TruncatedResponse, 'TRUNCATED_RESPONSE');
    const midway = fake((c) => (c.startsWith('802A') ? '61' : OK));
    await expectTyped(() => midway.card.signWithAuthKey('1234', challenge), TruncatedResponse, 'TRUNCATED_RESPONSE');
  });

  it(title('A54'), async () => {
    // A 5-byte length form the card layer does not support at all.
    const huge = fake((c) => (c.startsWith('00A4') ? OK : `3084FFFFFFFF${'41'.repeat(290)}${OK}`));
    await expectTyped(() => huge.card.readAuthCertificate(), TruncatedResponse, 'TRUNCATED_RESPONSE');
    // A 16 MiB length from a card that answers every offset read: the reader stops at what READ
    // BINARY offsets can address (32 KiB), it does not keep reading or allocate 16 MiB.
    const endless = fake((c) =>
      c.startsWith('00A4')
        ? OK
        : c.startsWith('00B08A')
          ? `3083FFFFFF${'41'.repeat(295)}${OK}`
          : `${'41'.repeat(256)}${OK}`,
    );
    const e = await expectTyped(() => endless.card.readAuthCertificate(), TruncatedResponse, 'TRUNCATED_RESPONSE');
    expect(e.message).toMatch(/cannot be addressed/);
    expect(endless.commands.length).toBeLessThan(140);
  });

  it(title('A55'), async () => {
    // The TLV header promises 1583 bytes; the EF ends after 300 and the card says so with 6B00.
    const cut = `3082062B${'41'.repeat(296)}`;
    const short = fake((c) => (c.startsWith('00A4') ? OK : c === '00B08A00000000' ? `${cut}${OK}` : '6B00'));
    const e = await expectTyped(() => short.card.readAuthCertificate(), TruncatedResponse, 'TRUNCATED_RESPONSE');
    expect(e.message).toMatch(/ends at 300 bytes/);
    // The same with a card that returns empty data instead of an error.
    const empty = fake((c) => (c.startsWith('00A4') ? OK : c === '00B08A00000000' ? `${cut}${OK}` : OK));
    await expectTyped(() => empty.card.readAuthCertificate(), TruncatedResponse, 'TRUNCATED_RESPONSE');
  });

  it(title('A56'), async () => {
    const short = fake((c) => (c.startsWith('802A') ? `${'AB'.repeat(255)}${OK}` : OK));
    const e = await expectTyped(
      () => short.card.signWithAuthKey('1234', challenge),
      TruncatedResponse,
      'TRUNCATED_RESPONSE',
    );
    expect(e.message).toMatch(/255 bytes, expected 256/);
    // Longer is just as wrong (a relay appending bytes).
    const long = fake((c) => (c.startsWith('802A') ? `${'AB'.repeat(257)}${OK}` : OK));
    await expectTyped(() => long.card.signWithAuthKey('1234', challenge), TruncatedResponse, 'TRUNCATED_RESPONSE');
  });

  it(title('A57'), async () => {
    const name = Buffer.from('試験　花子', 'utf8');
    const item = (tag: string, v: Buffer): string =>
      `${tag}${v.length.toString(16).padStart(2, '0')}${v.toString('hex')}`;
    const inner =
      item('DF22', name) +
      item('DF23', Buffer.from('東京都', 'utf8')) +
      item('DF24', Buffer.from('19800217')) +
      item('DF25', Buffer.from('1'));
    const wrap = (value: string, declared = value.length / 2): Buffer =>
      Buffer.from(
        `FF20${declared < 0x80 ? declared.toString(16).padStart(2, '0') : `81${declared.toString(16).padStart(2, '0')}`}${value}`,
        'hex',
      );
    expect(parseBasicInfoEf(wrap(inner)).name).toBe('試験　花子');
    // The name item claims 0x7F bytes inside a parent of ~40.
    await expectTyped(
      () => parseBasicInfoEf(wrap(inner.replace(/^DF22../, 'DF227F'))),
      TruncatedResponse,
      'TRUNCATED_RESPONSE',
    );
    // The parent claims more than the EF holds.
    await expectTyped(() => parseBasicInfoEf(wrap(inner, 0xf0)), TruncatedResponse, 'TRUNCATED_RESPONSE');
    // A 4-byte length form inside.
    await expectTyped(
      () => parseBasicInfoEf(wrap(inner.replace(/^DF22../, 'DF2284FFFFFFFF'))),
      TruncatedResponse,
      'TRUNCATED_RESPONSE',
    );
  });

  it(title('A58'), async () => {
    const label = Buffer.alloc(32, 0x20);
    label.write('JPKIAPFAKETOKEN');
    const impostor = fake((c) => (c.startsWith('00B086') ? `${label.toString('hex')}${OK}` : OK));
    await expectTyped(() => impostor.card.tokenKind(), NotAMyNumberCard, 'NOT_A_MY_NUMBER_CARD');
    // Every operation starts by asking: a signature is never requested from an impostor either.
    await expectTyped(() => impostor.card.status(), NotAMyNumberCard, 'NOT_A_MY_NUMBER_CARD');
    // No JPKI application at all.
    await expectTyped(() => fake(() => '6A82').card.tokenKind(), NotAMyNumberCard, 'NOT_A_MY_NUMBER_CARD');
  });

  it(title('A59'), async () => {
    const first11 = '53768667718';
    const myNumber = `${first11}${myNumberCheckDigit(first11)}`;
    // The card-info AP's CVC (EF 0004), read before any PIN, carries a My Number in its key id.
    const body = Buffer.concat([
      Buffer.from(myNumber, 'ascii'),
      Buffer.alloc(4),
      Buffer.alloc(16, 0x11),
      Buffer.from('9003010001', 'hex'),
      Buffer.from('91820100', 'hex'),
      Buffer.alloc(256, 0xc5),
    ]);
    const tlv = (tag: string, v: Buffer): Buffer =>
      Buffer.concat([
        Buffer.from(tag, 'hex'),
        Buffer.from(
          v.length < 0x80 ? [v.length] : v.length < 0x100 ? [0x81, v.length] : [0x82, v.length >> 8, v.length & 0xff],
        ),
        v,
      ]);
    const cvc = tlv('7F21', Buffer.concat([tlv('5F4E', body), tlv('5F37', Buffer.alloc(256, 0x33))]));
    const hostile = fake((c) => (c.startsWith('00B084') ? `${cvc.toString('hex')}${OK}` : OK));
    const e = await expectTyped(
      () => hostile.card.readBasicInfo('5678'),
      IntegrityCheckFailed,
      'INTEGRITY_CHECK_FAILED',
    );
    expect(isCardError(e)).toBe(true);
    const seen = [
      e.message,
      JSON.stringify(e),
      ...hostile.log.map((x) => `${hex(x.command)} ${hex(x.response)} ${Buffer.from(x.response).toString('latin1')}`),
    ].join('\n');
    expect(seen).not.toContain(myNumber);
    expect(seen).not.toContain(Buffer.from(myNumber, 'ascii').toString('hex').toUpperCase());
    // It was masked in the log, not merely absent: the response did carry it.
    expect(hostile.log.some((x) => Buffer.from(x.response).toString('latin1').includes('************'))).toBe(true);
    // And the PIN was never sent to a card whose CVC did not verify.
    expect(hostile.commands.some((c) => c.startsWith('0020') && c.length > 10)).toBe(false);
  });
});
