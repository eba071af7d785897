// APDU encoding (cases 1–4, short and extended), TLV, PIN formats, My Number masking, the card-info
// parsers on the spec's test-card bytes, and PC/SC error mapping: pure functions, no card.

import { describe, expect, it } from 'vitest';
import {
  CardRemoved,
  decodeApdu,
  encodeApdu,
  InvalidInput,
  InvalidPinFormat,
  isValidMyNumber,
  maskMyNumber,
  maskMyNumberText,
  parseBasicInfoEf,
  parseResponse,
  pcscError,
  pinBytes,
  ReaderNotFound,
  readTlv,
  redactCommand,
  Timeout,
  tlvTotalLength,
  TruncatedResponse,
  WrongPin,
  PinBlocked,
  PcscUnavailable,
} from '../src/index.js';
import { loadSmartcard } from '../src/pcsc.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

describe('command APDUs', () => {
  const cases: [string, Parameters<typeof encodeApdu>[0], string][] = [
    ['case 1', { cla: 0, ins: 0x20, p1: 0, p2: 0x98 }, '00200098'],
    ['case 2S, Le 32', { cla: 0, ins: 0xb0, p1: 0x86, p2: 0, le: 0x20 }, '00B0860020'],
    ['case 2S, Le 256 is written 00', { cla: 0, ins: 0xb0, p1: 0x8a, p2: 0, le: 256 }, '00B08A0000'],
    [
      'case 3S (SELECT AID, spec §6.1)',
      { cla: 0, ins: 0xa4, p1: 4, p2: 0x0c, data: bytes('D392F000260100000001') },
      '00A4040C0AD392F000260100000001',
    ],
    [
      'case 4S (80 2A, Le 256)',
      { cla: 0x80, ins: 0x2a, p1: 0, p2: 0x80, data: bytes('3031'), le: 256 },
      '802A0080023031' + '00',
    ],
    ['case 2E, Le 65536 is written 00 00 00', { cla: 0, ins: 0xb0, p1: 0x8a, p2: 0, le: 65536 }, '00B08A00000000'],
    ['case 2E forced, Le 255', { cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 255, extended: true }, '00B000000000FF'],
    [
      'case 3E (Lc 300)',
      { cla: 0x80, ins: 0xa2, p1: 0, p2: 0, data: new Uint8Array(300) },
      '80A20000' + '00012C' + '00'.repeat(300),
    ],
    [
      'case 4E (Lc 2, Le 1000)',
      { cla: 0, ins: 0x88, p1: 0, p2: 0, data: bytes('0102'), le: 1000 },
      '00880000' + '000002' + '0102' + '03E8',
    ],
  ];
  for (const [name, cmd, want] of cases) {
    it(`${name} encodes exactly and decodes back`, () => {
      const enc = encodeApdu(cmd);
      expect(hex(enc)).toBe(want);
      const dec = decodeApdu(enc);
      expect(dec.cla).toBe(cmd.cla);
      expect(dec.ins).toBe(cmd.ins);
      expect(hex(dec.data ?? new Uint8Array(0))).toBe(hex(cmd.data ?? new Uint8Array(0)));
      expect(dec.le).toBe(cmd.le);
    });
  }

  it('refuses impossible lengths with InvalidInput', () => {
    expect(() => encodeApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 0 })).toThrow(InvalidInput);
    expect(() => encodeApdu({ cla: 0, ins: 0xb0, p1: 0, p2: 0, le: 65537 })).toThrow(InvalidInput);
    expect(() => encodeApdu({ cla: 256, ins: 0xb0, p1: 0, p2: 0 })).toThrow(InvalidInput);
    expect(() => encodeApdu({ cla: 0, ins: 0xd6, p1: 0, p2: 0, data: new Uint8Array(65536) })).toThrow(InvalidInput);
    for (const bad of ['00A4', '00A4040C0AD392', '00B0000000000000', '00B000000000010203', '00B000000001'])
      expect(() => decodeApdu(bytes(bad)), bad).toThrow(InvalidInput);
  });

  it('a response shorter than its status word or longer than any response APDU is a TruncatedResponse, never a crash', () => {
    expect(() => parseResponse(new Uint8Array(0))).toThrow(TruncatedResponse);
    expect(() => parseResponse(Uint8Array.of(0x90))).toThrow(TruncatedResponse);
    const r = parseResponse(bytes('3082 63C2'));
    expect(r).toMatchObject({ sw1: 0x63, sw2: 0xc2, sw: 0x63c2 });
    expect(hex(r.data)).toBe('3082');
    expect(parseResponse(new Uint8Array(65_538)).data.length).toBe(65_536);
    expect(() => parseResponse(new Uint8Array(65_539))).toThrow(/at most 65536 data bytes/);
  });

  it('the log copy of a VERIFY / CHANGE REFERENCE DATA hides the PIN', () => {
    expect(hex(redactCommand(bytes('00200098 04 31323334')))).toBe('00200098042A2A2A2A');
    expect(hex(redactCommand(bytes('0020009B 06 414243313233')))).toBe('0020009B062A2A2A2A2A2A');
    expect(hex(redactCommand(bytes('00240180 04 39393939')))).toBe('00240180042A2A2A2A');
    expect(hex(redactCommand(bytes('00200098')))).toBe('00200098');
    expect(hex(redactCommand(bytes('00B08A0000')))).toBe('00B08A0000');
  });
});

