// Unit tests of the demos' shared rules: legal age, prefecture codes, retention periods, webhook
// signatures, verified_claims reading, the JSON store.

import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  JsonStore,
  Phrasebook,
  ageOn,
  dayAgeIsReached,
  dayInJapan,
  dayWords,
  formatJst,
  jstWords,
  oidcErrorWords,
  prefectureOf,
  readVerifiedClaims,
  reasonHtml,
  reasonWords,
  retentionUntil,
  storedHtml,
  verifyKakuninSignature,
} from '../shared/index.js';

describe('age under 年齢計算ニ関スル法律', () => {
  it('an age is reached on the day before the birthday', () => {
    expect(dayAgeIsReached('2008-04-01', 18)).toBe('2026-03-31');
    expect(ageOn('2008-04-01', '2026-03-30')).toBe(17);
    expect(ageOn('2008-04-01', '2026-03-31')).toBe(18);
    expect(ageOn('2008-04-01', '2026-04-01')).toBe(18);
    expect(ageOn('2000-01-01', '2025-12-31')).toBe(26);
    expect(ageOn('2000-01-01', '2025-12-30')).toBe(25);
  });

  it('29 February: reached on 28 February in common years (民法143条2項 ただし書)', () => {
    expect(dayAgeIsReached('2008-02-29', 18)).toBe('2026-02-28');
    expect(ageOn('2008-02-29', '2026-02-27')).toBe(17);
    expect(ageOn('2008-02-29', '2026-02-28')).toBe(18);
    expect(dayAgeIsReached('2008-02-29', 20)).toBe('2028-02-28');
    // Born 1 March: the day before is 28 or 29 February.
    expect(dayAgeIsReached('2008-03-01', 18)).toBe('2026-02-28');
    expect(dayAgeIsReached('2008-03-01', 20)).toBe('2028-02-29');
  });

  it('newborns and dates in Japan time', () => {
    expect(ageOn('2026-01-10', '2026-01-10')).toBe(0);
    expect(dayInJapan('2026-03-30T15:00:00Z')).toBe('2026-03-31');
    expect(dayInJapan('2026-03-30T14:59:59Z')).toBe('2026-03-30');
    expect(formatJst('2026-03-30T15:00:01Z')).toBe('2026-03-31 00:00:01 JST');
  });
});

describe('words for people', () => {
  it('times in Japan time: 2026年12月5日 09:30 / 5 Dec 2026, 09:30 JST; days alike', () => {
    expect(jstWords('2026-12-05T00:30:59Z', 'ja')).toBe('2026年12月5日 09:30');
    expect(jstWords('2026-12-05T00:30:59Z', 'en')).toBe('5 Dec 2026, 09:30 JST');
    // The day changes at 15:00 UTC.
    expect(jstWords(new Date('2026-03-30T15:00:00Z'), 'ja')).toBe('2026年3月31日 00:00');
    expect(jstWords('2026-12-31T14:59:00Z', 'en')).toBe('31 Dec 2026, 23:59 JST');
    expect(jstWords('not a time', 'en')).toBe('not a time');
    expect(dayWords('1944-11-01', 'ja')).toBe('1944年11月1日');
    expect(dayWords('1944-11-01', 'en')).toBe('1 Nov 1944');
  });

  it('revocation reasons in words, the code in small print; OIDC errors in words', () => {
    expect(reasonWords('affiliationChanged', 'ja')).toBe('氏名・住所などの変更 (転居・婚姻など)');
    expect(reasonWords('keyCompromise', 'en')).toBe('the card was lost or stolen (key compromised)');
    expect(reasonWords(undefined, 'en')).toBe('unknown');
    expect(reasonHtml('affiliationChanged', 'en')).toBe(
      'a change of name or address (a move, marriage …) <small class="code" data-code="affiliationChanged">(affiliationChanged)</small>',
    );
    // An unknown code is shown as it is (escaped), with nothing to add in small print.
    expect(reasonHtml('<b>', 'ja')).toBe('&lt;b&gt;');
    expect(oidcErrorWords('access_denied').title).toEqual(['手続きを中止しました', 'Cancelled']);
    expect(oidcErrorWords('something_else').title).toEqual(['本人確認ができませんでした', 'Verification failed']);
  });

  it('English for stored Japanese values: exact phrases, patterns; the Japanese, marked, without one', () => {
    const book = new Phrasebook().add('本店', 'Head office').match(/^記録 (\d+)$/, (m) => `Record ${m[1]}`);
    expect(book.en('本店')).toBe('Head office');
    expect(book.en('記録 12')).toBe('Record 12');
    expect(book.en('支店')).toBeUndefined();
    expect(storedHtml('ja', '本店', book.en('本店'))).toBe('本店');
    expect(storedHtml('en', '本店', book.en('本店'))).toBe('Head office');
    expect(storedHtml('en', '支店<', book.en('支店<'))).toBe(
      '<span lang="ja">支店&lt;</span> <small class="muted">(recorded in Japanese)</small>',
    );
  });
});

