// Account opening under 犯収法 with the JPKI signature method: the application, the account, and
// the 確認記録 (法6条, 施行規則20条) kept append-only for 7 years from the end of the relationship.

import { randomInt } from 'node:crypto';
import {
  type RecordNote,
  dayInJapan,
  lastRetainedDay,
  retentionUntil,
  type RelationshipEnded,
  type Verified,
} from '../shared/index.js';
import { jstWords } from '../shared/japan.js';
import { Phrasebook, reasonWords } from '../shared/labels.js';

type Labels = Record<string, readonly [string, string]>;
export const ACCOUNT_TYPES: Labels = {
  futsu: ['普通預金', 'Ordinary deposit'],
  sogo: ['総合口座', 'Combined account'],
  securities: ['証券総合口座', 'Securities account'],
};
/** 取引を行う目的 (several may apply). */
export const PURPOSES: Labels = {
  living: ['生計費決済', 'Living expenses'],
  salary: ['給与・年金の受取', 'Receiving salary or pension'],
  savings: ['貯蓄・資産運用', 'Savings and investment'],
  business: ['事業費決済', 'Business payments'],
  loan: ['融資', 'Loans'],
  forex: ['外国為替取引', 'Foreign exchange'],
};
/** 職業. */
export const OCCUPATIONS: Labels = {
  employee: ['会社員', 'Company employee'],
  public: ['公務員', 'Public servant'],
  executive: ['会社役員', 'Company executive'],
  self: ['自営業', 'Self-employed'],
  parttime: ['パート・アルバイト', 'Part-time worker'],
  student: ['学生', 'Student'],
  homemaker: ['主婦・主夫', 'Homemaker'],
  pensioner: ['年金受給者', 'Pensioner'],
  none: ['無職', 'Not employed'],
  other: ['その他', 'Other'],
};

export const BANK = { ja: 'デモ銀行', en: 'Demo Bank' };
export const RETENTION_YEARS = 7;
export const METHOD = {
  id: 'jpki_signature',
  ja: '公的個人認証サービスの署名用電子証明書及び当該電子証明書により確認される電子署名が行われた特定取引等に関する情報の送信を受ける方法 (犯収法施行規則第6条第1項第1号)',
  en: 'Receiving the JPKI signing certificate and the transaction data signed with it (Criminal Proceeds Act Ordinance, art. 6(1)(i))',
};

export interface Application {
  accountType: string;
  purposes: string[];
  occupation: string;
}

/** One 確認記録: never rewritten; changes are appended to `notes`. */
export interface ConfirmationRecord {
  id: string;
  /** 1. 取引時確認を行った者 — the bank, with the signature verified by the Kakunin platform. */
  confirmedBy: string;
  verifiedBy: string;
  /** 2. 確認記録を作成した者. */
  recordedBy: string;
  recordedAt: string;
  /** 3. 電子証明書及び署名された特定取引等に関する情報の受領日時 (verification.time). */
  receivedAt: string;
  /** 4. 確認の方法, citing Kakunin's verification record. */
  methodId: string;
  kakuninRecordId: string;
  /** 5. 電子証明書の発行者・発行番号 (never the My Number). */
  certificate: { issuer: string; serial: string };
  /** 6. 本人特定事項. */
  name: string;
  address: string;
  birthdate: string;
  /** 7. 取引を行う目的, 職業. */
  purposes: string[];
  occupation: string;
  /** 8. 取引記録等との紐付け: the account number. */
  accountNo: string;
  notes: RecordNote[];
}

export interface Account {
  accountNo: string;
  branch: string;
  type: string;
  sub: string;
  openedAt: string;
  closedAt?: string;
  recordId: string;
  /** The newest verified details (the record keeps the first ones; changes are its notes). */
  current: { name: string; address: string; birthdate: string; serial: string };
  /** 継続的顧客管理: set when the certificate behind the record was revoked. */
  reviewNeeded?: { since: string; reason: string };
  /** The platform's answer when this account was the customer's last open one and its closing ended the relationship. */
  platformEnd?: RelationshipEnded;
}

export interface BankState {
  accounts: Record<string, Account>;
  records: Record<string, ConfirmationRecord>;
}

export const emptyBank = (): BankState => ({ accounts: {}, records: {} });

/** The application form, checked; error messages in both languages. */
export function readApplication(f: URLSearchParams): { application?: Application; errors: [string, string][] } {
  const errors: [string, string][] = [];
  const accountType = f.get('accountType') ?? '';
  const purposes = f.getAll('purpose').filter((p) => p in PURPOSES);
  const occupation = f.get('occupation') ?? '';
  if (!(accountType in ACCOUNT_TYPES)) errors.push(['口座の種類を選んでください。', 'Choose an account type.']);
  if (purposes.length === 0) errors.push(['取引を行う目的を 1 つ以上選んでください。', 'Choose at least one purpose.']);
  if (!(occupation in OCCUPATIONS)) errors.push(['職業を選んでください。', 'Choose your occupation.']);
  return errors.length ? { errors } : { application: { accountType, purposes, occupation }, errors };
}

