// The platform's page contract in a real browser (headless Chromium): a stock OIDC client builds the
// authorization URL; the ceremony page carries #holder-link (and the same URL in its QR code); a
// virtual card answers through the holder protocol; the page follows the progress by itself, the
// consent button (同意 / Agree) leads to the RP's redirect URI with code and state — ja and en.

import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelyingParty, type RegisteredRelyingParty } from '@kakunin/server';
import {
  authorizationRequest,
  createTestSandbox,
  holderRespond,
  startTestPlatform,
  type TestPlatform,
} from '@kakunin/server/testing';
import { launchChromium, startRpCallback, stepShooter } from '../support/browser.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let browser: Browser;
let rpServer: { redirectUri: string; close: () => void };
let redirectUri: string;
let rp: RegisteredRelyingParty;

beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  rpServer = await startRpCallback();
  redirectUri = rpServer.redirectUri;
  rp = await createRelyingParty(p.server.platform, {
    name: 'ブラウザ RP',
    redirectUris: [redirectUri],
    framework: 'jp_aml',
    purpose: '口座開設の本人確認',
  });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await p?.close();
  rpServer?.close();
  sim?.remove();
});

describe('OIDC ceremony pages in Chromium', () => {
  for (const lang of ['ja', 'en'] as const) {
    it(`identity ceremony end to end (${lang})`, async () => {
      const shot = stepShooter(`platform-identity-${lang}`);
      const { config, verifier, state, url } = await authorizationRequest(p.server.url, rp.clientId, rp.clientSecret, {
        redirectUri,
        claims: {
          userinfo: {
            verified_claims: { verification: { trust_framework: null }, claims: { name: null, birthdate: null } },
          },
        },
        extra: { ui_locales: lang },
      });
      const context = await browser.newContext({ locale: lang === 'ja' ? 'ja-JP' : 'en-US' });
      const page = await context.newPage();
      // The pages' CSP allows no inline script: anything it blocks would show up here.
      const blocked: string[] = [];
      page.on('console', (m) => void (/Content Security Policy/i.test(m.text()) && blocked.push(m.text())));
      await page.goto(url.toString());
      await expect.poll(() => page.locator('#holder-link').count()).toBe(1);
      await expect.poll(() => page.locator('#rp-name').textContent()).toBe('ブラウザ RP');
      expect(await page.locator('h1').textContent()).toBe(
        lang === 'ja' ? 'マイナンバーカードで本人確認' : 'Verify your identity with your My Number Card',
      );
      expect(await page.locator('.qr svg').count()).toBe(1);
      await shot(page, 'ceremony-page');
      const href = (await page.locator('#holder-link').getAttribute('href'))!;
      expect(href).toMatch(new RegExp(`^${p.server.url}/holder/v1/ceremonies/cer_`));
      // No PIN field on the platform's pages.
      expect(await page.locator('input[type=password]').count()).toBe(0);

      const person = p.sandbox
        .people()
        .find((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)!.id;
      expect((await holderRespond(p.sandbox, href, { person })).status).toBe(200);

      const agree = page.getByRole('button', { name: lang === 'ja' ? /同意/ : /Agree/ });
      await agree.waitFor({ timeout: 15_000 });
      await shot(page, 'consent');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(redirectUri)), agree.click()]);
      await shot(page, 'rp-callback');
      const landed = new URL(page.url());
      expect(landed.searchParams.get('state')).toBe(state);
      expect(landed.searchParams.get('code')).toBeTruthy();
      const tokens = await oidc.authorizationCodeGrant(config, landed, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect((info.verified_claims as { claims: { name: string } }).claims.name).toBe(p.sandbox.person(person).name);
      expect(blocked).toEqual([]);
      await context.close();
    });
  }

  it('a revoked certificate shows the error page with what to do next', async () => {
    const shot = stepShooter('platform-revoked');
    const { url } = await authorizationRequest(p.server.url, rp.clientId, rp.clientSecret, {
      redirectUri,
      scope: 'openid identity',
    });
    const page = await browser.newPage();
    await page.goto(url.toString());
    const href = (await page.locator('#holder-link').getAttribute('href'))!;
    const person = p.sandbox
      .people()
      .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
      .at(-1)!.id;
    const old = p.sandbox.currentCertificateRecord(person, 'sign', 'card');
    const { createPrivateKey, sign } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const oldKey = createPrivateKey(readFileSync(join(p.sandbox.dir, old.keyFile)));
    await p.sandbox.applyEvent(person, 'move');
    const view = (await (await fetch(href)).json()) as { nonce: string; to_be_signed: string; response_url: string };
    const res = await fetch(view.response_url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        nonce: view.nonce,
        certificate: p.sandbox.certificateDer(old.issuerId, old.serial).toString('base64'),
        signature: sign('sha256', Buffer.from(view.to_be_signed, 'base64url'), oldKey).toString('base64'),
      }),
    });
    expect(res.status).toBe(422);
    await page.waitForURL(/\/error/, { timeout: 15_000 });
    await expect.poll(() => page.locator('[data-error-code]').getAttribute('data-error-code')).toBe('REVOKED');
    expect(await page.locator('#main').textContent()).toMatch(/新しい電子証明書/);
    await shot(page, 'error-revoked');
    // "Try again" starts a new ceremony for the same authorization.
    await page.locator('#retry').click();
    await page.locator('#holder-link').waitFor();
    expect(await page.locator('#holder-link').getAttribute('href')).not.toBe(href);
    await page.close();
  });
});
