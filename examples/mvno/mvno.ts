// A voice SIM contract under 携帯電話不正利用防止法: plans, the contract, and the 本人確認記録
// (携帯法4条) kept for 3 years after the contract ends.

import { randomInt } from 'node:crypto';
import {
  type RecordNote,
  ageOn,
  dayInJapan,
  lastRetainedDay,
  retentionUntil,
  type RelationshipEnded,
  type Verified,
} from '../shared/index.js';
import { jstWords } from '../shared/japan.js';
import { Phrasebook, reasonWords } from '../shared/labels.js';

export const PLANS: Record<string, { ja: string; en: string; price: number }> = {
  light: { ja: 'ライト 3GB + 通話', en: 'Light 3 GB + voice', price: 990 },
  standard: { ja: 'スタンダード 10GB + 通話', en: 'Standard 10 GB + voice', price: 1_780 },
  unlimited: { ja: '無制限 + 通話', en: 'Unlimited + voice', price: 2_980 },
};

export const MVNO = { ja: 'デモモバイル', en: 'Demo Mobile' };
export const RETENTION_YEARS = 3;
/** Contract holders must be adults (民法4条: 18) on the day of verification; minors need a guardian's consent, not handled here. */
export const ADULT_AGE = 18;
export const METHOD = {
  id: 'jpki_signature',
  ja: '公的個人認証サービスの署名用電子証明書及び電子署名が行われた情報の送信を受ける方法 (非対面)',
  en: 'Receiving the JPKI signing certificate and data signed with it (remote)',
};

/** 本人確認記録: never rewritten; later facts are appended to `notes`. */
export interface IdentityRecord {
  id: string;
  /** 本人確認を行った者 / 署名検証 / 記録を作成した者. */
  confirmedBy: string;
  verifiedBy: string;
  recordedBy: string;
  recordedAt: string;
  /** 本人確認の日時: when the certificate and the signed data were received. */
  confirmedAt: string;
  methodId: string;
  kakuninRecordId: string;
  /** 電子証明書の種類及び発行者・発行番号 (記号番号). */
  certificateType: string;
  certificate: { issuer: string; serial: string };
  /** 本人特定事項 (携帯法3条1項). */
  name: string;
  address: string;
  birthdate: string;
  contractNo: string;
  phone: string;
  notes: RecordNote[];
}

export interface Contract {
  contractNo: string;
  phone: string;
  plan: string;
  sub: string;
  startedAt: string;
  endedAt?: string;
  recordId: string;
  serial: string;
  /** The platform's answer when this was the customer's last active contract and its end ended the relationship. */
  platformEnd?: RelationshipEnded;
}

export interface MvnoState {
  contracts: Record<string, Contract>;
  records: Record<string, IdentityRecord>;
}

export const emptyMvno = (): MvnoState => ({ contracts: {}, records: {} });

const unique = (taken: Record<string, unknown>, make: () => string): string => {
  for (;;) {
    const id = make();
    if (!(id in taken)) return id;
  }
};
const digits = (n: number): string => String(randomInt(10 ** n)).padStart(n, '0');

export class ContractRefused extends Error {
  readonly ja: string;
  constructor(ja: string, en: string) {
    super(en);
    this.ja = ja;
  }
}

/** After the identity ceremony: the contract, its phone number and the 本人確認記録. */
export function makeContract(
  state: MvnoState,
  sub: string,
  plan: string,
  v: Verified & { name: string; address: string; birthdate: string },
  platformUrl: string,
  now = new Date(),
): Contract {
  if (!PLANS[plan]) throw new ContractRefused('プランを選んでください。', 'Choose a plan.');
  if (ageOn(v.birthdate, dayInJapan(v.time)) < ADULT_AGE)
    throw new ContractRefused(
      '18歳未満の方は、保護者の同意が必要です。このデモではお申し込みを受け付けられません。',
      'Applicants under 18 need a guardian’s consent, which this demo does not handle.',
    );
  const contractNo = unique(state.contracts, () => `MC-${digits(8)}`);
  const phone = unique(
    Object.fromEntries(Object.values(state.contracts).map((c) => [c.phone, c])),
    () => `070-${digits(4)}-${digits(4)}`,
  );
  const record: IdentityRecord = {
    id: unique(state.records, () => `HK-${dayInJapan(now).replace(/-/g, '')}-${digits(5)}`),
    confirmedBy: `${MVNO.ja} オンライン受付 (携帯音声通信事業者)`,
    verifiedBy: `Kakunin 公的個人認証プラットフォーム (${platformUrl})`,
    recordedBy: `${MVNO.ja} 契約管理システム`,
    recordedAt: now.toISOString(),
    confirmedAt: v.time,
    methodId: METHOD.id,
    kakuninRecordId: v.recordId,
    certificateType: '署名用電子証明書 (公的個人認証)',
    certificate: { issuer: v.certificate.issuer, serial: v.certificate.serial },
    name: v.name,
    address: v.address,
    birthdate: v.birthdate,
    contractNo,
    phone,
    notes: [],
  };
  const contract: Contract = {
    contractNo,
    phone,
    plan,
    sub,
    startedAt: now.toISOString(),
    recordId: record.id,
    serial: v.certificate.serial,
  };
  state.records[record.id] = record;
  state.contracts[contractNo] = contract;
  return contract;
}

