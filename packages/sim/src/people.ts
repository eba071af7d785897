// Synthetic residents, generated deterministically from a seed. A fixed cast of roles guarantees
// what demos and tests need (substitute characters, a minor, every sex code, 大正…令和 births,
// certificates from the first root generation); the seed picks the concrete names, dates, streets
// and PINs.

import { createHash } from 'node:crypto';
import { addYears, ageAt, DAY_MS, fullWidth, toCertificateText, type SexCode } from './japanese.js';
import { municipality, MUNICIPALITIES, type Municipality } from './municipalities.js';

/** Sandbox card secrets (simulated cards only; never real PINs). */
export interface CardPins {
  /** 利用者証明用パスワード: 4 digits. */
  readonly auth: string;
  /** 署名用パスワード: 6–16 of A–Z0–9 with at least one letter and one digit. */
  readonly sign: string;
  /** 券面事項入力補助用暗証番号: 4 digits. */
  readonly cardInfo: string;
}

export interface Person {
  /** Stable id, `p001` … */
  readonly id: string;
  /** 氏名 as in the resident register; may hold characters the certificate cannot carry. */
  readonly trueName: string;
  /** 氏名 as written in the certificate (substitutes applied). */
  readonly name: string;
  /** One '0'/'1' per character of `name`. */
  readonly nameSubstitute: string;
  readonly sex: SexCode;
  /** Gregorian `YYYY-MM-DD`. */
  readonly birthDate: string;
  /** 住所 as in the register. */
  readonly trueAddress: string;
  /** 住所 as written in the certificate. */
  readonly address: string;
  readonly addressSubstitute: string;
  /** 5-digit code of the municipality of the address. */
  readonly municipalityCode: string;
  /** 都道府県 of the address, e.g. `福井県`. */
  readonly prefecture: string;
  /** 市区町村 of the address, e.g. `福井市`. */
  readonly municipality: string;
  readonly pins: CardPins;
}

/** A deterministic PRNG (sfc32) seeded from any string. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: string) {
    const h = createHash('sha256').update(seed).digest();
    [this.a, this.b, this.c, this.d] = [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)];
    for (let i = 0; i < 16; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** Removes and returns a random item. */
  take<T>(items: T[]): T {
    return items.splice(this.int(0, items.length - 1), 1)[0]!;
  }

  chars(alphabet: string, n: number): string {
    return Array.from({ length: n }, () => alphabet[this.int(0, alphabet.length - 1)]).join('');
  }
}

const FAMILY_NAMES = [
  '佐藤',
  '鈴木',
  '田中',
  '伊藤',
  '山本',
  '中村',
  '小林',
  '加藤',
  '山田',
  '松本',
  '井上',
  '木村',
  '清水',
  '林',
  '森',
  '池田',
  '橋本',
  '石川',
  '前田',
  '藤井',
];
/** Family names written with a character outside the certificate repertoire (see SUBSTITUTES). */
const VARIANT_FAMILY_NAMES = ['髙橋', '德永', '渡邉', '濵田', '山﨑', '栁田', '桒原'];
const GIVEN_NAMES: Record<SexCode, readonly string[]> = {
  '1': ['太郎', '健一', '翔太', '大輔', '誠', '拓也', '蓮', '悠真', '和夫'],
  '2': ['花子', '陽子', '美咲', '結衣', '愛', 'さくら', '葵', '恵子', '千尋'],
  '9': ['遥', '薫', '瑞希', '光', '真琴'],
  '0': ['遥', '薫', '瑞希', '光', '真琴'],
};
const OLD_GIVEN_NAMES = ['ハル', 'キヨ', '千代', 'トメ'];

type Era = 'taisho' | 'showa' | 'heisei' | 'reiwa';

interface Role {
  readonly municipalityCode: string;
  readonly sex: SexCode;
  readonly era: Era;
  /** Family name: a fixed one, a seeded pick among the variant names, or a plain one. */
  readonly family?: string | 'variant';
  readonly town?: string;
  /** Root generation of the card certificates (1 = issued before generation 2 began). */
  readonly generation: 1 | 2;
  readonly minor?: boolean;
}

