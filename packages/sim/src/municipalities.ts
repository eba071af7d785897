// Municipalities the simulated residents live in. Codes are the 5-digit 全国地方公共団体コード
// (without check digit) that J-LIS writes into the authentication certificate's subject CN; the
// romaji forms follow the CRL distribution point names seen on real certificates (spec §7.2:
// `OU=Hokkaido, CN=Sapporo-shi-Minami-ku CRLDP`).

import { InvalidInput } from './errors.js';

export interface Municipality {
  /** 5-digit local government code, e.g. `18201`. */
  readonly code: string;
  /** 都道府県, e.g. `福井県`. */
  readonly prefecture: string;
  /** Prefecture in the CRLDP spelling, e.g. `Fukui`. */
  readonly prefectureRomaji: string;
  /** 市区町村 as written after the prefecture in an address, e.g. `福井市`, `札幌市南区`. */
  readonly name: string;
  /** Municipality in the CRLDP spelling, e.g. `Fukui-shi`, `Sapporo-shi-Minami-ku`. */
  readonly romaji: string;
  /** Town names (町域) used to generate street addresses. */
  readonly towns: readonly string[];
}

export const MUNICIPALITIES: readonly Municipality[] = [
  {
    code: '18201',
    prefecture: '福井県',
    prefectureRomaji: 'Fukui',
    name: '福井市',
    romaji: 'Fukui-shi',
    towns: ['大手', '順化', '宝永', '文京', '手寄'],
  },
  {
    code: '18207',
    prefecture: '福井県',
    prefectureRomaji: 'Fukui',
    name: '鯖江市',
    romaji: 'Sabae-shi',
    towns: ['本町', '旭町', '舟津町', '神明町'],
  },
  {
    code: '18209',
    prefecture: '福井県',
    prefectureRomaji: 'Fukui',
    name: '越前市',
    romaji: 'Echizen-shi',
    towns: ['府中', '京町', '蓬莱町', '国府'],
  },
  {
    code: '13221',
    prefecture: '東京都',
    prefectureRomaji: 'Tokyo',
    name: '清瀬市',
    romaji: 'Kiyose-shi',
    towns: ['中里', '元町', '松山', '竹丘', '野塩'],
  },
  {
    code: '01106',
    prefecture: '北海道',
    prefectureRomaji: 'Hokkaido',
    name: '札幌市南区',
    romaji: 'Sapporo-shi-Minami-ku',
    towns: ['澄川', '川沿', '藻岩下', '真駒内上町'],
  },
  // 曾根﨑 is the register form of 曽根崎: it exercises address substitute flags.
  {
    code: '27127',
    prefecture: '大阪府',
    prefectureRomaji: 'Osaka',
    name: '大阪市北区',
    romaji: 'Osaka-shi-Kita-ku',
    towns: ['梅田', '中之島', '天満', '曾根﨑'],
  },
  {
    code: '26104',
    prefecture: '京都府',
    prefectureRomaji: 'Kyoto',
    name: '京都市中京区',
    romaji: 'Kyoto-shi-Nakagyo-ku',
    towns: ['壬生', '西ノ京円町', '二条城町'],
  },
  {
    code: '40133',
    prefecture: '福岡県',
    prefectureRomaji: 'Fukuoka',
    name: '福岡市中央区',
    romaji: 'Fukuoka-shi-Chuo-ku',
    towns: ['天神', '大名', '赤坂', '舞鶴'],
  },
  {
    code: '47201',
    prefecture: '沖縄県',
    prefectureRomaji: 'Okinawa',
    name: '那覇市',
    romaji: 'Naha-shi',
    towns: ['泉崎', '久茂地', '首里当蔵町'],
  },
];

export function municipality(code: string): Municipality {
  const m = MUNICIPALITIES.find((x) => x.code === code);
  if (!m)
    throw new InvalidInput(
      `unknown municipality code "${code}" (known: ${MUNICIPALITIES.map((x) => x.code).join(', ')})`,
    );
  return m;
}

/** The municipality an address starts with (true or certificate spelling), if it is one we know. */
export function municipalityOfAddress(address: string): Municipality | undefined {
  return MUNICIPALITIES.find((m) => address.startsWith(m.prefecture + m.name));
}
