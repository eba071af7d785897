// The wallet demo against a real sandbox platform: wallets opened by identity ceremonies, residency
// grants, payments, login by authentication certificate, and a move that revokes the signing
// certificate → signed webhook → frozen wallet → re-verification (in or out of Fukui).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayInJapan } from '../shared/index.js';
import { CHILDCARE_BENEFIT, WALLET_RP, WELCOME_GRANT, eligibility, startWallet } from '../wallet/index.js';
import {
  attr,
  eventually,
  residents,
  runMonitor,
  startDemo,
  startPlatform,
  testid,
  Visitor,
  type Harness,
  type Page,
  type RunningTestDemo,
} from './support.js';

let h: Harness;
let wallet: RunningTestDemo;
beforeAll(async () => {
  h = await startPlatform();
  wallet = await startDemo(h, WALLET_RP, startWallet);
}, 120_000);
afterAll(async () => {
  await wallet?.close();
  await h?.close();
});

const balance = (page: Page): number => Number(attr(page.body, 'balance', 'data-value'));
const status = (page: Page): string | undefined => attr(page.body, 'wallet-status', 'data-status');

/** The grants the demo's rule gives a sandbox person today. */
function expectedGrant(person: string): number {
  const who = h.p.sandbox.person(person);
  const e = eligibility(who.birthDate, who.address, new Date().toISOString());
  return (e.grants.includes('welcome') ? WELCOME_GRANT : 0) + (e.grants.includes('childcare') ? CHILDCARE_BENEFIT : 0);
}

