// Pages speak to people: in headless Chromium, in Japanese and in English, the pages a holder sees
// say what happened in words — a revocation reason, a wrong or blocked PIN with the tries left, a
// cancelled sign-in, a holder link no app answered, the agent's own address — with times in Japan
// time, and a code (WRONG_PIN, affiliationChanged, access_denied …) at most in small print, never as
// the main text. The stack is `npm start`'s (platform, agent with virtual cards, the four demos).
// Screenshots go to test-artifacts/screenshots/pages-words-*.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Person } from '@kakunin/sim';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack.js';
import { launchChromium, stepShooter } from '../support/browser.js';

let dataDir: string;
let stack: DemoStack;
let browser: Browser;
const url: Record<string, string> = {};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kakunin-pages-words-'));
  stack = await startDemoStack({
    dataDir,
    ports: { platform: 0, agent: 0, wallet: 0, bank: 0, mvno: 0, municipal: 0 },
    monitorIntervalSeconds: 0,
    logLevel: 'silent',
  });
  for (const [name, u] of stack.services) url[name] = u;
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await holderContext?.close();
  await browser?.close();
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const sandbox = () => stack.platform.sandbox!.sandbox;
const withSign = (): Person[] =>
  sandbox()
    .people()
    .filter((p) => sandbox().certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0);

/** One numbered series of screenshots per language. */
const shooters = new Map<string, ReturnType<typeof stepShooter>>();
const shooter = (lang: 'ja' | 'en'): ReturnType<typeof stepShooter> => {
  if (!shooters.has(lang)) shooters.set(lang, stepShooter(`pages-words-${lang}`));
  return shooters.get(lang)!;
};

async function newContext(lang: 'ja' | 'en'): Promise<BrowserContext> {
  return browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US', permissions: ['local-network-access'] });
}

/** Codes never to be the main text: UPPER_SNAKE error codes, RFC 5280 reason names, OAuth error codes. */
const RAW_CODE =
  /\b[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+\b|\b(?:keyCompromise|cACompromise|affiliationChanged|cessationOfOperation|certificateHold|removeFromCRL|privilegeWithdrawn|aACompromise|access_denied|login_required|consent_required)\b/;
/** A UTC ISO 8601 time (2026-12-05T00:30…). */
const UTC_ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

// What the page functions use of the DOM (this project compiles without the DOM library).
type DomElement = {
  cloneNode(deep: boolean): DomElement;
  querySelectorAll(selector: string): Iterable<{ remove(): void }>;
  textContent: string | null;
};
type DomWindow = { getComputedStyle(e: unknown): { backgroundColor: string; cursor: string } };

/** The page's main text without its small print (small, code, .muted, pre) and hidden parts. */
async function mainText(page: Page): Promise<string> {
  return page.locator('main').evaluate((main) => {
    const copy = (main as unknown as DomElement).cloneNode(true);
    for (const e of copy.querySelectorAll('small, code, .muted, pre, script, style, [hidden]')) e.remove();
    return (copy.textContent ?? '').replace(/\s+/g, ' ').trim();
  });
}

/** Words in the main text, no raw code, no UTC time; returns the text for further checks. */
async function speaksWords(page: Page, what: string): Promise<string> {
  const text = await mainText(page);
  expect(text.length, `${what}: some text`).toBeGreaterThan(20);
  expect(text, `${what}: a raw code as main text`).not.toMatch(RAW_CODE);
  expect(text, `${what}: a UTC ISO time as main text`).not.toMatch(UTC_ISO);
  return text;
}

/** The code is there for whoever helps, in small print. */
async function codeInSmallPrint(page: Page, code: string): Promise<void> {
  const small = page.locator('main small, main .muted').filter({ hasText: code });
  expect(await small.count(), `${code} in small print`).toBeGreaterThan(0);
}

/** The holder's part of a ceremony from the demo's click: same-device → the agent's page → PIN → consent → back. */
async function prove(page: Page, person: Person, secret: string, returnTo: string): Promise<void> {
  const sameDevice = page.locator('#same-device');
  await sameDevice.waitFor({ state: 'visible', timeout: 20_000 });
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${url.agent}/confirm/`)), sameDevice.click()]);
  await page.locator('#person').selectOption(person.id);
  await page.locator('#pin').fill(secret);
  await page.locator('#submit').click();
  const agree = page.locator('#agree');
  await agree.waitFor({ timeout: 20_000 });
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(returnTo)), agree.click()]);
}

async function runMonitor(): Promise<void> {
  const res = await fetch(`${url.platform}/admin/v1/monitor/run`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.platform.adminToken}` },
  });
  expect(res.status).toBe(202);
}

/** The holder whose certificate is revoked: a wallet and a bank account, one browser. */
let holderContext: BrowserContext | undefined;
let holderPage: Page;
let accountUrl: string;

