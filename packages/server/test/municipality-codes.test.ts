import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config.js';
import { loadMunicipalityCodes, parseMunicipalityCodes } from '../src/credentials/municipalities.js';
import { residentClaims } from '../src/credentials/domain.js';

describe('municipality codes of the digital ID credential', () => {
  const table = parseMunicipalityCodes(
    'code,prefix\n# 政令指定都市: the ward wins over the city\n01100,北海道札幌市\n01106,北海道札幌市南区\n\n18201,福井県福井市\n',
    'codes.csv',
  );

  it('takes the longest matching address prefix, nothing for an address outside the table', () => {
    expect(table('北海道札幌市南区真駒内１－１')).toBe('01106');
    expect(table('北海道札幌市中央区北１条西２丁目')).toBe('01100');
    expect(table('福井県福井市大手３－１０－１')).toBe('18201');
    expect(table('福井県鯖江市西山町１３－１')).toBeUndefined();
  });

  it('refuses a malformed line or a missing file with a ConfigError naming the place', () => {
    expect(() => parseMunicipalityCodes('18201,福井県福井市\n1820,福井県鯖江市\n', 'x.csv')).toThrow(ConfigError);
    expect(() => parseMunicipalityCodes('18201,福井県福井市\n1820,福井県鯖江市\n', 'x.csv')).toThrow('x.csv:2');
    expect(() => loadMunicipalityCodes('/nonexistent/codes.csv')).toThrow(/ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'muni-'));
    writeFileSync(join(dir, 'codes.csv'), '18207,福井県鯖江市\n');
    expect(loadMunicipalityCodes(join(dir, 'codes.csv'))('福井県鯖江市西山町')).toBe('18207');
  });

  it('the claims: prefecture code always, municipality code when known, ages on the day of issuance (Japan time)', () => {
    const basic4 = {
      name: '福井　花子',
      nameSubstitute: '00000',
      sex: 'female',
      sexCode: '2',
      birthDate: '2008-04-02',
      era: { code: '4', name: 'heisei', nameJa: '平成', year: 20 },
      address: '福井県福井市大手３－１０－１',
      addressSubstitute: '0'.repeat(14),
    } as Parameters<typeof residentClaims>[0];
    // 18 on 2026-04-01 (the day before the birthday, 年齢計算ニ関スル法律), 00:00 JST = 2026-03-31T15:00Z.
    const before = residentClaims(basic4, { at: new Date('2026-03-31T14:59:59Z'), municipalityCode: table });
    const after = residentClaims(basic4, { at: new Date('2026-03-31T15:00:00Z') });
    expect(before).toEqual({
      name: '福井　花子',
      birthdate: '2008-04-02',
      address: { formatted: '福井県福井市大手３－１０－１', prefecture_code: '18', municipality_code: '18201' },
      age_equal_or_over: { '18': false, '20': false },
    });
    expect(after.address).toEqual({ formatted: '福井県福井市大手３－１０－１', prefecture_code: '18' });
    expect(after.age_equal_or_over).toEqual({ '18': true, '20': false });
  });
});