describe('はぴコイン wallet demo', () => {
  const visitors = new Map<string, Visitor>();
  const ids = new Map<string, string>();
  let a: string;
  let b: string;
  let outsider: string;

  async function createWallet(person: string): Promise<Page> {
    const v = new Visitor(h);
    visitors.set(person, v);
    const home = await v.go(wallet.demo.url);
    expect(home.status).toBe(200);
    expect(home.body).toContain('data-testid="create-wallet"');
    const ceremony = await v.submit(home, 'create-wallet-form');
    const landed = await v.ceremony(ceremony, person, 'sign');
    expect(landed.url).toBe(`${wallet.demo.url}/wallet`);
    ids.set(person, testid(landed.body, 'wallet-id')!);
    return landed;
  }

  it('opens a wallet only after an identity ceremony; Fukui residents get the welcome grant (and the childcare benefit by age)', async () => {
    [a, b] = residents(h.p, 'fukui') as [string, string];
    [outsider] = residents(h.p, 'elsewhere') as [string];
    expect(a && b && outsider).toBeTruthy();

    const anonymous = await new Visitor(h).go(`${wallet.demo.url}/wallet`);
    expect(anonymous.url).toBe(`${wallet.demo.url}/`);

    const pageA = await createWallet(a);
    const who = h.p.sandbox.person(a);
    expect(testid(pageA.body, 'message')).toMatch(/ウォレットを作成しました/);
    expect(testid(pageA.body, 'wallet-id')).toMatch(/^HC-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(status(pageA)).toBe('active');
    expect(attr(pageA.body, 'residency', 'data-status')).toBe('resident');
    expect(testid(pageA.body, 'holder-name')).toBe(who.name);
    expect(testid(pageA.body, 'holder-address')).toBe(who.address);
    expect(attr(pageA.body, 'holder-birthdate', 'data-value')).toBe(who.birthDate);
    expect(testid(pageA.body, 'holder-birthdate')).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日$/);
    expect(testid(pageA.body, 'verified-at')).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);
    expect(pageA.body).not.toContain('data-testid="pay-disabled-reason"');
    expect(pageA.body).not.toMatch(/data-testid="pay-submit" disabled/);
    expect(testid(pageA.body, 'record-id')).toMatch(/^rec_/);
    expect(pageA.body).toContain('data-testid="grant-welcome"');
    expect(balance(pageA)).toBe(expectedGrant(a));
    expect(balance(pageA)).toBeGreaterThanOrEqual(WELCOME_GRANT);

    const pageB = await createWallet(b);
    expect(balance(pageB)).toBe(expectedGrant(b));

    const pageC = await createWallet(outsider);
    expect(balance(pageC)).toBe(0);
    expect(attr(pageC.body, 'residency', 'data-status')).toBe('non-resident');
    expect(testid(pageC.body, 'grants')).toBe('なし');
  }, 60_000);

  it('the childcare rule uses the Japanese legal age on the day of verification', () => {
    const today = dayInJapan();
    const year = Number(today.slice(0, 4));
    // Whose 18th birthday is tomorrow has reached 18 today (the end of the day before the birthday).
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    const born18Tomorrow = `${year - 18}${tomorrow.slice(4)}`;
    expect(eligibility(born18Tomorrow, '福井県福井市大手３－１０－１', new Date().toISOString()).grants).toEqual([
      'welcome',
      'childcare',
    ]);
    const dayAfter = new Date(Date.parse(`${today}T00:00:00Z`) + 2 * 86_400_000).toISOString().slice(0, 10);
    expect(
      eligibility(`${year - 18}${dayAfter.slice(4)}`, '福井県福井市大手３－１０－１', new Date().toISOString()).grants,
    ).toEqual(['welcome']);
    expect(eligibility(born18Tomorrow, '東京都千代田区霞が関１－１－１', new Date().toISOString()).grants).toEqual([]);
  });

  it('pays between wallets by wallet id, with balance checks', async () => {
    const va = visitors.get(a)!;
    const before = await va.go(`${wallet.demo.url}/wallet`);
    const start = balance(before);
    const startB = balance(await visitors.get(b)!.go(`${wallet.demo.url}/wallet`));

    const paid = await va.submit(before, 'pay-form', { to: ids.get(b)!.toLowerCase(), amount: '300' });
    expect(testid(paid.body, 'message')).toContain('300');
    expect(balance(paid)).toBe(start - 300);
    const pageB = await visitors.get(b)!.go(`${wallet.demo.url}/wallet`);
    expect(balance(pageB)).toBe(startB + 300);
    expect(attr(pageB.body, 'general-balance', 'data-value')).toBe('300');
    expect(pageB.body).toContain('data-type="payment_received"');

    const tooMuch = await va.submit(paid, 'pay-form', { to: ids.get(b)!, amount: String(start) });
    expect(testid(tooMuch.body, 'error')).toMatch(/残高が足りません/);
    const nobody = await va.submit(paid, 'pay-form', { to: 'HC-0000-0000', amount: '1' });
    expect(testid(nobody.body, 'error')).toMatch(/見つかりません/);
    const self = await va.submit(paid, 'pay-form', { to: ids.get(a)!, amount: '1' });
    expect(testid(self.body, 'error')).toMatch(/自分のウォレット/);
    const zero = await va.submit(paid, 'pay-form', { to: ids.get(b)!, amount: '0' });
    expect(testid(zero.body, 'error')).toMatch(/1 以上の整数/);
    expect(balance(await va.go(`${wallet.demo.url}/wallet`))).toBe(start - 300);
  }, 60_000);

  // The platform links a person's authentication and signing certificates (証明書紐付け): one sub.
  it('a later login by authentication certificate (no personal data) finds the same wallet by sub', async () => {
    const v = new Visitor(h);
    const home = await v.go(`${wallet.demo.url}/?lang=en`);
    expect(home.body).toContain('Create wallet');
    const landed = await v.ceremony(await v.submit(home, 'login-form'), a, 'auth');
    expect(landed.url).toBe(`${wallet.demo.url}/wallet`);
    expect(landed.body).toContain('My wallet');
    expect(testid(landed.body, 'wallet-id')).toBe(ids.get(a));
  }, 60_000);

  it('a login that finds no wallet offers to verify; verifying opens the existing wallet, never a second one', async () => {
    const v = new Visitor(h);
    const none = await v.ceremony(await v.submit(await v.go(wallet.demo.url), 'login-form'), b, 'auth');
    expect(none.url).toBe(`${wallet.demo.url}/wallet`);
    if (testid(none.body, 'wallet-id') === undefined) {
      expect(none.body).toContain('data-testid="no-wallet"');
      const verified = await v.ceremony(await v.submit(none, 'create-wallet-form'), b, 'sign');
      expect(testid(verified.body, 'wallet-id')).toBe(ids.get(b));
      expect(testid(verified.body, 'message')).toMatch(/本人確認を更新しました/);
    } else {
      expect(testid(none.body, 'wallet-id')).toBe(ids.get(b)); // the platform links auth and sign certificates
    }
    const state = JSON.parse(readFileSync(join(wallet.dataDir, 'wallet.json'), 'utf8')) as {
      wallets: Record<string, unknown>;
    };
    expect(Object.keys(state.wallets)).toHaveLength(3);
  }, 60_000);

  async function moveAndWaitForFreeze(person: string, municipalityCode: string): Promise<Page> {
    await h.p.sandbox.applyEvent(person, 'move', { municipalityCode });
    await runMonitor(h);
    const v = visitors.get(person)!;
    return eventually(`the wallet of ${person} to be frozen`, async () => {
      const page = await v.go(`${wallet.demo.url}/wallet`);
      return status(page) === 'frozen' ? page : undefined;
    });
  }

  it('a move inside Fukui revokes the certificate: the signed webhook freezes the wallet; re-verifying unfreezes it', async () => {
    const v = visitors.get(a)!;
    const before = balance(await v.go(`${wallet.demo.url}/wallet`));
    const frozen = await moveAndWaitForFreeze(a, '18207');
    expect(frozen.body).toContain('data-testid="frozen-notice"');
    // The reason in words, its code in small print; when, in Japan time; the pay button disabled, saying why.
    expect(attr(frozen.body, 'frozen-reason', 'data-reason')).toBe('affiliationChanged');
    expect(testid(frozen.body, 'frozen-reason')).toBe('氏名・住所などの変更 (転居・婚姻など) (affiliationChanged)');
    expect(frozen.body).toContain('<small class="code" data-code="affiliationChanged">(affiliationChanged)</small>');
    expect(testid(frozen.body, 'frozen-at')).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);
    expect(frozen.body).toContain('data-testid="pay-submit" disabled aria-describedby="pay-disabled-reason"');
    expect(testid(frozen.body, 'pay-disabled-reason')).toMatch(/凍結中のため送金できません/);
    const english = await v.go(`${wallet.demo.url}/wallet?lang=en`);
    expect(testid(english.body, 'frozen-reason')).toBe(
      'a change of name or address (a move, marriage …) (affiliationChanged)',
    );
    expect(testid(english.body, 'frozen-at')).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} JST$/);
    expect(testid(english.body, 'pay-disabled-reason')).toMatch(/You cannot pay while the wallet is frozen/);
    await v.go(`${wallet.demo.url}/wallet?lang=ja`);

    const refused = await v.submit(frozen, 'pay-form', { to: ids.get(b)!, amount: '1' });
    expect(testid(refused.body, 'error')).toMatch(/凍結中/);
    expect(balance(refused)).toBe(before);

    const again = await v.ceremony(await v.submit(refused, 'reverify-form'), a, 'sign');
    expect(status(again)).toBe('active');
    expect(testid(again.body, 'message')).toMatch(/凍結を解除しました/);
    expect(testid(again.body, 'wallet-id')).toBe(ids.get(a));
    expect(testid(again.body, 'holder-address')).toBe(h.p.sandbox.person(a).address);
    expect(testid(again.body, 'holder-address')).toMatch(/^福井県鯖江市/);
    expect(attr(again.body, 'residency', 'data-status')).toBe('resident');
    expect(balance(again)).toBe(before);
  }, 60_000);

  it('a move out of Fukui: after re-verification the wallet is usable but the residency benefits are withdrawn', async () => {
    const v = visitors.get(b)!;
    const start = await v.go(`${wallet.demo.url}/wallet`);
    const benefit = Number(attr(start.body, 'benefit-balance', 'data-value'));
    expect(benefit).toBeGreaterThan(0);
    const frozen = await moveAndWaitForFreeze(b, '13221');
    const again = await v.ceremony(await v.submit(frozen, 'reverify-form'), b, 'sign');
    expect(status(again)).toBe('active');
    expect(testid(again.body, 'message')).toMatch(/回収されました/);
    expect(attr(again.body, 'residency', 'data-status')).toBe('non-resident');
    expect(attr(again.body, 'benefit-balance', 'data-value')).toBe('0');
    expect(balance(again)).toBe(300); // what A paid stays
    expect(again.body).toContain('data-type="withdrawal"');
    // It can pay again.
    const paid = await v.submit(again, 'pay-form', { to: ids.get(a)!, amount: '100' });
    expect(balance(paid)).toBe(200);
  }, 60_000);

  it('the webhook endpoint rejects unsigned, wrongly signed and stale events', async () => {
    const body = JSON.stringify({
      id: 'evt_forged',
      type: 'certificate.revoked',
      rp_client_id: WALLET_RP.clientId,
      sub: 'x',
      data: { serial: '01' },
    });
    const post = (signature?: string) =>
      fetch(`${wallet.demo.url}/webhooks/kakunin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(signature ? { 'kakunin-signature': signature } : {}) },
        body,
      });
    expect((await post()).status).toBe(401);
    expect((await post(`t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`)).status).toBe(401);
    const { createHmac } = await import('node:crypto');
    const stale = Math.floor(Date.now() / 1000) - 3600;
    expect(
      (
        await post(
          `t=${stale},v1=${createHmac('sha256', wallet.rp.webhookSecret).update(`${stale}.${body}`).digest('hex')}`,
        )
      ).status,
    ).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    expect(
      (
        await post(
          `t=${now},v1=${createHmac('sha256', wallet.rp.webhookSecret).update(`${now}.${body}`).digest('hex')}`,
        )
      ).status,
    ).toBe(204);
  });

  it('keeps its state in a JSON file in the data directory', () => {
    const state = JSON.parse(readFileSync(join(wallet.dataDir, 'wallet.json'), 'utf8')) as {
      wallets: Record<string, unknown>;
    };
    expect(Object.keys(state.wallets).sort()).toEqual([...ids.values()].sort());
  });
});
