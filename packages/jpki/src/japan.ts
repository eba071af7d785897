// Facts of Japanese identity data as JPKI certificates carry them: the prefecture of an address
// (全国地方公共団体コード, prefecture part, JIS X 0401) and age under 年齢計算ニ関スル法律, dates in Japan time.
// Shared by the platform (the digital ID credential) and the demo relying parties.

/** 都道府県 in JIS X 0401 order: the 2-digit prefecture code is the index + 1 (福井県 = 18). */
export const PREFECTURES = [
  '北海道',
  '青森県',
  '岩手県',
  '宮城県',
  '秋田県',
  '山形県',
  '福島県',
  '茨城県',
  '栃木県',
  '群馬県',
  '埼玉県',
  '千葉県',
  '東京都',
  '神奈川県',
  '新潟県',
  '富山県',
  '石川県',
  '福井県',
  '山梨県',
  '長野県',
  '岐阜県',
  '静岡県',
  '愛知県',
  '三重県',
  '滋賀県',
  '京都府',
  '大阪府',
  '兵庫県',
  '奈良県',
  '和歌山県',
  '鳥取県',
  '島根県',
  '岡山県',
  '広島県',
  '山口県',
  '徳島県',
  '香川県',
  '愛媛県',
  '高知県',
  '福岡県',
  '佐賀県',
  '長崎県',
  '熊本県',
  '大分県',
  '宮崎県',
  '鹿児島県',
  '沖縄県',
] as const;

/**
 * The prefecture of an address as written in the signing certificate: `{ code: '18', name: '福井県' }`,
 * or undefined when the address starts with no prefecture (e.g. the 国外転出者 format: not a resident).
 */
export function prefectureOf(address: string): { code: string; name: string } | undefined {
  const text = address.trim();
  const i = PREFECTURES.findIndex((p) => text.startsWith(p));
  return i < 0 ? undefined : { code: String(i + 1).padStart(2, '0'), name: PREFECTURES[i]! };
}

const DAY_MS = 86_400_000;
export const isLeap = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function parseDay(day: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${day}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/**
 * The day on which a person born on `birthdate` reaches age `n`: 年齢計算ニ関スル法律 counts from the
 * day of birth and 民法143条 ends the period at the end of the day before the birthday; without a
 * corresponding day (29 February in a common year) it ends on the last day of that month (28 February).
 */
export function dayAgeIsReached(birthdate: string, n: number): string {
  const [by, bm, bd] = parseDay(birthdate);
  const year = by + n;
  if (bm === 2 && bd === 29 && !isLeap(year)) return `${year}-02-28`;
  return isoDay(Date.UTC(year, bm - 1, bd) - DAY_MS);
}

/**
 * Age on a day (YYYY-MM-DD), counting the day an age is reached (達した日) as having it, as in
 * Japanese administrative practice (someone whose 18th birthday is the day after an election may
 * vote in it; someone born on 1 April reaches each age on 31 March).
 */
export function ageOn(birthdate: string, day: string): number {
  let n = parseDay(day)[0] - parseDay(birthdate)[0] + 1;
  while (n > 0 && dayAgeIsReached(birthdate, n) > day) n--;
  return n;
}

/** The calendar day in Japan (JST) of an instant, YYYY-MM-DD. */
export const dayInJapan = (at: Date | string = new Date()): string =>
  new Date(new Date(at).getTime() + 9 * 3600_000).toISOString().slice(0, 10);
