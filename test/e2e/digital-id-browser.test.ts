// The digital ID credential in headless Chromium: the municipal portal's "add to your wallet" after an
// identity verification (a sandbox virtual card answers the platform's ceremony page) shows the QR
// code and the link of the credential offer, which `kakunin wallet accept` redeems; then the
// library's OpenID4VP request page, answered by `kakunin wallet present` from its QR request
// (cross-device: the page follows by itself) and the taxi's from its link (same-device: the wallet's
// redirect_uri brings the browser back). Screenshots go to test-artifacts/screenshots/digital-id/.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holderRespond } from '@kakunin/server/testing';
import { MUNICIPAL_RP, startMunicipal } from '../../examples/municipal/index.js';
import { kakunin } from '../../examples/test/digital-id-support.js';
import {
  residents,
  startDemo,
  startPlatform,
  type Harness,
  type RunningTestDemo,
} from '../../examples/test/support.js';
import { launchChromium, stepShooter } from '../support/browser.js';

let h: Harness;
let portal: RunningTestDemo;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let walletDir: string;
/** Anything the pages' CSP blocked (there must be nothing). */
const blocked: string[] = [];
const shot = stepShooter('digital-id');

beforeAll(async () => {
  [h, browser] = await Promise.all([startPlatform(), launchChromium()]);
  portal = await startDemo(h, MUNICIPAL_RP, startMunicipal);
  walletDir = mkdtempSync(join(tmpdir(), 'kakunin-wallet-'));
  context = await browser.newContext({ locale: 'ja-JP' });
  page = await context.newPage();
  page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && blocked.push(m.text())));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await portal?.close();
  await h?.close();
  if (walletDir) rmSync(walletDir, { recursive: true, force: true });
});

/** On the platform's ceremony page: the virtual card answers, the page moves on by itself, the holder agrees. */
async function ceremony(person: string): Promise<void> {
  const link = page.locator('#holder-link');
  await link.waitFor({ timeout: 15_000 });
  expect((await holderRespond(h.p.sandbox, (await link.getAttribute('href'))!, { person })).status).toBe(200);
  const agree = page.getByRole('button', { name: /同意/ });
  await agree.waitFor({ timeout: 15_000 });
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(portal.demo.url)), agree.click()]);
}

describe('the digital ID credential in Chromium: add to your wallet, then present it to the portal', () => {
  let person: string;

  it('after an identity verification the ID card page shows the offer (QR code, link); the wallet accepts it', async () => {
    [person] = residents(h.p, 'fukui') as [string];
    await page.goto(portal.demo.url);
    await page.getByTestId('login').click();
    await ceremony(person);
    await page.getByTestId('id-card-link').click();
    await page.getByTestId('issue-id-card').click();
    await ceremony(person);
    await page.getByTestId('wallet-offer').waitFor();
    expect(await page.locator('[data-testid="offer-qr"] svg').isVisible()).toBe(true);
    await shot(page, 'add-to-wallet');
    const offer = (await page.getByTestId('offer-link').getAttribute('href'))!;
    expect(offer).toMatch(/^openid-credential-offer:\/\/\?credential_offer=/);
    const accepted = await kakunin(['wallet', 'accept', offer, '--wallet', walletDir, '--json']);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ claims: { address: { prefecture_code: '18' } } });
  }, 60_000);

  it('library, cross-device: the wallet answers the QR request and the page shows the result by itself', async () => {
    await page.goto(`${portal.demo.url}/verify/library`);
    await shot(page, 'library-asks');
    await page.getByTestId('start-presentation').click();
    await page.getByTestId('presentation-qr').waitFor();
    expect(await page.locator('[data-testid="presentation-qr"] svg').isVisible()).toBe(true);
    await shot(page, 'library-request');
    const request = (await page.getByTestId('presentation-link').getAttribute('href'))!;
    expect(request).toMatch(/^openid4vp:\/\/\?/);
    const presented = await kakunin(['wallet', 'present', request, '--wallet', walletDir, '--yes']);
    expect(presented.code, presented.stderr).toBe(0);
    const result = page.getByTestId('presentation-result');
    await result.waitFor({ timeout: 10_000 });
    expect(await result.textContent()).toBe('福井県在住・18歳以上を確認しました');
    const who = h.p.sandbox.person(person);
    const text = (await page.locator('body').textContent())!;
    for (const secret of [who.name, who.address]) expect(text).not.toContain(secret);
    await shot(page, 'library-result');
  }, 60_000);

  it('taxi, same-device: the link; the wallet’s redirect_uri brings the browser back to the result (en)', async () => {
    await page.goto(`${portal.demo.url}/verify/taxi?lang=en`);
    await page.getByTestId('start-presentation').click();
    const request = (await page.getByTestId('presentation-link').getAttribute('href'))!;
    const presented = await kakunin(['wallet', 'present', request, '--wallet', walletDir, '--yes', '--json']);
    expect(presented.code, presented.stderr).toBe(0);
    await page.goto((JSON.parse(presented.stdout) as { redirect_uri: string }).redirect_uri);
    expect(await page.getByTestId('presentation-result').textContent()).toBe('Confirmed: lives in Fukui, 18 or over');
    expect(await page.getByTestId('service-status').textContent()).toMatch(/resident fare/);
    await shot(page, 'taxi-result');
    expect(blocked).toEqual([]);
  }, 60_000);
});
