// Every demo flow in headless Chromium, the way `npm start` runs them: the platform (PGlite,
// simulated J-LIS), the local agent with the simulator's virtual cards, and the four demo relying
// parties. The holder uses the same-device button, the agent's own page for the PIN, and consents on
// the platform. Screenshots of every step go to test-artifacts/screenshots/.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Person } from '@kakunin/sim';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jwtPayload, receivedNames, statementNames } from '@kakunin/server/testing';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack.js';
import { launchChromium, stepShooter } from '../support/browser.js';

let dataDir: string;
let stack: DemoStack;
let browser: Browser;
const url: Record<string, string> = {};

/**
 * What the demo RPs received from the platform: they run in this process and call the token and
 * userinfo endpoints with the global fetch, which the tests wrap to read each answer (ID token
 * claims, userinfo claims) — nothing else is changed.
 */
const received: Record<string, unknown>[] = [];
const realFetch = globalThis.fetch;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kakunin-demos-'));
  stack = await startDemoStack({
    dataDir,
    ports: { platform: 0, agent: 0, wallet: 0, bank: 0, mvno: 0, municipal: 0 },
    monitorIntervalSeconds: 0,
    logLevel: 'silent',
  });
  for (const [name, u] of stack.services) url[name] = u;
  const discovery = (await (await realFetch(`${url.platform}/.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
    userinfo_endpoint: string;
  };
  globalThis.fetch = async (input, init) => {
    const res = await realFetch(input, init);
    const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (res.ok && (target === discovery.token_endpoint || target === discovery.userinfo_endpoint)) {
      const body = (await res.clone().json()) as Record<string, unknown>;
      received.push(target === discovery.token_endpoint ? jwtPayload(String(body.id_token)) : body);
    }
    return res;
  };
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  globalThis.fetch = realFetch;
  await browser?.close();
  await stack?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const sandbox = () => stack.platform.sandbox!.sandbox;
const withSign = (): Person[] =>
  sandbox()
    .people()
    .filter((p) => sandbox().certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0);
const ageOn = (birth: string, on = new Date()): number => {
  const [y, m, d] = birth.split('-').map(Number) as [number, number, number];
  return (
    on.getUTCFullYear() - y - (on.getUTCMonth() + 1 < m || (on.getUTCMonth() + 1 === m && on.getUTCDate() < d) ? 1 : 0)
  );
};

async function newPage(lang: 'ja' | 'en'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    locale: lang === 'ja' ? 'ja-JP' : 'en-US',
    permissions: ['local-network-access'],
  });
  return { context, page: await context.newPage() };
}

/**
 * The holder's part of a ceremony, started by a click on the demo: the platform's ceremony page →
 * "use the card reader on this computer" → the agent's page (resident, PIN) → consent → back.
 */
async function prove(
  page: Page,
  o: { person: string; secret: string; shot: (page: Page, step: string) => Promise<string>; returnTo: string },
): Promise<string[]> {
  const sameDevice = page.locator('#same-device');
  await sameDevice.waitFor({ state: 'visible', timeout: 20_000 });
  await o.shot(page, 'ceremony-page');
  // What the holder is shown before the card is read: the page's list, and the holder view the agent
  // (or a phone app) shows with the statement to be signed.
  const listed = (): Promise<(string | null)[]> =>
    page.locator('#shared li').evaluateAll((items) => items.map((li) => li.getAttribute('data-claim')));
  const ceremonyList = await listed();
  const view = (await (await realFetch((await page.locator('#holder-link').getAttribute('href'))!)).json()) as {
    kind: string;
    shares: { claim: string }[];
    statement?: string;
  };
  const before = received.length;
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${url.agent}/confirm/`)), sameDevice.click()]);
  await page.locator('#person').selectOption(o.person);
  await page.locator('#pin').fill(o.secret);
  await o.shot(page, 'agent-page');
  await page.locator('#submit').click();
  const agree = page.getByRole('button', { name: /同意|Agree/ });
  await agree.waitFor({ timeout: 20_000 });
  await o.shot(page, 'consent');
  const consentList = await listed();
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(o.returnTo)), agree.click()]);
  // Exactly what the RP then received (ID token, and userinfo for identity) was listed on both
  // pages and in the holder view, and the signed statement names the same.
  const got = receivedNames(...received.slice(before));
  expect(received.length - before).toBe(view.kind === 'identity' ? 2 : 1);
  expect(got).toContain('sub');
  expect(consentList).toEqual(got);
  expect(ceremonyList).toEqual(got);
  expect(view.shares.map((s) => s.claim)).toEqual(got);
  if (view.kind === 'identity') expect(statementNames(view.statement!)).toEqual(got);
  else expect(got).toEqual(LOGIN);
  return got;
}