describe('TLV', () => {
  it('reads multi-byte private tags (FF20, DF21, 7F21, 5F4E) and 81 / 82 lengths', () => {
    const t = readTlv(bytes('FF20 05 DF21 02 0102 FFFF'));
    expect(t.tag).toBe(0xff20);
    expect(t.length).toBe(5);
    expect(t.end).toBe(8);
    expect(readTlv(t.value).tag).toBe(0xdf21);
    const long = readTlv(Uint8Array.from([0x7f, 0x21, 0x82, 0x01, 0x00, ...new Uint8Array(256)]));
    expect(long).toMatchObject({ tag: 0x7f21, length: 256, valueStart: 5 });
    expect(readTlv(Uint8Array.from([0x5f, 0x4e, 0x81, 0x80, ...new Uint8Array(128)])).length).toBe(128);
    expect(tlvTotalLength(bytes('3082062B'))).toBe(0x62b + 4);
    expect(tlvTotalLength(bytes('30'))).toBeUndefined();
  });

  it('truncation anywhere is a TruncatedResponse', () => {
    for (const bad of ['', 'FF', 'FF20', 'DF2105', 'DF21820100', '7F21830100', '308001'])
      expect(() => readTlv(bytes(bad)), bad).toThrow(TruncatedResponse);
  });
});

describe('PIN formats (checked before anything is sent)', () => {
  it('auth and card-info PINs are exactly 4 digits', () => {
    expect(pinBytes('auth', '0123').toString()).toBe('0123');
    for (const bad of ['123', '12345', '12a4', ' 123', '', '１２３４']) {
      expect(() => pinBytes('auth', bad), bad).toThrow(InvalidPinFormat);
      expect(() => pinBytes('cardInfo', bad), bad).toThrow(InvalidPinFormat);
    }
  });

  it('the signing password is 6–16 of A–Z 0–9, upper-cased', () => {
    expect(pinBytes('sign', 'abc123').toString()).toBe('ABC123');
    expect(pinBytes('sign', 'A1B2C3D4E5F6G7H8').toString()).toBe('A1B2C3D4E5F6G7H8');
    for (const bad of ['ABC12', 'A1B2C3D4E5F6G7H8I', 'ABC-123', 'ABC 123', 'ＡＢＣ１２３'])
      expect(() => pinBytes('sign', bad), bad).toThrow(InvalidPinFormat);
  });

  it('errors carry the remaining tries and never the PIN', () => {
    const wrong = new WrongPin('auth', 2);
    expect(wrong).toMatchObject({ code: 'WRONG_PIN', remaining: 2 });
    expect(wrong.message).toMatch(/2 tries remaining/);
    expect(new PinBlocked('sign', true, '63C0').message).toMatch(/0 tries remaining.*blocked/);
    expect(JSON.stringify(new InvalidPinFormat('auth', 'exactly 4 digits'))).not.toMatch(/1234/);
  });
});

