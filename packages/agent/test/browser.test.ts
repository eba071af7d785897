// The same-device flow in a real browser (headless Debian Chromium): the platform's ceremony page
// finds the agent (GET /v1/hello with CORS), its button hands the ceremony over (POST /v1/ceremonies),
// the agent's own page takes the resident and the PIN, the form post (Origin: null under the page's
// no-referrer policy, Sec-Fetch-Site: same-origin) completes the ceremony, and the browser returns to
// the ceremony page, which goes on to consent and the RP's redirect URI.

import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRelyingParty, type RegisteredRelyingParty } from '@kakunin/server';
import { authorizationRequest, createTestSandbox, startTestPlatform, type TestPlatform } from '@kakunin/server/testing';
import { launchChromium, startRpCallback, stepShooter } from '../../../test/support/browser.js';
import { startAgent, type RunningAgent } from '../src/index.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let agent: RunningAgent;
let browser: Browser;
let rpServer: { redirectUri: string; close: () => void };
let redirectUri: string;
let rp: RegisteredRelyingParty;

beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  agent = await startAgent({ port: 0, platformOrigins: [p.server.url], card: { kind: 'sim', sandboxDir: sim.dir } });
  // The ceremony page offers (and its CSP allows) the agent at config.agentUrl: point it at this one.
  (p.server.platform.config as { agentUrl: string }).agentUrl = agent.url;
  rpServer = await startRpCallback();
  redirectUri = rpServer.redirectUri;
  rp = await createRelyingParty(p.server.platform, {
    name: 'ブラウザ銀行',
    redirectUris: [redirectUri],
    framework: 'jp_aml',
    purpose: '口座開設の本人確認',
  });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await agent?.close();
  await p?.close();
  rpServer?.close();
  sim?.remove();
});

describe('same-device flow in Chromium', () => {
  for (const lang of ['ja', 'en'] as const) {
    it(`identity: ceremony page → agent page → wrong then right password → back → consent → RP (${lang})`, async () => {
      const shot = stepShooter(`agent-identity-${lang}`);
      const { config, verifier, state, url } = await authorizationRequest(p.server.url, rp.clientId, rp.clientSecret, {
        redirectUri,
        claims: { userinfo: { verified_claims: { verification: { trust_framework: null }, claims: { name: null } } } },
        extra: { ui_locales: lang },
      });
      const person = p.sandbox
        .people()
        .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)[
        lang === 'ja' ? 0 : 1
      ]!;
      // A platform on the Internet would need the holder's Local Network Access permission to reach
      // the agent on 127.0.0.1 (Chromium asks); here both are on the loopback, granted all the same.
      const context = await browser.newContext({
        locale: lang === 'ja' ? 'ja-JP' : 'en-US',
        permissions: ['local-network-access'],
      });
      const page = await context.newPage();
      await page.goto(url.toString());

      // The platform page found the agent and shows the same-device button.
      const button = page.locator('#same-device');
      await button.waitFor({ state: 'visible', timeout: 15_000 });
      await shot(page, 'ceremony-page-with-agent');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${agent.url}/confirm/`)), button.click()]);
      await page.locator('#statement').waitFor();
      expect(await page.locator('#rp-name').textContent()).toBe('ブラウザ銀行');
      expect(await page.locator('#statement').textContent()).toContain('口座開設の本人確認');
      expect(await page.locator('html').getAttribute('lang')).toBe(lang);
      await page.locator('#person').selectOption(person.id);
      await shot(page, 'agent-confirm');

      // A wrong password: the agent's page says so, and so does the ceremony page's progress.
      const wrong = person.pins.sign === 'WRONG1PASS' ? 'WRONG2PASS' : 'WRONG1PASS';
      await page.getByLabel(lang === 'ja' ? /署名用電子証明書の暗証番号/ : /signing password/).fill(wrong);
      await Promise.all([page.waitForLoadState('load'), page.locator('#submit').click()]);
      await expect.poll(() => page.locator('[data-error-code]').getAttribute('data-error-code')).toBe('WRONG_PIN');
      expect(await page.locator('#main').textContent()).toContain(lang === 'ja' ? '残り4回' : '4 tries left');
      expect(await page.locator('#pin').inputValue()).toBe('');
      await shot(page, 'agent-wrong-pin');

      await page.locator('#pin').fill(person.pins.sign);
      await page.locator('#submit').click();
      // Straight back to the ceremony page (a 303, no page in between), which continues to consent by itself.
      const agree = page.getByRole('button', { name: lang === 'ja' ? /同意/ : /Agree/ });
      await agree.waitFor({ timeout: 20_000 });
      await shot(page, 'consent');
      await Promise.all([page.waitForURL((u) => u.toString().startsWith(redirectUri)), agree.click()]);
      const landed = new URL(page.url());
      expect(landed.searchParams.get('state')).toBe(state);
      const tokens = await oidc.authorizationCodeGrant(config, landed, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      expect((info.verified_claims as { claims: { name: string } }).claims.name).toBe(person.name);
      await context.close();
    }, 90_000);
  }
});