describe('prefecture of a certified address (全国地方公共団体コード)', () => {
  it('maps the leading 都道府県 to its 2-digit code', () => {
    expect(prefectureOf('福井県福井市大手３－１０－１')).toEqual({ code: '18', name: '福井県' });
    expect(prefectureOf('東京都千代田区霞が関１－１－１')?.code).toBe('13');
    expect(prefectureOf('京都府京都市中京区寺町通御池上る上本能寺前町４８８')?.code).toBe('26');
    expect(prefectureOf('北海道札幌市中央区北１条西２丁目')?.code).toBe('01');
    expect(prefectureOf('沖縄県那覇市泉崎１－２－２')?.code).toBe('47');
    expect(prefectureOf('国外転出者　アメリカ合衆国')).toBeUndefined();
    expect(prefectureOf('石川県金沢市広坂１－１－１')?.code).toBe('17');
  });
});

describe('retention periods', () => {
  it('counts from the day after the end (民法140条): same date N years later', () => {
    expect(retentionUntil('2026-03-10', 7)).toBe('2033-03-10');
    expect(retentionUntil('2028-02-29', 3)).toBe('2031-02-28');
  });
});

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"evt_1","type":"certificate.revoked"}';
  const sign = (t: number, s = secret, b = body) =>
    `t=${t},v1=${createHmac('sha256', s).update(`${t}.${b}`).digest('hex')}`;
  const now = Date.now();
  const t = Math.floor(now / 1000);

  it('accepts a fresh, matching signature (also among several v1 values)', () => {
    expect(verifyKakuninSignature(body, sign(t), secret, 300, now)).toBe(true);
    expect(
      verifyKakuninSignature(body, `${sign(t, 'whsec_old')},v1=${sign(t).split('v1=')[1]}`, secret, 300, now),
    ).toBe(true);
  });

  it('rejects another secret, a changed body, a stale or missing timestamp, garbage', () => {
    expect(verifyKakuninSignature(body, sign(t, 'whsec_other'), secret, 300, now)).toBe(false);
    expect(verifyKakuninSignature(`${body} `, sign(t), secret, 300, now)).toBe(false);
    expect(verifyKakuninSignature(body, sign(t - 301), secret, 300, now)).toBe(false);
    expect(verifyKakuninSignature(body, sign(t).replace(/^t=\d+,/, ''), secret, 300, now)).toBe(false);
    expect(verifyKakuninSignature(body, undefined, secret)).toBe(false);
    expect(verifyKakuninSignature(body, 't=abc,v1=zz', secret)).toBe(false);
  });
});

describe('verified_claims', () => {
  it('reads the OIDC4IDA structure and refuses an incomplete one', () => {
    const v = readVerifiedClaims({
      verification: {
        trust_framework: 'jp_aml',
        time: '2026-11-25T09:00:01.234Z',
        verification_process: 'rec_1',
        evidence: [
          {
            type: 'electronic_signature',
            issuer: 'C=JP',
            serial_number: '1A2B',
            created_at: '2026-11-25T09:00:01.234Z',
          },
        ],
      },
      claims: { name: '森　蓮', birthdate: '1944-11-01', address: { formatted: '福井県福井市大手４－４－５' } },
    });
    expect(v).toEqual({
      trustFramework: 'jp_aml',
      time: '2026-11-25T09:00:01.234Z',
      recordId: 'rec_1',
      certificate: { issuer: 'C=JP', serial: '1A2B', createdAt: '2026-11-25T09:00:01.234Z' },
      name: '森　蓮',
      birthdate: '1944-11-01',
      address: '福井県福井市大手４－４－５',
    });
    expect(() => readVerifiedClaims({ claims: { name: 'x' } })).toThrow(/verification/);
    expect(() => readVerifiedClaims(undefined)).toThrow();
  });
});

describe('JSON store', () => {
  it('persists every update and reloads it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-store-'));
    try {
      const a = new JsonStore(dir, 'x', () => ({ n: 0, list: [] as string[] }));
      a.update((d) => {
        d.n = 2;
        d.list.push('a');
      });
      expect(JSON.parse(readFileSync(join(dir, 'x.json'), 'utf8'))).toEqual({ n: 2, list: ['a'] });
      expect(new JsonStore(dir, 'x', () => ({ n: 0, list: [] as string[] })).data).toEqual({ n: 2, list: ['a'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
