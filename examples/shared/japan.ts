// Japanese rules the demos apply to verified data: residency by 全国地方公共団体コード (prefecture
// part), age under 年齢計算ニ関スル法律, dates in Japan time, statutory retention periods.

export { PREFECTURES, prefectureOf, dayAgeIsReached, ageOn, dayInJapan } from '@kakunin/jpki/japan';
import { isLeap, parseDay } from '@kakunin/jpki/japan';

export const FUKUI = '18';

/** An instant shown in Japan time: `2026-11-25 18:00:01 JST`. */
export const formatJst = (at: Date | string): string =>
  `${new Date(new Date(at).getTime() + 9 * 3600_000).toISOString().slice(0, 19).replace('T', ' ')} JST`;

/**
 * An instant as people read it, in Japan time: `2026年12月5日 09:30` (ja) or `5 Dec 2026, 09:30 JST`
 * (en) — the platform pages' formatter (@kakunin/web), the one the demos use for times on pages too
 * (the exact instant goes in an attribute).
 */
export { jstWords } from '@kakunin/web';

const MONTHS_EN = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** A calendar day (YYYY-MM-DD) in words: `2026年12月5日` / `5 Dec 2026`. */
export function dayWords(day: string, lang: 'ja' | 'en'): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return day;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return lang === 'ja' ? `${y}年${mo}月${d}日` : `${d} ${MONTHS_EN[mo - 1]} ${y}`;
}

/**
 * The last day of a retention period of `years` counted from the day after `endDay` (民法140条: the
 * first day is not counted), i.e. the same month and day `years` later (28 February for 29 February).
 */
export function retentionUntil(endDay: string, years: number): string {
  const [y, m, d] = parseDay(endDay);
  const year = y + years;
  if (m === 2 && d === 29 && !isLeap(year)) return `${year}-02-28`;
  return `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** 1234567 → "1,234,567". */
export const grouped = (n: number): string => n.toLocaleString('en-US');