// The cast. p003 carries 𠮷 (outside the BMP) so flag counting by code point is always exercised.
const ROLES: readonly Role[] = [
  { municipalityCode: '18201', sex: '1', era: 'showa', generation: 2 },
  { municipalityCode: '18207', sex: '2', era: 'heisei', family: 'variant', generation: 2 },
  { municipalityCode: '18209', sex: '1', era: 'showa', family: '𠮷田', generation: 1 },
  { municipalityCode: '13221', sex: '2', era: 'heisei', generation: 2 },
  { municipalityCode: '01106', sex: '9', era: 'heisei', generation: 2 },
  { municipalityCode: '27127', sex: '2', era: 'taisho', town: '曾根﨑', generation: 2 },
  { municipalityCode: '18201', sex: '2', era: 'reiwa', minor: true, generation: 2 },
  { municipalityCode: '26104', sex: '1', era: 'showa', family: 'variant', generation: 1 },
  { municipalityCode: '40133', sex: '2', era: 'heisei', family: 'variant', generation: 2 },
  { municipalityCode: '47201', sex: '0', era: 'showa', generation: 2 },
  { municipalityCode: '18207', sex: '1', era: 'heisei', generation: 2 },
  { municipalityCode: '13221', sex: '2', era: 'showa', family: 'variant', generation: 2 },
];

const isoDay = (t: number): string => new Date(t).toISOString().slice(0, 10);

function randomDate(rng: Rng, from: string, to: string): string {
  const lo = Date.parse(`${from}T00:00:00Z`);
  const hi = Math.max(lo, Date.parse(`${to}T00:00:00Z`));
  return isoDay(lo + rng.int(0, Math.round((hi - lo) / DAY_MS)) * DAY_MS);
}

function birthDate(rng: Rng, era: Era, now: Date): string {
  const adultLimit = isoDay(addYears(now, -20).getTime());
  switch (era) {
    case 'taisho':
      return randomDate(rng, '1921-01-01', '1926-12-24');
    case 'showa':
      return randomDate(rng, '1940-01-01', '1988-12-31');
    case 'heisei':
      return randomDate(rng, '1989-01-08', adultLimit < '2019-04-30' ? adultLimit : '2019-04-30');
    case 'reiwa': {
      // Under 15 and at least two years old; born in 令和 whenever "now" allows it.
      const oldest = isoDay(addYears(now, -14).getTime());
      return randomDate(rng, oldest > '2019-05-01' ? oldest : '2019-05-01', isoDay(addYears(now, -2).getTime()));
    }
  }
}

/** A street address in a municipality: `<都道府県><市区町村><町>３－１０－１` (full-width, as in the register). */
export function randomAddress(rng: Rng, m: Municipality, town = rng.pick(m.towns)): string {
  return `${m.prefecture}${m.name}${town}${fullWidth(`${rng.int(1, 5)}-${rng.int(1, 30)}-${rng.int(1, 20)}`)}`;
}

/** A family name other than `current`'s (e.g. after marriage). */
export function randomFamilyName(rng: Rng, current: string): string {
  return rng.pick([...FAMILY_NAMES, ...VARIANT_FAMILY_NAMES].filter((f) => !current.startsWith(f)));
}

/** A municipality other than the given one. */
export function otherMunicipality(rng: Rng, code: string): Municipality {
  return rng.pick(MUNICIPALITIES.filter((m) => m.code !== code));
}

function pins(rng: Rng): CardPins {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const digits = '0123456789';
  const sign = rng.chars(letters + digits, rng.int(6, 10)).split('');
  // Force one letter and one digit at two distinct positions.
  const i = rng.int(0, sign.length - 1);
  const j = (i + rng.int(1, sign.length - 1)) % sign.length;
  sign[i] = rng.chars(letters, 1);
  sign[j] = rng.chars(digits, 1);
  return { auth: rng.chars(digits, 4), sign: sign.join(''), cardInfo: rng.chars(digits, 4) };
}

