// `kakunin wallet get --browser` in a real browser (headless Chromium): the wallet prints the
// authorization URL and waits on a loopback port (RFC 8252); the holder signs in on the platform's
// pages (a virtual card answers the holder link), agrees, and the browser comes back to the wallet,
// which redeems the code and keeps the credential.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestSandbox, holderRespond, startTestPlatform, type TestPlatform } from '@kakunin/server/testing';
import { launchChromium, stepShooter } from '../support/browser.js';

const BIN = resolve('packages/cli/bin/kakunin.js');

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
let p: TestPlatform;
let browser: Browser;
let walletDir: string;

beforeAll(async () => {
  sim = await createTestSandbox();
  p = await startTestPlatform('pglite', sim.dir);
  browser = await launchChromium();
  walletDir = mkdtempSync(join(tmpdir(), 'kakunin-wallet-'));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await p?.close();
  sim?.remove();
  if (walletDir) rmSync(walletDir, { recursive: true, force: true });
});

describe('kakunin wallet get --browser', () => {
  it('signs in in the browser, comes back to the loopback listener, keeps the credential', async () => {
    const shot = stepShooter('wallet-browser');
    const child = spawn(
      process.execPath,
      [BIN, 'wallet', 'get', '--browser', '--issuer', p.server.url, '--wallet', walletDir, '--lang', 'en', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    await expect.poll(() => /^http\S+\/auth\?\S+$/m.exec(stderr)?.[0], { timeout: 20_000 }).toBeTruthy();
    const url = /^http\S+\/auth\?\S+$/m.exec(stderr)![0];
    const redirect = new URL(url).searchParams.get('redirect_uri')!;
    expect(redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    const page = await browser.newPage({ locale: 'en-US' });
    await page.goto(url);
    await expect.poll(() => page.locator('#holder-link').count()).toBe(1);
    await shot(page, 'ceremony-page');
    const href = (await page.locator('#holder-link').getAttribute('href'))!;
    const person = p.sandbox
      .people()
      .find((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)!;
    expect((await holderRespond(p.sandbox, href, { person: person.id })).status).toBe(200);
    const agree = page.getByRole('button', { name: /Agree/ });
    await agree.waitFor({ timeout: 15_000 });
    // The consent lists what goes into the credential.
    expect(
      await page.locator('#shared li[data-claim]').evaluateAll((li) => li.map((l) => l.getAttribute('data-claim'))),
    ).toEqual(expect.arrayContaining(['name', 'address', 'birthdate']));
    await shot(page, 'consent');
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(redirect)), agree.click()]);
    await expect.poll(() => page.locator('#wallet-done').count()).toBe(1);
    await shot(page, 'back-to-wallet');
    expect(await exited).toBe(0);
    const received = JSON.parse(stdout) as { claims: { name: string; birthdate: string } };
    expect(received.claims.name).toBe(person.name);
    expect(received.claims.birthdate).toBe(person.birthDate);
    await page.close();
  });
});