describe('pages speak to people', () => {
  it('a holder with a wallet and a bank account moves: the certificate is revoked, the wallet frozen, the account flagged', async () => {
    const holder = withSign().find((p) => p.address.startsWith('福井県'))!;
    holderContext = await newContext('ja');
    holderPage = await holderContext.newPage();
    const page = holderPage;
    await page.goto(url.wallet!);
    await page.getByTestId('create-wallet').click();
    await prove(page, holder, holder.pins.sign, url.wallet!);
    await page.getByTestId('wallet-id').waitFor();

    await page.goto(`${url.bank}/apply`);
    await page.getByTestId('account-type-select').selectOption('futsu');
    await page.getByTestId('purpose-living').check();
    await page.getByTestId('occupation-select').selectOption('employee');
    await page.getByTestId('apply-submit').click();
    await prove(page, holder, holder.pins.sign, url.bank!);
    await page.getByTestId('record').waitFor();
    accountUrl = page.url().split('?')[0]!;

    await sandbox().applyEvent(holder.id, 'move', { municipalityCode: '13221' });
    await runMonitor();
    await expect
      .poll(
        async () => (
          await page.goto(`${url.wallet}/wallet`),
          await page.getByTestId('wallet-status').getAttribute('data-status')
        ),
        { timeout: 20_000 },
      )
      .toBe('frozen');
    await expect
      .poll(async () => (await page.goto(accountUrl), await page.getByTestId('review-status').count()), {
        timeout: 20_000,
      })
      .toBe(1);
  }, 180_000);

  for (const lang of ['ja', 'en'] as const) {
    const words = <T>(ja: T, en: T): T => (lang === 'ja' ? ja : en);

    it(`a frozen wallet: the reason in words, the time in Japan time, the pay button disabled with why (${lang})`, async () => {
      const shot = shooter(lang);
      const page = holderPage;
      await page.goto(`${url.wallet}/wallet?lang=${lang}`);
      await page.getByTestId('frozen-notice').waitFor();
      await shot(page, 'wallet-frozen');
      const text = await speaksWords(page, 'frozen wallet');
      expect(await page.getByTestId('frozen-reason').getAttribute('data-reason')).toBe('affiliationChanged');
      expect(text).toContain(words('氏名・住所などの変更', 'a change of name or address'));
      await codeInSmallPrint(page, 'affiliationChanged');
      expect((await page.getByTestId('frozen-at').textContent())!.trim()).toMatch(
        words(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/, /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} JST$/),
      );
      expect((await page.getByTestId('verified-at').textContent())!.trim()).toMatch(words(/年/, / JST$/));
      // Disabled, and it looks it: greyed, not the blue of an action; the reason next to it.
      const pay = page.getByTestId('pay-submit');
      expect(await pay.isDisabled()).toBe(true);
      const look = (testid: string) =>
        page.getByTestId(testid).evaluate((b) => {
          const style = (globalThis as unknown as DomWindow).getComputedStyle(b);
          return { background: style.backgroundColor, cursor: style.cursor };
        });
      const [disabled, enabled] = [await look('pay-submit'), await look('reverify')];
      expect(disabled.background).not.toBe(enabled.background);
      expect(disabled.cursor).toBe('not-allowed');
      expect(await pay.getAttribute('aria-describedby')).toBe('pay-disabled-reason');
      expect(await page.getByTestId('pay-disabled-reason').textContent()).toMatch(
        words(/凍結中のため送金できません/, /cannot pay while the wallet is frozen/),
      );
      expect(await page.getByTestId('pay-disabled-reason').isVisible()).toBe(true);
    });

    it(`the bank account of a revoked certificate: the reason and the note in words, the stored Japanese in English (${lang})`, async () => {
      const shot = shooter(lang);
      const page = holderPage;
      await page.goto(`${accountUrl}?lang=${lang}`);
      await page.getByTestId('review-reason').waitFor();
      await shot(page, 'bank-review');
      const text = await speaksWords(page, 'bank account');
      expect(text).toContain(words('氏名・住所などの変更', 'a change of name or address'));
      await codeInSmallPrint(page, 'affiliationChanged');
      const note = (await page.getByTestId('record-note').last().textContent())!;
      expect(note).toMatch(
        words(/失効日時 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}/, /revoked \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} JST/),
      );
      if (lang === 'en') {
        expect(await page.getByTestId('record-confirmed-by').textContent()).toBe(
          'Demo Bank account opening centre (the specified business operator)',
        );
        expect(text).not.toMatch(/口座開設センター|失効通知/);
      }
    });

    it(`a cancelled sign-in comes back to words; the OAuth code only in small print (${lang})`, async () => {
      const shot = shooter(lang);
      const context = await newContext(lang);
      const page = await context.newPage();
      await page.goto(`${url.municipal}/?lang=${lang}`);
      await page.getByTestId('login').click();
      await page.locator('#same-device').waitFor({ state: 'visible', timeout: 20_000 });
      await Promise.all([
        page.waitForURL((u) => u.toString().startsWith(`${url.municipal}/callback`)),
        page.locator('form[action$="/abort"] button').click(),
      ]);
      await page.getByTestId('problem').waitFor();
      await shot(page, 'cancelled');
      const text = await speaksWords(page, 'cancelled sign-in');
      expect(text).toContain(words('手続きを中止しました', 'Cancelled'));
      await codeInSmallPrint(page, 'access_denied');
      await context.close();
    });

    it(`the holder link opened in a browser says what it is for and how to finish here; back to the ceremony; the agent's page with a wrong, then a blocked PIN (${lang})`, async () => {
      const shot = shooter(lang);
      const victim = sandbox()
        .people()
        .at(lang === 'ja' ? -1 : -2)!;
      const wrong = victim.pins.auth === '0000' ? '1111' : '0000';
      const context = await newContext(lang);
      const page = await context.newPage();
      await page.goto(`${url.municipal}/?lang=${lang}`);
      await page.getByTestId('login').click();
      await page.locator('#same-device').waitFor({ state: 'visible', timeout: 20_000 });
      const ceremonyUrl = page.url();

      // 「マイナンバーカードアプリで開く」 with no app: a page, not JSON.
      await Promise.all([page.waitForURL(/\/holder\/v1\/ceremonies\//), page.locator('#holder-link').click()]);
      await page.locator('#holder-link-page').waitFor();
      await shot(page, 'holder-link');
      expect(await page.locator('html').getAttribute('lang')).toBe(lang);
      const link = await speaksWords(page, 'holder link');
      expect(link).toContain(words('NFC で読み取って', 'over NFC'));
      expect(link).toContain(words('このパソコンで続けるには', 'To finish on this computer'));
      expect(link).toContain(words('「このパソコンで読み取る」', '“Use the card reader on this computer”'));
      expect(await page.locator('#holder-command').textContent()).toBe(`kakunin holder ${page.url()}`);
      await Promise.all([
        page.waitForURL((u) => u.toString().startsWith(ceremonyUrl.split('?')[0]!)),
        page.locator('#back-to-ceremony').click(),
      ]);

      // Finished on this computer instead: the agent's page. A wrong PIN, twice: words and the tries left.
      const sameDevice = page.locator('#same-device');
      await sameDevice.waitFor({ state: 'visible', timeout: 20_000 });
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${url.agent}/confirm/`)), sameDevice.click()]);
      for (const left of [2, 1]) {
        await page.locator('#person').selectOption(victim.id);
        await page.locator('#pin').fill(wrong);
        await page.locator('#submit').click();
        await expect
          .poll(() => page.locator('[data-error-code]').first().getAttribute('data-error-code'))
          .toBe('WRONG_PIN');
        await shot(page, `agent-wrong-pin-${left}`);
        const text = await speaksWords(page, 'agent, wrong PIN');
        expect(text).toContain(words(`残り${left}回`, `${left} ${left === 1 ? 'try' : 'tries'} left`));
        expect(text).toContain(
          words(
            '利用者証明用電子証明書の暗証番号(数字4桁)が違います',
            'That was not the user authentication PIN (4 digits)',
          ),
        );
        await codeInSmallPrint(page, 'WRONG_PIN');
      }
      await page.locator('#person').selectOption(victim.id);
      await page.locator('#pin').fill(wrong);
      await page.locator('#submit').click();
      await expect
        .poll(() => page.locator('[data-error-code]').first().getAttribute('data-error-code'))
        .toBe('PIN_BLOCKED');
      await shot(page, 'agent-pin-blocked');
      const blocked = await speaksWords(page, 'agent, blocked PIN');
      expect(blocked).toContain(words('暗証番号がロックされています', 'The PIN is locked'));
      expect(blocked).toContain(words('市区町村の窓口', 'municipal office'));
      expect(blocked).not.toMatch(/残り0回|0 tries left/);
      await codeInSmallPrint(page, 'PIN_BLOCKED');
      await context.close();
    }, 120_000);

    it(`the agent's address opened in a browser: what it is, nothing to do there (${lang})`, async () => {
      const shot = shooter(lang);
      const context = await newContext(lang);
      const page = await context.newPage();
      await page.goto(url.agent!);
      await page.locator('#agent-home').waitFor();
      await shot(page, 'agent-home');
      const text = await speaksWords(page, 'agent home');
      expect(text).toContain(words('Kakunin エージェントが動いています', 'The Kakunin agent is running'));
      expect(text).toContain(words('このページで操作することはありません', 'There is nothing to do on this page'));
      await context.close();
    });
  }
});
