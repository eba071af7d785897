// The portal's data: its services, the childcare e-application (signed with the signing
// certificate), the digital ID card issued from verified_claims, and the log of accepted digital ID
// presentations.

import { randomInt } from 'node:crypto';
import { FUKUI, dayAgeIsReached, dayInJapan, prefectureOf, type Verified } from '../shared/index.js';

export const PORTAL = { ja: 'ふくいスマート窓口', en: 'Fukui Smart Counter' };

export const SERVICES = [
  {
    id: 'library',
    ja: '図書館',
    en: 'Library',
    aboutJa: '本の予約と貸出状況の確認',
    aboutEn: 'Reserve books, see your loans',
  },
  {
    id: 'facilities',
    ja: '施設予約',
    en: 'Facility booking',
    aboutJa: '体育館・公民館などの予約',
    aboutEn: 'Book gyms and community halls',
  },
  {
    id: 'taxi',
    ja: 'オンデマンドタクシー',
    en: 'On-demand taxi',
    aboutJa: '乗合タクシーの予約 (住民割引)',
    aboutEn: 'Book a shared taxi (resident fare)',
  },
  {
    id: 'health',
    ja: '健康アプリ',
    en: 'Health app',
    aboutJa: '健診結果と歩数ポイント',
    aboutEn: 'Check-up results and walking points',
  },
  {
    id: 'e-application',
    ja: '電子申請',
    en: 'E-application',
    aboutJa: '子育て支援の申請 (電子署名)',
    aboutEn: 'Apply for childcare support (e-signature)',
  },
] as const;

export interface ChildcareForm {
  childName: string;
  childBirthdate: string;
  receive: 'coin' | 'bank';
  phone: string;
}

export interface Applicant {
  name: string;
  birthdate: string;
  address: string;
  prefectureCode: string | null;
}

export interface Application {
  no: string;
  kind: 'childcare';
  receivedAt: string;
  form: ChildcareForm;
  /** From verified_claims of the identity ceremony that signed the application. */
  applicant: Applicant;
  signedAt: string;
  kakuninRecordId: string;
  certificate: { issuer: string; serial: string };
  /** The signer's pairwise sub, and the sub of the login the application was started from. */
  signerSub: string;
  loginSub: string | null;
}

export interface IdCard {
  number: string;
  sub: string;
  name: string;
  birthdate: string;
  address: string;
  issuedAt: string;
  verifiedAt: string;
  recordId: string;
  serial: string;
  status: 'valid' | 'revoked';
  revokedAt?: string;
  /** The revocation reason's code (RFC 5280 name, from the webhook), shown in words. */
  revokedReason?: string;
}

/** A digital ID presentation the verifier accepted: only the claims it asked for (verifier.ts). */
export interface PresentationLog {
  service: string;
  at: string;
  /** Exactly the disclosed claims: `{ address: { prefecture_code }, age_equal_or_over: { '18' } }`. */
  disclosed: Record<string, unknown>;
}

export interface PortalState {
  applications: Record<string, Application>;
  /** OIDC sub → digital ID card. */
  cards: Record<string, IdCard>;
  /** Accepted presentations (the last 1000); absent in files written before the verifier. */
  presentations?: PresentationLog[];
}

export const emptyPortal = (): PortalState => ({ applications: {}, cards: {}, presentations: [] });

/**
 * 子育て支援 covers a child up to the first 31 March on or after the day the child reaches 18
 * (the 児童手当 rule: 18歳に達する日以後の最初の3月31日まで), using the legal-age rule.
 */
export function childCovered(childBirthdate: string, today = dayInJapan()): boolean {
  const reaches18 = dayAgeIsReached(childBirthdate, 18);
  const year = Number(reaches18.slice(0, 4));
  const lastDay = reaches18.slice(5) <= '03-31' ? `${year}-03-31` : `${year + 1}-03-31`;
  return childBirthdate <= today && today <= lastDay;
}