const unique = (taken: Record<string, unknown>, make: () => string): string => {
  for (;;) {
    const id = make();
    if (!(id in taken)) return id;
  }
};

/** After the identity ceremony: the account and its 確認記録, made at once (法6条1項: 直ちに). */
export function openAccount(
  state: BankState,
  sub: string,
  app: Application,
  v: Verified & { name: string; address: string; birthdate: string },
  platformUrl: string,
  now = new Date(),
): Account {
  const accountNo = unique(state.accounts, () => String(randomInt(1_000_000, 10_000_000)));
  const record: ConfirmationRecord = {
    id: unique(
      state.records,
      () => `KR-${dayInJapan(now).replace(/-/g, '')}-${String(randomInt(100_000)).padStart(5, '0')}`,
    ),
    confirmedBy: `${BANK.ja} 口座開設センター (特定事業者)`,
    verifiedBy: `Kakunin 公的個人認証プラットフォーム (${platformUrl})`,
    recordedBy: `${BANK.ja} 口座開設システム`,
    recordedAt: now.toISOString(),
    receivedAt: v.time,
    methodId: METHOD.id,
    kakuninRecordId: v.recordId,
    certificate: { issuer: v.certificate.issuer, serial: v.certificate.serial },
    name: v.name,
    address: v.address,
    birthdate: v.birthdate,
    purposes: app.purposes,
    occupation: app.occupation,
    accountNo,
    notes: [],
  };
  const current = { name: v.name, address: v.address, birthdate: v.birthdate, serial: v.certificate.serial };
  const account: Account = {
    accountNo,
    branch: '001 本店営業部',
    type: app.accountType,
    sub,
    openedAt: now.toISOString(),
    recordId: record.id,
    current,
  };
  state.records[record.id] = record;
  state.accounts[accountNo] = account;
  return account;
}

/** certificate.revoked for the certificate a record relies on: append a note, ask for a review. */
export function noteRevocation(
  state: BankState,
  event: { id: string; sub?: string; data: { serial?: string; reason?: string; revoked_at?: string } },
): Account[] {
  const hit = Object.values(state.accounts).filter(
    (a) => a.sub === event.sub && !a.closedAt && a.current.serial === event.data.serial,
  );
  for (const a of hit) {
    const at = event.data.revoked_at ?? new Date().toISOString();
    const reason = event.data.reason ?? 'unspecified';
    a.reviewNeeded = { since: at, reason };
    state.records[a.recordId]!.notes.push({
      at: new Date().toISOString(),
      text: `署名用電子証明書 (発行番号 ${event.data.serial}) の失効通知を受領 (理由: ${reasonWords(reason, 'ja')}、失効日時 ${jstWords(at, 'ja')}、通知 ${event.id})。本人特定事項に変更の可能性があるため再確認を求める。`,
      en: `Notice received that the signing certificate (serial ${event.data.serial}) was revoked (reason: ${reasonWords(reason, 'en')}; revoked ${jstWords(at, 'en')}; notice ${event.id}). The identity details may have changed: a re-check is requested.`,
      reason,
    });
  }
  return hit;
}

/** A new identity ceremony for an account: appended to its record, never overwriting it. */
export function noteReverification(
  state: BankState,
  account: Account,
  v: Verified & { name: string; address: string; birthdate: string },
): void {
  const c = account.current;
  const changed = [
    c.name !== v.name && `氏名 ${v.name}`,
    c.address !== v.address && `住居 ${v.address}`,
    c.birthdate !== v.birthdate && `生年月日 ${v.birthdate}`,
  ].filter(Boolean);
  const changedEn = [
    c.name !== v.name && `name ${v.name}`,
    c.address !== v.address && `address ${v.address}`,
    c.birthdate !== v.birthdate && `date of birth ${v.birthdate}`,
  ].filter(Boolean);
  state.records[account.recordId]!.notes.push({
    at: new Date().toISOString(),
    text: `再確認 (${jstWords(v.time, 'ja')}、Kakunin ${v.recordId}、発行番号 ${v.certificate.serial}): ${changed.length ? `変更 — ${changed.join('、')}` : '本人特定事項に変更なし'}`,
    en: `Re-checked (${jstWords(v.time, 'en')}; Kakunin ${v.recordId}; serial ${v.certificate.serial}): ${changedEn.length ? `changed — ${changedEn.join(', ')}` : 'no change to the identity details'}`,
  });
  account.current = { name: v.name, address: v.address, birthdate: v.birthdate, serial: v.certificate.serial };
  delete account.reviewNeeded;
}

