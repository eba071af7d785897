// Round trip: 1,000 simulator-issued signing certificates for random synthetic people parse back
// to exactly the basic 4 info they were issued with.
import 'reflect-metadata';
import { randomInt } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrustStore, eraOf, parseCertificate, validate } from '@kakunin/jpki';
import { SimCa, type Basic4Input, type RootSpec } from '@kakunin/sim';

const COUNT = 1000;
// Seeded so a failure can be replayed: ROUNDTRIP_SEED=<n> npm run test:unit
const SEED = Number(process.env.ROUNDTRIP_SEED ?? randomInt(2 ** 31));

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));

const FAMILY = [
  '佐藤',
  '鈴木',
  '高橋',
  '髙橋',
  '田中',
  '渡邉',
  '山﨑',
  '𠮷田',
  '伊藤',
  '中村',
  '小林',
  '加藤',
  'さいとう',
  'スミス',
];
const GIVEN = ['花子', '太郎', '幹也', '陽菜', '蓮', 'さくら', 'ジョン', '德子', '翔太', '結衣', '一', '美智子'];
const PLACES = [
  '福井県福井市大手',
  '福井県鯖江市本町',
  '福井県越前市府中',
  '東京都清瀬市中清戸',
  '北海道札幌市南区真駒内',
  '大阪府大阪市北区梅田',
  '沖縄県那覇市泉崎',
];
const FW_DIGITS = '０１２３４５６７８９';
const fw = (n: number): string => [...String(n)].map((d) => FW_DIGITS[Number(d)]).join('');
const EDGE_DATES = [
  '1912-07-29',
  '1912-07-30',
  '1926-12-24',
  '1926-12-25',
  '1989-01-07',
  '1989-01-08',
  '2019-04-30',
  '2019-05-01',
  '1868-10-23',
];

function randomDate(): string {
  if (rnd() < 0.1) return pick(EDGE_DATES);
  const t = Date.UTC(1900, 0, 1) + rnd() * (Date.UTC(2011, 0, 1) - Date.UTC(1900, 0, 1));
  return new Date(t).toISOString().slice(0, 10);
}

const flags = (text: string, p: number): string => [...text].map(() => (rnd() < p ? '1' : '0')).join('');

function randomPerson(): Required<Basic4Input> {
  const name =
    rnd() < 0.05
      ? `${pick(['SMITH', 'NGUYEN', 'GARCIA'])} ${pick(['JOHN', 'VAN AN', 'MARIA'])}`
      : `${pick(FAMILY)}\u3000${pick(GIVEN)}`;
  let address = `${pick(PLACES)}${fw(int(1, 9))}－${fw(int(1, 30))}－${fw(int(1, 999))}`;
  if (rnd() < 0.1) address += '　' + 'メゾン福井'.repeat(int(1, 12)) + fw(int(100, 999)) + '号室';
  return {
    name,
    nameSubstitute: flags(name, 0.15),
    sex: pick(['0', '1', '2', '9'] as const),
    birthDate: randomDate(),
    address,
    addressSubstitute: flags(address, 0.05),
  };
}

const SEX = { '0': 'unknown', '1': 'male', '2': 'female', '9': 'notApplicable' } as const;

describe(`round trip of ${COUNT} signing certificates (seed ${SEED})`, () => {
  let ca: SimCa;
  let store: TrustStore;
  const YEAR = 365.25 * 86_400_000;
  beforeAll(async () => {
    const now = Date.now();
    const specs: RootSpec[] = [
      {
        id: 'rt-signca01',
        kind: 'sign',
        medium: 'card',
        generation: 1,
        notBefore: new Date(now - YEAR),
        notAfter: new Date(now + 9 * YEAR),
      },
    ];
    ca = await SimCa.create(specs, 'http://127.0.0.1:8900');
    store = new TrustStore();
    store.add(ca.roots()[0]!.der, { label: 'rt-signca01' });
  });

  it('parses back to exactly the basic 4 info issued, and validates', async () => {
    const first = await ca.issueSign(randomPerson());
    const publicKey = first.publicKey; // one holder key for all: RSA key generation is not under test
    const mismatches: string[] = [];
    for (let i = 0; i < COUNT; i++) {
      const person = randomPerson();
      const issued = await ca.issueSign(person, { publicKey });
      const cert = parseCertificate(issued.der);
      const b = cert.basic4;
      const want = {
        name: person.name,
        nameSubstitute: person.nameSubstitute,
        sex: SEX[person.sex],
        sexCode: person.sex,
        birthDate: person.birthDate,
        era: eraOf(person.birthDate),
        address: person.address,
        addressSubstitute: person.addressSubstitute,
      };
      try {
        expect(b).toEqual(want);
      } catch {
        mismatches.push(`#${i}: issued ${JSON.stringify(want)} parsed ${JSON.stringify(b)}`);
      }
      if (i % 100 === 0) expect(validate(cert, { mode: 'sandbox', trustStore: store, kind: 'sign' }).kind).toBe('sign');
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  }, 120_000);
});