export function readChildcareForm(
  f: URLSearchParams,
  today = dayInJapan(),
): { form?: ChildcareForm; errors: [string, string][] } {
  const errors: [string, string][] = [];
  const childName = (f.get('childName') ?? '').trim();
  const childBirthdate = (f.get('childBirthdate') ?? '').trim();
  const receive = f.get('receive');
  const phone = (f.get('phone') ?? '').normalize('NFKC').trim();
  if (!childName || childName.length > 40)
    errors.push(['お子さんの氏名を入力してください (40 文字まで)。', 'Enter the child’s name (up to 40 characters).']);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(childBirthdate) || Number.isNaN(Date.parse(childBirthdate)))
    errors.push(['お子さんの生年月日を入力してください。', 'Enter the child’s date of birth.']);
  else if (!childCovered(childBirthdate, today))
    errors.push([
      '対象は、18歳に達する日以後の最初の3月31日までのお子さんです。',
      'Only children up to the first 31 March after they reach 18 are covered.',
    ]);
  if (receive !== 'coin' && receive !== 'bank')
    errors.push(['受け取り方法を選んでください。', 'Choose how to receive the benefit.']);
  if (!/^0\d{1,4}-?\d{1,4}-?\d{3,4}$/.test(phone))
    errors.push(['連絡先の電話番号を入力してください。', 'Enter a phone number.']);
  return errors.length
    ? { errors }
    : { form: { childName, childBirthdate, receive: receive as 'coin' | 'bank', phone }, errors };
}

const unique = (taken: Record<string, unknown>, make: () => string): string => {
  for (;;) {
    const id = make();
    if (!(id in taken)) return id;
  }
};

export function receiveApplication(
  state: PortalState,
  o: {
    form: ChildcareForm;
    signerSub: string;
    loginSub: string | null;
    v: Verified & { name: string; birthdate: string; address: string };
  },
  now = new Date(),
): Application {
  const no = unique(
    state.applications,
    () => `SN-${dayInJapan(now).replace(/-/g, '')}-${String(randomInt(1e6)).padStart(6, '0')}`,
  );
  const a: Application = {
    no,
    kind: 'childcare',
    receivedAt: now.toISOString(),
    form: o.form,
    applicant: {
      name: o.v.name,
      birthdate: o.v.birthdate,
      address: o.v.address,
      prefectureCode: prefectureOf(o.v.address)?.code ?? null,
    },
    signedAt: o.v.time,
    kakuninRecordId: o.v.recordId,
    certificate: { issuer: o.v.certificate.issuer, serial: o.v.certificate.serial },
    signerSub: o.signerSub,
    loginSub: o.loginSub,
  };
  state.applications[no] = a;
  return a;
}

export const isResident = (a: Applicant): boolean => a.prefectureCode === FUKUI;

/** Issues (or re-issues, after a revocation) the digital ID card of `sub`; a valid card is kept. */
export function issueCard(
  state: PortalState,
  sub: string,
  v: Verified & { name: string; birthdate: string; address: string },
  now = new Date(),
): { card: IdCard; issued: boolean } {
  const existing = state.cards[sub];
  if (existing?.status === 'valid' && existing.serial === v.certificate.serial)
    return { card: existing, issued: false };
  const card: IdCard = {
    number: `ID-${String(randomInt(1e8)).padStart(8, '0')}`,
    sub,
    name: v.name,
    birthdate: v.birthdate,
    address: v.address,
    issuedAt: now.toISOString(),
    verifiedAt: v.time,
    recordId: v.recordId,
    serial: v.certificate.serial,
    status: 'valid',
  };
  state.cards[sub] = card;
  return { card, issued: true };
}

/** certificate.revoked: the card issued from that certificate stops being valid. */
export function revokeCard(
  state: PortalState,
  event: { sub?: string; data: { serial?: string; revoked_at?: string; reason?: string } },
): IdCard | undefined {
  const card = event.sub ? state.cards[event.sub] : undefined;
  if (!card || card.serial !== event.data.serial || card.status === 'revoked') return undefined;
  card.status = 'revoked';
  card.revokedAt = event.data.revoked_at ?? new Date().toISOString();
  card.revokedReason = event.data.reason ?? 'unspecified';
  return card;
}