/** The person fields derived from a true name and address (certificate spelling, flags, municipality). */
export function withNameAndAddress<
  P extends Omit<Person, 'name' | 'nameSubstitute' | 'address' | 'addressSubstitute' | 'municipality' | 'prefecture'>,
>(p: P): P & Pick<Person, 'name' | 'nameSubstitute' | 'address' | 'addressSubstitute' | 'municipality' | 'prefecture'> {
  const name = toCertificateText(p.trueName);
  const address = toCertificateText(p.trueAddress);
  const m = municipality(p.municipalityCode);
  return {
    ...p,
    name: name.text,
    nameSubstitute: name.flags,
    address: address.text,
    addressSubstitute: address.flags,
    prefecture: m.prefecture,
    municipality: m.name,
  };
}

export interface PersonPlan {
  readonly person: Person;
  /** When the card certificates were issued, and by which root generation. */
  readonly cardIssuedAt: Date;
  readonly generation: 1 | 2;
  /** Smartphone issuance (adults holding a signing certificate only). */
  readonly smartphones: readonly { readonly medium: 'android' | 'iphone'; readonly issuedAt: Date }[];
  readonly hasSignCertificate: boolean;
}

/** Age from which the signing certificate is issued (spec §7.5). */
export const SIGN_CERT_MIN_AGE = 15;

/**
 * The registry and its issuance plan. `generation2Start` is when the second root generation began;
 * generation-1 holders were issued before it, the others after it.
 */
export function generatePeople(seed: string, now: Date, generation2Start: Date, smartphoneStart: Date): PersonPlan[] {
  const rng = new Rng(`${seed}/people`);
  const families = [...FAMILY_NAMES];
  const variants = VARIANT_FAMILY_NAMES.slice();
  const givenUsed = new Set<string>();
  const nowMs = now.getTime();
  return ROLES.map((role, index) => {
    const m = municipality(role.municipalityCode);
    const family = role.family === 'variant' ? rng.take(variants) : (role.family ?? rng.take(families));
    const givenPool = (role.era === 'taisho' ? OLD_GIVEN_NAMES : GIVEN_NAMES[role.sex]).filter(
      (g) => !givenUsed.has(g),
    );
    const given = rng.pick(givenPool);
    givenUsed.add(given);
    const birth = birthDate(rng, role.era, now);
    const person = withNameAndAddress({
      id: `p${String(index + 1).padStart(3, '0')}`,
      trueName: `${family}\u3000${given}`,
      sex: role.sex,
      birthDate: birth,
      trueAddress: randomAddress(rng, m, role.town),
      municipalityCode: m.code,
      pins: pins(rng),
    });
    // Issued during office hours (JST) on a day after birth, inside the right generation's window.
    const bornMs = Date.parse(`${birth}T00:00:00Z`);
    const latestMs = nowMs - 30 * DAY_MS;
    const [fromMs, toMs] =
      role.generation === 1
        ? [generation2Start.getTime() - 600 * DAY_MS, generation2Start.getTime() - 30 * DAY_MS]
        : [Math.max(generation2Start.getTime() + DAY_MS, bornMs + 30 * DAY_MS, nowMs - 600 * DAY_MS), latestMs];
    const day = Math.floor((fromMs + rng.next() * Math.max(0, toMs - fromMs)) / DAY_MS) * DAY_MS;
    const cardIssuedAt = new Date(day + rng.int(0, 8 * 3600 - 1) * 1000);
    const hasSignCertificate = ageAt(birth, cardIssuedAt) >= SIGN_CERT_MIN_AGE;
    const phoneFrom = Math.max(cardIssuedAt.getTime(), smartphoneStart.getTime()) + DAY_MS;
    const smartphones = hasSignCertificate
      ? (['android', 'iphone'] as const).map((medium) => ({
          medium,
          issuedAt: new Date(Math.floor(phoneFrom + rng.next() * Math.max(0, nowMs - DAY_MS - phoneFrom))),
        }))
      : [];
    return { person, cardIssuedAt, generation: role.generation, smartphones, hasSignCertificate };
  });
}