/** certificate.revoked: noted on the records of the holder's running contracts. */
export function noteRevocation(
  state: MvnoState,
  event: { id: string; sub?: string; data: { serial?: string; reason?: string; revoked_at?: string } },
): number {
  const hit = Object.values(state.contracts).filter(
    (c) => c.sub === event.sub && !c.endedAt && c.serial === event.data.serial,
  );
  for (const c of hit) {
    const reason = event.data.reason ?? 'unspecified';
    const at = event.data.revoked_at ?? new Date().toISOString();
    state.records[c.recordId]!.notes.push({
      at: new Date().toISOString(),
      text: `署名用電子証明書 (発行番号 ${event.data.serial}) の失効通知 (理由: ${reasonWords(reason, 'ja')}、失効日時 ${jstWords(at, 'ja')}、通知 ${event.id})。`,
      en: `Notice that the signing certificate (serial ${event.data.serial}) was revoked (reason: ${reasonWords(reason, 'en')}; revoked ${jstWords(at, 'en')}; notice ${event.id}).`,
      reason,
    });
  }
  return hit.length;
}

/** The customer's other contracts still active: while there is one, the relationship with the platform goes on. */
export const otherActiveContracts = (state: MvnoState, c: Contract): Contract[] =>
  Object.values(state.contracts).filter((o) => o.sub === c.sub && o.contractNo !== c.contractNo && !o.endedAt);

/** Ends the contract (once); `platformEnd` is the platform's answer when the relationship ended with it. */
export function endContract(state: MvnoState, c: Contract, now = new Date(), platformEnd?: RelationshipEnded): void {
  if (c.endedAt) return;
  c.endedAt = now.toISOString();
  if (platformEnd) c.platformEnd = platformEnd;
  const platform = platformEnd
    ? ` Kakunin に契約終了を通知 (電子証明書の失効監視を終了、Kakunin の記録は ${lastRetainedDay(platformEnd)} まで保存)。`
    : ' ほかの契約が継続中のため、Kakunin との取引関係は継続。';
  state.records[c.recordId]!.notes.push({
    at: c.endedAt,
    text: `契約終了 (解約)。本人確認記録は ${retentionUntil(dayInJapan(now), RETENTION_YEARS)} まで保存 (携帯法第4条第2項)。${platform}`,
  });
}

/** 保存期間: 3 years from the day the contract ends. */
export function retention(c: Contract): { until?: string; ja: string; en: string } {
  if (!c.endedAt) return { ja: '契約終了日から3年間 (契約中)', en: '3 years from the end of the contract (active)' };
  const until = retentionUntil(dayInJapan(c.endedAt), RETENTION_YEARS);
  return {
    until,
    ja: `${until} まで (契約終了日 ${dayInJapan(c.endedAt)} から3年間)`,
    en: `until ${until} (3 years from the end of the contract on ${dayInJapan(c.endedAt)})`,
  };
}

/** English for what the MVNO keeps in Japanese (and for notes written before they carried their English). */
export const MVNO_PHRASES = new Phrasebook()
  .add(`${MVNO.ja} オンライン受付 (携帯音声通信事業者)`, `${MVNO.en} online sign-up (mobile voice carrier)`)
  .add(`${MVNO.ja} 契約管理システム`, `${MVNO.en} contract system`)
  .add('署名用電子証明書 (公的個人認証)', 'JPKI signing certificate')
  .match(/^Kakunin 公的個人認証プラットフォーム \((.*)\)$/, (m) => `Kakunin JPKI platform (${m[1]})`)
  .match(
    /^署名用電子証明書 \(発行番号 (\S+)\) の失効通知 \(理由 (\w+), ([^,]+), 通知 ([^)]+)\)。$/,
    (m) =>
      `Notice that the signing certificate (serial ${m[1]}) was revoked (reason: ${reasonWords(m[2], 'en')}; ${m[3]}; notice ${m[4]}).`,
  )
  .match(
    /^契約終了 \(解約\)。本人確認記録は (\d{4}-\d{2}-\d{2}) まで保存 \(携帯法第4条第2項\)。(.*)$/,
    (m) =>
      `Contract ended (cancelled). This record is kept until ${m[1]} (Mobile Phone Improper Use Prevention Act, art. 4(2)).${endingPlatformEn(m[2]!)}`,
  );

function endingPlatformEn(ja: string): string {
  const told =
    /Kakunin に契約終了を通知 \(電子証明書の失効監視を終了、Kakunin の記録は (\d{4}-\d{2}-\d{2}) まで保存\)。/.exec(ja);
  if (told)
    return ` Kakunin was told the contract ended (certificate monitoring stopped; Kakunin keeps its records until ${told[1]}).`;
  if (ja.includes('ほかの契約が継続中')) return ' Other contracts are active: the relationship with Kakunin goes on.';
  return ja ? ` ${ja}` : '';
}
