// Pages a holder reads: times in Japan time words, never a UTC ISO instant as the text; the sandbox's
// stand-in for the municipal office named where a blocked PIN is explained.
import { describe, expect, it } from 'vitest';
import { ceremonyPage, jstWords, raw } from '../src/index.js';

const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const textOf = (html: string): string => html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ');

describe('jstWords', () => {
  it('writes an instant in Japan time, as people read it', () => {
    const at = new Date('2026-12-05T00:30:00Z');
    expect(jstWords(at, 'ja')).toBe('2026年12月5日 09:30');
    expect(jstWords(at, 'en')).toBe('5 Dec 2026, 09:30 JST');
    expect(jstWords(new Date('2026-12-31T15:00:00Z'), 'ja')).toBe('2027年1月1日 00:00'); // the Japanese date, not the UTC one
  });
});

describe('the ceremony page', () => {
  const input = (lang: 'ja' | 'en', sandbox: boolean) =>
    ceremonyPage({
      lang,
      base: '/interaction/u1',
      rpName: 'Bank',
      purpose: '口座開設',
      kind: 'identity',
      shares: [],
      holderUrl: 'http://127.0.0.1/holder/v1/ceremonies/cer_1',
      qrSvg: raw('<svg></svg>'),
      expiresAt: new Date('2026-12-05T00:35:00Z'),
      ...(sandbox ? { sandbox: true } : {}),
    });

  it.each(['ja', 'en'] as const)(
    'shows the expiry in Japan time words (%s), the instant only in the datetime attribute',
    (lang) => {
      const html = input(lang, false);
      expect(textOf(html)).not.toMatch(ISO);
      expect(html).toContain(lang === 'ja' ? '2026年12月5日 09:35' : '5 Dec 2026, 09:35 JST');
      expect(html).toContain('datetime="2026-12-05T00:35:00.000Z"');
    },
  );

  it('names the sandbox PIN reset only in the sandbox', () => {
    expect(input('ja', true)).toContain('kakunin sim card reset-pin');
    expect(input('en', true)).toContain('kakunin sim card reset-pin');
    expect(input('ja', false)).not.toContain('reset-pin');
  });
});