describe('My Number masking', () => {
  it('masks isolated 12-digit runs in buffers and text, not UTCTime values or longer numbers', () => {
    const ef0001 = bytes('FF100C 353337363836363737313838 FFFF');
    expect(maskMyNumber(ef0001)).toBe(1);
    expect(Buffer.from(ef0001).toString('latin1')).toContain('************');
    const utcTime = Buffer.from('170D3236313132353036303030305A', 'hex'); // "261125060000Z"
    expect(maskMyNumber(utcTime)).toBe(0);
    expect(maskMyNumber(Buffer.from('1234567890123'))).toBe(0);
    expect(maskMyNumberText('番号 537686677188 です')).toBe('番号 ************ です');
    expect(maskMyNumberText('2026-11-25T06:00:00Z 20261125060000Z')).toBe('2026-11-25T06:00:00Z 20261125060000Z');
    expect(isValidMyNumber('537686677188')).toBe(true); // the spec's test-card number (§9.1)
    expect(isValidMyNumber('537686677187')).toBe(false);
  });
});

describe('card-info parsers on the spec test-card bytes (§9.2)', () => {
  it('parses name, address, birth date, sex and the DF32 digest of EF 0002', () => {
    const ef =
      'ff2065df2108000e002000590064df220fe9bb92e6a190e38080e5b9b9e4b99fdf2336e69db1e4baace983bde6b885e780ace5b882e8a6b3e5b883e5ad90e58d97efbc91efbc92efbc8defbc97efbc8defbc92efbc90efbc92df24083139383030323137df250131';
    const info = parseBasicInfoEf(Uint8Array.from([...bytes(ef), ...new Uint8Array(40).fill(0xff)]));
    expect(info).toMatchObject({
      name: '黒桐\u3000幹也',
      address: '東京都清瀬市観布子南１２－７－２０２',
      birthDate: '1980-02-17',
      sex: '1',
    });
    expect(Buffer.from(info.digest).toString('hex')).toBe(
      'b9e0d09427b23b1d4beda2848512b4103752dc2667e51f9712872d65f472cb3b',
    );
    expect(() => parseBasicInfoEf(bytes(ef.slice(0, 60)))).toThrow(TruncatedResponse);
    expect(() => parseBasicInfoEf(bytes('FF2003DF2500'))).toThrow(TruncatedResponse);
  });
});

describe('PC/SC error mapping', () => {
  it('maps pcsc-lite messages onto CardRemoved / Timeout / ReaderNotFound', () => {
    expect(pcscError(new Error('Card was removed'), 'x')).toBeInstanceOf(CardRemoved);
    expect(pcscError(new Error('No smart card present'), 'x')).toBeInstanceOf(CardRemoved);
    expect(pcscError(new Error('Card was reset'), 'x')).toBeInstanceOf(CardRemoved);
    expect(pcscError(new Error('Operation timed out'), 'x')).toBeInstanceOf(Timeout);
    expect(pcscError(new Error('Sharing violation'), 'x')).toBeInstanceOf(Timeout);
    expect(pcscError(new Error('PC/SC service not running'), 'x')).toBeInstanceOf(ReaderNotFound);
    expect(pcscError(new Error('Unknown reader'), 'x')).toBeInstanceOf(ReaderNotFound);
    expect(pcscError(new Error('No readers available'), 'x')).toBeInstanceOf(ReaderNotFound);
  });
});

describe('PC/SC support missing (an install without libpcsclite-dev)', () => {
  const failing = (): Promise<unknown> => Promise.reject(new Error("Cannot find package 'smartcard'"));

  it('is a typed PcscUnavailable naming the Debian packages and the npm line that brings the binding', async () => {
    const removed = await loadSmartcard(failing, () => false).catch((e: unknown) => e);
    expect(removed).toBeInstanceOf(PcscUnavailable);
    expect((removed as PcscUnavailable).code).toBe('PCSC_UNAVAILABLE');
    expect((removed as PcscUnavailable).repair).toBe(
      'sudo apt-get install pcscd libpcsclite-dev g++ make python3 && npm install',
    );
    expect((removed as Error).message).toContain("Cannot find package 'smartcard'");

    const unbuilt = await loadSmartcard(failing, () => true).catch((e: unknown) => e);
    expect((unbuilt as PcscUnavailable).repair).toBe(
      'sudo apt-get install pcscd libpcsclite-dev g++ make python3 && npm rebuild smartcard',
    );
    expect((unbuilt as Error).message).toContain('npm rebuild smartcard');
  });

  it('loads the binding when it is there', async () => {
    const sc = await loadSmartcard(() => Promise.resolve({ default: { marker: 1 } }));
    expect(sc).toEqual({ marker: 1 });
  });
});