/** The customer's other accounts still open: while there is one, the relationship with the platform goes on. */
export const otherOpenAccounts = (state: BankState, account: Account): Account[] =>
  Object.values(state.accounts).filter(
    (a) => a.sub === account.sub && a.accountNo !== account.accountNo && !a.closedAt,
  );

/** Closes the account (once); `platformEnd` is the platform's answer when the relationship ended with it. */
export function closeAccount(
  state: BankState,
  account: Account,
  now = new Date(),
  platformEnd?: RelationshipEnded,
): void {
  if (account.closedAt) return;
  account.closedAt = now.toISOString();
  if (platformEnd) account.platformEnd = platformEnd;
  const platform = platformEnd
    ? ` Kakunin に取引終了を通知 (電子証明書の失効監視を終了、Kakunin の記録は ${lastRetainedDay(platformEnd)} まで保存、Kakunin 記録 ${platformEnd.record_id ?? '—'})。`
    : ' 他の口座が継続中のため、Kakunin との取引関係は継続。';
  state.records[account.recordId]!.notes.push({
    at: account.closedAt,
    text: `取引終了 (解約)。確認記録は ${retentionUntil(dayInJapan(now), RETENTION_YEARS)} まで保存 (犯収法第6条第2項)。${platform}`,
  });
}

/** 保存期間: 7 years from the day the relationship ends (unknown while the account is open). */
export function retention(account: Account): { until?: string; ja: string; en: string } {
  if (!account.closedAt)
    return { ja: '取引終了日から7年間 (取引継続中)', en: '7 years from the end of the relationship (still open)' };
  const until = retentionUntil(dayInJapan(account.closedAt), RETENTION_YEARS);
  return {
    until,
    ja: `${until} まで (取引終了日 ${dayInJapan(account.closedAt)} から7年間)`,
    en: `until ${until} (7 years from the end of the relationship on ${dayInJapan(account.closedAt)})`,
  };
}

/**
 * English for what the bank keeps in Japanese: who confirmed, verified and recorded, the branch, and
 * notes written before they carried their English (older data) or by code that writes Japanese only.
 */
export const BANK_PHRASES = new Phrasebook()
  .add(
    `${BANK.ja} 口座開設センター (特定事業者)`,
    `${BANK.en} account opening centre (the specified business operator)`,
  )
  .add(`${BANK.ja} 口座開設システム`, `${BANK.en} account opening system`)
  .add('001 本店営業部', '001 Head office')
  .match(/^Kakunin 公的個人認証プラットフォーム \((.*)\)$/, (m) => `Kakunin JPKI platform (${m[1]})`)
  .match(
    /^署名用電子証明書 \(発行番号 (\S+)\) の失効通知を受領 \(理由 (\w+), 失効日時 ([^,]+), 通知 ([^)]+)\)。/,
    (m) =>
      `Notice received that the signing certificate (serial ${m[1]}) was revoked (reason: ${reasonWords(m[2], 'en')}; revoked ${m[3]}; notice ${m[4]}). The identity details may have changed: a re-check is requested.`,
  )
  .match(
    /^再確認 \(([^,]+), Kakunin (\S+), 発行番号 (\S+)\): (.*)$/,
    (m) =>
      `Re-checked (${m[1]}; Kakunin ${m[2]}; serial ${m[3]}): ${
        m[4] === '本人特定事項に変更なし'
          ? 'no change to the identity details'
          : m[4]!
              .replace(/^変更 — /, 'changed — ')
              .replace(/氏名 /g, 'name ')
              .replace(/住居 /g, 'address ')
              .replace(/生年月日 /g, 'date of birth ')
              .replace(/、/g, ', ')
      }`,
  )
  .match(
    /^取引終了 \(解約\)。確認記録は (\d{4}-\d{2}-\d{2}) まで保存 \(犯収法第6条第2項\)。(.*)$/,
    (m) =>
      `Relationship ended (account closed). This record is kept until ${m[1]} (Criminal Proceeds Act, art. 6(2)).${closingPlatformEn(m[2]!)}`,
  );

function closingPlatformEn(ja: string): string {
  const told =
    /Kakunin に取引終了を通知 \(電子証明書の失効監視を終了、Kakunin の記録は (\d{4}-\d{2}-\d{2}) まで保存(?:、Kakunin 記録 ([^)]+))?\)。/.exec(
      ja,
    );
  if (told)
    return ` Kakunin was told the relationship ended (certificate monitoring stopped; Kakunin keeps its records until ${told[1]}${told[2] ? `; Kakunin record ${told[2]}` : ''}).`;
  if (ja.includes('他の口座が継続中')) return ' Other accounts are open: the relationship with Kakunin goes on.';
  return ja ? ` ${ja}` : '';
}
