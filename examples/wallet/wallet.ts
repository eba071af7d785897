// The wallet's rules, as pure functions over its JSON state: who gets which grant, payments,
// freezing on a revoked certificate, re-verification. See README.md for the rules in words.

import { randomInt } from 'node:crypto';
import { FUKUI, ageOn, dayInJapan, prefectureOf, type Verified } from '../shared/index.js';

export const WELCOME_GRANT = 1_000;
export const CHILDCARE_BENEFIT = 5_000;
/** 子育て応援給付: residents aged 18 to 49 (inclusive) on the day of verification. */
export const CHILDCARE_AGES = { from: 18, to: 49 } as const;

export type Grant = 'welcome' | 'childcare';

export interface Holder {
  name: string;
  birthdate: string;
  address: string;
  gender?: string;
  /** 2-digit prefecture code of the address, or null (no prefecture: e.g. moved abroad). */
  prefectureCode: string | null;
  /** Kakunin record, certificate and time of the verification these details come from. */
  recordId: string;
  serial: string;
  issuer: string;
  verifiedAt: string;
}

export interface Wallet {
  id: string;
  sub: string;
  createdAt: string;
  holder: Holder;
  /** Earlier verifications, oldest first (kept when the holder re-verifies). */
  previous: Holder[];
  /** Coins from residency grants: spent first, withdrawn when the holder is no longer a resident. */
  benefit: number;
  /** Coins received from other wallets. */
  general: number;
  grants: Grant[];
  status: 'active' | 'frozen';
  frozen?: { at: string; reason: string; serial: string; eventId: string };
}

export interface Entry {
  id: string;
  at: string;
  wallet: string;
  type: 'grant_welcome' | 'grant_childcare' | 'payment_sent' | 'payment_received' | 'withdrawal';
  /** Signed: + into the wallet, − out of it. */
  amount: number;
  counterparty?: string;
}

export interface WalletState {
  wallets: Record<string, Wallet>;
  /** OIDC pairwise `sub` → wallet id. */
  bySub: Record<string, string>;
  ledger: Entry[];
}

export const emptyState = (): WalletState => ({ wallets: {}, bySub: {}, ledger: [] });

export interface Eligibility {
  resident: boolean;
  prefectureCode: string | null;
  age: number;
  grants: Grant[];
}

/** Residency from the verified address (prefecture code 18 = 福井県), age on the day of verification (JST). */
export function eligibility(birthdate: string, address: string, verifiedAt: string): Eligibility {
  const prefectureCode = prefectureOf(address)?.code ?? null;
  const resident = prefectureCode === FUKUI;
  const age = ageOn(birthdate, dayInJapan(verifiedAt));
  const grants: Grant[] = resident ? ['welcome'] : [];
  if (resident && age >= CHILDCARE_AGES.from && age <= CHILDCARE_AGES.to) grants.push('childcare');
  return { resident, prefectureCode, age, grants };
}

export const walletOf = (state: WalletState, sub: string): Wallet | undefined => {
  const id = state.bySub[sub];
  return id ? state.wallets[id] : undefined;
};

const entryId = (): string => `tx_${Date.now().toString(36)}${randomInt(1e9).toString(36)}`;
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const newWalletId = (state: WalletState): string => {
  for (;;) {
    const chars = Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
    const id = `HC-${chars.slice(0, 4)}-${chars.slice(4)}`;
    if (!state.wallets[id]) return id;
  }
};

function record(state: WalletState, e: Omit<Entry, 'id'>): void {
  state.ledger.push({ id: entryId(), ...e });
}

function grant(state: WalletState, w: Wallet, grants: Grant[], at: string): Grant[] {
  const given: Grant[] = [];
  for (const g of grants) {
    if (w.grants.includes(g)) continue; // once per wallet, ever
    const amount = g === 'welcome' ? WELCOME_GRANT : CHILDCARE_BENEFIT;
    w.grants.push(g);
    w.benefit += amount;
    record(state, { at, wallet: w.id, type: g === 'welcome' ? 'grant_welcome' : 'grant_childcare', amount });
    given.push(g);
  }
  return given;
}

export type VerifyOutcome =
  | { kind: 'created'; wallet: Wallet; granted: Grant[] }
  | { kind: 'reverified'; wallet: Wallet; granted: Grant[]; unfrozen: boolean; withdrawn: number };

