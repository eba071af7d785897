// The PC/SC path in a browser flow: Chromium on the MVNO demo → the platform's ceremony page → the
// local agent in PC/SC mode → a real pcscd → Debian's vpcd virtual reader → the resident's virtual My
// Number Card, running in its own process.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listReaders } from '@kakunin/card';
import { initSandbox } from '@kakunin/sim';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  personCardMaterial,
  plugCardProcess,
  startPcscd,
  type CardProcess,
  type PcscdInstance,
} from '@kakunin/sim/card';
import { startDemoStack, type DemoStack } from '../../scripts/demo-stack.js';
import { launchChromium, stepShooter } from '../support/browser.js';

let dataDir: string;
let pcscd: PcscdInstance;
let card: CardProcess;
let stack: DemoStack;
let browser: Browser;
let person: { id: string; name: string; pins: { sign: string } };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'kakunin-pcsc-e2e-'));
  pcscd = await startPcscd();
  // libpcsclite reads the socket path once per process, before the first PC/SC call.
  process.env.PCSCLITE_CSOCK_NAME = pcscd.socketPath;
  // The sandbox first, so that the resident's card can be in the reader before the agent starts.
  const sandbox = await initSandbox({ dir: join(dataDir, 'sim') });
  person = sandbox
    .people()
    .find(
      (p) =>
        sandbox.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).length > 0 &&
        !p.birthDate.startsWith('20'),
    )!;
  card = await plugCardProcess({
    material: personCardMaterial(sandbox, person.id),
    stateDir: join(dataDir, 'card-state'),
    port: pcscd.port,
  });
  for (let i = 0; i < 200 && !(await listReaders()).some((r) => r.name === pcscd.readerName && r.cardPresent); i++)
    await new Promise((r) => setTimeout(r, 50));
  stack = await startDemoStack({
    dataDir,
    ports: { platform: 0, agent: 0, wallet: 0, bank: 0, mvno: 0, municipal: 0 },
    monitorIntervalSeconds: 0,
    logLevel: 'silent',
    agentCard: { kind: 'pcsc', reader: pcscd.readerName },
  });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
  await card?.close();
  await pcscd?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('an MVNO contract signed with the card in a PC/SC reader', async () => {
  const url = Object.fromEntries(stack.services);
  const shot = stepShooter('pcsc-mvno-ja');
  const context = await browser.newContext({ locale: 'ja-JP', permissions: ['local-network-access'] });
  const page = await context.newPage();
  await page.goto(url.mvno!);
  await page.getByTestId('plan-light').check();
  await page.getByTestId('plan-submit').click();
  const sameDevice = page.locator('#same-device');
  await sameDevice.waitFor({ state: 'visible', timeout: 20_000 });
  await shot(page, 'ceremony-page');
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(`${url.agent}/confirm/`)), sameDevice.click()]);
  // The agent names the reader; no resident to choose: the card is whoever is in it.
  expect(await page.locator('#reader').textContent()).toBe(pcscd.readerName);
  await page.locator('#pin').fill(person.pins.sign);
  await shot(page, 'agent-page-reader');
  await page.locator('#submit').click();
  const agree = page.getByRole('button', { name: /同意/ });
  await agree.waitFor({ timeout: 30_000 });
  await shot(page, 'consent');
  await Promise.all([page.waitForURL((u) => u.toString().startsWith(url.mvno!)), agree.click()]);
  await page.getByTestId('record').waitFor();
  await shot(page, 'contract');
  expect(await page.getByTestId('record-name').textContent()).toContain(person.name);
  // The card in the reader did the work: its process answered APDUs.
  const stats = await card.stats();
  expect(stats.received).toBeGreaterThan(0);
  // The agent never went near the My Number EF of the card-info AP.
  expect(stats.myNumberProbe).toEqual({ selected: 0, read: 0, verifyTargeted: 0 });
  await context.close();
});
