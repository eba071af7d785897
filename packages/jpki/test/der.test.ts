import { describe, expect, it } from 'vitest';
import {
  DerCursor,
  TAG,
  decodeBoolean,
  decodeIntegerHex,
  decodeOid,
  decodeString,
  decodeTime,
  encodeOid,
  encodeTlv,
  encodeUnsignedInteger,
  readSingle,
  readTlv,
} from '../src/der.js';
import { Malformed } from '../src/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('strict DER reader', () => {
  it('reads short and long definite lengths', () => {
    expect(readTlv(hex('04 02 aa bb'), 0)).toEqual({ tag: 0x04, start: 0, valueStart: 2, end: 4 });
    const long = Buffer.concat([hex('04 81 80'), Buffer.alloc(0x80)]);
    expect(readTlv(long, 0)).toMatchObject({ valueStart: 3, end: 0x83 });
  });

  it('reads high tag numbers such as the card-info DF21', () => {
    expect(readTlv(hex('df 21 01 00'), 0)).toMatchObject({ tag: 0xdf21, valueStart: 3, end: 4 });
  });

  it.each([
    ['indefinite length', '30 80 00 00'],
    ['non-minimal long form', '04 81 05 0102030405'],
    ['leading zero in length', '04 82 00 05 0102030405'],
    ['length beyond the data', '04 05 0102'],
    ['truncated length field', '04 82 01'],
    ['length field wider than 4 bytes', '04 85 0000000001 00'],
    ['empty input', ''],
  ])('rejects %s with Malformed', (_name, bytes) => {
    expect(() => readSingle(hex(bytes))).toThrow(Malformed);
  });

  it('rejects trailing bytes after the object', () => {
    expect(() => readSingle(hex('05 00 00'))).toThrow(/1 trailing bytes/);
  });

  it('walks children and enforces the expected tags', () => {
    const seq = hex('30 06 02 01 05 01 01 ff');
    const c = DerCursor.of(seq, readSingle(seq, TAG.SEQUENCE));
    expect(decodeIntegerHex(seq, c.next(TAG.INTEGER))).toBe('05');
    expect(c.optional(TAG.NULL)).toBeUndefined();
    expect(decodeBoolean(seq, c.next(TAG.BOOLEAN))).toBe(true);
    expect(c.done).toBe(true);
    const again = DerCursor.of(seq, readSingle(seq));
    expect(() => again.next(TAG.BOOLEAN)).toThrow(Malformed);
  });

  it('decodes and encodes object identifiers', () => {
    for (const oid of [
      '1.2.392.200149.8.5.5.1',
      '2.5.29.15',
      '2.25.197976769723557872508339911938667975137',
      '1.2.840.113549.1.1.11',
    ]) {
      const der = encodeOid(oid);
      expect(decodeOid(der, readSingle(der))).toBe(oid);
    }
    expect(() => decodeOid(hex('06 02 80 01'), readSingle(hex('06 02 80 01')))).toThrow(/non-minimal/);
    expect(() => decodeOid(hex('06 01 81'), readSingle(hex('06 01 81')))).toThrow(/truncated/);
  });

  it('rejects non-minimal integers and non-DER booleans', () => {
    expect(() => decodeIntegerHex(hex('02 02 00 01'), readSingle(hex('02 02 00 01')))).toThrow(/non-minimal/);
    expect(decodeIntegerHex(hex('02 02 00 80'), readSingle(hex('02 02 00 80')))).toBe('0080');
    expect(() => decodeBoolean(hex('01 01 01'), readSingle(hex('01 01 01')))).toThrow(/00 or FF/);
    const n = encodeUnsignedInteger(0x80n);
    expect(n.toString('hex')).toBe('02020080');
  });

  it('decodes UTCTime and GeneralizedTime strictly', () => {
    const utc = encodeTlv(TAG.UTC_TIME, Buffer.from('270923145959Z'));
    expect(decodeTime(utc, readSingle(utc)).toISOString()).toBe('2027-09-23T14:59:59.000Z');
    const gen = encodeTlv(TAG.GENERALIZED_TIME, Buffer.from('20500101000000Z'));
    expect(decodeTime(gen, readSingle(gen)).toISOString()).toBe('2050-01-01T00:00:00.000Z');
    for (const bad of ['270230145959Z', '2709231459Z', '270923145959+0900']) {
      const t = encodeTlv(TAG.UTC_TIME, Buffer.from(bad));
      expect(() => decodeTime(t, readSingle(t))).toThrow(Malformed);
    }
  });

  it('decodes UTF-8 strings and rejects invalid UTF-8', () => {
    const ok = encodeTlv(TAG.UTF8_STRING, Buffer.from('黒桐　幹也'));
    expect(decodeString(ok, readSingle(ok))).toBe('黒桐　幹也');
    const bad = encodeTlv(TAG.UTF8_STRING, hex('c3 28'));
    expect(() => decodeString(bad, readSingle(bad))).toThrow(/UTF-8/);
  });
});