/** After an identity ceremony: a new wallet, or the same wallet's details renewed (unfreezing it). */
export function verifyHolder(
  state: WalletState,
  sub: string,
  v: Verified & { name: string; birthdate: string; address: string },
  now = new Date(),
): VerifyOutcome {
  const at = now.toISOString();
  const e = eligibility(v.birthdate, v.address, v.time);
  const holder: Holder = {
    name: v.name,
    birthdate: v.birthdate,
    address: v.address,
    ...(v.gender ? { gender: v.gender } : {}),
    prefectureCode: e.prefectureCode,
    recordId: v.recordId,
    serial: v.certificate.serial,
    issuer: v.certificate.issuer,
    verifiedAt: v.time,
  };
  const existing = walletOf(state, sub);
  if (!existing) {
    const wallet: Wallet = {
      id: newWalletId(state),
      sub,
      createdAt: at,
      holder,
      previous: [],
      benefit: 0,
      general: 0,
      grants: [],
      status: 'active',
    };
    state.wallets[wallet.id] = wallet;
    state.bySub[sub] = wallet.id;
    return { kind: 'created', wallet, granted: grant(state, wallet, e.grants, at) };
  }
  const w = existing;
  if (w.holder.serial !== holder.serial || w.holder.recordId !== holder.recordId) w.previous.push(w.holder);
  w.holder = holder;
  const unfrozen = w.status === 'frozen';
  w.status = 'active';
  delete w.frozen;
  // Residency benefits are for residents only: what is left of them goes back.
  let withdrawn = 0;
  if (!e.resident && w.benefit > 0) {
    withdrawn = w.benefit;
    w.benefit = 0;
    record(state, { at, wallet: w.id, type: 'withdrawal', amount: -withdrawn });
  }
  return { kind: 'reverified', wallet: w, granted: grant(state, w, e.grants, at), unfrozen, withdrawn };
}

/** certificate.revoked: freezes the wallet relying on that certificate (same sub and serial). */
export function freezeOnRevocation(
  state: WalletState,
  event: { id: string; sub?: string; data: { serial?: string; reason?: string; revoked_at?: string } },
): Wallet | undefined {
  const w = event.sub ? walletOf(state, event.sub) : undefined;
  // An event about an older certificate than the one the wallet now relies on changes nothing.
  if (!w || !event.data.serial || event.data.serial !== w.holder.serial) return undefined;
  w.status = 'frozen';
  w.frozen = {
    at: event.data.revoked_at ?? new Date().toISOString(),
    reason: event.data.reason ?? 'unspecified',
    serial: event.data.serial,
    eventId: event.id,
  };
  return w;
}

export class PaymentError extends Error {
  readonly code: 'frozen' | 'no_recipient' | 'self' | 'amount' | 'insufficient';
  readonly ja: string;
  constructor(code: 'frozen' | 'no_recipient' | 'self' | 'amount' | 'insufficient', ja: string, en: string) {
    super(en);
    this.code = code;
    this.ja = ja;
  }
}

export const normaliseWalletId = (s: string): string => s.normalize('NFKC').trim().toUpperCase();

/** Moves `amount` coins: benefit coins first, then general; the recipient receives general coins. */
export function pay(
  state: WalletState,
  fromId: string,
  toInput: string,
  amountInput: string,
  now = new Date(),
): { from: Wallet; to: Wallet; amount: number } {
  const from = state.wallets[fromId];
  if (!from) throw new PaymentError('no_recipient', 'ウォレットがありません。', 'No wallet.');
  if (from.status === 'frozen')
    throw new PaymentError(
      'frozen',
      'このウォレットは凍結中のため送金できません。本人確認をやり直してください。',
      'This wallet is frozen: verify your identity again before paying.',
    );
  const toId = normaliseWalletId(toInput);
  const to = state.wallets[toId];
  if (!to)
    throw new PaymentError(
      'no_recipient',
      `送金先のウォレット ${toId || '(空欄)'} が見つかりません。`,
      `No wallet ${toId || '(empty)'}.`,
    );
  if (to.id === from.id)
    throw new PaymentError('self', '自分のウォレットには送金できません。', 'You cannot pay your own wallet.');
  const amount = /^\d{1,9}$/.test(amountInput.normalize('NFKC').trim())
    ? Number(amountInput.normalize('NFKC').trim())
    : NaN;
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw new PaymentError(
      'amount',
      '金額は 1 以上の整数で入力してください。',
      'Enter a whole number of coins, at least 1.',
    );
  if (amount > from.benefit + from.general)
    throw new PaymentError(
      'insufficient',
      `残高が足りません (残高 ${from.benefit + from.general} コイン)。`,
      `Insufficient balance (${from.benefit + from.general} coins).`,
    );
  const fromBenefit = Math.min(from.benefit, amount);
  from.benefit -= fromBenefit;
  from.general -= amount - fromBenefit;
  to.general += amount;
  const at = now.toISOString();
  record(state, { at, wallet: from.id, type: 'payment_sent', amount: -amount, counterparty: to.id });
  record(state, { at, wallet: to.id, type: 'payment_received', amount, counterparty: from.id });
  return { from, to, amount };
}