/** What a login releases; what each demo's identity request releases (none asks for the sex). */
const LOGIN = ['sub', 'urn:kakunin:record'];
const THREE = ['name', 'address', 'birthdate', 'evidence', ...LOGIN];

async function runMonitor(): Promise<void> {
  const res = await fetch(`${url.platform}/admin/v1/monitor/run`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.platform.adminToken}` },
  });
  expect(res.status).toBe(202);
}

describe('demo relying parties in Chromium', () => {
  it('wallet: create → grants → payment → move → frozen → verify again → login by auth certificate (ja)', async () => {
    const shot = stepShooter('wallet-ja');
    const fukui = withSign().filter((p) => p.address.startsWith('福井県'));
    const holder = fukui.find((p) => ageOn(p.birthDate) >= 18 && ageOn(p.birthDate) <= 49) ?? fukui[0]!;
    const payee = withSign().find((p) => p.id !== holder.id)!;

    // The payee's wallet first (the recipient of the payment).
    const b = await newPage('ja');
    await b.page.goto(url.wallet!);
    await b.page.getByTestId('create-wallet').click();
    await prove(b.page, {
      person: payee.id,
      secret: payee.pins.sign,
      shot: stepShooter('wallet-ja-payee'),
      returnTo: url.wallet!,
    });
    const payeeWallet = (await b.page.getByTestId('wallet-id').textContent())!.trim();

    const { context, page } = await newPage('ja');
    await page.goto(url.wallet!);
    await shot(page, 'start');
    await page.getByTestId('create-wallet').click();
    expect(await prove(page, { person: holder.id, secret: holder.pins.sign, shot, returnTo: url.wallet! })).toEqual(
      THREE,
    );
    await page.getByTestId('wallet-id').waitFor();
    await shot(page, 'wallet-created');
    expect(await page.getByTestId('holder-name').textContent()).toContain(holder.name);
    expect(await page.getByTestId('residency').getAttribute('data-status')).toBe('resident');
    expect(await page.getByTestId('grant-welcome').count()).toBe(1);
    const walletId = (await page.getByTestId('wallet-id').textContent())!.trim();
    const before = Number(await page.getByTestId('balance').getAttribute('data-value'));
    expect(before).toBeGreaterThanOrEqual(1000);

    await page.getByTestId('pay-to').fill(payeeWallet);
    await page.getByTestId('pay-amount').fill('300');
    await page.getByTestId('pay-submit').click();
    await page.getByTestId('message').waitFor();
    await shot(page, 'paid');
    expect(Number(await page.getByTestId('balance').getAttribute('data-value'))).toBe(before - 300);

    // The holder moves out of Fukui: the signing certificate is revoked; the monitor tells the wallet.
    await sandbox().applyEvent(holder.id, 'move', { municipalityCode: '13221' });
    await runMonitor();
    await expect
      .poll(async () => (await page.reload(), await page.getByTestId('wallet-status').getAttribute('data-status')), {
        timeout: 20_000,
      })
      .toBe('frozen');
    await page.getByTestId('frozen-notice').waitFor();
    expect(await page.getByTestId('pay-submit').isDisabled()).toBe(true);
    await shot(page, 'frozen');

    // Verify again with the new certificate: unfrozen; no longer a Fukui resident, benefits withdrawn.
    await page.getByTestId('reverify').click();
    await prove(page, { person: holder.id, secret: holder.pins.sign, shot, returnTo: url.wallet! });
    await page.getByTestId('wallet-status').waitFor();
    expect(await page.getByTestId('wallet-status').getAttribute('data-status')).toBe('active');
    expect(await page.getByTestId('residency').getAttribute('data-status')).toBe('non-resident');
    expect(await page.getByTestId('holder-address').textContent()).toMatch(/^東京都/);
    await shot(page, 'reverified');
    await context.close();

    // Later, a login by the authentication certificate opens the same wallet (same pairwise sub).
    const c = await newPage('ja');
    await c.page.goto(url.wallet!);
    await c.page.getByTestId('login').click();
    expect(await prove(c.page, { person: holder.id, secret: holder.pins.auth, shot, returnTo: url.wallet! })).toEqual(
      LOGIN,
    );
    await c.page.getByTestId('wallet-id').waitFor();
    expect((await c.page.getByTestId('wallet-id').textContent())!.trim()).toBe(walletId);
    await shot(c.page, 'login');
    await c.context.close();
    await b.context.close();
  });

  it('bank account opening under 犯収法 with the 確認記録, and closing it after a confirmation: the platform stops monitoring and keeps the records 7 years (en)', async () => {
    const shot = stepShooter('bank-en');
    const applicant = withSign().at(-1)!;
    const { context, page } = await newPage('en');
    await page.goto(`${url.bank}/?lang=en`);
    await shot(page, 'start');
    await page.getByTestId('start-application').click();
    await page.getByTestId('account-type-select').selectOption('futsu');
    await page.getByTestId('purpose-living').check();
    await page.getByTestId('occupation-select').selectOption('employee');
    await shot(page, 'application');
    await page.getByTestId('apply-submit').click();
    expect(await prove(page, { person: applicant.id, secret: applicant.pins.sign, shot, returnTo: url.bank! })).toEqual(
      THREE,
    ); // no 性別: 犯収法 does not need it
    await page.getByTestId('record').waitFor();
    await shot(page, 'record');
    const serial = sandbox().currentCertificateRecord(applicant.id, 'sign', 'card').serial;
    expect(await page.getByTestId('record-cert-serial').textContent()).toContain(serial);
    expect(await page.getByTestId('record-name').textContent()).toContain(applicant.name);
    expect(await page.getByTestId('record-kakunin-id').textContent()).toMatch(/rec_/);
    expect(await page.getByTestId('record-method').getAttribute('data-method')).toBeTruthy();
    expect(await page.getByTestId('record-retention').textContent()).toMatch(/7/);
    const kakuninRecord = (await page.getByTestId('record-kakunin-id').textContent())!.trim();
    const db = stack.platform.platform.db;
    const watched = () =>
      db.query<{ status: string }>(
        "SELECT status FROM monitored_certificates WHERE rp_client_id = 'demo-bank' AND record_id = $1",
        [kakuninRecord],
      );
    const endNotes = () =>
      db.query(
        "SELECT id FROM records WHERE rp_client_id = 'demo-bank' AND outcome = 'note' AND payload->>'event' = 'relationship_ended'",
      );
    expect(await watched()).toEqual([{ status: 'good' }]);
    const notesBefore = (await endNotes()).length;

    // Closing the account: a confirmation page first, nothing changes until it is confirmed.
    const accountUrl = page.url();
    await Promise.all([page.waitForURL(`${accountUrl}/close`), page.getByTestId('close-account').click()]);
    await page.getByTestId('close-confirmation').waitFor();
    expect(await page.getByTestId('close-confirmation').getAttribute('data-last-account')).toBe('true');
    await shot(page, 'close-confirmation');
    await Promise.all([page.waitForURL(accountUrl), page.getByTestId('close-account-cancel').click()]);
    expect(await page.getByTestId('account-status').getAttribute('data-status')).toBe('open');
    expect(await watched()).toEqual([{ status: 'good' }]);
    await Promise.all([page.waitForURL(`${accountUrl}/close`), page.getByTestId('close-account').click()]);
    // The same confirmation in a second tab, to be confirmed again once the account is closed.
    const secondTab = await context.newPage();
    await secondTab.goto(`${accountUrl}/close`);
    await Promise.all([page.waitForURL(accountUrl), page.getByTestId('close-account-confirm').click()]);
    expect(await page.getByTestId('account-status').getAttribute('data-status')).toBe('closed');
    expect(await page.getByTestId('platform-relationship').getAttribute('data-status')).toBe('ended');
    const lastDay = (await page.getByTestId('platform-retained-until').getAttribute('data-last-day'))!;
    const endedAt = (await page.getByTestId('platform-ended-at').getAttribute('data-value'))!;
    const endDay = new Date(Date.parse(endedAt) + 9 * 3600_000).toISOString().slice(0, 10);
    expect(lastDay).toBe(`${Number(endDay.slice(0, 4)) + 7}${endDay.slice(4)}`); // 7 years (29 Feb aside)
    expect(await page.getByTestId('platform-retained-until').textContent()).toContain(
      `7 years from the day after the end`,
    );
    await shot(page, 'closed');
    // The platform stopped monitoring the pair at once.
    expect(await watched()).toEqual([{ status: 'ended' }]);
    expect(await endNotes()).toHaveLength(notesBefore + 1);

    // The admin console shows the end and the retention end on the record.
    const admin = await context.newPage();
    await admin.goto(`${url.admin}/login?lang=en`);
    await admin.locator('#token').fill(stack.platform.adminToken);
    await Promise.all([admin.waitForURL(/\/admin\/rps/), admin.locator('#sign-in').click()]);
    await admin.goto(`${url.admin}/records/${kakuninRecord}?lang=en`);
    expect(await admin.locator('#relationship').getAttribute('data-ended')).toBe('true');
    expect(await admin.locator('#relationship-ended-at').getAttribute('data-value')).toBe(endedAt);
    expect(await admin.locator('#relationship-retained-until').getAttribute('data-last-day')).toBe(lastDay);
    expect(await admin.locator('#relationship-retained-until').textContent()).toContain(
      `until ${lastDay} (7 years from the day after the end)`,
    );
    await shot(admin, 'admin-relationship');

    // A second close (the confirmation in the other tab, confirmed too) changes nothing.
    await Promise.all([secondTab.waitForURL(accountUrl), secondTab.getByTestId('close-account-confirm').click()]);
    expect(await secondTab.getByTestId('message').textContent()).toContain('already closed');
    expect(await secondTab.getByTestId('platform-ended-at').getAttribute('data-value')).toBe(endedAt);
    await shot(secondTab, 'closed-again');
    expect(await endNotes()).toHaveLength(notesBefore + 1);
    expect(await watched()).toEqual([{ status: 'ended' }]);
    await admin.reload();
    expect(await admin.locator('#relationship-ended-at').getAttribute('data-value')).toBe(endedAt);
    await context.close();
  }, 120_000);

  it('MVNO contract under 携帯法 with a 3-year record (ja)', async () => {
    const shot = stepShooter('mvno-ja');
    const customer = withSign()[1]!;
    const { context, page } = await newPage('ja');
    await page.goto(url.mvno!);
    await page.getByTestId('plan-standard').check();
    await shot(page, 'plan');
    await page.getByTestId('plan-submit').click();
    expect(await prove(page, { person: customer.id, secret: customer.pins.sign, shot, returnTo: url.mvno! })).toEqual(
      THREE,
    );
    await page.getByTestId('record').waitFor();
    await shot(page, 'contract');
    expect(await page.getByTestId('contract-status').getAttribute('data-status')).toBe('active');
    expect(await page.getByTestId('record-name').textContent()).toContain(customer.name);
    expect(await page.getByTestId('record-retention').textContent()).toMatch(/3/);
    await context.close();
  });

  it('municipal portal: login, a signed e-application, a digital ID card (en)', async () => {
    const shot = stepShooter('municipal-en');
    const resident = withSign()[2]!;
    const { context, page } = await newPage('en');
    await page.goto(`${url.municipal}/?lang=en`);
    await page.getByTestId('login').click();
    await prove(page, { person: resident.id, secret: resident.pins.auth, shot, returnTo: url.municipal! });
    await page.getByTestId('signed-in').waitFor();
    await shot(page, 'signed-in');
    // The e-application service (子育て支援の申請), signed with the signing certificate.
    await page.goto(`${url.municipal}/apply/childcare?lang=en`);
    await page.getByTestId('child-name').fill('山田 花子');
    await page.getByTestId('child-birthdate').fill('2022-04-01');
    await page.getByTestId('receive-coin').check();
    await page.getByTestId('phone').fill('0776-00-0000');
    await shot(page, 'application');
    await page.getByTestId('application-submit').click();
    expect(
      await prove(page, { person: resident.id, secret: resident.pins.sign, shot, returnTo: url.municipal! }),
    ).toEqual(THREE);
    await page.getByTestId('application-status').waitFor();
    expect(await page.getByTestId('application-status').getAttribute('data-status')).toBe('received');
    expect(await page.getByTestId('applicant-name').textContent()).toContain(resident.name);
    await shot(page, 'application-received');
    await page.goto(`${url.municipal}/?lang=en`);
    await page.getByTestId('id-card-link').click();
    await page.getByTestId('issue-id-card').click();
    await prove(page, { person: resident.id, secret: resident.pins.sign, shot, returnTo: url.municipal! });
    await page.getByTestId('id-card').waitFor();
    expect(await page.getByTestId('id-status').getAttribute('data-status')).toBe('valid');
    expect(await page.getByTestId('id-name').textContent()).toContain(resident.name);
    await shot(page, 'id-card');
    await context.close();
  });

  it('wrong PIN shows the tries left (agent and ceremony page); three wrong PINs block it (ja)', async () => {
    const shot = stepShooter('pin-errors-ja');
    const victim = sandbox().people().at(-1)!;
    const { context, page } = await newPage('ja');
    await page.goto(url.municipal!);
    await page.getByTestId('login').click();
    const sameDevice = page.locator('#same-device');
    await sameDevice.waitFor({ state: 'visible', timeout: 20_000 });
    const ceremonyUrl = page.url();
    await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${url.agent}/confirm/`)), sameDevice.click()]);
    const wrong = victim.pins.auth === '0000' ? '1111' : '0000';
    for (const left of [2, 1]) {
      await page.locator('#person').selectOption(victim.id);
      await page.locator('#pin').fill(wrong);
      await page.locator('#submit').click();
      await expect
        .poll(() => page.locator('[data-error-code]').first().getAttribute('data-error-code'))
        .toBe('WRONG_PIN');
      expect(await page.locator('#main').textContent()).toContain(`残り${left}回`);
      await shot(page, `wrong-pin-${left}-left`);
    }
    // The platform's page shows the same, live.
    const ceremony = await context.newPage();
    await ceremony.goto(ceremonyUrl);
    await expect
      .poll(() => ceremony.locator('#card-error [data-error-code]').getAttribute('data-error-code'), {
        timeout: 10_000,
      })
      .toBe('WRONG_PIN');
    await shot(ceremony, 'ceremony-page-wrong-pin');
    await ceremony.close();

    await page.locator('#person').selectOption(victim.id);
    await page.locator('#pin').fill(wrong);
    await page.locator('#submit').click();
    await expect
      .poll(() => page.locator('[data-error-code]').first().getAttribute('data-error-code'))
      .toBe('PIN_BLOCKED');
    expect(await page.locator('#main').textContent()).toMatch(/市区町村/);
    expect(await page.locator('#pin').count()).toBe(0);
    await shot(page, 'pin-blocked');
    await context.close();
  });

  it('admin console: records of the demos with the records log, their log status, log verification, the simulator (en)', async () => {
    const shot = stepShooter('admin-en');
    const { context, page } = await newPage('en');
    await page.goto(`${url.admin}/login?lang=en`);
    await page.locator('#token').fill(stack.platform.adminToken);
    await page.locator('#sign-in').click();
    await page.getByRole('heading', { level: 1 }).waitFor();
    await shot(page, 'relying-parties');
    expect(await page.locator('main').textContent()).toContain('demo-wallet');
    await page.goto(`${url.admin}/records?lang=en`);
    expect(Number(await page.locator('#log-tree-size').textContent())).toBeGreaterThan(0);
    expect(await page.locator('#log-key').textContent()).toContain('+');
    await shot(page, 'records');
    const first = page.locator('main table a[href*="/admin/records/rec_"]').first();
    await Promise.all([page.waitForURL(/\/admin\/records\/rec_/), first.click()]);
    expect(await page.locator('#log-status').getAttribute('data-intact')).toBe('true');
    await shot(page, 'record-detail');
    await page.goto(`${url.admin}/records?lang=en`);
    await page.locator('#verify-log').click();
    await expect.poll(() => page.locator('#log-result').getAttribute('data-ok')).toBe('true');
    await shot(page, 'log-verified');
    await page.goto(`${url.admin}/simulator?lang=en`);
    expect(await page.locator('main').textContent()).toContain(sandbox().people()[0]!.name);
    await shot(page, 'simulator');
    await context.close();
  });
});
